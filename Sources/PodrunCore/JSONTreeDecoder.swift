/// Decodes `Decodable` values from a `JSONTree`, as `JSONDecoder` (default strategies) decodes them from the same
/// document: same accepted numbers (`1.0` and `1e2` are whole numbers), the first of repeated keys, and
/// `DecodingError`s of the same kind, type and coding path.
///
/// Unlike `JSONDecoder` it makes no casts to marker protocols for every decoded type (each one a scan of all
/// conformance records of the static binary on first use), which is most of the cost of decoding a spec once.
public enum JSONTreeDecoder {
    /// The `T` in `tree`.
    public static func decode<T: Decodable>(_ type: T.Type, from tree: JSONTree) throws -> T {
        try T(from: TreeDecoder(value: tree, codingPath: []))
    }
}

/// A coding key for array positions and dictionary members made while decoding or encoding.
@usableFromInline
struct JSONTreeKey: CodingKey {
    @usableFromInline var stringValue: String
    @usableFromInline var intValue: Int?

    @usableFromInline
    init(stringValue: String) {
        self.stringValue = stringValue
        self.intValue = nil
    }

    @usableFromInline
    init(intValue: Int) {
        self.stringValue = "Index \(intValue)"
        self.intValue = intValue
    }

    /// The key `super` of `superDecoder()`/`superEncoder()`.
    static let superKey = JSONTreeKey(stringValue: "super")
}

extension JSONTree {
    /// How a type-mismatch message names this value (as `JSONDecoder` does).
    var kindDescription: String {
        switch self {
        case .null: return "null"
        case .bool: return "bool"
        case .number: return "number"
        case .string: return "a string"
        case .array: return "an array"
        case .object: return "a dictionary"
        }
    }
}

/// The decoder over one value of the tree.
private struct TreeDecoder: Decoder {
    let value: JSONTree
    let codingPath: [any CodingKey]
    var userInfo: [CodingUserInfoKey: Any] { [:] }

    func container<Key: CodingKey>(keyedBy type: Key.Type) throws -> KeyedDecodingContainer<Key> {
        switch value {
        case .object(let members):
            return KeyedDecodingContainer(KeyedTreeContainer<Key>(members: members, codingPath: codingPath))
        case .null:
            throw DecodingError.valueNotFound([String: Any].self, .init(
                codingPath: codingPath, debugDescription: "Cannot get keyed decoding container -- found null value instead"))
        default:
            throw DecodingError.typeMismatch([String: Any].self, .init(
                codingPath: codingPath,
                debugDescription: "Expected to decode \([String: Any].self) but found \(value.kindDescription) instead."))
        }
    }

    func unkeyedContainer() throws -> any UnkeyedDecodingContainer {
        switch value {
        case .array(let elements):
            return UnkeyedTreeContainer(elements: elements, codingPath: codingPath)
        case .null:
            throw DecodingError.valueNotFound([Any].self, .init(
                codingPath: codingPath, debugDescription: "Cannot get unkeyed decoding container -- found null value instead"))
        default:
            throw DecodingError.typeMismatch([Any].self, .init(
                codingPath: codingPath,
                debugDescription: "Expected to decode \([Any].self) but found \(value.kindDescription) instead."))
        }
    }

    func singleValueContainer() throws -> any SingleValueDecodingContainer {
        SingleValueTreeContainer(value: value, codingPath: codingPath)
    }
}

/// The conversion of a member to a nested `Decodable`.
private enum Unwrap {
    static func decodable<T: Decodable>(_ value: JSONTree, _ type: T.Type, _ path: [any CodingKey]) throws -> T {
        // A [String: String] straight from the object: Dictionary's own Decodable init goes through `allKeys`,
        // whose casts look conformances up at run time on first use (see `joinedText`). Anything else in the
        // object takes the general way, for its error.
        if T.self == [String: String].self, let map = value.stringMap, let typed = map as? T { return typed }
        return try T(from: TreeDecoder(value: value, codingPath: path))
    }
}

private struct SingleValueTreeContainer: SingleValueDecodingContainer {
    let value: JSONTree
    let codingPath: [any CodingKey]

