import Cgroups
import Glibc
import LinuxSys
import OCISpec
import PodrunCore
import Sandbox

/// Pod sandboxes: a pause process holding the pod's net, ipc and uts (and pid) namespaces, pinned by bind
/// mounts so they outlive it, a cgroup the pod's containers go under, volumes and the pod's network.
///
/// Every step of `create` is written to the record before it is taken, so `remove` and `gc` undo exactly
/// what a create killed at any step left. Every operation on one sandbox holds its lock.
public struct SandboxManager: Sendable {
    /// What `create` is asked for.
    public struct CreateOptions: Sendable {
        public var id: String
        public var hostname: String?
        public var sharePid: Bool
        public var cgroupParent: String?
        public var labels: [String: String]
        public var volumes: [String]
        public var ports: [String]

        public init(id: String, hostname: String? = nil, sharePid: Bool = false, cgroupParent: String? = nil,
                    labels: [String: String] = [:], volumes: [String] = [], ports: [String] = []) {
            self.id = id
            self.hostname = hostname
            self.sharePid = sharePid
            self.cgroupParent = cgroupParent
            self.labels = labels
            self.volumes = volumes
            self.ports = ports
        }
    }

    /// The sandboxes' records.
    public let store: SandboxStore
    /// The runtime the pod's containers live in.
    public let runtime: Runtime
    /// Where sandbox data (volumes) go: `<dataRoot>/<id>/volumes/NAME`.
    public let dataRoot: String

    /// Sandboxes beside `runtime`'s containers, their data under `dataRoot`.
    public init(runtime: Runtime, dataRoot: String) {
        self.runtime = runtime
        self.store = SandboxStore(root: runtime.store.root)
        self.dataRoot = dataRoot
    }

    // MARK: create

    /// Makes a sandbox; on failure nothing of it is left.
    @discardableResult
    public func create(_ options: CreateOptions, network choice: NetworkChoice) throws -> SandboxRecord {
        let network = try choice.make(sandboxStore: store.directory)
        let id = options.id
        try ContainerID.validate(id)
        for volume in options.volumes {
            guard (try? ContainerID.validate(volume)) != nil else {
                throw PodrunError(.invalidArgument, "invalid volume name \(volume)", path: "--volume")
            }
        }
        let hostname = options.hostname ?? String(id.prefix(63))
        return try store.withLock(id) {
            try FileIO.makeDirectories(store.directory, mode: 0o700)
            guard mkdir(store.folder(id), 0o711) == 0 else {
                if errno == EEXIST { throw PodrunError(.alreadyExists, "sandbox \(id) already exists") }
                throw PodrunError.system("mkdir", path: store.folder(id))
            }
            var record = SandboxRecord(id: id, hostname: hostname, created: Timestamp.nowRFC3339Nano(),
                                       labels: options.labels, sharePid: options.sharePid, networkChoice: choice,
                                       creatorPid: getpid())
            do {
                try store.save(record)
                FailPoint.check("sandbox-recorded")
                try build(&record, options: options, network: network)
                record.complete = true
                try store.save(record)
                return record
            } catch {
                tearDown(record, network: network)
                throw error
            }
        }
    }

    private func build(_ record: inout SandboxRecord, options: CreateOptions, network: any SandboxNetwork) throws {
        // Volumes.
        let data = dataRoot + "/" + record.id
        record.dataDirectory = data
        for volume in options.volumes { record.volumes[volume] = data + "/volumes/" + volume }
        try store.save(record)
        for path in record.volumes.values { try FileIO.makeDirectories(path, mode: 0o777) }
        // The pod's /dev/shm (unmounted with the state folder).
        let shm = store.folder(record.id) + "/shm"
        record.shm = shm
        try store.save(record)
        try FileIO.makeDirectories(shm, mode: 0o700)
        try Sys.mount("shm", shm, "tmpfs", Sys.MS_NOSUID | Sys.MS_NODEV | Sys.MS_NOEXEC,
                      "mode=1777,size=65536k", describe: "mount the pod's shm on")
        FailPoint.check("sandbox-volumes")

        // The cgroup.
        let cgroup = try Cgroups.manager(cgroupsPath: options.cgroupParent ?? "podrun-sandbox-" + record.id,
                                         containerID: record.id)
        record.cgroupPath = cgroup.path
        record.cgroupDirectories = cgroup.directories
        try store.save(record)
        try cgroup.create()
        FailPoint.check("sandbox-cgroup")

        // The pause process, in the cgroup.
        var kinds = ["net", "ipc", "uts"]
        if options.sharePid { kinds.append("pid") }
        let pid = try PauseProcess.start(namespaces: kinds, hostname: record.hostname, cgroup: cgroup.join)
        record.pausePid = pid
        record.pauseStartTime = ProcessTable.stat(of: pid)?.startTime
        try store.save(record)
        FailPoint.check("sandbox-pause")

        // Pin the namespaces.
        let nsFolder = store.folder(record.id) + "/ns"
        try FileIO.makeDirectories(nsFolder, mode: 0o700)
        for kind in kinds {
            let target = nsFolder + "/" + kind
            record.namespaces[kind] = target
            try store.save(record)
            let fd = open(target, O_WRONLY | O_CREAT | O_CLOEXEC, 0o400)
            guard fd >= 0 else { throw PodrunError.system("create", path: target) }
            close(fd)
            try Sys.mount("/proc/\(pid)/ns/\(kind)", target, nil, Sys.MS_BIND, describe: "pin the \(kind) namespace on")
        }
        FailPoint.check("sandbox-namespaces")

        // The network.
        guard let netns = record.namespaces["net"] else { throw PodrunError(.internalError, "no network namespace") }
        record.network = SandboxNetworkAttachment(mode: record.networkChoice.mode)
        try store.save(record)
        record.network = try network.attach(sandboxID: record.id, netnsPath: netns, ports: options.ports)
        try store.save(record)
        FailPoint.check("sandbox-network")
    }

