import FoundationEssentials
import PodrunCore

/// JSON coding for CNI documents: network configs and plugin output are input from outside podrun, so a
/// document that does not decode is `.invalidSpec` naming the document, not an internal error.
enum CNIJSON {
    /// The compact JSON bytes of `value`, keys sorted.
    static func encode<T: Encodable>(_ value: T, what: String = "value") throws -> [UInt8] {
        try JSONCoding.encode(value, what: what)
    }

    /// `type` decoded from `bytes`; `what` names the document in the error (a path, or "output of bridge").
    static func decode<T: Decodable>(_ type: T.Type, from bytes: [UInt8], what: String) throws -> T {
        do {
            return try JSONDecoder().decode(type, from: Data(bytes))
        } catch {
            throw PodrunError(.invalidSpec, "invalid JSON", path: what, cause: String(describing: error))
        }
    }
}
