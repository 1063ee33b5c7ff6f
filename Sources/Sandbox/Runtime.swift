import CPodrunShim
import Glibc
import LinuxSys
import OCISpec
import PodrunCore
import Cgroups
import ImageStore

/// The OCI runtime: the container lifecycle over a state folder, as runc's commands do it.
public struct Runtime: Sendable {
    /// Where containers' state is kept.
    public let store: StateStore
    /// Where warnings and debug lines go.
    public let log: LogWriter

    public init(root: String, log: LogWriter) {
        self.store = StateStore(root: root)
        self.log = log
    }

    /// Options of `create` (and `run`).
    public struct CreateOptions: Sendable {
        public var bundle: String
        public var pidFile: String?
        public var consoleSocket: String?
        public var noPivot: Bool
        public var preserveFds: Int
        /// Image storage made for this container (see `ContainerRecord.storage`); removed when create fails.
        public var storage: String?
        /// A cgroup (a pod sandbox's) to make the container's cgroup in, as `<parent>/<id>`, overriding
        /// `linux.cgroupsPath`: its path and its folder per hierarchy mount point.
        public var cgroupParent: (path: String, directories: [String: String])?
        /// The configuration to use instead of the bundle's `config.json` (the bundle still anchors a
        /// relative `root.path`).
        public var spec: Spec?
        /// For `run`: the process execs its program as soon as it is set up, without an exec fifo to wait on
        /// for `start`. Taken only when the spec has no poststart hooks (see `canStartAtOnce(_:)`).
        public var startAtOnce = false

        public init(bundle: String, pidFile: String? = nil, consoleSocket: String? = nil, noPivot: Bool = false,
                    preserveFds: Int = 0, storage: String? = nil) {
            self.storage = storage
            self.bundle = bundle
            self.pidFile = pidFile
            self.consoleSocket = consoleSocket
            self.noPivot = noPivot
            self.preserveFds = preserveFds
        }
    }

    /// Reads, decodes and validates a bundle's config.json.
    public static func loadSpec(bundle: String) throws -> Spec {
        try loadSpecKeepingDocument(bundle: bundle).spec
    }

    /// Reads, decodes and validates a bundle's config.json; returns the parsed document too (see
    /// `Spec.decodeKeepingDocument`).
    static func loadSpecKeepingDocument(bundle: String) throws -> (spec: Spec, document: JSONTree?) {
        let path = bundle + "/config.json"
        let bytes: [UInt8]
        do {
            bytes = try FileIO.readBytes(path)
        } catch let e as PodrunError where e.code == .notFound {
            throw PodrunError(.notFound, "open \(path): no such file or directory")
        }
        let loaded = try Spec.decodeKeepingDocument(from: bytes)
        try loaded.spec.validate()
        return loaded
    }

    /// Makes a container whose first process waits for `start`. With `consoleReceiver`, a terminal's master
    /// goes to that socket (for `run`, which relays it) instead of `options.consoleSocket`.
    @discardableResult
    public func create(id: String, options: CreateOptions, consoleReceiver: Int32? = nil) throws -> ContainerRecord {
        do {
            return try createContainer(id: id, options: options, consoleReceiver: consoleReceiver)
        } catch {
            // Image storage made for this container goes with a failed create, whatever step failed.
            if let storage = options.storage { try? ContainerStorage.release(folder: storage) }
            throw error
        }
    }

