// TEMPORARY: replaced by the security branch at merge.
import Glibc
import PodrunCore
public enum Signals {
    public static func parse(_ text: String) throws -> Int32 {
        if let n = Int32(text) { return n }
        let names = ["HUP": SIGHUP, "INT": SIGINT, "QUIT": SIGQUIT, "KILL": SIGKILL, "TERM": SIGTERM, "USR1": SIGUSR1, "USR2": SIGUSR2, "STOP": SIGSTOP, "CONT": SIGCONT]
        let key = text.uppercased().hasPrefix("SIG") ? String(text.uppercased().dropFirst(3)) : text.uppercased()
        guard let n = names[key] else { throw PodrunError(.invalidArgument, "unknown signal \"\(text)\"") }
        return n
    }
}
