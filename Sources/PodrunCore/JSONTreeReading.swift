/// A type read by hand from a parsed JSON document, for the documents every container command reads (config.json,
/// state.json): unlike `Decodable`, reading instantiates no generic containers, boxes and witness tables at run time,
/// whose first use in a process is most of the cost of decoding a spec once (see bench/README.md).
///
/// Readers accept and refuse what `JSONDecoder` (default strategies) accepts and refuses for the same Swift
/// properties, and throw the same `DecodingError`s (kind, type and coding path): a member that is absent or `null`
/// is nil for an optional property; the first of repeated keys counts; unknown members are ignored; `1.0` and `1e2`
/// are whole numbers.
public protocol JSONTreeReadable {
    /// Reads the value in `field`.
    init(json field: JSONField) throws
}

/// Where a value is in its document: the coding path of the errors, built only when one is thrown.
public final class JSONPlace: Sendable {
    @usableFromInline let parent: JSONPlace?
    @usableFromInline let key: JSONTreeKey

    @usableFromInline init(parent: JSONPlace?, key: JSONTreeKey) {
        self.parent = parent
        self.key = key
    }

    /// The place's coding path, from the document's root.
    @usableFromInline static func codingPath(of place: JSONPlace?) -> [any CodingKey] {
        var keys: [any CodingKey] = []
        var current = place
        while let place = current {
            keys.append(place.key)
            current = place.parent
        }
        return keys.reversed()
    }
}

/// One value of a parsed document and where it is.
public struct JSONField {
    /// The value.
    public let value: JSONTree
    @usableFromInline let place: JSONPlace?

    /// The document's root value.
    public init(root value: JSONTree) {
        self.value = value
        self.place = nil
    }

    @usableFromInline init(_ value: JSONTree, place: JSONPlace?) {
        self.value = value
        self.place = place
    }

    /// The coding path of the value, as a `DecodingError` names it.
    public var codingPath: [any CodingKey] { JSONPlace.codingPath(of: place) }

    /// Reads the value as a `T`.
    @inlinable
    public func read<T: JSONTreeReadable>(_ type: T.Type = T.self) throws -> T { try T(json: self) }

    /// The members of an object.
    @inlinable
    public func members() throws -> JSONMembers {
        guard case .object(let members) = value else {
            throw JSONTreeConversion.mismatch(value, [String: Any].self, "keyed decoding container", codingPath)
        }
        return JSONMembers(members: members, place: place)
    }

    /// The elements of an array, each with its place.
    @inlinable
    public func elements() throws -> [JSONField] {
        guard case .array(let elements) = value else {
            throw JSONTreeConversion.mismatch(value, [Any].self, "unkeyed decoding container", codingPath)
        }
        var fields: [JSONField] = []
        fields.reserveCapacity(elements.count)
        for (index, element) in elements.enumerated() {
            fields.append(JSONField(element, place: JSONPlace(parent: place, key: JSONTreeKey(intValue: index))))
        }
        return fields
    }
}

extension JSONField: JSONTreeReadable {
    /// The field itself, for a reader that takes a member apart in its own way (`required("spec", as:
    /// JSONField.self)` still says when it is missing).
    public init(json field: JSONField) { self = field }
}

/// The members of one object of a parsed document.
public struct JSONMembers {
    @usableFromInline let members: [(String, JSONTree)]
    @usableFromInline let place: JSONPlace?

    @usableFromInline init(members: [(String, JSONTree)], place: JSONPlace?) {
        self.members = members
        self.place = place
    }

    /// The member `key` (the first if repeated), or nil when there is none.
    @inlinable
    public func field(_ key: String) -> JSONField? {
        guard let value = members.first(where: { $0.0 == key })?.1 else { return nil }
        return JSONField(value, place: JSONPlace(parent: place, key: JSONTreeKey(stringValue: key)))
    }

    /// The member `key` as a `T`, or nil when it is absent or `null` (`decodeIfPresent`).
    @inlinable
    public func optional<T: JSONTreeReadable>(_ key: String, as type: T.Type = T.self) throws -> T? {
        guard let field = field(key), !field.value.isNull else { return nil }
        return try T(json: field)
    }

    /// The member `key` as a `T`; `keyNotFound` when it is absent (`decode`).
    @inlinable
    public func required<T: JSONTreeReadable>(_ key: String, as type: T.Type = T.self) throws -> T {
        guard let field = field(key) else {
            let codingKey = JSONTreeKey(stringValue: key)
            throw DecodingError.keyNotFound(codingKey, .init(
                codingPath: JSONPlace.codingPath(of: place),
                debugDescription: "No value associated with key \(codingKey) (\"\(key)\")."))
        }
        return try T(json: field)
    }
}

extension String: JSONTreeReadable {
    @inlinable
    public init(json field: JSONField) throws { self = try JSONTreeConversion.string(field.value, field.codingPath) }
}

extension Bool: JSONTreeReadable {
    @inlinable
    public init(json field: JSONField) throws { self = try JSONTreeConversion.bool(field.value, field.codingPath) }
}

/// A whole number: digits that fit, or a number with a fraction or exponent whose value is exactly one (`1.0`).
extension JSONTreeReadable where Self: FixedWidthInteger {
    @inlinable
    public init(json field: JSONField) throws { self = try JSONTreeConversion.integer(field.value, Self.self, field.codingPath) }
}

extension Int: JSONTreeReadable {}
extension Int32: JSONTreeReadable {}
extension Int64: JSONTreeReadable {}
extension UInt: JSONTreeReadable {}
extension UInt16: JSONTreeReadable {}
extension UInt32: JSONTreeReadable {}
extension UInt64: JSONTreeReadable {}

extension Array: JSONTreeReadable where Element: JSONTreeReadable {
    @inlinable
    public init(json field: JSONField) throws {
        let elements = try field.elements()
        var values: [Element] = []
        values.reserveCapacity(elements.count)
        for element in elements { values.append(try Element(json: element)) }
        self = values
    }
}

extension Dictionary: JSONTreeReadable where Key == String, Value: JSONTreeReadable {
    /// The object's members by key, the first of repeated keys.
    @inlinable
    public init(json field: JSONField) throws {
        let object = try field.members()
        // Sized up front: growing it would go through the standard library's generic resize, whose first use
        // looks `String: Hashable` up at run time (see `joinedText`).
        var values = [String: Value](minimumCapacity: object.members.count)
        for (key, value) in object.members where values[key] == nil {
            values[key] = try Value(json: JSONField(value, place: JSONPlace(parent: object.place, key: JSONTreeKey(stringValue: key))))
        }
        self = values
    }
}