    // MARK: queries

    /// `Ready` while pause lives, `Creating` while a live podrun is making it, else `NotReady`.
    public func state(of record: SandboxRecord) -> String {
        if !record.complete {
            return ProcessTable.isAlive(record.creatorPid, startTime: nil) && record.creatorPid != getpid() ? "Creating" : "NotReady"
        }
        if record.stopped { return "NotReady" }
        guard let pid = record.pausePid, ProcessTable.isAlive(pid, startTime: record.pauseStartTime),
              ProcessTable.stat(of: pid)?.state != "Z" else { return "NotReady" }
        return "Ready"
    }

    /// The sandbox's containers (their ids and status), found by their sandbox annotation.
    public func containers(of id: String) throws -> [String: String] {
        var result: [String: String] = [:]
        for state in try runtime.list() where state.annotations?[SandboxJoin.annotation] == id {
            result[state.id] = state.status.rawValue
        }
        return result
    }

    /// The status of sandbox `id`.
    public func inspect(_ id: String) throws -> SandboxStatus {
        let record = try store.load(id)
        return SandboxStatus(state: state(of: record), sandbox: record, containers: try containers(of: id))
    }

    /// Every sandbox with a record, sorted by id.
    public func list() throws -> [SandboxStatus] {
        let all = try runtime.list()
        return try store.ids().compactMap { id in
            guard let record = try? store.load(id) else { return nil }
            var containers: [String: String] = [:]
            for state in all where state.annotations?[SandboxJoin.annotation] == id { containers[state.id] = state.status.rawValue }
            return SandboxStatus(state: state(of: record), sandbox: record, containers: containers)
        }
    }

    /// The record of a Ready sandbox, for a container to join; `.invalidState` otherwise.
    public func readySandbox(_ id: String) throws -> SandboxRecord {
        let record = try store.load(id)
        let current = state(of: record)
        guard current == "Ready" else {
            throw PodrunError(.invalidState, "sandbox \(id) is \(current), not Ready")
        }
        return record
    }

    /// The sandbox's cgroup, for its containers' cgroups to go under.
    public func cgroupParent(of record: SandboxRecord) -> (path: String, directories: [String: String])? {
        guard let path = record.cgroupPath, let directories = record.cgroupDirectories else { return nil }
        return (path, directories)
    }

    // MARK: stop and remove

    /// Stops the pod: SIGTERM to every container, SIGKILL to those still running after `grace` seconds,
    /// then pause ends and the network is released. The containers stay (stopped) until `remove`.
    public func stop(_ id: String, grace: Int) throws {
        try store.withLock(id) {
            var record = try store.load(id)
            try stopLocked(&record, grace: grace)
        }
    }

    /// The network implementation `record` was made with (loopback only when it cannot be made).
    func network(of record: SandboxRecord) -> any SandboxNetwork {
        (try? record.networkChoice.make(sandboxStore: store.directory)) ?? LoopbackOnlyNetwork()
    }

    private func stopLocked(_ record: inout SandboxRecord, grace: Int) throws {
        let network = network(of: record)
        let running = try containers(of: record.id).filter { $0.value == "running" || $0.value == "created" || $0.value == "paused" }
        for id in running.keys { try? runtime.kill(id: id, signal: SIGTERM, all: true) }
        var waited = 0
        while waited < grace * 10 {
            let left = try containers(of: record.id).filter { $0.value == "running" || $0.value == "paused" }
            if left.isEmpty { break }
            usleep(100_000)
            waited += 1
        }
        for (id, status) in try containers(of: record.id) where status != "stopped" {
            try? runtime.kill(id: id, signal: SIGKILL, all: true)
        }
        killPause(record)
        if record.networkReleased != true,
           (try? network.detach(sandboxID: record.id, netnsPath: record.namespaces["net"], attachment: record.network)) != nil {
            record.networkReleased = true
        }
        record.stopped = true
        try store.save(record)
    }

