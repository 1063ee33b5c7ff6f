import CPodrunShim
import Glibc
import LinuxSys
import OCISpec
import PodrunCore

/// A container's cgroup, on whatever hierarchies the host has.
public protocol CgroupManager: Sendable {
    /// The container's cgroup path as given (absolute, or relative to the runtime's own cgroup), for the state.
    var path: String { get }
    /// The container's folder in each hierarchy, by mount point: what the state keeps to find the cgroup again.
    var directories: [String: String] { get }
    /// Makes the cgroup in every hierarchy (idempotent), initialising what a new cgroup needs (cpuset).
    func create() throws
    /// Makes only the cgroup's v2 folder (the one a process is cloned into), for `createLegacy(after:devices:)` to
    /// make the v1 ones while that process sets up; `create()` does both.
    func createUnified() throws
    /// Starts making the v1 folders, with the cpuset values and `devices`' rules of those it makes, on a thread
    /// of their own (see `FolderBatch`), for `createLegacy(after:devices:)` to finish; nil when there are none (a
    /// unified host) or no thread could start. The thread also opens each folder's `tasks` file and, with
    /// `mountAttributes`, copies each folder's mount with them (see `FolderBatch.takeMountCopies()`).
    func startLegacy(devices: [LinuxDeviceCgroup]?, copyingMountsWith mountAttributes: MountAttributes?) -> FolderBatch?
    /// Makes the v1 folders `createUnified()` left (none on a unified host) and writes the device rules, but for
    /// what `started` (begun with the same `devices`) did of it.
    func createLegacy(after started: FolderBatch?, devices: [LinuxDeviceCgroup]?) throws
    /// Moves a process into the cgroup in every hierarchy.
    func apply(pid: Int32) throws
    /// How a new single-threaded process enters the cgroup itself, without `apply(pid:)`'s wait.
    var join: CgroupJoin { get }
    /// Writes resource limits.
    func set(_ resources: LinuxResources) throws
    /// Every process in the cgroup and its descendants.
    func pids() throws -> [Int32]
    /// Freezes every process (and waits until the kernel says frozen).
    func freeze() throws
    /// Thaws a frozen cgroup.
    func thaw() throws
    /// Whether the cgroup is frozen.
    func isFrozen() throws -> Bool
    /// Removes the cgroup (and any sub-cgroups) everywhere; a missing one is not an error.
    func destroy() throws
    /// Whether the cgroup exists.
    func exists() -> Bool
    /// Usage and limits, shaped as runc's `events --stats` data.
    func stats() throws -> CgroupStats
}

extension CgroupManager {
    /// Removes the cgroup (`destroy()`); while it will not go, because a process of it is still exiting or was
    /// left behind (a container sharing its pid namespace, a process whose pid its runtime never learnt),
    /// SIGKILLs what is in it and tries again, for up to about a second. Throws the last error.
    public func destroyKillingWhatIsLeft() throws {
        for attempt in 1... {
            do {
                try destroy()
                return
            } catch {
                guard attempt < 50 else { throw error }
                for pid in (try? pids()) ?? [] { Glibc.kill(pid, SIGKILL) }
                usleep(attempt == 1 ? 2_000 : 20_000)
            }
        }
    }
}

/// Finds the host's cgroup hierarchies and makes the right manager for a container.
public enum Cgroups {
    /// The manager for a container, on this host.
    ///
    /// Path rules are runc's (cgroupfs driver): an absolute `cgroupsPath` is taken from each hierarchy's root; a
    /// relative one, or the container id when there is none, is joined to the runtime's own cgroup in each
    /// hierarchy. systemd's `slice:prefix:name` form is refused.
    public static func manager(cgroupsPath: String?, containerID: String) throws -> any CgroupManager {
        let own = try procSelfCgroup.get()
        return try manager(cgroupsPath: cgroupsPath, containerID: containerID, hierarchies: mountedHierarchies(),
                           ownCgroups: CgroupHierarchy.parse(procCgroup: own))
    }

    /// The manager for the folders a state kept (`directories` of a manager made earlier).
    public static func manager(path: String, directories: [String: String]) throws -> any CgroupManager {
        manager(path: path, directories: directories, hierarchies: try mountedHierarchies())
    }