    func decodeNil() -> Bool { value.isNull }
    func decode(_ type: Bool.Type) throws -> Bool { try JSONTreeConversion.bool(value, codingPath) }
    func decode(_ type: String.Type) throws -> String { try JSONTreeConversion.string(value, codingPath) }
    func decode(_ type: Double.Type) throws -> Double { try JSONTreeConversion.floatingPoint(value, type, codingPath) }
    func decode(_ type: Float.Type) throws -> Float { try JSONTreeConversion.floatingPoint(value, type, codingPath) }
    func decode(_ type: Int.Type) throws -> Int { try JSONTreeConversion.integer(value, type, codingPath) }
    func decode(_ type: Int8.Type) throws -> Int8 { try JSONTreeConversion.integer(value, type, codingPath) }
    func decode(_ type: Int16.Type) throws -> Int16 { try JSONTreeConversion.integer(value, type, codingPath) }
    func decode(_ type: Int32.Type) throws -> Int32 { try JSONTreeConversion.integer(value, type, codingPath) }
    func decode(_ type: Int64.Type) throws -> Int64 { try JSONTreeConversion.integer(value, type, codingPath) }
    func decode(_ type: UInt.Type) throws -> UInt { try JSONTreeConversion.integer(value, type, codingPath) }
    func decode(_ type: UInt8.Type) throws -> UInt8 { try JSONTreeConversion.integer(value, type, codingPath) }
    func decode(_ type: UInt16.Type) throws -> UInt16 { try JSONTreeConversion.integer(value, type, codingPath) }
    func decode(_ type: UInt32.Type) throws -> UInt32 { try JSONTreeConversion.integer(value, type, codingPath) }
    func decode(_ type: UInt64.Type) throws -> UInt64 { try JSONTreeConversion.integer(value, type, codingPath) }
    func decode<T: Decodable>(_ type: T.Type) throws -> T { try Unwrap.decodable(value, type, codingPath) }
}

/// An object's members by key: the first of repeated keys, as `JSONDecoder` reads them.
private struct KeyedTreeContainer<Key: CodingKey>: KeyedDecodingContainerProtocol {
    let members: [(String, JSONTree)]
    let codingPath: [any CodingKey]
    /// Member positions by key, for objects large enough that scanning for each key would cost more.
    let positions: [String: Int]?

    init(members: [(String, JSONTree)], codingPath: [any CodingKey]) {
        self.members = members
        self.codingPath = codingPath
        if members.count > 16 {
            var positions: [String: Int] = [:]
            positions.reserveCapacity(members.count)
            for (position, member) in members.enumerated() where positions[member.0] == nil {
                positions[member.0] = position
            }
            self.positions = positions
        } else {
            self.positions = nil
        }
    }

    var allKeys: [Key] {
        var seen = Set<String>()
        return members.compactMap { member in seen.insert(member.0).inserted ? Key(stringValue: member.0) : nil }
    }

    func member(_ key: Key) -> JSONTree? {
        if let positions { return positions[key.stringValue].map { members[$0].1 } }
        let name = key.stringValue
        return members.first { $0.0 == name }?.1
    }

    func contains(_ key: Key) -> Bool { member(key) != nil }

    func path(_ key: Key) -> [any CodingKey] { codingPath + [key] }

    func value(_ key: Key) throws -> JSONTree {
        guard let value = member(key) else {
            throw DecodingError.keyNotFound(key, .init(
                codingPath: codingPath, debugDescription: "No value associated with key \(key) (\"\(key.stringValue)\")."))
        }
        return value
    }

    func decodeNil(forKey key: Key) throws -> Bool { try value(key).isNull }
    func decode(_ type: Bool.Type, forKey key: Key) throws -> Bool { try JSONTreeConversion.bool(value(key), path(key)) }
    func decode(_ type: String.Type, forKey key: Key) throws -> String { try JSONTreeConversion.string(value(key), path(key)) }
    func decode(_ type: Double.Type, forKey key: Key) throws -> Double { try JSONTreeConversion.floatingPoint(value(key), type, path(key)) }
    func decode(_ type: Float.Type, forKey key: Key) throws -> Float { try JSONTreeConversion.floatingPoint(value(key), type, path(key)) }
    func decode(_ type: Int.Type, forKey key: Key) throws -> Int { try JSONTreeConversion.integer(value(key), type, path(key)) }
    func decode(_ type: Int8.Type, forKey key: Key) throws -> Int8 { try JSONTreeConversion.integer(value(key), type, path(key)) }
    func decode(_ type: Int16.Type, forKey key: Key) throws -> Int16 { try JSONTreeConversion.integer(value(key), type, path(key)) }
    func decode(_ type: Int32.Type, forKey key: Key) throws -> Int32 { try JSONTreeConversion.integer(value(key), type, path(key)) }
    func decode(_ type: Int64.Type, forKey key: Key) throws -> Int64 { try JSONTreeConversion.integer(value(key), type, path(key)) }
    func decode(_ type: UInt.Type, forKey key: Key) throws -> UInt { try JSONTreeConversion.integer(value(key), type, path(key)) }
    func decode(_ type: UInt8.Type, forKey key: Key) throws -> UInt8 { try JSONTreeConversion.integer(value(key), type, path(key)) }
    func decode(_ type: UInt16.Type, forKey key: Key) throws -> UInt16 { try JSONTreeConversion.integer(value(key), type, path(key)) }
    func decode(_ type: UInt32.Type, forKey key: Key) throws -> UInt32 { try JSONTreeConversion.integer(value(key), type, path(key)) }
    func decode(_ type: UInt64.Type, forKey key: Key) throws -> UInt64 { try JSONTreeConversion.integer(value(key), type, path(key)) }
    func decode<T: Decodable>(_ type: T.Type, forKey key: Key) throws -> T {
        try Unwrap.decodable(value(key), type, path(key))
    }