    private func createContainer(id: String, options: CreateOptions, consoleReceiver: Int32?) throws -> ContainerRecord {
        try ContainerID.validate(id)
        let bundle = try Self.absolutePath(options.bundle)
        let spec: Spec
        var document: JSONTree? = nil
        if let given = options.spec {
            try given.validate()
            spec = given
        } else {
            (spec, document) = try Self.loadSpecKeepingDocument(bundle: bundle)
        }
        guard let process = spec.process else { throw PodrunError.invalidSpec("process", "is required") }
        guard spec.linux?.namespaces?.contains(where: { $0.type == .mount }) == true else {
            throw PodrunError.invalidSpec("linux.namespaces", "a mount namespace is required")
        }
        let rootPath = spec.root?.path ?? "rootfs"
        let rootfs = rootPath.hasPrefix("/") ? rootPath : bundle + "/" + rootPath
        guard FileIO.isDirectory(rootfs) else {
            throw PodrunError(.notFound, "invalid rootfs: stat \(rootfs): no such file or directory")
        }
        if process.terminal == true && consoleReceiver == nil && options.consoleSocket == nil {
            throw PodrunError(.invalidArgument, "cannot allocate tty if runc will detach without setting console socket")
        }
        if process.terminal != true && options.consoleSocket != nil {
            throw PodrunError(.invalidArgument, "cannot use console socket if runc will not detach or allocate tty")
        }

        let directory = try store.makeDirectory(for: id)
        let cleanup = Cleanup()
        cleanup.add { try? store.remove(id) }
        do {
            let record = try createProcess(id: id, spec: spec, process: process, bundle: bundle, rootfs: rootfs,
                                           directory: directory, options: options, consoleReceiver: consoleReceiver,
                                           cleanup: cleanup)
            try store.save(record, specDocument: document)
            if let pidFile = options.pidFile { try Self.writePidFile(pidFile, record.pid) }
            cleanup.disarm()
            return record
        } catch {
            cleanup.run()
            throw error
        }
    }

    private func createProcess(id: String, spec: Spec, process: Process, bundle: String, rootfs: String,
                               directory: String, options: CreateOptions, consoleReceiver: Int32?,
                               cleanup: Cleanup) throws -> ContainerRecord {
        let startsAtOnce = options.startAtOnce && Self.canStartAtOnce(spec)
        if !startsAtOnce {
            let fifo = store.execFifo(id)
            guard mkfifo(fifo, 0o622) == 0, chmod(fifo, 0o622) == 0 else { throw PodrunError.system("mkfifo", path: fifo) }
        }

        let cgroup: any CgroupManager
        if let parent = options.cgroupParent {
            cgroup = try Cgroups.manager(path: parent.path + "/" + id,
                                         directories: parent.directories.mapValues { $0 + "/" + id })
        } else {
            cgroup = try Cgroups.manager(cgroupsPath: spec.linux?.cgroupsPath, containerID: id)
        }
        // A process of a failed create may still be on its way out (one that sent `failed`, one whose pid was
        // not known yet) when its cgroup goes.
        cleanup.add { try? cgroup.destroyKillingWhatIsLeft() }

        var consoleFd: Int32? = nil
        if process.terminal == true {
            consoleFd = try consoleReceiver.map { dup($0) } ?? Self.connectConsoleSocket(options.consoleSocket ?? "")
        }
        defer { if let consoleFd { close(consoleFd) } }

        let (capabilities, seccomp) = try compileSecurity(process, spec: spec)
        var config = InitConfig(mode: .create, containerID: id, process: process, spec: spec, rootfs: rootfs,
                                bundle: bundle, stateDirectory: directory, capabilities: capabilities, seccomp: seccomp,
                                noPivot: options.noPivot, preserveFds: options.preserveFds,
                                cgroupMounts: try cgroupBinds(cgroup), cgroupJoin: cgroup.join)
        config.waitsForStart = !startsAtOnce
        // The v1 folders (and the limits) take a while to make: a process cloned directly starts in the v2 folder
        // and sets up meanwhile, joining the v1 ones when told. Otherwise all is made before the init starts.
        // The device rules go with the folders, so that the process' mounts and device nodes meet them whole (they
        // are written as a deny-all, then the allows); the other limits may come while it sets up.
        let resources = spec.linux?.resources ?? LinuxResources()
        var deferred = resources
        deferred.devices = nil
        config.joinsCgroupWhenReady = Self.clonesDirectly(config)
        config.awaitsResources = config.joinsCgroupWhenReady && spec.hooks == nil && deferred != LinuxResources()
        // For a process cloned directly, the v1 folders' mkdirs (most of the runtime's cgroup work, in the kernel)
        // and the first writes to them (cpuset values, device rules) run on a thread of their own from here on,
        // while this one makes the v2 folder and clones the process (the network namespace alone takes longer).
        // The thread is done before this returns or throws, so before any clean-up removes what it made.
        let startedFolders = config.joinsCgroupWhenReady
            ? cgroup.startLegacy(devices: resources.devices,
                                 copyingMountsWith: Self.cgroupMountAttributes(spec, binds: config.cgroupMounts))
            : nil
        defer { startedFolders?.wait() }
        let legacyCgroup = LegacyCgroupSteps(make: {
            try cgroup.createLegacy(after: startedFolders, devices: resources.devices)
        }, setResources: { try cgroup.set(deferred) }, takeHandover: {
            Self.handover(of: startedFolders, join: config.cgroupJoin, binds: config.cgroupMounts)
        })
        try cgroup.createUnified()
        if !config.joinsCgroupWhenReady { try legacyCgroup.all() }
        let child = try startInit(config, consoleFd: consoleFd, cleanup: cleanup, legacyCgroup: legacyCgroup)
        return ContainerRecord(id: id, bundle: bundle, rootfs: rootfs, pid: child.pid,
                               pidStartTime: child.startTime, created: Timestamp.nowRFC3339Nano(),
                               spec: spec, cgroupPath: cgroup.path, cgroupDirectories: cgroup.directories,
                               storage: options.storage)
    }

