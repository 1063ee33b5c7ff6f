import Glibc
import PodrunCore

/// Signal names and numbers for `podrun kill` and for reporting how a process died.
public enum Signals {
    /// The canonical names of the standard Linux signals (x86_64 and arm64 numbering), 1 to 31, as Go's
    /// `unix.SignalName` gives them and runc prints them.
    public static let standard: [(number: Int32, name: String)] = [
        (1, "SIGHUP"), (2, "SIGINT"), (3, "SIGQUIT"), (4, "SIGILL"), (5, "SIGTRAP"), (6, "SIGABRT"),
        (7, "SIGBUS"), (8, "SIGFPE"), (9, "SIGKILL"), (10, "SIGUSR1"), (11, "SIGSEGV"), (12, "SIGUSR2"),
        (13, "SIGPIPE"), (14, "SIGALRM"), (15, "SIGTERM"), (16, "SIGSTKFLT"), (17, "SIGCHLD"), (18, "SIGCONT"),
        (19, "SIGSTOP"), (20, "SIGTSTP"), (21, "SIGTTIN"), (22, "SIGTTOU"), (23, "SIGURG"), (24, "SIGXCPU"),
        (25, "SIGXFSZ"), (26, "SIGVTALRM"), (27, "SIGPROF"), (28, "SIGWINCH"), (29, "SIGIO"), (30, "SIGPWR"),
        (31, "SIGSYS"),
    ]

    /// Other names of standard signals that `kill(1)` accepts.
    static let aliases: [String: Int32] = ["SIGIOT": 6, "SIGCLD": 17, "SIGPOLL": 29]

    /// The first real-time signal a program may use: glibc's `SIGRTMIN` (34; glibc keeps 32 and 33).
    public static var realTimeMin: Int32 { __libc_current_sigrtmin() }
    /// The last real-time signal: glibc's `SIGRTMAX` (64).
    public static var realTimeMax: Int32 { __libc_current_sigrtmax() }

    /// Parses a signal as runc's `kill` does: a decimal number, or a name in any case with or without the
    /// `SIG` prefix (`KILL`, `SIGKILL`, `sigkill`, `kill`). Also accepts the real-time names `SIGRTMIN`,
    /// `SIGRTMAX`, `SIGRTMIN+n` and `SIGRTMAX-n`, which runc does not. Numbers must be 0 (no signal, a liveness
    /// check) up to `realTimeMax`; runc would pass a larger number on and fail with EINVAL when sending.
    public static func parse(_ text: String) throws -> Int32 {
        if !text.isEmpty, text.utf8.allSatisfy({ $0 >= UInt8(ascii: "0") && $0 <= UInt8(ascii: "9") }) {
            guard let number = Int32(text), number <= realTimeMax else { throw unknown(text) }
            return number
        }
        var name = text.uppercased()
        if !name.hasPrefix("SIG") { name = "SIG" + name }
        if let entry = standard.first(where: { $0.name == name }) { return entry.number }
        if let number = aliases[name] { return number }
        if let number = realTime(name) { return number }
        throw unknown(text)
    }

    /// `SIGRTMIN`, `SIGRTMAX`, `SIGRTMIN+n` or `SIGRTMAX-n` as a number within glibc's real-time range.
    private static func realTime(_ name: String) -> Int32? {
        let (base, sign): (Int32, Int32)
        var rest: Substring
        if name.hasPrefix("SIGRTMIN") {
            (base, sign) = (realTimeMin, 1)
            rest = name.dropFirst("SIGRTMIN".count)
        } else if name.hasPrefix("SIGRTMAX") {
            (base, sign) = (realTimeMax, -1)
            rest = name.dropFirst("SIGRTMAX".count)
        } else {
            return nil
        }
        if rest.isEmpty { return base }
        guard rest.first == (sign > 0 ? "+" : "-") else { return nil }
        rest = rest.dropFirst()
        guard !rest.isEmpty, rest.utf8.allSatisfy({ $0 >= UInt8(ascii: "0") && $0 <= UInt8(ascii: "9") }),
              let offset = Int32(rest) else { return nil }
        let number = base + sign * offset
        return (realTimeMin...realTimeMax).contains(number) ? number : nil
    }

    private static func unknown(_ text: String) -> PodrunError {
        PodrunError(.invalidArgument, "unknown signal \"\(text)\"")
    }

    /// The name of a signal number: `SIGKILL`, `SIGRTMIN+3`, `SIGRTMAX-1`; nil for 0, for glibc's two
    /// reserved signals (32, 33) and for numbers out of range.
    public static func name(_ number: Int32) -> String? {
        if let entry = standard.first(where: { $0.number == number }) { return entry.name }
        let (low, high) = (realTimeMin, realTimeMax)
        guard (low...high).contains(number) else { return nil }
        if number == low { return "SIGRTMIN" }
        if number == high { return "SIGRTMAX" }
        // As `kill -l` writes them: the lower half counts up from SIGRTMIN, the upper half down from SIGRTMAX.
        return number - low <= (high - low) / 2 ? "SIGRTMIN+\(number - low)" : "SIGRTMAX-\(high - number)"
    }
}
