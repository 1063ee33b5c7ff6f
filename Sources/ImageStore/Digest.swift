import PodrunCore

/// A validated sha256 content digest: `sha256:` followed by 64 lowercase hex digits.
///
/// Only this exact form is accepted, so a digest can always be used as a file name inside the store and can
/// never name a path outside it.
public struct Digest: Hashable, Sendable, CustomStringConvertible, Codable {
    /// The 64 lowercase hex digits.
    public let hex: String

    /// The digest in its `sha256:<hex>` form.
    public var description: String { "sha256:" + hex }

    /// A digest parsed from `sha256:<64 lowercase hex>`; anything else is `.invalidArgument`.
    public init(_ string: String) throws {
        guard string.hasPrefix("sha256:") else {
            throw PodrunError(.invalidArgument, "digest \(string) is not of the form sha256:<64 lowercase hex digits>")
        }
        let hex = String(string.dropFirst("sha256:".count))
        guard Digest.isHex64(hex) else {
            throw PodrunError(.invalidArgument, "digest \(string) is not of the form sha256:<64 lowercase hex digits>")
        }
        self.hex = hex
    }

    /// A digest from its 64 hex digits, or nil when `hex` is not exactly 64 lowercase hex digits.
    public init?(hex: String) {
        guard Digest.isHex64(hex) else { return nil }
        self.hex = hex
    }

    /// A digest from the 32 raw bytes of a sha256 hash.
    init<Bytes: Sequence>(rawBytes: Bytes) where Bytes.Element == UInt8 {
        let digits: [UInt8] = Array("0123456789abcdef".utf8)
        var text: [UInt8] = []
        text.reserveCapacity(64)
        for byte in rawBytes {
            text.append(digits[Int(byte >> 4)])
            text.append(digits[Int(byte & 0x0f)])
        }
        self.hex = String(decoding: text, as: UTF8.self)
    }

    /// Decodes a digest from its `sha256:<hex>` string, validating it.
    public init(from decoder: Decoder) throws {
        let text = try decoder.singleValueContainer().decode(String.self)
        try self.init(text)
    }

    /// Encodes the digest as its `sha256:<hex>` string.
    public func encode(to encoder: Encoder) throws {
        var container = encoder.singleValueContainer()
        try container.encode(description)
    }

    static func isHex64(_ text: String) -> Bool {
        let bytes = Array(text.utf8)
        return bytes.count == 64 && bytes.allSatisfy { ($0 >= 0x30 && $0 <= 0x39) || ($0 >= 0x61 && $0 <= 0x66) }
    }
}
