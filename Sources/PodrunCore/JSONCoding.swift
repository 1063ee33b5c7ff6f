import FoundationEssentials

/// podrun's one way to turn values into JSON and back: sorted keys, slashes unescaped, and errors as
/// `PodrunError`s that name what was being coded.
///
/// Coding goes through `JSONTree` (`JSONTreeEncoder`, `JSONTreeDecoder`, and the hand-written readers of the types
/// that have one, `JSONTreeReadable`), which reads and writes what `JSONEncoder`/`JSONDecoder` would without their
/// first-use cost in a fresh process; `JSONDecoder` still reads what `JSONTree` does not parse (to say what is
/// wrong with it, or to accept what only it accepts: a byte-order mark, a trailing comma).
public enum JSONCoding {
    /// The JSON bytes of `value`.
    public static func encode<T: Encodable>(_ value: T, pretty: Bool = false, what: String = "value") throws -> [UInt8] {
        do {
            return try JSONTreeEncoder.encode(value, pretty: pretty)
        } catch {
            throw PodrunError(.internalError, "encode \(what)", cause: String(describing: error))
        }
    }

    /// A value decoded from JSON bytes; a failure is `.internalError` (use OCISpec's decoders for user input).
    public static func decode<T: Decodable>(_ type: T.Type, from bytes: [UInt8], what: String = "value") throws -> T {
        try internalErrors(what) { try decodeWithoutWrapping(type, from: bytes) }
    }

    /// A value decoded from JSON bytes, any error as thrown (a `DecodingError` for a document that does not fit
    /// `T`, with its coding path).
    public static func decodeWithoutWrapping<T: Decodable>(_ type: T.Type, from bytes: [UInt8]) throws -> T {
        guard let tree = JSONTree.parse(bytes) else {
            return try JSONDecoder().decode(type, from: Data(bytes))
        }
        return try JSONTreeDecoder.decode(type, from: tree)
    }

    /// A value of a type with a reader (`JSONTreeReadable`) decoded from JSON bytes: read from the parsed tree;
    /// a failure is `.internalError`.
    public static func decode<T: Decodable & JSONTreeReadable>(_ type: T.Type, from bytes: [UInt8], what: String = "value") throws -> T {
        try internalErrors(what) { try decodeWithoutWrapping(type, from: bytes) }
    }

    /// `decode`'s errors: any failure as `.internalError` naming `what`.
    private static func internalErrors<T>(_ what: String, _ body: () throws -> T) throws -> T {
        do {
            return try body()
        } catch {
            throw PodrunError(.internalError, "decode \(what)", cause: String(describing: error))
        }
    }

    /// A value of a type with a reader decoded from JSON bytes, any error as thrown: read from the parsed tree
    /// (`JSONDecoder` and the type's `Decodable` conformance for what only Foundation parses).
    public static func decodeWithoutWrapping<T: Decodable & JSONTreeReadable>(_ type: T.Type, from bytes: [UInt8]) throws -> T {
        guard let tree = JSONTree.parse(bytes) else {
            return try JSONDecoder().decode(type, from: Data(bytes))
        }
        return try T(json: JSONField(root: tree))
    }
}
