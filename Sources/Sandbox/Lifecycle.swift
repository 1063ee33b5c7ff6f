import CPodrunShim
import Glibc
import LinuxSys
import OCISpec
import PodrunCore
import Cgroups
import ImageStore

extension Runtime {
    /// The status of a container: stopped when its process is gone, created while the exec fifo exists,
    /// paused when its cgroup is frozen, running otherwise.
    public func status(of record: ContainerRecord) -> ContainerStatus {
        guard ProcessTable.isAlive(record.pid, startTime: record.pidStartTime) else { return .stopped }
        if FileIO.exists(store.execFifo(record.id)) { return .created }
        if let cgroup = try? record.cgroup(),
           (try? cgroup.isFrozen()) == true {
            return .paused
        }
        return .running
    }

    /// The runtime-spec state of container `id`, with runc's extra fields.
    public func state(id: String) throws -> State {
        let record = try store.loadSummary(id)
        return state(of: record)
    }

    /// The state of a loaded record.
    public func state(of record: ContainerRecord) -> State {
        let status = status(of: record)
        return State(id: record.id, status: status, pid: status == .stopped ? 0 : record.pid, bundle: record.bundle,
                     rootfs: record.rootfs, created: record.created, owner: Self.ownerName(of: store.directory(record.id)),
                     annotations: record.spec.annotations)
    }

    /// Lets a created container's process exec its program.
    public func start(id: String) throws {
        try start(try store.loadSummary(id))
    }

    /// Lets a created container's process exec its program, from its record as just loaded or made (`run`
    /// need not read back what `create` wrote).
    public func start(_ record: ContainerRecord) throws {
        let id = record.id
        let lock = try store.lock(id)
        defer { close(lock) }
        switch status(of: record) {
        case .created: break
        case .stopped: throw PodrunError(.invalidState, "cannot start a container that has stopped")
        case .running, .paused, .creating: throw PodrunError(.invalidState, "cannot start an already running container")
        }
        let fifoPath = store.execFifo(id)
        let fifo = open(fifoPath, O_RDONLY | O_NONBLOCK | O_CLOEXEC)
        guard fifo >= 0 else { throw PodrunError.system("open exec fifo", path: fifoPath) }
        defer { close(fifo) }
        // The writer (the container's process) opens its end as soon as ours is open, then writes one byte.
        var entry = pollfd(fd: fifo, events: Int16(POLLIN), revents: 0)
        while true {
            let rc = poll(&entry, 1, 100)
            if rc > 0 {
                var byte: UInt8 = 0
                let n = read(fifo, &byte, 1)
                if n == 1 { break }
                if n < 0 && (errno == EAGAIN || errno == EINTR) { continue }
            }
            if rc < 0 && errno != EINTR { throw PodrunError.system("poll exec fifo") }
            if !ProcessTable.isAlive(record.pid, startTime: record.pidStartTime) {
                throw PodrunError(.invalidState, "cannot start a container that has stopped")
            }
        }
        unlink(fifoPath)
        // Poststart hooks: a failure is a warning, the container runs on (runtime-spec). The state they read
        // (a status check, the owner's name) is only made when there are some.
        guard !HookRunner.hooks(.poststart, in: record.spec.hooks).isEmpty else { return }
        do {
            try HookRunner.run(.poststart, record.spec.hooks, state: state(of: record))
        } catch let e as PodrunError {
            log.log(.warning, e.description)
        }
    }

    /// Sends `signal` to the container's first process, or with `all` to every process in its cgroup.
    public func kill(id: String, signal: Int32, all: Bool = false) throws {
        let record = try store.loadSummary(id)
        let current = status(of: record)
        guard current != .stopped else { throw PodrunError(.invalidState, "container not running") }
        if all {
            let cgroup = try record.cgroup()
            for pid in try cgroup.pids() { Glibc.kill(pid, signal) }
            return
        }
        let pidfd = try ProcessTable.pidfd(record.pid, startTime: record.pidStartTime)
        defer { close(pidfd) }
        try ProcessTable.signal(pidfd: pidfd, signal)
    }

    /// Removes a container: a stopped one at once; a created one after killing its process; a running or paused
    /// one only with `force` (killed first).
    public func delete(id: String, force: Bool) throws {
        let record: ContainerRecord
        do {
            record = try store.loadSummary(id)
        } catch let e as PodrunError where e.code == .notFound {
            // A create that was killed midway can leave a folder without state: remove it.
            if (try? ContainerID.validate(id)) != nil { try? store.remove(id) }
            if force { return }
            throw e
        }
        try delete(record, force: force)
    }

    /// Removes a container, from its record as just loaded or made.
    public func delete(_ record: ContainerRecord, force: Bool) throws {
        let id = record.id
        let lock = try store.lock(id)
        defer { close(lock) }
        let current = status(of: record)
        switch current {
        case .stopped:
            break
        case .created:
            try killAndWait(record)
        case .running, .paused, .creating:
            guard force else {
                throw PodrunError(.invalidState, "cannot delete container \(id) that is not stopped: \(current.rawValue)")
            }
            try killAndWait(record)
        }
        try destroy(record)
    }

    /// SIGKILLs the container (every process of its cgroup when it shares a pid namespace) and waits for it.
    func killAndWait(_ record: ContainerRecord) throws {
        let cgroup = try record.cgroup()
        try? cgroup.thaw()
        guard let pidfd = try? ProcessTable.pidfd(record.pid, startTime: record.pidStartTime) else { return }
        defer { close(pidfd) }
        if !record.hasPrivatePidNamespace {
            for pid in (try? cgroup.pids()) ?? [] { Glibc.kill(pid, SIGKILL) }
        }
        try? ProcessTable.signal(pidfd: pidfd, SIGKILL)
        _ = ProcessTable.waitForExit(pidfd: pidfd, timeoutMilliseconds: 10_000)
    }

    /// Removes what a stopped container still has: its cgroup and its state folder.
    func destroy(_ record: ContainerRecord) throws {
        let cgroup = try record.cgroup()
        // Processes of a container without its own pid namespace may outlive its first process.
        try cgroup.destroyKillingWhatIsLeft()
        if !HookRunner.hooks(.poststop, in: record.spec.hooks).isEmpty {
            var stopped = state(of: record)
            stopped.status = .stopped
            do {
                try HookRunner.run(.poststop, record.spec.hooks, state: stopped)
            } catch let e as PodrunError {
                log.log(.warning, e.description)
            }
        }
        if let storage = record.storage { try ContainerStorage.release(folder: storage) }
        try store.remove(record.id)
    }

    /// Every container's state, sorted by id; containers whose state cannot be read are skipped.
    public func list() throws -> [State] {
        try store.ids().compactMap { id in (try? store.loadSummary(id)).map { state(of: $0) } }
    }

    /// The pids of every process in the container's cgroup.
    public func pids(id: String) throws -> [Int32] {
        let record = try store.loadSummary(id)
        let cgroup = try record.cgroup()
        return try cgroup.pids().sorted()
    }

    /// The user name owning `path`, or its uid as text.
    static func ownerName(of path: String) -> String {
        var st = stat()
        guard stat(path, &st) == 0 else { return "" }
        if let pw = getpwuid(st.st_uid) { return String(cString: pw.pointee.pw_name) }
        return String(st.st_uid)
    }
}
