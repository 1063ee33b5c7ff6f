import PodrunCore

/// Prints values as JSON on stdout, as runc's `state`, `list --format json` and `features` do.
enum JSONOutput {
    static func print<T: Encodable>(_ value: T, pretty: Bool = true) throws {
        Swift.print(String(decoding: try JSONCoding.encode(value, pretty: pretty, what: "output"), as: UTF8.self))
    }
}
