import Glibc
import LinuxSys
import OCISpec
import PodrunCore
import Cgroups

extension Runtime {
    /// Options of `exec`.
    public struct ExecOptions: Sendable {
        public var pidFile: String?
        public var consoleSocket: String?
        public var preserveFds: Int

        public init(pidFile: String? = nil, consoleSocket: String? = nil, preserveFds: Int = 0) {
            self.pidFile = pidFile
            self.consoleSocket = consoleSocket
            self.preserveFds = preserveFds
        }
    }

    /// Runs `process` inside running container `id`; returns the new process' pid once it has exec'd.
    public func exec(id: String, process: Process, options: ExecOptions, consoleReceiver: Int32? = nil) throws -> Int32 {
        try exec(try store.load(id), process: process, options: options, consoleReceiver: consoleReceiver)
    }

    /// Runs `process` inside the container of `record` (as just loaded with `store.load`, the full record).
    public func exec(_ record: ContainerRecord, process: Process, options: ExecOptions,
                     consoleReceiver: Int32? = nil) throws -> Int32 {
        let id = record.id
        switch status(of: record) {
        case .running, .created: break
        case .paused: throw PodrunError(.invalidState, "cannot exec in a paused container")
        case .stopped, .creating: throw PodrunError(.invalidState, "cannot exec in a stopped container")
        }
        guard let args = process.args, !args.isEmpty else {
            throw PodrunError(.invalidArgument, "exec: process args must not be empty")
        }
        if process.terminal == true && consoleReceiver == nil && options.consoleSocket == nil {
            throw PodrunError(.invalidArgument, "cannot allocate tty if runc will detach without setting console socket")
        }
        let cgroup = try record.cgroup()
        var consoleFd: Int32? = nil
        if process.terminal == true {
            consoleFd = try consoleReceiver.map { dup($0) } ?? Self.connectConsoleSocket(options.consoleSocket ?? "")
        }
        defer { if let consoleFd { close(consoleFd) } }
        let (capabilities, seccomp) = try compileSecurity(process, spec: record.spec)
        let config = InitConfig(mode: .exec, containerID: id, process: process, spec: record.spec,
                                rootfs: record.rootfs, bundle: record.bundle, stateDirectory: store.directory(id),
                                capabilities: capabilities, seccomp: seccomp, noPivot: false,
                                preserveFds: options.preserveFds, targetPid: record.pid, cgroupJoin: cgroup.join)
        let cleanup = Cleanup()
        do {
            let child = try startInit(config, consoleFd: consoleFd, cleanup: cleanup)
            if let pidFile = options.pidFile { try Self.writePidFile(pidFile, child.pid) }
            cleanup.disarm()
            return child.pid
        } catch {
            cleanup.run()
            throw error
        }
    }
}
