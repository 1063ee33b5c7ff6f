/// Encodes `Encodable` values into a `JSONTree` (object members sorted by key) and writes trees as JSON text in
/// the form `JSONEncoder` writes with `.sortedKeys` and `.withoutEscapingSlashes` (and `.prettyPrinted`): keys in
/// UTF-8 byte order, whole floating-point numbers without `.0`, two-space indentation and `"key" : value`.
///
/// Unlike `JSONEncoder` it makes no casts to marker protocols for every encoded type, whose first use in a static
/// binary scans all its conformance records.
public enum JSONTreeEncoder {
    /// The tree of `value`; a non-finite floating-point number is an `EncodingError.invalidValue`.
    public static func tree<T: Encodable>(of value: T) throws -> JSONTree {
        let root = EncodingNode()
        try value.encode(to: TreeEncoder(node: root, codingPath: []))
        return root.tree
    }

    /// The JSON text of `value`.
    public static func encode<T: Encodable>(_ value: T, pretty: Bool = false) throws -> [UInt8] {
        try tree(of: value).jsonBytes(pretty: pretty)
    }
}

extension JSONTree {
    /// The JSON text of this tree, members in their order here; `pretty` as `JSONEncoder`'s `.prettyPrinted`.
    public func jsonBytes(pretty: Bool = false) -> [UInt8] {
        var out: [UInt8] = []
        out.reserveCapacity(256)
        write(to: &out, pretty: pretty, indent: 0)
        return out
    }

    private func write(to out: inout [UInt8], pretty: Bool, indent: Int) {
        switch self {
        case .null: out.append(contentsOf: "null".utf8)
        case .bool(let b): out.append(contentsOf: (b ? "true" : "false").utf8)
        case .number(let text): out.append(contentsOf: text.utf8)
        case .string(let text): Self.writeString(text, to: &out)
        case .array(let elements):
            out.append(UInt8(ascii: "["))
            if pretty {
                out.append(0x0A)
                for (position, element) in elements.enumerated() {
                    if position > 0 { out.append(contentsOf: ",\n".utf8) }
                    Self.writeIndent(indent + 1, to: &out)
                    element.write(to: &out, pretty: true, indent: indent + 1)
                }
                out.append(0x0A)
                Self.writeIndent(indent, to: &out)
            } else {
                for (position, element) in elements.enumerated() {
                    if position > 0 { out.append(UInt8(ascii: ",")) }
                    element.write(to: &out, pretty: false, indent: 0)
                }
            }
            out.append(UInt8(ascii: "]"))
        case .object(let members):
            out.append(UInt8(ascii: "{"))
            if pretty {
                out.append(0x0A)
                for (position, member) in members.enumerated() {
                    if position > 0 { out.append(contentsOf: ",\n".utf8) }
                    Self.writeIndent(indent + 1, to: &out)
                    Self.writeString(member.0, to: &out)
                    out.append(contentsOf: " : ".utf8)
                    member.1.write(to: &out, pretty: true, indent: indent + 1)
                }
                out.append(0x0A)
                Self.writeIndent(indent, to: &out)
            } else {
                for (position, member) in members.enumerated() {
                    if position > 0 { out.append(UInt8(ascii: ",")) }
                    Self.writeString(member.0, to: &out)
                    out.append(UInt8(ascii: ":"))
                    member.1.write(to: &out, pretty: false, indent: 0)
                }
            }
            out.append(UInt8(ascii: "}"))
        }
    }

    private static func writeIndent(_ level: Int, to out: inout [UInt8]) {
        for _ in 0..<(2 * level) { out.append(0x20) }
    }

