import Cgroups
import CPodrunShim
import Glibc
import LinuxSys
import OCISpec
import PodrunCore

/// `podrun init`: the freshly exec'd (or forked), single-threaded process that enters the container's namespaces,
/// forks the container's first process, and sets that process up until it waits for `start` (or, for exec, runs).
/// When the runtime may fork (its binary cannot be written) and the create needs no two steps, there is no init
/// in between: the runtime clones the container's process with its new namespaces into its cgroup, and that
/// process runs `mainCloned(config:)`.
///
/// It is synchronous on purpose: no Dispatch, no tasks, so `unshare`, `setns` and `fork` act on the only thread.
public enum ContainerInit {
    /// Runs the init exec'd as `podrun init`, reading its config from the config descriptor; never returns.
    public static func main() -> Never {
        let preserve = getenv(InitDescriptors.environmentKey).flatMap { Int(String(cString: $0)) } ?? 0
        close(InitDescriptors.binary(preserve))
        let channel = SyncChannel<InitMessage>(fd: InitDescriptors.sync(preserve))
        do {
            let configFd = InitDescriptors.config(preserve)
            let bytes = try FileIO.readAll(fd: configFd, path: "init config")
            close(configFd)
            let config = try JSONCoding.decode(InitConfig.self, from: bytes, what: "init config")
            try start(config, channel: channel)
        } catch {
            let e = (error as? PodrunError) ?? PodrunError(.internalError, "init", cause: String(describing: error))
            try? channel.send(.failed(e))
            _exit(1)
        }
    }

    /// Runs the init in a forked child of the runtime, whose descriptors are already in the fixed layout.
    public static func main(config: InitConfig) -> Never {
        let channel = SyncChannel<InitMessage>(fd: InitDescriptors.sync(config.preserveFds))
        do {
            try start(config, channel: channel)
        } catch {
            let e = (error as? PodrunError) ?? PodrunError(.internalError, "init", cause: String(describing: error))
            try? channel.send(.failed(e))
            _exit(1)
        }
    }

    /// Runs in the container's process that the runtime cloned straight into its new namespaces and its v2 cgroup
    /// (see `canBeClonedDirectly`), with its descriptors in the fixed layout: it joins the v1 hierarchies and the
    /// namespaces that have a path, then sets up as the forked child of the two-step init does.
    public static func mainCloned(config: InitConfig) -> Never {
        let channel = SyncChannel<InitMessage>(fd: InitDescriptors.sync(config.preserveFds))
        do {
            // A clone has one thread whatever its parent had: only the thread count check is left out.
            try checkFitness(config, countingThreads: false)
            if !config.joinsCgroupWhenReady { try config.cgroupJoin?.enterLegacyHierarchies() }
            try joinNamespacePaths(config)
            try containerProcess(config, channel: channel)
        } catch {
            let e = (error as? PodrunError) ?? PodrunError(.internalError, "init", cause: String(describing: error))
            try? channel.send(.failed(e))
            _exit(1)
        }
    }

    /// Whether the runtime may clone the container's process directly, with its new namespaces and into its
    /// cgroup, instead of forking an init that enters them and forks again: a create without a user namespace
    /// (whose id maps are written between unshare and fork), without a time namespace (its offsets are set
    /// before its first process enters it), without a pid namespace to join (setns into one applies only to
    /// the caller's children) and without a cgroup namespace to join (the process joins its cgroup late, see
    /// `InitConfig.joinsCgroupWhenReady`, and a joined namespace would have to come after).
    public static func canBeClonedDirectly(_ config: InitConfig) -> Bool {
        guard config.mode == .create else { return false }
        for namespace in config.spec.linux?.namespaces ?? [] {
            switch namespace.type {
            case .user, .time: return false
            case .pid, .cgroup: if !(namespace.path ?? "").isEmpty { return false }
            default: continue
            }
        }
        return true
    }

    /// The CLONE_NEW* flags of the namespaces made new when the container's process starts: those without a
    /// path, but the user namespace (made first, apart) and the cgroup one (made by the container's process once
    /// it is in its cgroup: the namespace's root is the cgroup of the process that makes it).
    public static func newNamespaceFlags(_ spec: Spec) -> Int32 {
        (spec.linux?.namespaces ?? [])
            .filter { ($0.path ?? "").isEmpty && $0.type != .user && $0.type != .cgroup }
            .reduce(Int32(0)) { $0 | $1.type.cloneFlag }
    }

    /// Checks the process is fit to be the init (one thread, non-dumpable), then runs it.
    private static func start(_ config: InitConfig, channel: SyncChannel<InitMessage>) throws -> Never {
        try checkFitness(config)
        try run(config, channel: channel)
    }