    /// What a directly cloned process gets with its go-ahead, from the folder batch: a descriptor of each of the
    /// join's `tasks` files and a read-only copy of the mount of each cgroup bind's folder, -1 where there is none.
    struct CgroupHandover {
        /// In the order of `CgroupJoin.taskFiles`.
        var taskFiles: [Int32] = []
        /// In the order of `InitConfig.cgroupMounts`.
        var mountCopies: [Int32] = []

        /// Closes every descriptor.
        func close() {
            for descriptor in taskFiles + mountCopies where descriptor >= 0 { Glibc.close(descriptor) }
        }
    }

    /// The descriptors the folder batch made, in the orders of `join.taskFiles` and of `binds`; the `tasks` files
    /// only when the batch made the join's very folders.
    static func handover(of batch: FolderBatch?, join: CgroupJoin?, binds: [CgroupBind]) -> CgroupHandover {
        guard let batch else { return CgroupHandover() }
        var handover = CgroupHandover()
        let opened = batch.takeOpened()
        if let join, batch.openedName == "tasks", batch.paths.map({ $0 + "/tasks" }) == join.taskFiles {
            handover.taskFiles = opened
        } else {
            for descriptor in opened where descriptor >= 0 { close(descriptor) }
        }
        var copies = batch.takeMountCopies()
        handover.mountCopies = binds.map { bind in
            guard let index = batch.paths.firstIndex(of: bind.hostPath), copies[index] >= 0 else { return -1 }
            defer { copies[index] = -1 }
            return copies[index]
        }
        for descriptor in copies where descriptor >= 0 { close(descriptor) }
        return handover
    }

    /// The attributes a directly cloned process' cgroup binds get (see `FolderBatch.takeMountCopies()`): those of
    /// the remount of the spec's first `cgroup` mount when it binds v1 folders (no cgroup namespace, no v2 bind);
    /// nil otherwise.
    static func cgroupMountAttributes(_ spec: Spec, binds: [CgroupBind]) -> MountAttributes? {
        guard let mount = spec.mounts?.first(where: { $0.type == "cgroup" || $0.type == "cgroup2" }),
              spec.linux?.namespaces?.contains(where: { $0.type == .cgroup }) != true,
              !binds.isEmpty, !binds.contains(where: { $0.fsType == "cgroup2" && $0.name.isEmpty }) else { return nil }
        return MountAttributes(remountFlags: MountOptions.parse(mount.options ?? []).flags)
    }

    /// Whether a `run` may start the container's process at once, without the exec fifo `start` opens: when no
    /// poststart hook has to run between the process' start and the return of `start`.
    public static func canStartAtOnce(_ spec: Spec) -> Bool {
        HookRunner.hooks(.poststart, in: spec.hooks).isEmpty
    }

