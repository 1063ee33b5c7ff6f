#if canImport(Glibc)
import Glibc
#endif

/// The kind of failure, coarse enough for callers to branch on and for the CLI to choose an exit code.
public enum ErrorCode: String, Sendable, Codable {
    /// A command-line argument or option is wrong.
    case invalidArgument
    /// A config.json (or another spec document) is malformed or names an invalid value.
    case invalidSpec
    /// The named container, sandbox, image or file does not exist.
    case notFound
    /// Something with that name exists already.
    case alreadyExists
    /// The operation does not fit the object's current state (for example `start` on a running container).
    case invalidState
    /// A system call or kernel interface failed.
    case system
    /// The container's process could not be executed.
    case execFailed
    /// A lifecycle hook failed or timed out.
    case hookFailed
    /// An operation did not finish in time.
    case timeout
    /// A bug or an unexpected condition inside podrun.
    case internalError
}

/// The one error type of podrun: a code, a message for a person, the failing path or spec field, and the
/// underlying cause (an errno, or another error's description).
public struct PodrunError: Error, CustomStringConvertible, Sendable, Equatable, Codable {
    /// What kind of failure this is.
    public var code: ErrorCode
    /// A sentence for a person, without a trailing period.
    public var message: String
    /// The file path or spec field (`process.args`, `linux.namespaces[2].type`) the failure is about.
    public var path: String?
    /// The errno of the failing system call, when there is one.
    public var errno: Int32?
    /// The description of a wrapped error, when there is one.
    public var cause: String?

    public init(_ code: ErrorCode, _ message: String, path: String? = nil, errno: Int32? = nil, cause: String? = nil) {
        self.code = code
        self.message = message
        self.path = path
        self.errno = errno
        self.cause = cause
    }

    /// An error for a failed system call, carrying the current `errno`.
    public static func system(_ what: String, path: String? = nil, errno: Int32 = Glibc.errno) -> PodrunError {
        PodrunError(.system, what, path: path, errno: errno)
    }

    /// An error for an invalid spec field.
    public static func invalidSpec(_ field: String, _ message: String) -> PodrunError {
        PodrunError(.invalidSpec, message, path: field)
    }

    /// The same error with more context in front of its message (`"mount /proc: " + message`).
    public func context(_ prefix: String) -> PodrunError {
        var copy = self
        copy.message = prefix + ": " + message
        return copy
    }

    /// One line: message, path and cause, as runc prints them (`open /x: no such file or directory`).
    public var description: String {
        var text = message
        if let path, code == .invalidSpec {
            text = "\(path): " + text
        } else if let path {
            text += " \(path)"
        }
        if let errno {
            text += ": " + PodrunError.errnoDescription(errno)
        } else if let cause {
            text += ": " + cause
        }
        return text
    }

    /// The C library's text for an errno, lower-cased as Go and runc print it.
    public static func errnoDescription(_ errno: Int32) -> String {
        guard let text = strerror(errno) else { return "errno \(errno)" }
        // strerror's texts are ASCII: lower the first letter by hand (Character.lowercased() loads Unicode
        // tables on first use, a measurable part of an exec whose ambient capabilities cannot all be raised).
        var bytes = Array(String(cString: text).utf8)
        if let first = bytes.first, first >= UInt8(ascii: "A"), first <= UInt8(ascii: "Z") { bytes[0] = first + 32 }
        return String(decoding: bytes, as: UTF8.self)
    }
}

extension PodrunError {
    /// Wraps any error as a `PodrunError`, keeping one that already is.
    public static func wrap(_ error: any Error, _ code: ErrorCode = .internalError, _ message: String) -> PodrunError {
        if let e = error as? PodrunError { return e.context(message) }
        return PodrunError(code, message, cause: String(describing: error))
    }
}
