import CPodrunShim
import Glibc
import PodrunCore

/// What /proc says about a process, read without following pids across reuse.
public enum ProcessTable {
    /// The fields of /proc/PID/stat after the command name: state (field 3) and start time (field 22).
    public static func stat(of pid: Int32) -> (state: Character, startTime: UInt64)? {
        // Read as bytes and scanned in place: every container command asks, and splitting it into fields costs
        // more than the read (the arrays' first use in a process instantiates their generic metadata).
        guard let bytes = try? FileIO.readBytes("/proc/\(pid)/stat"),
              let close = bytes.lastIndex(of: UInt8(ascii: ")")), close + 2 < bytes.count else { return nil }
        // After ") ": field 3 (state), then one space before each further field; field 22 is the start time.
        let state = bytes[close + 2]
        var field = 3
        var start: UInt64 = 0
        var digits = 0
        for byte in bytes[(close + 3)...] {
            if byte == UInt8(ascii: " ") {
                field += 1
                if field > 22 { break }
                continue
            }
            guard field == 22 else { continue }
            guard byte >= UInt8(ascii: "0"), byte <= UInt8(ascii: "9"), digits < 20 else { return nil }
            let (times, overflow) = start.multipliedReportingOverflow(by: 10)
            let (sum, carry) = times.addingReportingOverflow(UInt64(byte - UInt8(ascii: "0")))
            guard !overflow, !carry else { return nil }
            start = sum
            digits += 1
        }
        guard field >= 22, digits > 0 else { return nil }
        return (Character(Unicode.Scalar(state)), start)
    }

    /// Whether `pid` is the same live (not zombie) process that had `startTime`.
    public static func isAlive(_ pid: Int32, startTime: UInt64?) -> Bool {
        guard pid > 0, let info = stat(of: pid) else { return false }
        if info.state == "Z" || info.state == "X" { return false }
        if let startTime, info.startTime != startTime { return false }
        return true
    }

    /// A pidfd for `pid`, after checking that it still is the process that had `startTime`.
    public static func pidfd(_ pid: Int32, startTime: UInt64?) throws -> Int32 {
        let fd = podrun_pidfd_open(pid)
        guard fd >= 0 else { throw PodrunError.system("pidfd_open \(pid)") }
        // The pidfd pins the process; check its identity after opening, so a reused pid is caught.
        guard isAlive(pid, startTime: startTime) else {
            close(fd)
            throw PodrunError(.invalidState, "container not running")
        }
        return fd
    }

    /// Sends `signal` through a pidfd.
    public static func signal(pidfd: Int32, _ signal: Int32) throws {
        guard podrun_pidfd_send_signal(pidfd, signal) == 0 else { throw PodrunError.system("kill") }
    }

    /// Waits until the process behind `pidfd` exits, up to `timeoutMilliseconds` (-1: forever); true if it did.
    public static func waitForExit(pidfd: Int32, timeoutMilliseconds: Int32) -> Bool {
        var entry = pollfd(fd: pidfd, events: Int16(POLLIN), revents: 0)
        while true {
            let rc = poll(&entry, 1, timeoutMilliseconds)
            if rc < 0 && errno == EINTR { continue }
            return rc > 0
        }
    }
}
