import PodrunCore
/// How a host mounts cgroups.
public enum CgroupMode: String, Sendable, Codable {
    /// Only v1 hierarchies.
    case legacy
    /// v1 hierarchies for the controllers, plus a v2 mount (usually /sys/fs/cgroup/unified) without controllers.
    case hybrid
    /// One v2 hierarchy at the cgroup root.
    case unified
}

/// One mounted cgroup hierarchy.
public struct CgroupHierarchy: Sendable, Equatable {
    /// Where it is mounted (`/sys/fs/cgroup/memory`).
    public var mountPoint: String
    /// The v1 controllers it holds (`cpu`, `cpuacct`, `name=systemd`); empty for v2.
    public var controllers: [String]
    /// Whether this is a cgroup2 mount.
    public var isUnified: Bool
    /// The key of this hierarchy in /proc/PID/cgroup: its controllers joined by commas, or "" for v2.
    public var key: String { isUnified ? "" : controllers.joinedText(",") }

    public init(mountPoint: String, controllers: [String], isUnified: Bool) {
        self.mountPoint = mountPoint
        self.controllers = controllers
        self.isUnified = isUnified
    }

    /// The v1 controllers a hierarchy is known by (others in the options are mount options). An array: a few
    /// comparisons of short strings cost less than hashing one.
    static let knownControllers = ["cpu", "cpuacct", "cpuset", "memory", "devices", "freezer", "blkio", "pids",
                                   "hugetlb", "net_cls", "net_prio", "perf_event", "rdma", "misc"]

    /// The cgroup hierarchies mounted under `root`, from the text of /proc/self/mountinfo.
    ///
    /// Runs on every container command: lines are split once, on bytes, and only cgroup mounts are looked at.
    public static func parse(mountinfo: String, root: String = "/sys/fs/cgroup") -> [CgroupHierarchy] {
        var out: [CgroupHierarchy] = []
        for line in mountinfo.utf8.split(separator: UInt8(ascii: "\n")) {
            let fields = line.split(separator: UInt8(ascii: " "))
            // The optional fields end at a lone "-"; then come the filesystem type, the source, the super options.
            guard let dash = fields.firstIndex(where: { $0.count == 1 && $0.first == UInt8(ascii: "-") }),
                  dash >= 5, fields.count >= dash + 4 else { continue }
            let fsType = fields[dash + 1]
            let isCgroup2 = fsType.elementsEqual("cgroup2".utf8)
            guard isCgroup2 || fsType.elementsEqual("cgroup".utf8) else { continue }
            guard let mountPoint = String(fields[4]), mountPoint == root || mountPoint.hasPrefix(root + "/") else { continue }
            if isCgroup2 {
                out.append(CgroupHierarchy(mountPoint: mountPoint, controllers: [], isUnified: true))
                continue
            }
            let controllers = fields[dash + 3].split(separator: UInt8(ascii: ",")).compactMap { String($0) }
                .filter { knownControllers.contains($0) || $0.hasPrefix("name=") }
            if !controllers.isEmpty {
                out.append(CgroupHierarchy(mountPoint: mountPoint, controllers: controllers, isUnified: false))
            }
        }
        return out
    }

    /// What a path has mounted on it, for `atUsualMountPoints`.
    public enum MountKind: Sendable, Equatable {
        /// A cgroup v1 hierarchy.
        case cgroup
        /// The cgroup v2 hierarchy.
        case cgroup2
        /// Something else (a tmpfs, a plain folder).
        case other
        /// Nothing: the path does not exist.
        case missing
    }

    /// The hierarchies of /proc/self/cgroup's text at their usual mount points, without reading mountinfo: a v1
    /// hierarchy `N:cpu,cpuacct:/x` at `root/cpu,cpuacct` (a named one, `name=systemd`, at `root/systemd`), the v2
    /// one at `root` itself (a unified host) or at `root/unified` (a hybrid one; absent on a legacy one). `kind`
    /// says what is mounted at a path (statfs). Nil when a v1 hierarchy is not where expected: the caller then
    /// reads mountinfo.
    ///
    /// mountinfo grows with every mount on the host (four per pod sandbox: its pinned namespaces and /dev/shm),
    /// and the kernel's generating it is what made a container command slower as sandboxes piled up.
    public static func atUsualMountPoints(procCgroup: String, root: String = "/sys/fs/cgroup",
                                          kind: (String) -> MountKind) -> [CgroupHierarchy]? {
        if kind(root) == .cgroup2 { return [CgroupHierarchy(mountPoint: root, controllers: [], isUnified: true)] }
        var out: [CgroupHierarchy] = []
        for fields in procCgroup.fieldsOfLines(":", maxSplits: 2) {
            guard fields.count == 3 else { return nil }
            if fields[0] == "0" {
                let mountPoint = root + "/unified"
                switch kind(mountPoint) {
                case .cgroup2: out.append(CgroupHierarchy(mountPoint: mountPoint, controllers: [], isUnified: true))
                case .missing: continue
                case .cgroup, .other: return nil
                }
                continue
            }
            // Mostly one controller (`memory`); `cpu,cpuacct` and `name=systemd` are the usual others.
            let listed = fields[1].fieldsOfLines(",").first ?? []
            let folder = listed.map { $0.hasPrefix("name=") ? String($0.dropFirst(5)) : $0 }.joinedText(",")
            let controllers = listed.filter { knownControllers.contains($0) || $0.hasPrefix("name=") }
            guard !folder.isEmpty, !controllers.isEmpty, kind(root + "/" + folder) == .cgroup else { return nil }
            out.append(CgroupHierarchy(mountPoint: root + "/" + folder, controllers: controllers, isUnified: false))
        }
        return out.isEmpty ? nil : out.sorted { $0.mountPoint.utf8Precedes($1.mountPoint) }
    }

    /// The mode these hierarchies make.
    public static func mode(of hierarchies: [CgroupHierarchy]) -> CgroupMode {
        let v1 = hierarchies.contains { !$0.isUnified }
        let v2 = hierarchies.contains { $0.isUnified }
        if v1 { return v2 ? .hybrid : .legacy }
        return .unified
    }

    /// A process' cgroup in each hierarchy, keyed as `key`, from the text of /proc/PID/cgroup.
    ///
    /// Runs on every create: split on bytes (`fieldsOfLines`).
    public static func parse(procCgroup: String) -> [String: String] {
        var out: [String: String] = [:]
        out.reserveCapacity(16)
        for fields in procCgroup.fieldsOfLines(":", maxSplits: 2) where fields.count == 3 {
            out[fields[1]] = fields[2]
        }
        return out
    }
}
