import CPodrunShim
import Glibc
import PodrunCore

/// Runs a program to its end: feeds it standard input, collects standard output and error, kills it after a
/// timeout. posix_spawn through `Spawn` (Foundation's `Process` costs tens of milliseconds a run in a static
/// binary: a sandbox's first bridge, with its iptables calls, took 0.4 s through it).
public enum ProgramRunner {
    /// What a finished program left: its exit status (128 + signal when killed) and its output.
    public struct Output: Sendable {
        public var status: Int32
        public var stdout: [UInt8]
        public var stderr: [UInt8]
    }

    /// Starts `path` with `arguments` (the first is the program's name) and `environment`, feeds it `stdin`,
    /// collects stdout and stderr until it exits or `timeoutSeconds` pass (then it is killed and the error is
    /// `.timeout`, naming `what`).
    public static func run(_ path: String, _ arguments: [String], environment: [String], stdin: [UInt8] = [],
                           timeoutSeconds: Int, what: String) throws -> Output {
        let input = try Pipe()
        defer { input.closeBoth() }
        let output = try Pipe()
        defer { output.closeBoth() }
        let errors = try Pipe()
        defer { errors.closeBoth() }

        let pid = try Spawn.start(path, arguments, environment: environment,
                                  descriptors: [0: input.read, 1: output.write, 2: errors.write])
        input.closeRead()
        output.closeWrite()
        errors.closeWrite()
        let pidfd = podrun_pidfd_open(pid)
        defer { if pidfd >= 0 { close(pidfd) } }
        func killAfterTimeout() -> PodrunError {
            kill(pid, SIGKILL)
            var status: Int32 = 0
            while waitpid(pid, &status, 0) < 0 && errno == EINTR {}
            return PodrunError(.timeout, "\(what) killed after \(timeoutSeconds) seconds", path: path)
        }

        let deadline = monotonicMilliseconds() + Int64(timeoutSeconds) * 1000
        var result = Output(status: 0, stdout: [], stderr: [])
        var written = 0
        var stdoutOpen = true
        var stderrOpen = true
        if stdin.isEmpty { input.closeWrite() }
        _ = fcntl(input.write, F_SETFL, O_NONBLOCK)

        // SIGPIPE for a write to a pipe is sent to the writing thread: block it here, so a program that exits
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
            guard remaining > 0 else { throw killAfterTimeout() }
            var entries: [pollfd] = []
            if input.write >= 0 { entries.append(pollfd(fd: input.write, events: Int16(POLLOUT), revents: 0)) }
            if stdoutOpen { entries.append(pollfd(fd: output.read, events: Int16(POLLIN), revents: 0)) }
            if stderrOpen { entries.append(pollfd(fd: errors.read, events: Int16(POLLIN), revents: 0)) }
            let ready = poll(&entries, nfds_t(entries.count), Int32(clamping: remaining))
            if ready < 0 {
                if errno == EINTR { continue }
                let error = PodrunError.system("poll the output of \(what)", path: path)
                _ = killAfterTimeout()
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
            else { throw killAfterTimeout() }
        }
        var status: Int32 = 0
        while waitpid(pid, &status, 0) < 0 {
            guard errno == EINTR else { throw PodrunError.system("wait for \(what)", path: path) }
        }
        // WIFEXITED / WEXITSTATUS / WTERMSIG, which Swift does not import.
        result.status = (status & 0x7f) == 0 ? (status >> 8) & 0xff : 128 + (status & 0x7f)
        return result
    }

    /// `name` as execvp would find it: itself when it has a slash, else the first executable regular file of
    /// that name in the folders of `path` (default the caller's `PATH`; an empty entry is the current folder).
    /// Nil when it is nowhere.
    public static func find(_ name: String, path: String? = nil) -> String? {
        if name.contains("/") { return access(name, X_OK) == 0 ? name : nil }
        let search = path ?? getenv("PATH").map { String(cString: $0) } ?? "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"
        for dir in search.split(separator: ":", omittingEmptySubsequences: false) {
            let candidate = (dir.isEmpty ? "." : String(dir)) + "/" + name
            var st = stat()
            if stat(candidate, &st) == 0, (st.st_mode & S_IFMT) == S_IFREG, access(candidate, X_OK) == 0 { return candidate }
        }
        return nil
    }

    private static func monotonicMilliseconds() -> Int64 {
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