    /// Makes sure the process has one thread (unshare, setns and the cgroup `tasks` writes act on the calling
    /// thread only), makes it non-dumpable and sets the initial CPU affinity.
    private static func checkFitness(_ config: InitConfig, countingThreads: Bool = true) throws {
        if countingThreads && Sys.threadCount() != 1 {
            throw PodrunError(.internalError, "podrun init must be single-threaded, has \(Sys.threadCount()) threads")
        }
        try ExecutableProtection.makeNonDumpable()
        if let initial = config.process.execCPUAffinity?.initial, !initial.isEmpty {
            try ProcessAttributes.setAffinity(initial, field: "process.execCPUAffinity.initial")
        }
    }

    /// The intermediate process: namespaces, then fork; the child becomes the container's process.
    private static func run(_ config: InitConfig, channel: SyncChannel<InitMessage>) throws -> Never {
        // Into the container's cgroup first, while the host's cgroup files are reachable and writable.
        let unified = try enterCgroup(config)
        switch config.mode {
        case .create: try enterNewNamespaces(config, channel: channel)
        case .exec: try joinContainerNamespaces(config)
        }
        let pid = try CgroupJoin.fork(into: unified)
        if let unified { close(unified) }
        if pid == 0 {
            do {
                switch config.mode {
                case .create: try containerProcess(config, channel: channel)
                case .exec: try execProcess(config, channel: channel)
                }
            } catch {
                let e = (error as? PodrunError) ?? PodrunError(.internalError, "init", cause: String(describing: error))
                try? channel.send(.failed(e))
                _exit(1)
            }
        }
        try channel.send(.pid(pid))
        _exit(0)
    }

    /// Enters the v1 hierarchies of the container's cgroup; returns the v2 folder for the fork of the container's
    /// process to start in. With a user namespace, whose processes may not write the host's cgroup files (which
    /// `CLONE_INTO_CGROUP` checks), this process moves into the v2 folder now instead, the slow way.
    private static func enterCgroup(_ config: InitConfig) throws -> Int32? {
        guard let join = config.cgroupJoin else { return nil }
        try join.enterLegacyHierarchies()
        guard let unified = try join.openUnifiedDirectory() else { return nil }
        guard config.spec.linux?.namespaces?.contains(where: { $0.type == .user }) == true else { return unified }
        defer { close(unified) }
        try CgroupJoin.moveIntoUnified(unified)
        return nil
    }

    /// Joins the namespaces that have a path (user first), then makes the new ones (user first, with the runtime
    /// writing its id maps). A new cgroup namespace is left to the container's process, made once that is in
    /// its cgroup: the namespace's root is the cgroup of the process that makes it.
    private static func enterNewNamespaces(_ config: InitConfig, channel: SyncChannel<InitMessage>) throws {
        try joinNamespacePaths(config)
        let new = (config.spec.linux?.namespaces ?? []).filter { ($0.path ?? "").isEmpty }
        if new.contains(where: { $0.type == .user }) {
            try Sys.unshare(LinuxNamespaceType.user.cloneFlag)
            try channel.send(.requestMappings(pid: getpid()))
            guard case .mappingsDone? = try channel.receive() else {
                throw PodrunError(.internalError, "runtime did not write the user namespace maps")
            }
            guard podrun_setresgid(0, 0, 0) == 0, podrun_setresuid(0, 0, 0) == 0 else {
                throw PodrunError.system("become root in the user namespace")
            }
        }
        let flags = newNamespaceFlags(config.spec)
        if flags != 0 { try Sys.unshare(flags) }
        // A new time namespace takes its clock offsets before its first process (the fork below) enters it.
        if let offsets = config.spec.linux?.timeOffsets, !offsets.isEmpty {
            guard new.contains(where: { $0.type == .time }) else {
                throw PodrunError.invalidSpec("linux.timeOffsets", "time offsets need a new time namespace")
            }
            try FileIO.writeExisting("/proc/self/timens_offsets", ProcessAttributes.timeOffsetsText(offsets))
        }
    }

    /// Joins the spec's namespaces that have a path, in `LinuxNamespaceType.joinOrder` (user first, mount last).
    private static func joinNamespacePaths(_ config: InitConfig) throws {
        let namespaces = config.spec.linux?.namespaces ?? []
        // Most containers join nothing: the order's table is not even made then.
        guard namespaces.contains(where: { !($0.path ?? "").isEmpty }) else { return }
        for type in LinuxNamespaceType.joinOrder {
            guard let ns = namespaces.first(where: { $0.type == type }), let path = ns.path, !path.isEmpty else { continue }
            try Sys.setns(path: path, type: type.cloneFlag)
        }
    }