    /// The member, or nil when it is missing or null.
    func present(_ key: Key) -> JSONTree? {
        guard let value = member(key), !value.isNull else { return nil }
        return value
    }

    func decodeIfPresent(_ type: Bool.Type, forKey key: Key) throws -> Bool? {
        try present(key).map { try JSONTreeConversion.bool($0, path(key)) }
    }
    func decodeIfPresent(_ type: String.Type, forKey key: Key) throws -> String? {
        try present(key).map { try JSONTreeConversion.string($0, path(key)) }
    }
    func decodeIfPresent(_ type: Double.Type, forKey key: Key) throws -> Double? {
        try present(key).map { try JSONTreeConversion.floatingPoint($0, type, path(key)) }
    }
    func decodeIfPresent(_ type: Float.Type, forKey key: Key) throws -> Float? {
        try present(key).map { try JSONTreeConversion.floatingPoint($0, type, path(key)) }
    }
    func decodeIfPresent(_ type: Int.Type, forKey key: Key) throws -> Int? {
        try present(key).map { try JSONTreeConversion.integer($0, type, path(key)) }
    }
    func decodeIfPresent(_ type: Int8.Type, forKey key: Key) throws -> Int8? {
        try present(key).map { try JSONTreeConversion.integer($0, type, path(key)) }
    }
    func decodeIfPresent(_ type: Int16.Type, forKey key: Key) throws -> Int16? {
        try present(key).map { try JSONTreeConversion.integer($0, type, path(key)) }
    }
    func decodeIfPresent(_ type: Int32.Type, forKey key: Key) throws -> Int32? {
        try present(key).map { try JSONTreeConversion.integer($0, type, path(key)) }
    }
    func decodeIfPresent(_ type: Int64.Type, forKey key: Key) throws -> Int64? {
        try present(key).map { try JSONTreeConversion.integer($0, type, path(key)) }
    }
    func decodeIfPresent(_ type: UInt.Type, forKey key: Key) throws -> UInt? {
        try present(key).map { try JSONTreeConversion.integer($0, type, path(key)) }
    }
    func decodeIfPresent(_ type: UInt8.Type, forKey key: Key) throws -> UInt8? {
        try present(key).map { try JSONTreeConversion.integer($0, type, path(key)) }
    }
    func decodeIfPresent(_ type: UInt16.Type, forKey key: Key) throws -> UInt16? {
        try present(key).map { try JSONTreeConversion.integer($0, type, path(key)) }
    }
    func decodeIfPresent(_ type: UInt32.Type, forKey key: Key) throws -> UInt32? {
        try present(key).map { try JSONTreeConversion.integer($0, type, path(key)) }
    }
    func decodeIfPresent(_ type: UInt64.Type, forKey key: Key) throws -> UInt64? {
        try present(key).map { try JSONTreeConversion.integer($0, type, path(key)) }
    }
    func decodeIfPresent<T: Decodable>(_ type: T.Type, forKey key: Key) throws -> T? {
        try present(key).map { try Unwrap.decodable($0, type, path(key)) }
    }

    func nestedContainer<NestedKey: CodingKey>(
        keyedBy type: NestedKey.Type, forKey key: Key
    ) throws -> KeyedDecodingContainer<NestedKey> {
        try TreeDecoder(value: value(key), codingPath: path(key)).container(keyedBy: type)
    }

    func nestedUnkeyedContainer(forKey key: Key) throws -> any UnkeyedDecodingContainer {
        try TreeDecoder(value: value(key), codingPath: path(key)).unkeyedContainer()
    }

