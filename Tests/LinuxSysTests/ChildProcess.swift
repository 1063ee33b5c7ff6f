import CPodrunShim
import Foundation
import Glibc

/// How a forked test child ended.
enum ChildEnd: Equatable, CustomStringConvertible {
    case exited(Int32)
    case signaled(Int32)
    case timedOut

    var description: String {
        switch self {
        case .exited(let code): "exited(\(code))"
        case .signaled(let signal): "signaled(\(signal))"
        case .timedOut: "timedOut"
        }
    }
}

/// What a forked test child did: how it ended and what it wrote to its report pipe.
struct ChildOutcome {
    var end: ChildEnd
    var report: String

    /// The report's `key=value` lines as a dictionary.
    var values: [String: String] {
        var out: [String: String] = [:]
        for line in report.split(separator: "\n") {
            guard let eq = line.firstIndex(of: "=") else { continue }
            out[String(line[..<eq])] = String(line[line.index(after: eq)...])
        }
        return out
    }
}

/// Writes `key=value` lines to the child's report pipe (write(2) only).
struct ChildReport {
    let fd: Int32

    func line(_ key: String, _ value: String) {
        let bytes = Array((key + "=" + value + "\n").utf8)
        var offset = 0
        while offset < bytes.count {
            let n = bytes[offset...].withUnsafeBytes { write(fd, $0.baseAddress, $0.count) }
            if n <= 0 { return }
            offset += n
        }
    }
}

/// Forks (podrun_fork), runs `body` in the child and `_exit`s with its result, so that whatever the body
/// changes (seccomp filter, capabilities, user, rlimits) dies with the child. The parent collects the child's
/// report and waits for it, killing it after `timeout` seconds: a child forked from the threaded test process
/// could in theory block on a lock another thread held at fork time, and must not hang the suite.
func runInChild(timeout: Double = 20, _ body: (ChildReport) -> Int32) -> ChildOutcome {
    var fds: [Int32] = [-1, -1]
    guard pipe(&fds) == 0 else { return ChildOutcome(end: .exited(-1), report: "pipe failed") }
    for fd in fds { _ = fcntl(fd, F_SETFD, FD_CLOEXEC) }
    let pid = podrun_fork()
    if pid == 0 {
        close(fds[0])
        let code = body(ChildReport(fd: fds[1]))
        _exit(code)
    }
    close(fds[1])
    guard pid > 0 else {
        close(fds[0])
        return ChildOutcome(end: .exited(-1), report: "fork failed")
    }
    _ = fcntl(fds[0], F_SETFL, O_NONBLOCK)
    var report: [UInt8] = []
    var buffer = [UInt8](repeating: 0, count: 4096)
    func drain() {
        while true {
            let n = buffer.withUnsafeMutableBytes { read(fds[0], $0.baseAddress, $0.count) }
            if n <= 0 { break }
            report.append(contentsOf: buffer[0..<n])
        }
    }
    var status: Int32 = 0
    let deadline = Date().addingTimeInterval(timeout)
    var end: ChildEnd?
    while end == nil {
        drain()
        let waited = waitpid(pid, &status, WNOHANG)
        if waited == pid {
            let signal = status & 0x7f
            end = signal == 0 ? .exited((status >> 8) & 0xff) : .signaled(signal)
        } else if waited < 0 && errno != EINTR {
            end = .exited(-1)
        } else if Date() > deadline {
            kill(pid, SIGKILL)
            _ = waitpid(pid, &status, 0)
            end = .timedOut
        } else {
            usleep(5_000)
        }
    }
    drain()
    close(fds[0])
    return ChildOutcome(end: end ?? .timedOut, report: String(decoding: report, as: UTF8.self))
}

/// glibc's `syscall(2)`, which Swift cannot import because it is variadic. glibc implements it in assembly
/// that only moves registers, so calling it through a non-variadic pointer with seven integers is sound on
/// x86_64 and arm64. Returns the result and the errno (0 on success).
func rawSyscall(_ number: Int, _ a1: Int = 0, _ a2: Int = 0, _ a3: Int = 0, _ a4: Int = 0, _ a5: Int = 0,
                _ a6: Int = 0) -> (result: Int, errno: Int32) {
    typealias SyscallFunction = @convention(c) (Int, Int, Int, Int, Int, Int, Int) -> Int
    guard let symbol = dlsym(UnsafeMutableRawPointer(bitPattern: 0), "syscall") else { return (-1, ENOSYS) }
    let function = unsafeBitCast(symbol, to: SyscallFunction.self)
    errno = 0
    let result = function(number, a1, a2, a3, a4, a5, a6)
    return (result, result == -1 ? errno : 0)
}

/// The errno of uname(2) in the calling process: 0 when it succeeds.
func unameErrno() -> Int32 {
    var name = utsname()
    return uname(&name) == 0 ? 0 : errno
}

/// The `Name:\tvalue` lines of /proc/self/status of the calling process.
func procSelfStatus() -> [String: String] {
    let fd = open("/proc/self/status", O_RDONLY | O_CLOEXEC)
    guard fd >= 0 else { return [:] }
    defer { close(fd) }
    var bytes: [UInt8] = []
    var buffer = [UInt8](repeating: 0, count: 4096)
    while true {
        let n = buffer.withUnsafeMutableBytes { read(fd, $0.baseAddress, $0.count) }
        if n <= 0 { break }
        bytes.append(contentsOf: buffer[0..<n])
    }
    var out: [String: String] = [:]
    for line in String(decoding: bytes, as: UTF8.self).split(separator: "\n") {
        guard let colon = line.firstIndex(of: ":") else { continue }
        out[String(line[..<colon])] = line[line.index(after: colon)...].trimmingCharacters(in: .whitespaces)
    }
    return out
}

/// A capability mask as /proc/self/status prints it (16 hex digits).
func capabilityMask(_ values: [Int32]) -> String {
    let mask = values.reduce(UInt64(0)) { $0 | (1 << UInt64($1)) }
    let hex = String(mask, radix: 16)
    return String(repeating: "0", count: 16 - hex.count) + hex
}