    /// `text` quoted: quote, backslash and control characters escaped, everything else (slashes, non-ASCII) as is.
    /// Runs of bytes that need no escape are copied whole.
    private static func writeString(_ text: String, to out: inout [UInt8]) {
        out.append(UInt8(ascii: "\""))
        var text = text
        text.withUTF8 { bytes in
            var plain = 0
            for index in bytes.indices {
                let byte = bytes[index]
                guard byte < 0x20 || byte == UInt8(ascii: "\"") || byte == UInt8(ascii: "\\") else { continue }
                out.append(contentsOf: UnsafeBufferPointer(rebasing: bytes[plain..<index]))
                plain = index + 1
                switch byte {
                case UInt8(ascii: "\""): out.append(contentsOf: "\\\"".utf8)
                case UInt8(ascii: "\\"): out.append(contentsOf: "\\\\".utf8)
                case 0x0A: out.append(contentsOf: "\\n".utf8)
                case 0x0D: out.append(contentsOf: "\\r".utf8)
                case 0x09: out.append(contentsOf: "\\t".utf8)
                case 0x08: out.append(contentsOf: "\\b".utf8)
                case 0x0C: out.append(contentsOf: "\\f".utf8)
                default:
                    let hex: [UInt8] = Array("0123456789abcdef".utf8)
                    out.append(contentsOf: "\\u00".utf8)
                    out.append(hex[Int(byte >> 4)])
                    out.append(hex[Int(byte & 0x0F)])
                }
            }
            out.append(contentsOf: UnsafeBufferPointer(rebasing: bytes[plain..<bytes.count]))
        }
        out.append(UInt8(ascii: "\""))
    }
}

/// What has been encoded at one place of the tree. A class: containers handed out by the encoder keep writing
/// into it after `encode(to:)` has returned them.
private final class EncodingNode {
    enum Content {
        case empty
        case value(JSONTree)
        case object([String: EncodingNode])
        case array([EncodingNode])
    }

    var content: Content = .empty

    init() {}

    init(_ value: JSONTree) { content = .value(value) }

    /// The encoded tree; members sorted by key (UTF-8 byte order, as `JSONEncoder`'s `.sortedKeys`). A value that
    /// encoded nothing is an empty object, as in `JSONEncoder`.
    var tree: JSONTree {
        switch content {
        case .empty: return .object([])
        case .value(let value): return value
        case .array(let nodes): return .array(nodes.map(\.tree))
        case .object(let members):
            return .object(members.sorted { $0.key.utf8Precedes($1.key) }
                .map { ($0.key, $0.value.tree) })
        }
    }

    /// Makes this an object (keeping members already there) and sets `key`.
    func set(_ key: String, _ node: EncodingNode) {
        if case .object(var members) = content {
            content = .empty
            members[key] = node
            content = .object(members)
        } else {
            content = .object([key: node])
        }
    }

    func ensureObject() {
        if case .object = content { return }
        content = .object([:])
    }

    func ensureArray() {
        if case .array = content { return }
        content = .array([])
    }

    func append(_ node: EncodingNode) {
        if case .array(var nodes) = content {
            content = .empty
            nodes.append(node)
            content = .array(nodes)
        } else {
            content = .array([node])
        }
    }

    var arrayCount: Int {
        if case .array(let nodes) = content { return nodes.count }
        return 0
    }
}

/// Text of primitive values, with `JSONEncoder`'s refusal of non-finite numbers.
private enum Primitive {
    static func floatingPoint<T: BinaryFloatingPoint & CustomStringConvertible>(
        _ value: T, _ path: [any CodingKey]
    ) throws -> JSONTree {
        guard value.isFinite else {
            throw EncodingError.invalidValue(value, .init(
                codingPath: path, debugDescription: "Unable to encode \(T.self).\(value) directly in JSON."))
        }
        var text = value.description
        if text.hasSuffix(".0") { text.removeLast(2) }
        return .number(text)
    }

    static func integer<T: FixedWidthInteger>(_ value: T) -> JSONTree { .number(String(value)) }

    static func encodable<T: Encodable>(_ value: T, _ path: [any CodingKey]) throws -> EncodingNode {
        let node = EncodingNode()
        try value.encode(to: TreeEncoder(node: node, codingPath: path))
        return node
    }
}

private struct TreeEncoder: Encoder {
    let node: EncodingNode
    let codingPath: [any CodingKey]
    var userInfo: [CodingUserInfoKey: Any] { [:] }