    /// Whether the container's process is cloned directly by this process (see `launchInit`).
    static func clonesDirectly(_ config: InitConfig) -> Bool {
        ContainerInit.canBeClonedDirectly(config) && ExecutableProtection.runningBinaryIsProtected()
            && Sys.threadCount() == 1
    }

    /// The steps of a container's cgroup that a directly cloned process need not wait for at its start: the v1
    /// folders with the device rules, then the other limits.
    struct LegacyCgroupSteps {
        var make: () throws -> Void
        var setResources: () throws -> Void
        /// After `make`: the descriptors the process gets with its go-ahead (the caller closes them).
        var takeHandover: () -> CgroupHandover = { CgroupHandover() }

        func all() throws {
            try make()
            try setResources()
        }
    }

    /// Starts `podrun init` with `config` (which enters the container's cgroup itself), serves its requests until
    /// it is ready; returns the container process' pid and start time. With `config.joinsCgroupWhenReady`,
    /// `legacyCgroup` runs while the process sets up, which is then told to join (and with
    /// `config.awaitsResources`, the limits are written after that, and the process told again).
    func startInit(_ config: InitConfig, consoleFd: Int32?, cleanup: Cleanup,
                   legacyCgroup: LegacyCgroupSteps? = nil) throws -> (pid: Int32, startTime: UInt64) {
        let (parentEnd, childEnd) = try SyncChannel<InitMessage>.pair()
        let channel = SyncChannel<InitMessage>(fd: parentEnd)
        defer { close(parentEnd) }
        let preserve = config.preserveFds
        let stateDirectory = open(config.stateDirectory, RootedDirectory.O_PATH | O_DIRECTORY | O_CLOEXEC)
        guard stateDirectory >= 0 else {
            close(childEnd)
            throw PodrunError.system("open", path: config.stateDirectory)
        }
        defer { close(stateDirectory) }
        var descriptors: [Int32: Int32] = [InitDescriptors.sync(preserve): childEnd,
                                           InitDescriptors.stateDirectory(preserve): stateDirectory]
        if let consoleFd { descriptors[InitDescriptors.console(preserve)] = consoleFd }
        for fd in 0..<preserve { descriptors[Int32(3 + fd)] = Int32(3 + fd) }
        let launched = try launchInit(config, descriptors: descriptors, closeInChild: [parentEnd],
                                      beforeTwoStepInit: legacyCgroup?.all, onError: { close(childEnd) })
        let initPid = launched.pid
        close(childEnd)
        log.log(.debug, launched.isContainerProcess
                ? "container process \(initPid) cloned into its namespaces and cgroup"
                : "init \(initPid) started (\(config.mode.rawValue))")
        cleanup.add {
            Glibc.kill(initPid, SIGKILL)
            var status: Int32 = 0
            waitpid(initPid, &status, 0)
        }

        // Read until every copy of the init's socket is closed: after `ready`, a successful exec (or the wait on
        // the exec fifo) closes it, while a failed exec sends `failed` first.
        var containerPid: Int32? = nil
        var startTime: UInt64? = nil
        var ready = false
        var hooksAsked = false
        /// The prestart and createRuntime hooks, in the runtime's namespaces, then the go-ahead.
        func runCreateHooks(_ pid: Int32) throws {
            let state = State(id: config.containerID, status: .creating, pid: pid, bundle: config.bundle,
                              annotations: config.spec.annotations)
            try HookRunner.run(.prestart, config.spec.hooks, state: state)
            try HookRunner.run(.createRuntime, config.spec.hooks, state: state)
            try channel.send(.hooksDone(pid: pid))
        }
        if launched.isContainerProcess {
            // Cloned straight into its namespaces: no init in between to report the pid.
            containerPid = initPid
            if config.joinsCgroupWhenReady {
                try legacyCgroup?.make()
                if !config.awaitsResources { try legacyCgroup?.setResources() }
                // The process joins the folders through the `tasks` files the batch opened and mounts the batch's
                // copies of them, sent along (at most 32 of each: a message carries up to 64 descriptors; a v1 host
                // has a dozen hierarchies).
                let handover = legacyCgroup?.takeHandover() ?? CgroupHandover()
                let tasks = handover.taskFiles.prefix(32).indices.filter { handover.taskFiles[$0] >= 0 }
                let copies = handover.mountCopies.prefix(32).indices.filter { handover.mountCopies[$0] >= 0 }
                // A process that failed meanwhile is gone: its `failed` message is read below.
                try? channel.send(.cgroupReady(openedTaskFiles: tasks.reduce(0) { $0 | 1 << UInt64($1) },
                                               mountCopies: copies.reduce(0) { $0 | 1 << UInt64($1) }),
                                  descriptors: tasks.map { handover.taskFiles[$0] } + copies.map { handover.mountCopies[$0] })
                handover.close()
                if config.awaitsResources {
                    try legacyCgroup?.setResources()
                    try? channel.send(.resourcesSet)
                }
            }
            // After the go-ahead: the process waits for its cgroups, not for this read.
            startTime = ProcessTable.stat(of: initPid)?.startTime
        }
        loop: while true {
            guard let message = try channel.receive() else {
                if ready { break loop }
                var status: Int32 = 0
                let how = waitpid(initPid, &status, WNOHANG) == initPid
                    ? (status & 0x7f == 0 ? "exit status \((status >> 8) & 0xff)" : "killed by signal \(status & 0x7f)")
                    : "still running"
                throw PodrunError(.internalError, "container init exited unexpectedly (\(how))")
            }
            switch message {
            case .requestMappings(let pid):
                try writeIDMappings(pid: pid, spec: config.spec)
                try channel.send(.mappingsDone)
            case .runHooks:
                // The container's process can ask before its init's `pid` message is read (both write to this
                // socket): the hooks then wait for the pid.
                guard let pid = containerPid else {
                    hooksAsked = true
                    continue
                }
                try runCreateHooks(pid)
            case .pid(let pid):
                containerPid = pid
                startTime = ProcessTable.stat(of: pid)?.startTime
                // Kill and wait, so that its cgroup is empty when the next undo step removes it.
                let pidfd = podrun_pidfd_open(pid)
                cleanup.add {
                    Glibc.kill(pid, SIGKILL)
                    if pidfd >= 0 {
                        _ = ProcessTable.waitForExit(pidfd: pidfd, timeoutMilliseconds: 5000)
                        close(pidfd)
                    }
                }
                if hooksAsked {
                    hooksAsked = false
                    try runCreateHooks(pid)
                }
            case .ready:
                ready = true
            case .failed(let error):
                throw error
            case .mappingsDone, .hooksDone, .cgroupReady, .resourcesSet:
                throw PodrunError(.internalError, "unexpected message from init")
            }
        }
        if !launched.isContainerProcess {
            var status: Int32 = 0
            while waitpid(initPid, &status, 0) < 0 && errno == EINTR {}
        }
        // A created container's process waits on the exec fifo, so it is alive; an exec'd one may already have
        // run and been reaped by the caller's subreaper: it needs no start time.
        guard let pid = containerPid else { throw PodrunError(.internalError, "init sent no pid") }
        if config.mode == .create && config.waitsForStart {
            guard let startTime, ProcessTable.isAlive(pid, startTime: startTime) else {
                throw PodrunError(.internalError, "the container's process exited before start")
            }
            return (pid, startTime)
        }
        return (pid, startTime ?? 0)
    }