    /// The host's cgroup hierarchies, found once per process: they do not change while a podrun command runs, and
    /// `exec` alone asks three times (status, freezer, join). From /proc/self/cgroup and a statfs of each usual
    /// mount point when they are all there (`CgroupHierarchy.atUsualMountPoints`), else from /proc/self/mountinfo.
    public static func mountedHierarchies() throws -> [CgroupHierarchy] { try hierarchiesOfThisProcess.get() }

    /// This process's /proc/self/cgroup, read once: a podrun command does not move itself between cgroups.
    private static let procSelfCgroup: Result<String, PodrunError> = {
        do {
            return .success(try FileIO.readString("/proc/self/cgroup"))
        } catch {
            return .failure(PodrunError.wrap(error, .system, "read /proc/self/cgroup"))
        }
    }()

    private static let hierarchiesOfThisProcess: Result<[CgroupHierarchy], PodrunError> = {
        if let own = try? procSelfCgroup.get(),
           let found = CgroupHierarchy.atUsualMountPoints(procCgroup: own, kind: mountKind) {
            return .success(found)
        }
        do {
            return .success(CgroupHierarchy.parse(mountinfo: try FileIO.readString("/proc/self/mountinfo")))
        } catch {
            return .failure(PodrunError.wrap(error, .system, "read /proc/self/mountinfo"))
        }
    }()

    /// What is mounted at `path`, by its filesystem's magic number.
    static func mountKind(_ path: String) -> CgroupHierarchy.MountKind {
        let magic = podrun_filesystem_magic(path)
        guard magic >= 0 else { return errno == ENOENT ? .missing : .other }
        switch magic {
        case 0x0027_e0eb: return .cgroup       // CGROUP_SUPER_MAGIC
        case 0x6367_7270: return .cgroup2      // CGROUP2_SUPER_MAGIC
        default: return .other
        }
    }

    /// The manager for kept folders on given hierarchies.
    public static func manager(path: String, directories: [String: String],
                               hierarchies: [CgroupHierarchy]) -> any CgroupManager {
        let known = hierarchies.filter { directories[$0.mountPoint] != nil }
        if CgroupHierarchy.mode(of: hierarchies) == .unified, let h = known.first, let dir = directories[h.mountPoint] {
            return CgroupV2Manager(path: path, directory: dir, mountPoint: h.mountPoint)
        }
        return CgroupV1Manager(path: path, directoriesByHierarchy: known.compactMap { h in
            directories[h.mountPoint].map { (hierarchy: h, directory: $0) }
        })
    }

    /// The manager for given hierarchies and own cgroups (for tests on a fake cgroupfs).
    public static func manager(cgroupsPath: String?, containerID: String, hierarchies: [CgroupHierarchy],
                               ownCgroups: [String: String]) throws -> any CgroupManager {
        let path = (cgroupsPath?.isEmpty == false ? cgroupsPath : nil) ?? containerID
        if path.contains(":") {
            throw PodrunError.invalidSpec("linux.cgroupsPath", "systemd cgroup paths are not supported: \(path)")
        }
        let parts = path.split(separator: "/").map(String.init)
        guard !parts.contains(".."), !parts.isEmpty else {
            throw PodrunError.invalidSpec("linux.cgroupsPath", "invalid cgroup path \"\(path)\"")
        }
        let clean = "/" + parts.joinedText("/")
        func directory(_ h: CgroupHierarchy) -> String {
            if path.hasPrefix("/") { return h.mountPoint + clean }
            let base = ownCgroups[h.key] ?? "/"
            return h.mountPoint + (base == "/" ? "" : base) + clean
        }
        switch CgroupHierarchy.mode(of: hierarchies) {
        case .unified:
            guard let h = hierarchies.first else { throw PodrunError(.system, "no cgroup hierarchy is mounted") }
            return CgroupV2Manager(path: path, directory: directory(h), mountPoint: h.mountPoint)
        case .legacy, .hybrid:
            let dirs = hierarchies.map { (hierarchy: $0, directory: directory($0)) }
            return CgroupV1Manager(path: path, directoriesByHierarchy: dirs)
        }
    }
}