    /// Joins every namespace of the running container (those that differ from ours), user first, mount last.
    private static func joinContainerNamespaces(_ config: InitConfig) throws {
        guard let target = config.targetPid else { throw PodrunError(.internalError, "exec without a target pid") }
        for type in LinuxNamespaceType.joinOrder {
            let theirs = "/proc/\(target)/ns/\(type.procName)"
            var a = stat()
            var b = stat()
            guard stat(theirs, &a) == 0 else {
                if errno == ENOENT { continue }
                throw PodrunError.system("stat", path: theirs)
            }
            if stat("/proc/self/ns/\(type.procName)", &b) == 0 && a.st_ino == b.st_ino && a.st_dev == b.st_dev {
                continue
            }
            try Sys.setns(path: theirs, type: type.cloneFlag)
        }
    }

    /// The container's first process: rootfs, terminal, hostname, sysctl, then the process set-up, then it tells
    /// the runtime it is ready and waits on the exec fifo until `start`.
    private static func containerProcess(_ config: InitConfig, channel: SyncChannel<InitMessage>) throws -> Never {
        guard setsid() >= 0 else { throw PodrunError.system("setsid") }
        let spec = config.spec
        // Into the cgroup (when the runtime makes its v1 folders meanwhile) and a new cgroup namespace rooted
        // there, before the first step that needs them: a cgroup mount, a device node, a hook, the exec.
        let cgroupEntry = CgroupEntry(join: {
            var mountCopies: [Int32] = []
            if config.joinsCgroupWhenReady {
                let (message, descriptors) = try channel.receiveWithDescriptors()
                guard case .cgroupReady(let opened, let copies)? = message,
                      opened.nonzeroBitCount + copies.nonzeroBitCount == descriptors.count else {
                    for descriptor in descriptors { close(descriptor) }
                    throw PodrunError(.internalError, "runtime did not make the container's cgroup")
                }
                // The mount copies come after the `tasks` files, one for each bit, in the order of the binds.
                if copies != 0 {
                    mountCopies = [Int32](repeating: -1, count: config.cgroupMounts.count)
                    var next = opened.nonzeroBitCount
                    for index in mountCopies.indices where index < 64 && copies & (1 << UInt64(index)) != 0 {
                        mountCopies[index] = descriptors[next]
                        next += 1
                    }
                }
                try config.cgroupJoin?.enterLegacyHierarchies(opened: opened, descriptors: descriptors)
            }
            if spec.linux?.namespaces?.contains(where: { $0.type == .cgroup && ($0.path ?? "").isEmpty }) == true {
                try Sys.unshare(LinuxNamespaceType.cgroup.cloneFlag)
            }
            return mountCopies
        }, awaitLimits: config.awaitsResources ? {
            guard case .resourcesSet? = try channel.receive() else {
                throw PodrunError(.internalError, "runtime did not set the container's cgroup limits")
            }
        } : nil)
        // The exec fifo is reached through the state folder's descriptor, which the runtime passed in.
        let stateDir = fcntl(InitDescriptors.stateDirectory(config.preserveFds), F_DUPFD_CLOEXEC, 3)
        guard stateDir >= 0 else { throw PodrunError.system("dup state folder descriptor") }
        close(InitDescriptors.stateDirectory(config.preserveFds))

        let builder = try RootfsBuilder(config: config, cgroupEntry: cgroupEntry)
        try builder.mountAll()
        try cgroupEntry.enter()
        // Hooks run between the mounts and pivot_root: prestart and createRuntime in the runtime's namespaces,
        // then createContainer here, in the container's (with host paths still reachable, as runc does).
        var hostPid: Int32 = 0
        if spec.hooks != nil {
            try channel.send(.runHooks)
            guard case .hooksDone(let pid)? = try channel.receive() else {
                throw PodrunError(.hookFailed, "runtime did not run the hooks")
            }
            hostPid = pid
            let state = State(id: config.containerID, status: .creating, pid: pid, bundle: config.bundle,
                              annotations: spec.annotations)
            try HookRunner.run(.createContainer, spec.hooks, state: state)
        }
        try builder.enterRoot()
        if config.process.terminal == true {
            try setUpTerminal(config, consoleFd: InitDescriptors.console(config.preserveFds), bindConsole: true)
        }
        try RootfsBuilder.makeRootReadOnly(spec)
        if let hostname = spec.hostname, !hostname.isEmpty {
            guard podrun_sethostname(hostname, hostname.utf8.count) == 0 else { throw PodrunError.system("sethostname") }
        }
        if let domainname = spec.domainname, !domainname.isEmpty {
            guard podrun_setdomainname(domainname, domainname.utf8.count) == 0 else {
                throw PodrunError.system("setdomainname")
            }
        }
        if let sysctl = spec.linux?.sysctl, !sysctl.isEmpty {
            for (key, value) in sysctl.sorted(by: { $0.key < $1.key }) {
                let path = "/proc/sys/" + String(key.map { $0 == "." ? "/" : $0 })
                try FileIO.writeExisting(path, value)
            }
        }
        try RootfsBuilder.protectPaths(spec)
        let program = try ProcessSetup.prepare(config.process, capabilities: config.capabilities, seccomp: config.seccomp,
                                                personality: config.spec.linux?.personality,
                                                preserveFds: config.preserveFds)
        try cgroupEntry.awaitLimits()
        try channel.send(.ready)
        close(channel.fd)

        if config.waitsForStart {
            // Block until `start` opens the fifo for reading, then tell it we go.
            let fifo = openat(stateDir, "exec.fifo", O_WRONLY | O_CLOEXEC)
            guard fifo >= 0 else { _exit(1) }
            var go: UInt8 = 0x30
            _ = write(fifo, &go, 1)
            close(fifo)
        }
        close(stateDir)
        if !HookRunner.hooks(.startContainer, in: spec.hooks).isEmpty {
            let state = State(id: config.containerID, status: .created, pid: hostPid, bundle: config.bundle,
                              annotations: spec.annotations)
            do {
                try HookRunner.run(.startContainer, spec.hooks, state: state)
            } catch let e as PodrunError {
                let line = e.description + "\n"
                _ = line.withCString { write(2, $0, strlen($0)) }
                _exit(1)
            }
        }
        program.exec()
    }