    /// Starts the init process with `descriptors` (target -> source) in place; `isContainerProcess` when what
    /// started is the container's process itself.
    ///
    /// When nothing can write the podrun binary (immutable or on a read-only mount) and this process has one
    /// thread, the init is a fork of this process: no second program start. For a create that needs no two
    /// steps (`ContainerInit.canBeClonedDirectly`) that fork is the container's process itself, cloned with its
    /// new namespaces into its v2 cgroup: no intermediate process. Otherwise the init is exec'd from a sealed
    /// memfd copy of the binary, so a container that reaches the init's /proc/PID/exe finds nothing writable.
    private func launchInit(_ config: InitConfig, descriptors: [Int32: Int32], closeInChild: [Int32],
                            beforeTwoStepInit: (() throws -> Void)?,
                            onError: () -> Void) throws -> (pid: pid_t, isContainerProcess: Bool) {
        let arguments = ["podrun", "init"]
        let environment = ["\(InitDescriptors.environmentKey)=\(config.preserveFds)"]
        var configFd: Int32 = -1
        defer { if configFd >= 0 { close(configFd) } }
        // An init (not the container's process cloned directly) enters the whole cgroup first: all of it must
        // exist before it starts.
        var twoStep = config
        twoStep.joinsCgroupWhenReady = false
        twoStep.awaitsResources = false
        func makeWholeCgroup() throws {
            if config.joinsCgroupWhenReady { try beforeTwoStepInit?() }
        }
        // An exec'd init reads its config as JSON from a memfd; a forked one has it in memory already.
        func withConfig() throws -> [Int32: Int32] {
            try makeWholeCgroup()
            configFd = try Sys.memfd("podrun-init-config", JSONCoding.encode(twoStep, what: "init config"))
            var map = descriptors
            map[InitDescriptors.config(config.preserveFds)] = configFd
            return map
        }
        do {
            // `joinsCgroupWhenReady` was set by `clonesDirectly`, which checked both already.
            if config.joinsCgroupWhenReady || ExecutableProtection.runningBinaryIsProtected() {
                if config.joinsCgroupWhenReady || Sys.threadCount() == 1 {
                    // In the child: only the fixed layout stays open, as in an exec'd init: the child does not exec,
                    // so close-on-exec closes nothing. A copy of the sync socket left open would keep the runtime
                    // from seeing it close; a descriptor of the caller's (a pipe or socket it waits on) would stay
                    // open in the created container until `start`.
                    func keepOnlyTheLayout() {
                        closeInChild.forEach { close($0) }
                        do {
                            try Descriptors.install(descriptors)
                        } catch {
                            _exit(1)
                        }
                        let highest = descriptors.keys.max() ?? 2
                        for fd in Int32(3)..<highest + 1 where descriptors[fd] == nil { close(fd) }
                        _ = podrun_close_range(UInt32(highest + 1), UInt32.max, 0)
                    }
                    if config.joinsCgroupWhenReady, let pid = try cloneContainerProcess(config) {
                        if pid == 0 {
                            keepOnlyTheLayout()
                            ContainerInit.mainCloned(config: config)
                        }
                        return (pid, true)
                    }
                    try makeWholeCgroup()
                    let pid = podrun_fork()
                    guard pid >= 0 else { throw PodrunError.system("fork") }
                    if pid == 0 {
                        keepOnlyTheLayout()
                        ContainerInit.main(config: twoStep)
                    }
                    return (pid, false)
                }
                return (try Spawn.start(Self.selfExecutable, arguments, environment: environment,
                                        descriptors: withConfig()), false)
            }
            let copy = try ExecutableProtection.sealedCopyOfRunningBinary()
            defer { close(copy) }
            var withBinary = try withConfig()
            let slot = InitDescriptors.binary(config.preserveFds)
            withBinary[slot] = copy
            return (try Spawn.start("/proc/self/fd/\(slot)", arguments, environment: environment,
                                    descriptors: withBinary), false)
        } catch {
            onError()
            throw error
        }
    }

