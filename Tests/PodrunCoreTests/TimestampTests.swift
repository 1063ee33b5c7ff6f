import Glibc
import PodrunCore
import Testing

@Suite struct TimestampTests {
    @Test(arguments: [
        (Int64(0), "1970-01-01T00:00:00Z"),
        (Int64(-1), "1969-12-31T23:59:59Z"),
        (Int64(951_782_400), "2000-02-29T00:00:00Z"),
        (Int64(1_700_000_000), "2023-11-14T22:13:20Z"),
        (Int64(4_107_542_399), "2100-02-28T23:59:59Z"),
        (Int64(4_107_542_400), "2100-03-01T00:00:00Z"),
        (Int64(253_402_300_799), "9999-12-31T23:59:59Z"),
    ])
    func utcDatesFollowTheGregorianCalendarAcrossLeapYearsAndCenturies(seconds: Int64, expected: String) {
        #expect(Timestamp.rfc3339(secondsSinceEpoch: seconds) == expected)
    }

    @Test func theCalendarDateMatchesGmtimeOverFourHundredYears() {
        // Every 9999th hour (about 417 days, so every day of the month and year comes round) from 1900 to 2300.
        var seconds: Int64 = -2_208_988_800
        while seconds < 10_413_792_000 {
            var t = time_t(seconds)
            var parts = tm()
            gmtime_r(&t, &parts)
            let civil = Timestamp.civil(secondsSinceEpoch: seconds)
            let expected = Timestamp.CivilTime(year: Int(parts.tm_year) + 1900, month: Int(parts.tm_mon) + 1,
                                               day: Int(parts.tm_mday), hour: Int(parts.tm_hour),
                                               minute: Int(parts.tm_min), second: Int(parts.tm_sec))
            #expect(civil == expected, "at \(seconds)")
            if civil != expected { break }
            seconds += 9_999 * 3_600 + 1_237
        }
    }

    @Test func nanosecondsAreWrittenWithoutTrailingZerosAsGoWritesThem() {
        #expect(Timestamp.rfc3339(secondsSinceEpoch: 0, nanoseconds: 123_456_789) == "1970-01-01T00:00:00.123456789Z")
        #expect(Timestamp.rfc3339(secondsSinceEpoch: 0, nanoseconds: 500_000_000) == "1970-01-01T00:00:00.5Z")
        #expect(Timestamp.rfc3339(secondsSinceEpoch: 0, nanoseconds: 1_000) == "1970-01-01T00:00:00.000001Z")
        #expect(Timestamp.rfc3339(secondsSinceEpoch: 0, nanoseconds: 0) == "1970-01-01T00:00:00Z")
    }

    @Test func nowIsTodayInUTC() {
        let now = time(nil)
        var parts = tm()
        var t = now
        gmtime_r(&t, &parts)
        let day = "\(parts.tm_year + 1900)-" + format2(parts.tm_mon + 1) + "-" + format2(parts.tm_mday)
        let stamp = Timestamp.nowRFC3339Nano()
        // Around midnight the two clocks may fall on both sides of it.
        #expect(stamp.hasPrefix(day) || time(nil) / 86_400 != now / 86_400, "\(stamp) is not on \(day)")
        #expect(stamp.hasSuffix("Z"))
    }

    private func format2(_ v: Int32) -> String { v < 10 ? "0\(v)" : "\(v)" }
}
