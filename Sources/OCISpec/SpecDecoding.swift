import FoundationEssentials
import PodrunCore

/// Decoding and encoding of spec documents, with errors that name the JSON field at fault.
public enum SpecCoding {
    /// Decodes `T` from JSON bytes with its reader (with `JSONDecoder` and its `Decodable` conformance when only
    /// Foundation's parser reads the bytes: a byte-order mark, a trailing comma); a failure is `.invalidSpec` with
    /// the field path (`linux.namespaces[2].type`) and what is wrong with it. `document` names the input in
    /// messages (`config.json`).
    public static func decode<T: Decodable & JSONTreeReadable>(_ type: T.Type, from bytes: [UInt8], document: String) throws -> T {
        do {
            return try JSONCoding.decodeWithoutWrapping(type, from: bytes)
        } catch let error as DecodingError {
            throw describe(error, document: document)
        } catch let error as PodrunError {
            throw error
        } catch {
            throw PodrunError(.invalidSpec, "\(document) is not valid JSON", cause: String(describing: error))
        }
    }

    /// Reads `T` from a parsed document; errors as `decode`'s.
    public static func read<T: JSONTreeReadable>(_ type: T.Type, from tree: JSONTree, document: String) throws -> T {
        do {
            return try T(json: JSONField(root: tree))
        } catch let error as DecodingError {
            throw describe(error, document: document)
        }
    }

    /// Pretty, key-sorted JSON of `value`.
    public static func encode<T: Encodable>(_ value: T) throws -> [UInt8] {
        try JSONCoding.encode(value, pretty: true, what: "spec")
    }

    /// The JSON form of a coding path: `process.args[0]`.
    public static func fieldPath(_ path: [any CodingKey]) -> String {
        var out = ""
        for key in path {
            if let index = key.intValue {
                out += "[\(index)]"
            } else {
                out += (out.isEmpty ? "" : ".") + key.stringValue
            }
        }
        return out
    }

    /// A `PodrunError` for a decoding failure.
    static func describe(_ error: DecodingError, document: String) -> PodrunError {
        switch error {
        case .typeMismatch(let type, let context):
            return PodrunError(.invalidSpec, "expected \(jsonTypeName(type))", path: field(context, document))
        case .valueNotFound(let type, let context):
            return PodrunError(.invalidSpec, "expected \(jsonTypeName(type)), found null", path: field(context, document))
        case .keyNotFound(let key, let context):
            let path = fieldPath(context.codingPath + [key])
            return PodrunError(.invalidSpec, "is required", path: path)
        case .dataCorrupted(let context):
            if context.codingPath.isEmpty {
                return PodrunError(.invalidSpec, "\(document) is not valid JSON",
                                   cause: context.underlyingError.map { String(describing: $0) } ?? context.debugDescription)
            }
            return PodrunError(.invalidSpec, context.debugDescription, path: field(context, document))
        @unknown default:
            return PodrunError(.invalidSpec, "\(document) could not be read", cause: String(describing: error))
        }
    }

    private static func field(_ context: DecodingError.Context, _ document: String) -> String {
        let path = fieldPath(context.codingPath)
        return path.isEmpty ? document : path
    }

    private static func jsonTypeName(_ type: Any.Type) -> String {
        let name = String(describing: type)
        if name.hasPrefix("Array") { return "an array" }
        if name.hasPrefix("Dictionary") { return "an object" }
        switch name {
        case "String": return "a string"
        case "Bool": return "a boolean"
        case "Int", "Int32", "Int64", "UInt", "UInt16", "UInt32", "UInt64", "Double": return "a number"
        default: return "an object"
        }
    }
}

extension Spec {
    /// Decodes a config.json; errors name the field.
    public static func decode(from bytes: [UInt8]) throws -> Spec {
        try SpecCoding.decode(Spec.self, from: bytes, document: "config.json")
    }

    /// Decodes a config.json and returns the parsed document too, for a state record to keep as it is instead of
    /// encoding the spec again; the document is nil when only Foundation's parser reads the bytes (a byte-order
    /// mark, a trailing comma). Errors name the field, as `decode(from:)`'s.
    public static func decodeKeepingDocument(from bytes: [UInt8]) throws -> (spec: Spec, document: JSONTree?) {
        guard let document = JSONTree.parse(bytes) else { return (try decode(from: bytes), nil) }
        return (try SpecCoding.read(Spec.self, from: document, document: "config.json"), document)
    }

    /// The spec as pretty JSON.
    public func encodedJSON() throws -> [UInt8] { try SpecCoding.encode(self) }
}

extension Process {
    /// Decodes a process JSON (`exec --process FILE`); errors name the field.
    public static func decode(from bytes: [UInt8]) throws -> Process {
        try SpecCoding.decode(Process.self, from: bytes, document: "process.json")
    }
}

extension LinuxNamespaceType {
    /// Decodes the type, naming the unknown value in the error.
    public init(from decoder: any Decoder) throws {
        let container = try decoder.singleValueContainer()
        let text = try container.decode(String.self)
        guard let value = LinuxNamespaceType(rawValue: text) else {
            throw DecodingError.dataCorruptedError(in: container, debugDescription: "unknown namespace type \"\(text)\"")
        }
        self = value
    }
}