    func container<Key: CodingKey>(keyedBy type: Key.Type) -> KeyedEncodingContainer<Key> {
        node.ensureObject()
        return KeyedEncodingContainer(KeyedTreeEncodingContainer<Key>(node: node, codingPath: codingPath))
    }

    func unkeyedContainer() -> any UnkeyedEncodingContainer {
        node.ensureArray()
        return UnkeyedTreeEncodingContainer(node: node, codingPath: codingPath)
    }

    func singleValueContainer() -> any SingleValueEncodingContainer {
        SingleValueTreeEncodingContainer(node: node, codingPath: codingPath)
    }
}

private struct SingleValueTreeEncodingContainer: SingleValueEncodingContainer {
    let node: EncodingNode
    let codingPath: [any CodingKey]

    func put(_ value: JSONTree) { node.content = .value(value) }

    func encodeNil() throws { put(.null) }
    func encode(_ value: Bool) throws { put(.bool(value)) }
    func encode(_ value: String) throws { put(.string(value)) }
    func encode(_ value: Double) throws { put(try Primitive.floatingPoint(value, codingPath)) }
    func encode(_ value: Float) throws { put(try Primitive.floatingPoint(value, codingPath)) }
    func encode(_ value: Int) throws { put(Primitive.integer(value)) }
    func encode(_ value: Int8) throws { put(Primitive.integer(value)) }
    func encode(_ value: Int16) throws { put(Primitive.integer(value)) }
    func encode(_ value: Int32) throws { put(Primitive.integer(value)) }
    func encode(_ value: Int64) throws { put(Primitive.integer(value)) }
    func encode(_ value: UInt) throws { put(Primitive.integer(value)) }
    func encode(_ value: UInt8) throws { put(Primitive.integer(value)) }
    func encode(_ value: UInt16) throws { put(Primitive.integer(value)) }
    func encode(_ value: UInt32) throws { put(Primitive.integer(value)) }
    func encode(_ value: UInt64) throws { put(Primitive.integer(value)) }
    func encode<T: Encodable>(_ value: T) throws {
        try value.encode(to: TreeEncoder(node: node, codingPath: codingPath))
    }
}

private struct KeyedTreeEncodingContainer<Key: CodingKey>: KeyedEncodingContainerProtocol {
    let node: EncodingNode
    let codingPath: [any CodingKey]

    func put(_ value: JSONTree, _ key: Key) { node.set(key.stringValue, EncodingNode(value)) }

    mutating func encodeNil(forKey key: Key) throws { put(.null, key) }
    mutating func encode(_ value: Bool, forKey key: Key) throws { put(.bool(value), key) }
    mutating func encode(_ value: String, forKey key: Key) throws { put(.string(value), key) }
    mutating func encode(_ value: Double, forKey key: Key) throws {
        put(try Primitive.floatingPoint(value, codingPath + [key]), key)
    }
    mutating func encode(_ value: Float, forKey key: Key) throws {
        put(try Primitive.floatingPoint(value, codingPath + [key]), key)
    }
    mutating func encode(_ value: Int, forKey key: Key) throws { put(Primitive.integer(value), key) }
    mutating func encode(_ value: Int8, forKey key: Key) throws { put(Primitive.integer(value), key) }
    mutating func encode(_ value: Int16, forKey key: Key) throws { put(Primitive.integer(value), key) }
    mutating func encode(_ value: Int32, forKey key: Key) throws { put(Primitive.integer(value), key) }
    mutating func encode(_ value: Int64, forKey key: Key) throws { put(Primitive.integer(value), key) }
    mutating func encode(_ value: UInt, forKey key: Key) throws { put(Primitive.integer(value), key) }
    mutating func encode(_ value: UInt8, forKey key: Key) throws { put(Primitive.integer(value), key) }
    mutating func encode(_ value: UInt16, forKey key: Key) throws { put(Primitive.integer(value), key) }
    mutating func encode(_ value: UInt32, forKey key: Key) throws { put(Primitive.integer(value), key) }
    mutating func encode(_ value: UInt64, forKey key: Key) throws { put(Primitive.integer(value), key) }
    mutating func encode<T: Encodable>(_ value: T, forKey key: Key) throws {
        node.set(key.stringValue, try Primitive.encodable(value, codingPath + [key]))
    }

