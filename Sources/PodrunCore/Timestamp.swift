#if canImport(Glibc)
import Glibc
#endif

/// Wall-clock timestamps as runc writes them, in UTC.
///
/// The calendar date is computed here rather than by `gmtime_r`: glibc's first `gmtime_r` in a process reads the
/// local time zone (`/etc/localtime`, or `TZ`) although UTC needs none, about 20 µs in every `create`.
public enum Timestamp {
    /// A UTC date and time of day, to the second.
    public struct CivilTime: Equatable, Sendable {
        public var year: Int
        /// 1 to 12.
        public var month: Int
        /// 1 to 31.
        public var day: Int
        public var hour: Int
        public var minute: Int
        public var second: Int

        public init(year: Int, month: Int, day: Int, hour: Int, minute: Int, second: Int) {
            self.year = year; self.month = month; self.day = day
            self.hour = hour; self.minute = minute; self.second = second
        }
    }

    /// The UTC calendar date and time of `seconds` since the Unix epoch (proleptic Gregorian calendar, no leap
    /// seconds, as POSIX time and `gmtime` count). The date is Howard Hinnant's `civil_from_days`.
    public static func civil(secondsSinceEpoch seconds: Int64) -> CivilTime {
        let days = seconds >= 0 ? seconds / 86_400 : (seconds - 86_399) / 86_400
        let secondOfDay = Int(seconds - days * 86_400)
        let shifted = days + 719_468                      // days since 0000-03-01
        let era = (shifted >= 0 ? shifted : shifted - 146_096) / 146_097
        let dayOfEra = shifted - era * 146_097            // 0 ... 146096
        let yearOfEra = (dayOfEra - dayOfEra / 1_460 + dayOfEra / 36_524 - dayOfEra / 146_096) / 365
        let dayOfYear = dayOfEra - (365 * yearOfEra + yearOfEra / 4 - yearOfEra / 100)  // from March 1st
        let monthFromMarch = (5 * dayOfYear + 2) / 153    // 0 ... 11, March first
        let day = dayOfYear - (153 * monthFromMarch + 2) / 5 + 1
        let month = monthFromMarch < 10 ? monthFromMarch + 3 : monthFromMarch - 9
        let year = yearOfEra + era * 400 + (month <= 2 ? 1 : 0)
        return CivilTime(year: Int(year), month: Int(month), day: Int(day),
                         hour: secondOfDay / 3_600, minute: secondOfDay / 60 % 60, second: secondOfDay % 60)
    }

    /// `seconds` since the epoch as RFC 3339 in UTC; with `nanoseconds`, a fraction without trailing zeros as Go's
    /// RFC3339Nano writes it (`2026-11-22T19:29:17.1234Z`), none when they are zero.
    public static func rfc3339(secondsSinceEpoch seconds: Int64, nanoseconds: Int = 0) -> String {
        let t = civil(secondsSinceEpoch: seconds)
        func pad(_ v: Int, _ width: Int = 2) -> String {
            let s = String(v)
            return String(repeating: "0", count: max(0, width - s.count)) + s
        }
        var fraction = ""
        if nanoseconds > 0 {
            var digits = pad(nanoseconds, 9)
            while digits.hasSuffix("0") { digits.removeLast() }
            fraction = "." + digits
        }
        return "\(pad(t.year, 4))-\(pad(t.month))-\(pad(t.day))T\(pad(t.hour)):\(pad(t.minute)):\(pad(t.second))\(fraction)Z"
    }

    /// Now as RFC 3339 with nanoseconds in UTC (`2026-11-22T19:29:17.123456789Z`), as Go's RFC3339Nano.
    public static func nowRFC3339Nano() -> String {
        var ts = timespec()
        clock_gettime(CLOCK_REALTIME, &ts)
        return rfc3339(secondsSinceEpoch: Int64(ts.tv_sec), nanoseconds: ts.tv_nsec)
    }
}
