/// Conversions of one tree value to the primitive types, with `JSONDecoder`'s errors, shared by `JSONTreeDecoder` and
/// the `JSONTreeReadable` readers; `path` is the value's coding path, built only for an error.
@usableFromInline
enum JSONTreeConversion {
    @usableFromInline
    static func notNull<T>(_ value: JSONTree, _ type: T.Type, _ path: @autoclosure () -> [any CodingKey]) throws {
        if case .null = value {
            throw DecodingError.valueNotFound(type, .init(
                codingPath: path(), debugDescription: "Cannot get value of type \(type) -- found null value instead"))
        }
    }

    @usableFromInline
    static func mismatch<T>(_ value: JSONTree, _ type: T.Type, _ path: [any CodingKey]) -> DecodingError {
        .typeMismatch(type, .init(codingPath: path,
                                  debugDescription: "Expected to decode \(type) but found \(value.kindDescription) instead."))
    }

    /// The error for a value that is not the object or array a container needs (`container` names it: "keyed
    /// decoding container"); `null` is `valueNotFound`, as `JSONDecoder` says.
    @usableFromInline
    static func mismatch<T>(_ value: JSONTree, _ type: T.Type, _ container: String, _ path: [any CodingKey]) -> DecodingError {
        if case .null = value {
            return .valueNotFound(type, .init(codingPath: path,
                                              debugDescription: "Cannot get \(container) -- found null value instead"))
        }
        return mismatch(value, type, path)
    }

    @usableFromInline
    static func bool(_ value: JSONTree, _ path: @autoclosure () -> [any CodingKey]) throws -> Bool {
        guard case .bool(let b) = value else {
            try notNull(value, Bool.self, path())
            throw mismatch(value, Bool.self, path())
        }
        return b
    }

    @usableFromInline
    static func string(_ value: JSONTree, _ path: @autoclosure () -> [any CodingKey]) throws -> String {
        guard case .string(let s) = value else {
            try notNull(value, String.self, path())
            throw mismatch(value, String.self, path())
        }
        return s
    }

    @usableFromInline
    static func numberText<T>(_ value: JSONTree, _ type: T.Type, _ path: @autoclosure () -> [any CodingKey]) throws -> String {
        guard case .number(let text) = value else {
            try notNull(value, type, path())
            throw mismatch(value, type, path())
        }
        guard JSONTree.isValidNumber(text) else {
            // As `JSONDecoder` says of a malformed number it reads: a fault of the document, not of a field.
            throw DecodingError.dataCorrupted(.init(codingPath: [], debugDescription: "The given data was not valid JSON."))
        }
        return text
    }

    @usableFromInline
    static func doesNotFit<T>(_ text: String, _ type: T.Type, _ path: [any CodingKey]) -> DecodingError {
        .dataCorrupted(.init(codingPath: path, debugDescription: "Parsed JSON number <\(text)> does not fit in \(type)."))
    }

    /// A whole number: digits that fit `T`, or a number with a fraction or exponent whose value is exactly a `T`
    /// (`1.0`, `1e2`).
    @inlinable
    static func integer<T: FixedWidthInteger>(_ value: JSONTree, _ type: T.Type, _ path: @autoclosure () -> [any CodingKey]) throws -> T {
        let text = try numberText(value, type, path())
        if let exact = T(text) { return exact }
        if text.utf8.contains(where: { $0 == UInt8(ascii: ".") || $0 == UInt8(ascii: "e") || $0 == UInt8(ascii: "E") }),
           let double = Double(text), let whole = T(exactly: double) {
            return whole
        }
        throw doesNotFit(text, type, path())
    }

    /// A floating-point number; one that overflows to infinity, or is not zero but rounds to it, does not fit.
    static func floatingPoint<T: BinaryFloatingPoint & LosslessStringConvertible>(
        _ value: JSONTree, _ type: T.Type, _ path: @autoclosure () -> [any CodingKey]
    ) throws -> T {
        let text = try numberText(value, type, path())
        guard let number = T(text), number.isFinite else { throw doesNotFit(text, type, path()) }
        if number == 0 {
            // Only zero digits before the exponent: a real zero, not an underflow.
            let mantissa = text.utf8.prefix { $0 != UInt8(ascii: "e") && $0 != UInt8(ascii: "E") }
            guard !mantissa.contains(where: { $0 >= UInt8(ascii: "1") && $0 <= UInt8(ascii: "9") }) else {
                throw doesNotFit(text, type, path())
            }
        }
        return number
    }
}