    /// An exec'd process: cwd, terminal, the process set-up, then exec. The runtime learns of an exec failure
    /// because the sync socket (close-on-exec) carries an error instead of closing.
    private static func execProcess(_ config: InitConfig, channel: SyncChannel<InitMessage>) throws -> Never {
        guard setsid() >= 0 else { throw PodrunError.system("setsid") }
        if config.process.terminal == true {
            try setUpTerminal(config, consoleFd: InitDescriptors.console(config.preserveFds), bindConsole: false)
        }
        let program = try ProcessSetup.prepare(config.process, capabilities: config.capabilities, seccomp: config.seccomp,
                                                personality: config.spec.linux?.personality,
                                                preserveFds: config.preserveFds)
        try channel.send(.ready)
        program.exec { error in
            try? channel.send(.failed(error))
        }
    }

    /// Makes a pty in the container's /dev/pts, sends the master over the console socket, and makes the slave
    /// the process' stdio and controlling terminal (and /dev/console).
    private static func setUpTerminal(_ config: InitConfig, consoleFd: Int32, bindConsole: Bool) throws {
        let (master, slave) = try Pseudoterminal.open()
        defer { close(master) }
        if let size = config.process.consoleSize {
            Pseudoterminal.setWindowSize(master, rows: UInt16(clamping: size.height), columns: UInt16(clamping: size.width))
        }
        if bindConsole {
            let console = open("/dev/console", O_CREAT | O_WRONLY | O_NOFOLLOW | O_CLOEXEC, 0o600)
            if console >= 0 { close(console) }
            try Sys.mount(slave, "/dev/console", nil, Sys.MS_BIND, describe: "bind pty to /dev/console")
        }
        guard podrun_send_fd(consoleFd, master) == 0 else { throw PodrunError.system("send pty master to console socket") }
        close(consoleFd)
        try Pseudoterminal.attach(slave: slave)
    }
}

/// Entering the container's cgroup from its process, done once, at the first step that needs it; and, when the
/// runtime writes the cgroup's limits other than the device rules after that (`InitConfig.awaitsResources`),
/// waiting for them, once, before the process reports ready and execs.
final class CgroupEntry {
    private var join: (() throws -> [Int32])?
    private var limits: (() throws -> Void)?
    /// What the join got: a read-only copy of the mount of each `InitConfig.cgroupMounts` folder, or -1.
    private var mountCopies: [Int32] = []

    /// `join` returns the mount copies it got, in the order of `InitConfig.cgroupMounts` (empty for none).
    init(join: @escaping () throws -> [Int32], awaitLimits: (() throws -> Void)? = nil) {
        self.join = join
        self.limits = awaitLimits
    }

    /// Joins the first time; later calls do nothing.
    func enter() throws {
        guard let join else { return }
        self.join = nil
        mountCopies = try join()
    }

    /// The mount copy of cgroup bind `index`, once (the caller owns it); nil when there is none.
    func takeMountCopy(_ index: Int) -> Int32? {
        guard mountCopies.indices.contains(index), mountCopies[index] >= 0 else { return nil }
        defer { mountCopies[index] = -1 }
        return mountCopies[index]
    }

    /// Joins if not done yet, then waits for the limits the first time; later calls do nothing.
    func awaitLimits() throws {
        try enter()
        guard let limits else { return }
        self.limits = nil
        try limits()
    }
}
