import CPodrunShim
import Glibc
import LinuxSys
import PodrunCore

/// The CNI operations a plugin runs (`CNI_COMMAND`).
public enum CNICommand: String, Sendable {
    /// Attach the container to the network.
    case add = "ADD"
    /// Detach the container from the network; must succeed when there is nothing left to remove.
    case delete = "DEL"
    /// Check that the container's networking is still as `ADD` left it.
    case check = "CHECK"
    /// Report the CNI versions the plugin supports.
    case version = "VERSION"
}

/// What one plugin call is about: the container, its network namespace and interface, and extra arguments.
public struct CNIInvocation: Sendable, Equatable {
    /// The container's id (`CNI_CONTAINERID`).
    public var containerID: String
    /// The path of the container's network namespace (`CNI_NETNS`); empty is allowed for `DEL`.
    public var netnsPath: String
    /// The interface name inside the namespace (`CNI_IFNAME`).
    public var ifName: String
    /// Extra `KEY=VALUE` arguments (`CNI_ARGS`, joined with `;` in key order).
    public var arguments: [String: String]

    /// An invocation from its parts.
    public init(containerID: String, netnsPath: String, ifName: String, arguments: [String: String] = [:]) {
        self.containerID = containerID
        self.netnsPath = netnsPath
        self.ifName = ifName
        self.arguments = arguments
    }

    /// The `CNI_ARGS` value.
    public var argumentsValue: String {
        arguments.sorted { $0.key < $1.key }.map { "\($0.key)=\($0.value)" }.joined(separator: ";")
    }
}

/// Finds CNI plugin executables and runs them as the CNI spec says: the operation in environment variables,
/// the network config on stdin, the result (or error) on stdout, killed when it takes too long.
public struct CNIPluginRunner: Sendable {
    /// Where Debian's containernetworking-plugins and the upstream tarballs put plugins.
    public static let defaultBinDirectories = ["/usr/lib/cni", "/opt/cni/bin"]

    /// The directories searched for plugins, in order; also given to plugins as `CNI_PATH`.
    public var binDirectories: [String]
    /// How long one plugin may run before it is killed.
    public var timeoutSeconds: Int

    /// A runner over `binDirectories`, killing plugins after `timeoutSeconds`.
    public init(binDirectories: [String] = CNIPluginRunner.defaultBinDirectories, timeoutSeconds: Int = 60) {
        self.binDirectories = binDirectories
        self.timeoutSeconds = timeoutSeconds
    }

    /// The path of the plugin executable `type`: the first executable regular file of that name in the bin
    /// directories. Throws `.invalidSpec` for a name that is empty or holds `/` or `..`, `.notFound` when
    /// no directory has it.
    public func find(_ type: String) throws -> String {
        guard !type.isEmpty, !type.contains("/"), !type.contains(".."), !type.contains("\0") else {
            throw PodrunError(.invalidSpec, "invalid CNI plugin type \"\(type)\": it must be a plain file name",
                              path: "type")
        }
        for directory in binDirectories where !directory.isEmpty {
            let path = directory.hasSuffix("/") ? directory + type : directory + "/" + type
            var info = stat()
            guard stat(path, &info) == 0, (info.st_mode & S_IFMT) == S_IFREG, access(path, X_OK) == 0 else { continue }
            return path
        }
        throw PodrunError(.notFound, "CNI plugin \"\(type)\" not found in \(binDirectories.joined(separator: ":"))")
    }