    mutating func nestedContainer<NestedKey: CodingKey>(
        keyedBy keyType: NestedKey.Type, forKey key: Key
    ) -> KeyedEncodingContainer<NestedKey> {
        let child = EncodingNode()
        node.set(key.stringValue, child)
        return TreeEncoder(node: child, codingPath: codingPath + [key]).container(keyedBy: keyType)
    }

    mutating func nestedUnkeyedContainer(forKey key: Key) -> any UnkeyedEncodingContainer {
        let child = EncodingNode()
        node.set(key.stringValue, child)
        return TreeEncoder(node: child, codingPath: codingPath + [key]).unkeyedContainer()
    }

    mutating func superEncoder() -> any Encoder {
        let child = EncodingNode()
        node.set(JSONTreeKey.superKey.stringValue, child)
        return TreeEncoder(node: child, codingPath: codingPath + [JSONTreeKey.superKey])
    }

    mutating func superEncoder(forKey key: Key) -> any Encoder {
        let child = EncodingNode()
        node.set(key.stringValue, child)
        return TreeEncoder(node: child, codingPath: codingPath + [key])
    }
}

private struct UnkeyedTreeEncodingContainer: UnkeyedEncodingContainer {
    let node: EncodingNode
    let codingPath: [any CodingKey]

    var count: Int { node.arrayCount }

    var nextPath: [any CodingKey] { codingPath + [JSONTreeKey(intValue: count)] }

    func put(_ value: JSONTree) { node.append(EncodingNode(value)) }

    mutating func encodeNil() throws { put(.null) }
    mutating func encode(_ value: Bool) throws { put(.bool(value)) }
    mutating func encode(_ value: String) throws { put(.string(value)) }
    mutating func encode(_ value: Double) throws { put(try Primitive.floatingPoint(value, nextPath)) }
    mutating func encode(_ value: Float) throws { put(try Primitive.floatingPoint(value, nextPath)) }
    mutating func encode(_ value: Int) throws { put(Primitive.integer(value)) }
    mutating func encode(_ value: Int8) throws { put(Primitive.integer(value)) }
    mutating func encode(_ value: Int16) throws { put(Primitive.integer(value)) }
    mutating func encode(_ value: Int32) throws { put(Primitive.integer(value)) }
    mutating func encode(_ value: Int64) throws { put(Primitive.integer(value)) }
    mutating func encode(_ value: UInt) throws { put(Primitive.integer(value)) }
    mutating func encode(_ value: UInt8) throws { put(Primitive.integer(value)) }
    mutating func encode(_ value: UInt16) throws { put(Primitive.integer(value)) }
    mutating func encode(_ value: UInt32) throws { put(Primitive.integer(value)) }
    mutating func encode(_ value: UInt64) throws { put(Primitive.integer(value)) }
    mutating func encode<T: Encodable>(_ value: T) throws {
        node.append(try Primitive.encodable(value, nextPath))
    }

    mutating func nestedContainer<NestedKey: CodingKey>(keyedBy keyType: NestedKey.Type) -> KeyedEncodingContainer<NestedKey> {
        let child = EncodingNode()
        let path = nextPath
        node.append(child)
        return TreeEncoder(node: child, codingPath: path).container(keyedBy: keyType)
    }

    mutating func nestedUnkeyedContainer() -> any UnkeyedEncodingContainer {
        let child = EncodingNode()
        let path = nextPath
        node.append(child)
        return TreeEncoder(node: child, codingPath: path).unkeyedContainer()
    }

    mutating func superEncoder() -> any Encoder {
        let child = EncodingNode()
        let path = nextPath
        node.append(child)
        return TreeEncoder(node: child, codingPath: path)
    }
}
