import Foundation
import Glibc
import Testing
@testable import Cgroups

/// Finding the hierarchies from /proc/self/cgroup and statfs instead of mountinfo.
@Suite struct UsualMountPointTests {
    static let hybridProcCgroup = """
        12:misc:/
        9:name=systemd:/user.slice
        8:pids:/user.slice
        4:cpu,cpuacct:/user.slice
        0::/user.slice/session-1.scope
        """

    static func kinds(_ table: [String: CgroupHierarchy.MountKind]) -> (String) -> CgroupHierarchy.MountKind {
        { table[$0] ?? .missing }
    }

    @Test func aHybridHostsHierarchiesAreAtTheirControllersFoldersAndUnified() throws {
        let found = try #require(CgroupHierarchy.atUsualMountPoints(procCgroup: Self.hybridProcCgroup, kind: Self.kinds([
            "/sys/fs/cgroup": .other, "/sys/fs/cgroup/misc": .cgroup, "/sys/fs/cgroup/systemd": .cgroup,
            "/sys/fs/cgroup/pids": .cgroup, "/sys/fs/cgroup/cpu,cpuacct": .cgroup, "/sys/fs/cgroup/unified": .cgroup2,
        ])))
        #expect(found == [
            CgroupHierarchy(mountPoint: "/sys/fs/cgroup/cpu,cpuacct", controllers: ["cpu", "cpuacct"], isUnified: false),
            CgroupHierarchy(mountPoint: "/sys/fs/cgroup/misc", controllers: ["misc"], isUnified: false),
            CgroupHierarchy(mountPoint: "/sys/fs/cgroup/pids", controllers: ["pids"], isUnified: false),
            CgroupHierarchy(mountPoint: "/sys/fs/cgroup/systemd", controllers: ["name=systemd"], isUnified: false),
            CgroupHierarchy(mountPoint: "/sys/fs/cgroup/unified", controllers: [], isUnified: true),
        ])
        #expect(CgroupHierarchy.mode(of: found) == .hybrid)
    }

    @Test func aLegacyHostHasNoUnifiedFolderAndAUnifiedHostOneHierarchyAtTheRoot() throws {
        let legacy = try #require(CgroupHierarchy.atUsualMountPoints(procCgroup: "8:pids:/\n0::/\n", kind: Self.kinds([
            "/sys/fs/cgroup": .other, "/sys/fs/cgroup/pids": .cgroup,
        ])))
        #expect(CgroupHierarchy.mode(of: legacy) == .legacy)
        let unified = try #require(CgroupHierarchy.atUsualMountPoints(procCgroup: "0::/a\n", kind: Self.kinds([
            "/sys/fs/cgroup": .cgroup2,
        ])))
        #expect(unified == [CgroupHierarchy(mountPoint: "/sys/fs/cgroup", controllers: [], isUnified: true)])
    }

    @Test func aHierarchyMountedElsewhereOrAnOddLineSendsTheCallerToMountinfo() {
        #expect(CgroupHierarchy.atUsualMountPoints(procCgroup: "8:pids:/\n", kind: Self.kinds([
            "/sys/fs/cgroup": .other, "/sys/fs/cgroup/pids": .other,
        ])) == nil)
        #expect(CgroupHierarchy.atUsualMountPoints(procCgroup: "0::/\n", kind: Self.kinds([
            "/sys/fs/cgroup": .other, "/sys/fs/cgroup/unified": .other,
        ])) == nil)
        #expect(CgroupHierarchy.atUsualMountPoints(procCgroup: "garbage\n", kind: Self.kinds([:])) == nil)
        #expect(CgroupHierarchy.atUsualMountPoints(procCgroup: "", kind: Self.kinds([:])) == nil)
    }

    /// On this host, the quick way finds exactly what mountinfo lists.
    @Test(.enabled(if: FileManager.default.fileExists(atPath: "/proc/self/cgroup")))
    func onThisHostTheUsualMountPointsAreWhatMountinfoLists() throws {
        let own = try String(contentsOfFile: "/proc/self/cgroup", encoding: .utf8)
        let quick = try #require(CgroupHierarchy.atUsualMountPoints(procCgroup: own, kind: Cgroups.mountKind))
        let mountinfo = CgroupHierarchy.parse(mountinfo: try String(contentsOfFile: "/proc/self/mountinfo", encoding: .utf8))
        func byMountPoint(_ h: [CgroupHierarchy]) -> [String: CgroupHierarchy] {
            Dictionary(h.map { ($0.mountPoint, $0) }, uniquingKeysWith: { a, _ in a })
        }
        #expect(byMountPoint(quick) == byMountPoint(mountinfo))
        #expect(try Cgroups.mountedHierarchies() == quick)
    }
}