    /// Clones this single-threaded process with the container's new namespaces into its v2 cgroup: 0 in the
    /// child, its pid in the parent; nil when the kernel has no clone3 or no `CLONE_INTO_CGROUP` (before 5.7, or a
    /// seccomp filter refusing clone3), for the two-step init to do it.
    private func cloneContainerProcess(_ config: InitConfig) throws -> pid_t? {
        let unified = try config.cgroupJoin?.openUnifiedDirectory()
        defer { if let unified { close(unified) } }
        let pid = podrun_clone3(UInt64(UInt32(bitPattern: ContainerInit.newNamespaceFlags(config.spec))), unified ?? -1)
        if pid >= 0 { return pid }
        let e = errno
        guard e == ENOSYS || e == E2BIG || e == EINVAL else {
            throw PodrunError.system("clone the container's process", errno: e)
        }
        return nil
    }

    /// Resolves the process' capability names and compiles the spec's seccomp filter, logging runc's warnings
    /// (unknown capabilities, syscalls libseccomp does not know), and checks the rlimits.
    func compileSecurity(_ process: Process, spec: Spec) throws -> (CapabilitySets, CompiledSeccomp?) {
        let capabilities = Capabilities.resolve(process.capabilities)
        if let warning = capabilities.warning { log.log(.warning, warning) }
        try ResourceLimits.validate(process.rlimits ?? [])
        var seccomp: CompiledSeccomp? = nil
        if let filter = spec.linux?.seccomp {
            let compiled = try SeccompFilter.compile(filter)
            compiled.warnings.forEach { log.log(.warning, $0) }
            seccomp = compiled
        }
        return (capabilities.sets, seccomp)
    }

