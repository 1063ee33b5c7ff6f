import Cgroups
import LinuxSys
import OCISpec
import PodrunCore

/// The messages between the runtime (`create`, `exec`) and its `podrun init` processes, over a seqpacket socket.
public enum InitMessage: Codable, Sendable {
    /// Init -> runtime: it made a user namespace; write the uid and gid maps of this pid.
    case requestMappings(pid: Int32)
    /// Runtime -> init: the maps are written.
    case mappingsDone
    /// Init -> runtime: the pid (in the runtime's pid namespace) of the container's process.
    case pid(Int32)
    /// Init -> runtime: the mounts are done (before pivot_root); run the prestart and createRuntime hooks.
    case runHooks
    /// Runtime -> init: the hooks ran; `pid` is the container process' pid as the runtime sees it.
    case hooksDone(pid: Int32)
    /// Init -> runtime: the process is set up and waits for `start` (create) or is about to exec (exec).
    case ready
    /// Init -> runtime: setting up failed.
    case failed(PodrunError)
    /// Runtime -> container process (cloned directly): the cgroup's v1 folders exist; join them. The message
    /// carries descriptors, in this order: of each `CgroupJoin.taskFiles` file whose bit is set in
    /// `openedTaskFiles` (bit i for file i; the others are joined by path), then a read-only copy of the folder's
    /// mount for each of `InitConfig.cgroupMounts` whose bit is set in `mountCopies` (moved into place instead of a
    /// bind and a remount).
    case cgroupReady(openedTaskFiles: UInt64, mountCopies: UInt64)
    /// Runtime -> container process (cloned directly, `awaitsResources`): the cgroup's limits are written; go on
    /// to exec.
    case resourcesSet
}

extension InitMessage: SyncMessage {
    /// A tag byte, then for messages with a pid its four bytes (little-endian); `failed` goes as JSON.
    public var compactBytes: [UInt8]? {
        func withPid(_ tag: UInt8, _ pid: Int32) -> [UInt8] {
            let bits = UInt32(bitPattern: pid)
            return [tag, UInt8(truncatingIfNeeded: bits), UInt8(truncatingIfNeeded: bits >> 8),
                    UInt8(truncatingIfNeeded: bits >> 16), UInt8(truncatingIfNeeded: bits >> 24)]
        }
        switch self {
        case .requestMappings(let pid): return withPid(2, pid)
        case .mappingsDone: return [3]
        case .pid(let pid): return withPid(4, pid)
        case .runHooks: return [5]
        case .hooksDone(let pid): return withPid(6, pid)
        case .ready: return [7]
        case .cgroupReady(let opened, let copies):
            guard opened != 0 || copies != 0 else { return [8] }
            return [8] + (0..<16).map { UInt8(truncatingIfNeeded: ($0 < 8 ? opened : copies) >> (8 * ($0 % 8))) }
        case .resourcesSet: return [9]
        case .failed: return nil
        }
    }

    public init?(compactBytes bytes: [UInt8]) {
        func pid() -> Int32? {
            guard bytes.count == 5 else { return nil }
            let bits = UInt32(bytes[1]) | UInt32(bytes[2]) << 8 | UInt32(bytes[3]) << 16 | UInt32(bytes[4]) << 24
            return Int32(bitPattern: bits)
        }
        switch (bytes.first, bytes.count) {
        case (2, 5): guard let p = pid() else { return nil }; self = .requestMappings(pid: p)
        case (3, 1): self = .mappingsDone
        case (4, 5): guard let p = pid() else { return nil }; self = .pid(p)
        case (5, 1): self = .runHooks
        case (6, 5): guard let p = pid() else { return nil }; self = .hooksDone(pid: p)
        case (7, 1): self = .ready
        case (8, 1): self = .cgroupReady(openedTaskFiles: 0, mountCopies: 0)
        case (8, 17):
            self = .cgroupReady(openedTaskFiles: (1...8).reduce(0) { $0 | UInt64(bytes[$1]) << (8 * ($1 - 1)) },
                                mountCopies: (9...16).reduce(0) { $0 | UInt64(bytes[$1]) << (8 * ($1 - 9)) })
        case (9, 1): self = .resourcesSet
        default: return nil
        }
    }
}

/// What `podrun init` is told to do, passed in a memfd.
public struct InitConfig: Codable, Sendable {
    /// Whether the init makes a new container or joins a running one.
    public enum Mode: String, Codable, Sendable {
        case create
        case exec
    }