    /// Runs plugin `type` for `command` with `config` on stdin and returns what it wrote to stdout.
    ///
    /// A plugin that exits non-zero fails with the CNI error it printed (`{code, msg, details}`) turned into
    /// a `PodrunError` naming the plugin; one that runs longer than `timeoutSeconds` is killed (`.timeout`).
    public func run(_ type: String, _ command: CNICommand, _ invocation: CNIInvocation,
                    config: [UInt8]) throws -> [UInt8] {
        let path = try find(type)
        let environment = [
            "CNI_COMMAND=" + command.rawValue,
            "CNI_CONTAINERID=" + invocation.containerID,
            "CNI_NETNS=" + invocation.netnsPath,
            "CNI_IFNAME=" + invocation.ifName,
            "CNI_ARGS=" + invocation.argumentsValue,
            "CNI_PATH=" + binDirectories.joined(separator: ":"),
            "PATH=" + (getenv("PATH").map { String(cString: $0) } ?? "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"),
        ]
        let output = try execute(path, environment: environment, stdin: config)
        let what = "CNI plugin \(type) \(command.rawValue)"
        guard output.status != 0 else { return output.stdout }
        if let error = try? CNIJSON.decode(CNIErrorResult.self, from: output.stdout, what: what) {
            var cause = "CNI error code \(error.code)"
            if let details = error.details, !details.isEmpty { cause += ": " + details }
            throw PodrunError(.system, "\(what): \(error.msg)", cause: cause)
        }
        let stderr = String(decoding: output.stderr.suffix(2000), as: UTF8.self)
        let stdout = String(decoding: output.stdout.suffix(2000), as: UTF8.self)
        let text = [stderr, stdout].map { $0.trimmingWhitespace }.filter { !$0.isEmpty }.joined(separator: "; ")
        throw PodrunError(.system, "\(what): exit status \(output.status)", cause: text.isEmpty ? nil : text)
    }

    /// What a finished plugin left: its exit status (128 + signal when killed) and its output.
    struct Output {
        var status: Int32
        var stdout: [UInt8]
        var stderr: [UInt8]
    }

    /// Starts `path` with `environment`, feeds it `stdin`, collects stdout and stderr until it exits or the
    /// timeout passes (then it is killed).
    func execute(_ path: String, environment: [String], stdin: [UInt8]) throws -> Output {
        let input = try Pipe()
        defer { input.closeBoth() }
        let output = try Pipe()
        defer { output.closeBoth() }
        let errors = try Pipe()
        defer { errors.closeBoth() }

        let pid = try Spawn.start(path, [path], environment: environment,
                                  descriptors: [0: input.read, 1: output.write, 2: errors.write])
        input.closeRead()
        output.closeWrite()
        errors.closeWrite()
        let pidfd = podrun_pidfd_open(pid)
        defer { if pidfd >= 0 { close(pidfd) } }

        let deadline = monotonicMilliseconds() + Int64(timeoutSeconds) * 1000
        var result = Output(status: 0, stdout: [], stderr: [])
        var written = 0
        var stdoutOpen = true
        var stderrOpen = true
        if stdin.isEmpty { input.closeWrite() }
        _ = fcntl(input.write, F_SETFL, O_NONBLOCK)

        // SIGPIPE for a write to a pipe is sent to the writing thread: block it here, so a plugin that exits
        // without reading its stdin gives EPIPE instead of killing podrun, and consume any that is pending.
        var pipeSignal = sigset_t()
        sigemptyset(&pipeSignal)
        sigaddset(&pipeSignal, SIGPIPE)
        var previousMask = sigset_t()
        pthread_sigmask(SIG_BLOCK, &pipeSignal, &previousMask)
        defer {
            var none = timespec(tv_sec: 0, tv_nsec: 0)
            while sigtimedwait(&pipeSignal, nil, &none) == SIGPIPE {}
            pthread_sigmask(SIG_SETMASK, &previousMask, nil)
        }

        var chunk = [UInt8](repeating: 0, count: 16384)
        while stdoutOpen || stderrOpen || input.write >= 0 {
            let remaining = deadline - monotonicMilliseconds()
            guard remaining > 0 else { throw killAfterTimeout(pid, path) }
            var entries: [pollfd] = []
            if input.write >= 0 { entries.append(pollfd(fd: input.write, events: Int16(POLLOUT), revents: 0)) }
            if stdoutOpen { entries.append(pollfd(fd: output.read, events: Int16(POLLIN), revents: 0)) }
            if stderrOpen { entries.append(pollfd(fd: errors.read, events: Int16(POLLIN), revents: 0)) }
            let ready = poll(&entries, nfds_t(entries.count), Int32(clamping: remaining))
            if ready < 0 {
                if errno == EINTR { continue }
                let error = PodrunError.system("poll CNI plugin output", path: path)
                _ = killAfterTimeout(pid, path)
                throw error
            }
            for entry in entries where entry.revents != 0 {
                if entry.fd == input.write {
                    let n = stdin[written...].withUnsafeBytes { write(entry.fd, $0.baseAddress, $0.count) }
                    if n > 0 { written += n }
                    if (n < 0 && errno != EAGAIN && errno != EINTR) || written == stdin.count { input.closeWrite() }
                    continue
                }
                let n = chunk.withUnsafeMutableBytes { read(entry.fd, $0.baseAddress, $0.count) }
                if n < 0 && (errno == EAGAIN || errno == EINTR) { continue }
                if n <= 0 {
                    if entry.fd == output.read { stdoutOpen = false } else { stderrOpen = false }
                    continue
                }
                if entry.fd == output.read { result.stdout += chunk[0..<n] } else { result.stderr += chunk[0..<n] }
            }
        }
        if pidfd >= 0 {
            let remaining = deadline - monotonicMilliseconds()
            guard remaining > 0, ProcessTable.waitForExit(pidfd: pidfd, timeoutMilliseconds: Int32(clamping: remaining))
            else { throw killAfterTimeout(pid, path) }
        }
        var status: Int32 = 0
        while waitpid(pid, &status, 0) < 0 {
            guard errno == EINTR else { throw PodrunError.system("wait for CNI plugin", path: path) }
        }
        // WIFEXITED / WEXITSTATUS / WTERMSIG, which Swift does not import.
        result.status = (status & 0x7f) == 0 ? (status >> 8) & 0xff : 128 + (status & 0x7f)
        return result
    }