    /// Writes /proc/PID/uid_map and gid_map from the spec.
    private func writeIDMappings(pid: Int32, spec: Spec) throws {
        func render(_ maps: [LinuxIDMapping]?) -> String {
            (maps ?? []).map { "\($0.containerID) \($0.hostID) \($0.size)\n" }.joined()
        }
        try FileIO.writeExisting("/proc/\(pid)/uid_map", render(spec.linux?.uidMappings))
        try FileIO.writeExisting("/proc/\(pid)/gid_map", render(spec.linux?.gidMappings))
    }

    /// The container's cgroup folder in each mounted hierarchy, for `cgroup` mounts inside it. On a hybrid host
    /// the controller-less v2 mount is left out, as runc does.
    private func cgroupBinds(_ cgroup: any CgroupManager) throws -> [CgroupBind] {
        let hierarchies = try Cgroups.mountedHierarchies()
        let mode = CgroupHierarchy.mode(of: hierarchies)
        let directories = cgroup.directories
        return hierarchies.compactMap { h in
            if h.isUnified && mode != .unified { return nil }
            guard let directory = directories[h.mountPoint] else { return nil }
            let name = h.isUnified ? "" : h.mountPoint.lastPathComponent
            let options = h.controllers.map { $0.hasPrefix("name=") ? "none,\($0)" : $0 }.joinedText(",")
            return CgroupBind(name: name, fsType: h.isUnified ? "cgroup2" : "cgroup", options: options,
                              hostPath: directory)
        }
    }

    /// Connects to a `--console-socket` unix socket.
    static func connectConsoleSocket(_ path: String) throws -> Int32 {
        let fd = socket(AF_UNIX, Int32(SOCK_STREAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0)
        guard fd >= 0 else { throw PodrunError.system("socket") }
        var address = sockaddr_un()
        address.sun_family = sa_family_t(AF_UNIX)
        let bytes = Array(path.utf8)
        guard bytes.count < MemoryLayout.size(ofValue: address.sun_path) else {
            close(fd)
            throw PodrunError(.invalidArgument, "console socket path too long", path: path)
        }
        withUnsafeMutableBytes(of: &address.sun_path) { raw in
            for (i, b) in bytes.enumerated() { raw[i] = b }
        }
        let rc = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                connect(fd, $0, socklen_t(MemoryLayout<sockaddr_un>.size))
            }
        }
        guard rc == 0 else {
            let e = errno
            close(fd)
            throw PodrunError.system("connect console socket", path: path, errno: e)
        }
        return fd
    }

    /// The running podrun binary, for `init`.
    static let selfExecutable = "/proc/self/exe"

    /// An absolute, symlink-free form of `path`.
    public static func absolutePath(_ path: String) throws -> String {
        guard let resolved = realpath(path, nil) else { throw PodrunError.system("resolve", path: path) }
        defer { free(resolved) }
        return String(cString: resolved)
    }

    /// Writes a pid file as runc does (atomically, the pid without a newline).
    public static func writePidFile(_ path: String, _ pid: Int32) throws {
        let absolute = path.hasPrefix("/") ? path : (try absolutePath(".")) + "/" + path
        try FileIO.writeAtomically(absolute, Array(String(pid).utf8))
    }
}
