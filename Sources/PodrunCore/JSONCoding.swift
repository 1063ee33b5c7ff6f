import FoundationEssentials

/// podrun's one way to turn values into JSON and back: sorted keys, slashes unescaped, and errors as
/// `PodrunError`s that name what was being coded.
public enum JSONCoding {
    /// The JSON bytes of `value`.
    public static func encode<T: Encodable>(_ value: T, pretty: Bool = false, what: String = "value") throws -> [UInt8] {
        let encoder = JSONEncoder()
        encoder.outputFormatting = pretty ? [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
            : [.sortedKeys, .withoutEscapingSlashes]
        do {
            return Array(try encoder.encode(value))
        } catch {
            throw PodrunError(.internalError, "encode \(what)", cause: String(describing: error))
        }
    }

    /// A value decoded from JSON bytes; a failure is `.internalError` (use OCISpec's decoders for user input).
    public static func decode<T: Decodable>(_ type: T.Type, from bytes: [UInt8], what: String = "value") throws -> T {
        do {
            return try JSONDecoder().decode(type, from: Data(bytes))
        } catch {
            throw PodrunError(.internalError, "decode \(what)", cause: String(describing: error))
        }
    }
}
