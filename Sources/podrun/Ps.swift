import ArgumentParser
import Glibc
import LinuxSys
import PodrunCore
import Sandbox

/// `podrun ps`: the processes of a container.
struct Ps: ParsableCommand {
    static let configuration = CommandConfiguration(abstract: "List a container's processes.")

    @Option(name: [.short, .long], help: "table or json.") var format: ListFormat = .table
    @Argument(help: "The container id.") var id: String
    @Argument(parsing: .captureForPassthrough, help: "Arguments for ps(1) (default -ef).") var psArguments: [String] = []

    func run() throws {
        let pids = try GlobalOptions.current.makeRuntime().pids(id: id)
        if format == .json {
            try JSONOutput.print(pids)
            return
        }
        var args = psArguments
        if args.first == "--" { args.removeFirst() }
        if args.isEmpty { args = ["-ef"] }
        let output = try Self.capture(["ps"] + args)
        var lines = output.split(separator: "\n", omittingEmptySubsequences: true)
        guard !lines.isEmpty else { return }
        let header = lines.removeFirst()
        guard let pidColumn = header.split(separator: " ").firstIndex(of: "PID") else {
            throw PodrunError(.invalidArgument, "couldn't find PID field in ps output")
        }
        print(header)
        let wanted = Set(pids)
        for line in lines {
            let fields = line.split(separator: " ")
            if pidColumn < fields.count, let pid = Int32(fields[pidColumn]), wanted.contains(pid) { print(line) }
        }
    }

    /// Runs a program found in PATH and returns its stdout.
    static func capture(_ arguments: [String]) throws -> String {
        var fds: [Int32] = [0, 0]
        guard pipe(&fds) == 0, fcntl(fds[0], F_SETFD, FD_CLOEXEC) == 0, fcntl(fds[1], F_SETFD, FD_CLOEXEC) == 0 else { throw PodrunError.system("pipe") }
        let searchPath = String(cString: getenv("PATH") ?? strdup("/usr/bin:/bin"))
        let program = searchPath.split(separator: ":").map { "\($0)/\(arguments[0])" }
            .first { access($0, X_OK) == 0 } ?? arguments[0]
        let environment = ["PATH=\(searchPath)"]
        let pid: Int32
        do {
            pid = try Spawn.start(program, arguments, environment: environment, descriptors: [1: fds[1]])
        } catch {
            close(fds[0])
            close(fds[1])
            throw error
        }
        close(fds[1])
        defer { close(fds[0]) }
        let bytes = try FileIO.readAll(fd: fds[0])
        var status: Int32 = 0
        waitpid(pid, &status, 0)
        return String(decoding: bytes, as: UTF8.self)
    }
}