    /// Kills and reaps `pid`, and returns the timeout error to throw.
    private func killAfterTimeout(_ pid: pid_t, _ path: String) -> PodrunError {
        kill(pid, SIGKILL)
        var status: Int32 = 0
        while waitpid(pid, &status, 0) < 0 && errno == EINTR {}
        return PodrunError(.timeout, "CNI plugin killed after \(timeoutSeconds) seconds", path: path)
    }

    private func monotonicMilliseconds() -> Int64 {
        var now = timespec()
        clock_gettime(CLOCK_MONOTONIC, &now)
        return Int64(now.tv_sec) * 1000 + Int64(now.tv_nsec) / 1_000_000
    }
}

/// A pipe whose ends close once, whichever path closes them.
private final class Pipe {
    private(set) var read: Int32
    private(set) var write: Int32

    init() throws {
        var fds: [Int32] = [0, 0]
        guard pipe(&fds) == 0 else { throw PodrunError.system("pipe") }
        // Close-on-exec at once; Spawn dup2s the child's ends onto 0-2, which clears it there.
        _ = fcntl(fds[0], F_SETFD, FD_CLOEXEC)
        _ = fcntl(fds[1], F_SETFD, FD_CLOEXEC)
        read = fds[0]
        write = fds[1]
    }

    func closeRead() {
        if read >= 0 { close(read) }
        read = -1
    }

    func closeWrite() {
        if write >= 0 { close(write) }
        write = -1
    }

    func closeBoth() {
        closeRead()
        closeWrite()
    }
}

extension String {
    /// The text without leading and trailing spaces, tabs and newlines.
    var trimmingWhitespace: String {
        let isSpace: (Character) -> Bool = { $0 == " " || $0 == "\n" || $0 == "\t" || $0 == "\r" }
        guard let first = firstIndex(where: { !isSpace($0) }), let last = lastIndex(where: { !isSpace($0) }) else {
            return ""
        }
        return String(self[first...last])
    }
}
