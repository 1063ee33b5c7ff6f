#if canImport(Glibc)
import Glibc
#endif

/// How log lines are written: logrus' text format or one JSON object a line, as runc does.
public enum LogFormat: String, Sendable, CaseIterable {
    case text
    case json
}

/// The level of a log line.
public enum LogLevel: String, Sendable, Comparable {
    case debug, info, warning, error

    private var rank: Int {
        switch self {
        case .debug: 0
        case .info: 1
        case .warning: 2
        case .error: 3
        }
    }

    public static func < (a: LogLevel, b: LogLevel) -> Bool { a.rank < b.rank }
}

/// Writes runc-style log lines to a file descriptor (`--log FILE`, or stderr).
///
/// It does not buffer: every line is one `write(2)`, so a crash never loses lines and concurrent writers
/// (create, init, hooks) never interleave within a line.
public struct LogWriter: Sendable {
    /// The descriptor lines go to.
    public var fd: Int32
    /// The line format.
    public var format: LogFormat
    /// The lowest level written.
    public var minimumLevel: LogLevel

    public init(fd: Int32 = 2, format: LogFormat = .text, minimumLevel: LogLevel = .info) {
        self.fd = fd
        self.format = format
        self.minimumLevel = minimumLevel
    }

    /// Writes one line at `level` if the level is enabled.
    public func log(_ level: LogLevel, _ message: String) {
        guard level >= minimumLevel else { return }
        let time = Timestamp.rfc3339(secondsSinceEpoch: Int64(Glibc.time(nil)))
        let line = LogWriter.render(level, message, format: format, time: time)
        line.utf8CString.withUnsafeBufferPointer { buf in
            _ = buf.baseAddress.map { write(fd, $0, buf.count - 1) }
        }
    }

    /// The text of one log line (with its newline), in the given format.
    public static func render(_ level: LogLevel, _ message: String, format: LogFormat, time: String) -> String {
        switch format {
        case .json:
            return "{\"level\":\"\(level.rawValue)\",\"msg\":\(jsonQuoted(message)),\"time\":\"\(time)\"}\n"
        case .text:
            return "time=\"\(time)\" level=\(level.rawValue) msg=\(jsonQuoted(message))\n"
        }
    }

    /// A JSON string literal for `s`.
    public static func jsonQuoted(_ s: String) -> String {
        var out = "\""
        for scalar in s.unicodeScalars {
            switch scalar {
            case "\"": out += "\\\""
            case "\\": out += "\\\\"
            case "\n": out += "\\n"
            case "\r": out += "\\r"
            case "\t": out += "\\t"
            default:
                if scalar.value < 0x20 {
                    let hex = String(scalar.value, radix: 16)
                    out += "\\u" + String(repeating: "0", count: 4 - hex.count) + hex
                } else {
                    out.unicodeScalars.append(scalar)
                }
            }
        }
        return out + "\""
    }
}
