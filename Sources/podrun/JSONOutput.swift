import FoundationEssentials
import PodrunCore

/// Prints values as indented JSON on stdout, as runc's `state`, `list --format json` and `features` do.
enum JSONOutput {
    static func print<T: Encodable>(_ value: T, pretty: Bool = true) throws {
        let encoder = JSONEncoder()
        encoder.outputFormatting = pretty ? [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
            : [.sortedKeys, .withoutEscapingSlashes]
        do {
            let data = try encoder.encode(value)
            Swift.print(String(decoding: data, as: UTF8.self))
        } catch {
            throw PodrunError(.internalError, "encode output", cause: String(describing: error))
        }
    }
}