    public var mode: Mode
    public var containerID: String
    /// The process to run (for create: the spec's; for exec: the exec'd one).
    public var process: Process
    /// The container's configuration.
    public var spec: Spec
    /// The rootfs, absolute.
    public var rootfs: String
    /// The bundle, absolute (for the state hooks read).
    public var bundle: String
    /// The container's state folder (holds the exec fifo).
    public var stateDirectory: String
    /// Move the root with MS_MOVE + chroot instead of pivot_root.
    public var noPivot: Bool
    /// How many descriptors from 3 on pass to the process.
    public var preserveFds: Int
    /// Create: whether the process waits on the exec fifo for `start` (false for `run`, which starts it at once).
    public var waitsForStart = true
    /// Create, cloned directly: the runtime makes the cgroup's v1 folders while the process sets up, and the
    /// process joins them when told (`cgroupReady`), before it first needs them (see `RootfsBuilder`'s gate).
    public var joinsCgroupWhenReady = false
    /// With `joinsCgroupWhenReady`, no hooks (whose messages would come between) and limits other than device
    /// rules: the runtime writes those after `cgroupReady`, while the process goes on setting up, and says
    /// `resourcesSet`, which the process waits for before it reports ready and execs (see `CgroupEntry`).
    public var awaitsResources = false
    /// The process' capability sets, resolved from names in the runtime.
    public var capabilities: CapabilitySets
    /// The seccomp filter, compiled in the runtime; loaded by one syscall in the container's process.
    public var seccomp: CompiledSeccomp?
    /// Exec: the pid of the container's first process, whose namespaces are joined.
    public var targetPid: Int32?
    /// The host folder of each cgroup hierarchy for the container (mount point name -> host path), used to
    /// bind the container's own cgroups at a `cgroup` mount without a cgroup namespace.
    public var cgroupMounts: [CgroupBind]
    /// How the init and the container's process enter the container's cgroup themselves (see `CgroupJoin`);
    /// nil leaves them where the runtime is.
    public var cgroupJoin: CgroupJoin?

    public init(mode: Mode, containerID: String, process: Process, spec: Spec, rootfs: String, bundle: String,
                stateDirectory: String, capabilities: CapabilitySets, seccomp: CompiledSeccomp?,
                noPivot: Bool, preserveFds: Int, targetPid: Int32? = nil, cgroupMounts: [CgroupBind] = [],
                cgroupJoin: CgroupJoin? = nil) {
        self.cgroupJoin = cgroupJoin
        self.mode = mode
        self.containerID = containerID
        self.process = process
        self.spec = spec
        self.rootfs = rootfs
        self.bundle = bundle
        self.capabilities = capabilities
        self.seccomp = seccomp
        self.stateDirectory = stateDirectory
        self.noPivot = noPivot
        self.preserveFds = preserveFds
        self.targetPid = targetPid
        self.cgroupMounts = cgroupMounts
    }
}

/// One cgroup hierarchy to show at a container's `cgroup` mount.
public struct CgroupBind: Codable, Sendable, Equatable {
    /// The name under the mount (`memory`, `cpu,cpuacct`, `systemd`, or empty for a v2 mount itself).
    public var name: String
    /// The filesystem type: `cgroup` or `cgroup2`.
    public var fsType: String
    /// The mount options that select the hierarchy (`memory`, `none,name=systemd`).
    public var options: String
    /// The host folder of the container's cgroup in that hierarchy.
    public var hostPath: String

    public init(name: String, fsType: String, options: String, hostPath: String) {
        self.name = name
        self.fsType = fsType
        self.options = options
        self.hostPath = hostPath
    }
}

/// The fixed descriptor layout `podrun init` starts with: after the preserved fds come the sync socket, the config
/// memfd, the state folder and, when the process has a terminal, the console socket.
public enum InitDescriptors {
    /// The sync socket's number for `preserveFds` preserved descriptors.
    public static func sync(_ preserveFds: Int) -> Int32 { Int32(3 + preserveFds) }
    /// The config memfd's number.
    public static func config(_ preserveFds: Int) -> Int32 { Int32(4 + preserveFds) }
    /// The state folder's descriptor (O_PATH), through which the exec fifo is opened: the container's process
    /// may not be able to reach the folder by path (a user namespace, a 0700 root).
    public static func stateDirectory(_ preserveFds: Int) -> Int32 { Int32(5 + preserveFds) }
    /// The console socket's number.
    public static func console(_ preserveFds: Int) -> Int32 { Int32(6 + preserveFds) }
    /// The sealed copy of the podrun binary the init was exec'd from (closed by the init at once).
    public static func binary(_ preserveFds: Int) -> Int32 { Int32(7 + preserveFds) }
    /// The environment variable that carries the number of preserved descriptors.
    public static let environmentKey = "_PODRUN_PRESERVE_FDS"
}
