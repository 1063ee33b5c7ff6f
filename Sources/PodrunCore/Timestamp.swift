#if canImport(Glibc)
import Glibc
#endif

/// Wall-clock timestamps as runc writes them.
public enum Timestamp {
    /// Now as RFC 3339 with nanoseconds in UTC (`2026-11-22T19:29:17.123456789Z`), as Go's RFC3339Nano.
    public static func nowRFC3339Nano() -> String {
        var ts = timespec()
        clock_gettime(CLOCK_REALTIME, &ts)
        var seconds = ts.tv_sec
        var parts = tm()
        gmtime_r(&seconds, &parts)
        func pad(_ v: Int, _ width: Int) -> String {
            let s = String(v)
            return String(repeating: "0", count: max(0, width - s.count)) + s
        }
        var nanos = pad(ts.tv_nsec, 9)
        while nanos.hasSuffix("0") { nanos.removeLast() }
        let fraction = nanos.isEmpty ? "" : "." + nanos
        return "\(pad(Int(parts.tm_year) + 1900, 4))-\(pad(Int(parts.tm_mon) + 1, 2))-\(pad(Int(parts.tm_mday), 2))T"
            + "\(pad(Int(parts.tm_hour), 2)):\(pad(Int(parts.tm_min), 2)):\(pad(Int(parts.tm_sec), 2))\(fraction)Z"
    }
}
