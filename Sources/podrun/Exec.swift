import ArgumentParser
import FoundationEssentials
import Glibc
import LinuxSys
import OCISpec
import PodrunCore
import Sandbox

/// `podrun exec`: runs a new process inside a running container.
struct Exec: ParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Run a process inside a running container.")

    @Option(name: [.short, .long], help: "A JSON file with the process (runtime-spec `process`).") var process: String?
    @Flag(name: [.short, .long], help: "Allocate a pseudo-terminal.") var tty = false
    @Flag(name: [.short, .long], help: "Do not wait for the process.") var detach = false
    @Option(name: .long, help: "Write the process' pid to this file.") var pidFile: String?
    @Option(name: .long, help: "A unix socket that receives the pty master.") var consoleSocket: String?
    @Option(name: [.short, .long], help: "Set an environment variable (KEY=VALUE).") var env: [String] = []
    @Option(name: .long, help: "The working directory.") var cwd: String?
    @Option(name: [.short, .long], help: "The user, as UID[:GID].") var user: String?
    @Option(name: [.customShort("g"), .long], help: "An additional group id.") var additionalGids: [UInt32] = []
    @Option(name: [.short, .long], help: "Add a capability to the process' sets.") var cap: [String] = []
    @Flag(name: .long, help: "Set no_new_privs.") var noNewPrivs = false
    @Option(name: .long, help: "Pass this many fds from 3 on to the process.") var preserveFds: Int = 0
    @Flag(name: .long, help: "Accepted for runc compatibility.") var ignorePaused = false
    @Option(name: .long, help: "Accepted for runc compatibility.") var processLabel: String?
    @Option(name: .long, help: "Accepted for runc compatibility.") var apparmor: String?
    @Argument(help: "The container id.") var id: String
    @Argument(parsing: .captureForPassthrough, help: "The command and its arguments.") var command: [String] = []

    /// runc exits 255 when exec itself fails (not the exec'd process).
    func run() throws {
        throw ExitCode(try request.run())
    }

    /// The flags and arguments as a plain request.
    var request: ExecRequest {
        ExecRequest(process: process, tty: tty, detach: detach, pidFile: pidFile, consoleSocket: consoleSocket,
                    env: env, cwd: cwd, user: user, additionalGids: additionalGids, cap: cap, noNewPrivs: noNewPrivs,
                    preserveFds: preserveFds, id: id, command: command)
    }
}

/// What `podrun exec` was asked to do, however its arguments were parsed.
struct ExecRequest {
    var process: String? = nil
    var tty = false
    var detach = false
    var pidFile: String? = nil
    var consoleSocket: String? = nil
    var env: [String] = []
    var cwd: String? = nil
    var user: String? = nil
    var additionalGids: [UInt32] = []
    var cap: [String] = []
    var noNewPrivs = false
    var preserveFds = 0
    var id: String
    var command: [String] = []

    /// Runs the exec; returns the exit code: the process' (0 with --detach), or 255 when exec itself fails with a
    /// `PodrunError` (as runc), after reporting it.
    func run() throws -> Int32 {
        do {
            return try execute()
        } catch let error as PodrunError {
            Podrun.report(error)
            return 255
        }
    }

    private func execute() throws -> Int32 {
        let runtime = GlobalOptions.current.makeRuntime()
        let (processSpec, loaded) = try makeProcess(runtime)
        let record = try loaded ?? runtime.store.load(id)
        let options = Runtime.ExecOptions(pidFile: pidFile, consoleSocket: consoleSocket, preserveFds: preserveFds)
        if detach {
            _ = try runtime.exec(record, process: processSpec, options: options)
            return 0
        }
        let supervisor = try Supervisor()
        var master: Int32? = nil
        let pid: Int32
        if processSpec.terminal == true && consoleSocket == nil {
            let (mine, theirs) = try SyncChannel<InitMessage>.pair()
            defer { close(mine) }
            pid = try runtime.exec(record, process: processSpec, options: options, consoleReceiver: theirs)
            close(theirs)
            master = try SyncChannel<InitMessage>(fd: mine).receiveDescriptor()
        } else {
            pid = try runtime.exec(record, process: processSpec, options: options)
        }
        return supervisor.wait(for: pid, master: master)
    }

    /// The process: from --process, or the container's process with the command and the flags applied; and
    /// the container's record when it was loaded for that.
    private func makeProcess(_ runtime: Runtime) throws -> (Process, ContainerRecord?) {
        if let process {
            return (try Process.decode(from: FileIO.readBytes(process)), nil)
        }
        var args = command
        if args.first == "--" { args.removeFirst() }
        guard !args.isEmpty else { throw PodrunError(.invalidArgument, "exec: no command given") }
        let record = try runtime.store.load(id)
        var p = record.spec.process ?? Process()
        p.args = args
        p.terminal = tty
        p.consoleSize = nil
        p.env = (p.env ?? []) + env
        if let cwd { p.cwd = cwd }
        if let user {
            let parts = user.split(separator: ":", maxSplits: 1)
            guard let uid = UInt32(parts[0]), parts.count == 1 || UInt32(parts[1]) != nil else {
                throw PodrunError(.invalidArgument, "invalid --user \(user): expected UID[:GID]")
            }
            p.user.uid = uid
            p.user.gid = parts.count > 1 ? UInt32(parts[1]) ?? 0 : 0
        }
        if !additionalGids.isEmpty { p.user.additionalGids = additionalGids }
        if noNewPrivs { p.noNewPrivileges = true }
        if !cap.isEmpty {
            var caps = p.capabilities ?? LinuxCapabilities()
            caps.bounding = (caps.bounding ?? []) + cap
            caps.effective = (caps.effective ?? []) + cap
            caps.permitted = (caps.permitted ?? []) + cap
            p.capabilities = caps
        }
        return (p, record)
    }
}