    /// Stops and removes the sandbox and its containers. One with running containers needs `force` (they are
    /// killed, as `sandbox stop` with no grace period would); a sandbox that does not exist is not an error.
    public func remove(_ id: String, force: Bool) throws {
        try ContainerID.validate(id)
        try store.withLock(id) {
            guard FileIO.exists(store.folder(id)) else { return }
            guard var record = try? store.load(id) else {
                // Killed before the first record was written: only the folder.
                unmountAll(under: store.folder(id))
                try FileIO.removeTree(store.folder(id))
                return
            }
            if state(of: record) == "Ready" {
                let running = try containers(of: id).filter { $0.value != "stopped" }.keys.sorted()
                guard force || running.isEmpty else {
                    throw PodrunError(.invalidState, "sandbox \(id) has running containers (\(running.joined(separator: ", "))); "
                                      + "stop it first or use --force")
                }
                try stopLocked(&record, grace: 0)
            }
            for container in try containers(of: id).keys {
                try runtime.delete(id: container, force: true)
            }
            tearDown(record, network: network(of: record))
            guard !FileIO.exists(store.folder(id)) else {
                throw PodrunError(.system, "sandbox \(id) could not be removed completely", path: store.folder(id))
            }
        }
        store.removeLock(id)
    }

    /// Removes what killed creates left: sandboxes whose create did not finish and whose creator is gone.
    /// Returns the ids removed.
    public func collectGarbage() throws -> [String] {
        var removed: [String] = []
        for id in try store.ids() {
            let abandoned: Bool = try store.withLock(id) {
                guard FileIO.exists(store.folder(id)) else { return false }
                guard let record = try? store.load(id) else {
                    unmountAll(under: store.folder(id))
                    try FileIO.removeTree(store.folder(id))
                    return true
                }
                guard !record.complete, !ProcessTable.isAlive(record.creatorPid, startTime: nil) else { return false }
                for container in try containers(of: id).keys { try? runtime.delete(id: container, force: true) }
                tearDown(record, network: network(of: record))
                return true
            }
            if abandoned {
                store.removeLock(id)
                removed.append(id)
            }
        }
        return removed
    }

    /// Undoes every step `record` shows, in reverse: network, namespace pins, pause, cgroup, volumes, state.
    func tearDown(_ record: SandboxRecord, network: any SandboxNetwork) {
        if record.network != nil && record.networkReleased != true {
            try? network.detach(sandboxID: record.id, netnsPath: record.namespaces["net"], attachment: record.network)
        }
        killPause(record)
        unmountAll(under: store.folder(record.id))
        if let path = record.cgroupPath, let directories = record.cgroupDirectories,
           let cgroup = try? Cgroups.manager(path: path, directories: directories) {
            try? cgroup.destroyKillingWhatIsLeft()
        }
        if let data = record.dataDirectory { try? FileIO.removeTree(data) }
        try? FileIO.removeTree(store.folder(record.id))
    }

    /// SIGKILLs pause (when it is still the process the record names) and waits for it to go.
    private func killPause(_ record: SandboxRecord) {
        guard let pid = record.pausePid, let pidfd = try? ProcessTable.pidfd(pid, startTime: record.pauseStartTime) else {
            return
        }
        defer { close(pidfd) }
        try? ProcessTable.signal(pidfd: pidfd, SIGKILL)
        _ = ProcessTable.waitForExit(pidfd: pidfd, timeoutMilliseconds: 5_000)
    }

    /// Detaches every mount at or below `folder` (the pinned namespace files).
    private func unmountAll(under folder: String) {
        guard let table = try? FileIO.readString("/proc/self/mountinfo") else { return }
        let points = table.split(separator: "\n").compactMap { line -> String? in
            let fields = line.split(separator: " ")
            guard fields.count > 4 else { return nil }
            return String(fields[4]).replacingOctal()
        }.filter { $0 == folder || $0.hasPrefix(folder + "/") }
        for point in points.sorted(by: { $0.count > $1.count }) {
            try? Sys.unmount(point, flags: Sys.MNT_DETACH)
        }
    }
}

extension String {
    /// mountinfo's octal escapes (`\040` for a space) decoded.
    func replacingOctal() -> String {
        guard contains("\\" as Character) else { return self }
        var bytes: [UInt8] = []
        var utf8 = Array(self.utf8)[...]
        while let byte = utf8.popFirst() {
            if byte == 0x5c, utf8.count >= 3, let value = UInt8(String(decoding: utf8.prefix(3), as: UTF8.self), radix: 8) {
                bytes.append(value)
                utf8 = utf8.dropFirst(3)
            } else {
                bytes.append(byte)
            }
        }
        return String(decoding: bytes, as: UTF8.self)
    }
}