    func superDecoder() throws -> any Decoder {
        TreeDecoder(value: members.first { $0.0 == JSONTreeKey.superKey.stringValue }?.1 ?? .null,
                    codingPath: codingPath + [JSONTreeKey.superKey])
    }

    func superDecoder(forKey key: Key) throws -> any Decoder {
        TreeDecoder(value: member(key) ?? .null, codingPath: path(key))
    }
}

/// An array's elements in order.
private struct UnkeyedTreeContainer: UnkeyedDecodingContainer {
    let elements: [JSONTree]
    let codingPath: [any CodingKey]
    var currentIndex = 0

    init(elements: [JSONTree], codingPath: [any CodingKey]) {
        self.elements = elements
        self.codingPath = codingPath
    }

    var count: Int? { elements.count }
    var isAtEnd: Bool { currentIndex >= elements.count }

    var currentPath: [any CodingKey] { codingPath + [JSONTreeKey(intValue: currentIndex)] }

    /// The next element, for decoding a `type`; at the end, `valueNotFound`.
    func next<T>(_ type: T.Type) throws -> JSONTree {
        guard !isAtEnd else {
            throw DecodingError.valueNotFound(type, .init(codingPath: currentPath, debugDescription: "Unkeyed container is at end."))
        }
        return elements[currentIndex]
    }

    /// Decodes the next element with `read` and moves past it.
    mutating func take<T, Result>(_ type: T.Type, _ read: (JSONTree, [any CodingKey]) throws -> Result) throws -> Result {
        let value = try read(next(type), currentPath)
        currentIndex += 1
        return value
    }

    mutating func decodeNil() throws -> Bool {
        guard try next(Never.self).isNull else { return false }
        currentIndex += 1
        return true
    }

    mutating func decode(_ type: Bool.Type) throws -> Bool { try take(type) { try JSONTreeConversion.bool($0, $1) } }
    mutating func decode(_ type: String.Type) throws -> String { try take(type) { try JSONTreeConversion.string($0, $1) } }
    mutating func decode(_ type: Double.Type) throws -> Double { try take(type) { try JSONTreeConversion.floatingPoint($0, type, $1) } }
    mutating func decode(_ type: Float.Type) throws -> Float { try take(type) { try JSONTreeConversion.floatingPoint($0, type, $1) } }
    mutating func decode(_ type: Int.Type) throws -> Int { try take(type) { try JSONTreeConversion.integer($0, type, $1) } }
    mutating func decode(_ type: Int8.Type) throws -> Int8 { try take(type) { try JSONTreeConversion.integer($0, type, $1) } }
    mutating func decode(_ type: Int16.Type) throws -> Int16 { try take(type) { try JSONTreeConversion.integer($0, type, $1) } }
    mutating func decode(_ type: Int32.Type) throws -> Int32 { try take(type) { try JSONTreeConversion.integer($0, type, $1) } }
    mutating func decode(_ type: Int64.Type) throws -> Int64 { try take(type) { try JSONTreeConversion.integer($0, type, $1) } }
    mutating func decode(_ type: UInt.Type) throws -> UInt { try take(type) { try JSONTreeConversion.integer($0, type, $1) } }
    mutating func decode(_ type: UInt8.Type) throws -> UInt8 { try take(type) { try JSONTreeConversion.integer($0, type, $1) } }
    mutating func decode(_ type: UInt16.Type) throws -> UInt16 { try take(type) { try JSONTreeConversion.integer($0, type, $1) } }
    mutating func decode(_ type: UInt32.Type) throws -> UInt32 { try take(type) { try JSONTreeConversion.integer($0, type, $1) } }
    mutating func decode(_ type: UInt64.Type) throws -> UInt64 { try take(type) { try JSONTreeConversion.integer($0, type, $1) } }
    mutating func decode<T: Decodable>(_ type: T.Type) throws -> T { try take(type) { try Unwrap.decodable($0, type, $1) } }

    mutating func nestedContainer<NestedKey: CodingKey>(keyedBy type: NestedKey.Type) throws -> KeyedDecodingContainer<NestedKey> {
        try take([String: Any].self) { try TreeDecoder(value: $0, codingPath: $1).container(keyedBy: type) }
    }

    mutating func nestedUnkeyedContainer() throws -> any UnkeyedDecodingContainer {
        try take([Any].self) { try TreeDecoder(value: $0, codingPath: $1).unkeyedContainer() }
    }

    mutating func superDecoder() throws -> any Decoder {
        try take((any Decoder).self) { TreeDecoder(value: $0, codingPath: $1) }
    }
}
