import Foundation
import PodrunCore
import Testing

enum Colour: String, Codable, Equatable { case red, green }

struct Leaf: Codable, Equatable {
    var name: String
    var weight: Double?
    var tags: [String]?
}

struct Sample: Codable, Equatable {
    var text: String
    var flag: Bool
    var small: Int8
    var medium: Int32
    var big: UInt64
    var signed: Int64
    var ratio: Double
    var fraction: Float
    var colour: Colour
    var missing: String?
    var leaves: [Leaf]
    var byName: [String: Leaf]
    var grid: [[Int]]
    var maybe: [Int?]
    var nested: [String: [String: UInt16]]
}

/// A type coding itself through nested containers and super coders.
struct Hand: Codable, Equatable {
    var base: Leaf
    var pairs: [Int]
    var point: (x: Int, y: Int)

    enum Keys: String, CodingKey { case pairs, point, x, y }

    init(base: Leaf, pairs: [Int], point: (x: Int, y: Int)) {
        self.base = base
        self.pairs = pairs
        self.point = point
    }

    init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: Keys.self)
        base = try Leaf(from: container.superDecoder())
        var pairs = try container.nestedUnkeyedContainer(forKey: .pairs)
        var values: [Int] = []
        while !pairs.isAtEnd { values.append(try pairs.decode(Int.self)) }
        self.pairs = values
        let point = try container.nestedContainer(keyedBy: Keys.self, forKey: .point)
        self.point = (try point.decode(Int.self, forKey: .x), try point.decode(Int.self, forKey: .y))
    }

    func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: Keys.self)
        try base.encode(to: container.superEncoder())
        var pairs = container.nestedUnkeyedContainer(forKey: .pairs)
        for value in self.pairs { try pairs.encode(value) }
        var point = container.nestedContainer(keyedBy: Keys.self, forKey: .point)
        try point.encode(self.point.x, forKey: .x)
        try point.encode(self.point.y, forKey: .y)
    }

    static func == (a: Hand, b: Hand) -> Bool { a.base == b.base && a.pairs == b.pairs && a.point == b.point }
}

let sample = Sample(
    text: "quote \" backslash \\ slash / newline \n tab \t bell \u{7} é 😀 \u{2028}", flag: true, small: -128,
    medium: 2_147_483_647, big: UInt64.max, signed: Int64.min, ratio: 0.1, fraction: 1.5, colour: .green,
    missing: nil, leaves: [Leaf(name: "a", weight: 1e300, tags: []), Leaf(name: "b", weight: nil, tags: ["x"])],
    byName: ["z": Leaf(name: "z", weight: -0.5, tags: nil), "A": Leaf(name: "", weight: 3, tags: nil)],
    grid: [[], [1, 2], [3]], maybe: [1, nil, 3], nested: ["outer": ["inner": 65535], "empty": [:]])

func decode<T: Decodable>(_ type: T.Type, _ text: String) throws -> T {
    try JSONTreeDecoder.decode(type, from: #require(JSONTree.parse(Array(text.utf8))))
}

func decodingError<T: Decodable>(_ type: T.Type, _ text: String) -> DecodingError? {
    do {
        _ = try decode(type, text)
        return nil
    } catch {
        return error as? DecodingError
    }
}

func path(_ keys: [any CodingKey]) -> String {
    keys.map { $0.intValue.map { "[\($0)]" } ?? $0.stringValue }.joined(separator: "/")
}

func foundationEncoder(pretty: Bool) -> JSONEncoder {
    let encoder = JSONEncoder()
    encoder.outputFormatting = pretty ? [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
        : [.sortedKeys, .withoutEscapingSlashes]
    return encoder
}

@Suite struct JSONTreeCodingTests {
    @Test func nestedValuesRoundTrip() throws {
        for pretty in [false, true] {
            let bytes = try JSONTreeEncoder.encode(sample, pretty: pretty)
            #expect(try JSONTreeDecoder.decode(Sample.self, from: #require(JSONTree.parse(bytes))) == sample)
            #expect(try JSONDecoder().decode(Sample.self, from: Data(bytes)) == sample)
        }
    }

    @Test func outputIsByteForByteWhatJSONEncoderWrites() throws {
        for pretty in [false, true] {
            let ours = try JSONTreeEncoder.encode(sample, pretty: pretty)
            let foundation = Array(try foundationEncoder(pretty: pretty).encode(sample))
            #expect(String(decoding: ours, as: UTF8.self) == String(decoding: foundation, as: UTF8.self))
        }
    }

    @Test func keysAreSortedByTheirUTF8Bytes() throws {
        let dictionary = ["a10": 1, "a9": 2, "B": 3, "_": 4, "ä": 5, "e\u{301}": 6, "z": 7, "😀": 8, "\u{FFFF}": 9]
        let ours = try JSONTreeEncoder.encode(dictionary)
        #expect(String(decoding: ours, as: UTF8.self) == String(decoding: try foundationEncoder(pretty: false).encode(dictionary), as: UTF8.self))
        #expect(ours.starts(with: Array(#"{"B":3,"_":4,"a10":1,"a9":2,"e"#.utf8)))
    }

    @Test func plainRunsBetweenEscapesAreWrittenWhole() throws {
        /// The escaping byte by byte, as a reference.
        func quoted(_ text: String) -> String {
            var out = "\""
            for byte in text.utf8 {
                switch byte {
                case UInt8(ascii: "\""): out += "\\\""
                case UInt8(ascii: "\\"): out += "\\\\"
                case 0x0A: out += "\\n"
                case 0x0D: out += "\\r"
                case 0x09: out += "\\t"
                case 0x08: out += "\\b"
                case 0x0C: out += "\\f"
                case 0..<0x20: out += "\\u00" + (byte < 0x10 ? "0" : "") + String(byte, radix: 16)
                default: out += String(decoding: [byte], as: UTF8.self)
                }
            }
            return out + "\""
        }
        let long = String(repeating: "abcdefgh", count: 40)
        for text in ["plain", "", "\"", "a\"", "\"a", "ab\"cd\\ef\ngh", long + "\t" + long, "\n\n", "x\u{1}y\u{1F}z"] {
            let bytes = try JSONTreeEncoder.encode([text])
            #expect(String(decoding: bytes, as: UTF8.self) == "[" + quoted(text) + "]", "\(text.debugDescription)")
            #expect(try JSONDecoder().decode([String].self, from: Data(bytes)) == [text])
        }
        let mixed = "é\u{1}é😀\"é"
        #expect(String(decoding: try JSONTreeEncoder.encode([mixed]), as: UTF8.self) == "[\"é\\u0001é😀\\\"é\"]")
    }

    @Test func controlCharactersAreEscapedAndNonASCIIKept() throws {
        let text = "\"\\/\u{0}\u{8}\u{9}\u{A}\u{C}\u{D}\u{1F}\u{7F}é"
        let bytes = try JSONTreeEncoder.encode([text])
        #expect(String(decoding: bytes, as: UTF8.self) == "[\"\\\"\\\\/\\u0000\\b\\t\\n\\f\\r\\u001f\u{7F}é\"]")
        #expect(try JSONDecoder().decode([String].self, from: Data(bytes)) == [text])
    }

    @Test func doublesRoundTripAndWholeOnesHaveNoFraction() throws {
        let values: [Double] = [0, -0.0, 1, 100, 1e15, 1e16, 1e21, 0.1, 1.0 / 3, .leastNonzeroMagnitude, .greatestFiniteMagnitude, -2.5e-5]
        let bytes = try JSONTreeEncoder.encode(values)
        #expect(bytes == Array(try JSONEncoder().encode(values)))
        #expect(try decode([Double].self, String(decoding: bytes, as: UTF8.self)).map(\.bitPattern) == values.map(\.bitPattern))
        #expect(String(decoding: try JSONTreeEncoder.encode([1.0, 2.5]), as: UTF8.self) == "[1,2.5]")
    }

    @Test func nonFiniteDoublesAreRefusedWithTheirPath() {
        #expect {
            try JSONTreeEncoder.encode(["x": [1, Double.nan]])
        } throws: { error in
            guard case .invalidValue(_, let context) = error as? EncodingError else { return false }
            return path(context.codingPath) == "x/[1]"
        }
    }

    @Test func nestedContainersAndSuperCodersRoundTrip() throws {
        let hand = Hand(base: Leaf(name: "n", weight: 2, tags: ["t"]), pairs: [1, 2], point: (x: 3, y: -4))
        let bytes = try JSONTreeEncoder.encode(hand)
        #expect(String(decoding: bytes, as: UTF8.self)
                == #"{"pairs":[1,2],"point":{"x":3,"y":-4},"super":{"name":"n","tags":["t"],"weight":2}}"#)
        #expect(try JSONTreeDecoder.decode(Hand.self, from: #require(JSONTree.parse(bytes))) == hand)
        #expect(try JSONDecoder().decode(Hand.self, from: Data(bytes)) == hand)
    }

    @Test func emptyContainersArePrettyPrintedAsJSONEncoderDoes() throws {
        let value: [String: [[Int]]] = ["a": [], "b": [[]], "c": [[1]]]
        #expect(try JSONTreeEncoder.encode(value, pretty: true) == Array(try foundationEncoder(pretty: true).encode(value)))
        let empty: [String: Int] = [:]
        #expect(try JSONTreeEncoder.encode(empty, pretty: true) == Array(try foundationEncoder(pretty: true).encode(empty)))
    }

    @Test func wholeNumbersWrittenWithAFractionOrExponentDecodeAsIntegers() throws {
        #expect(try decode([Int].self, "[1.0, 1e2, -1.0e1, -0]") == [1, 100, -10, 0])
        #expect(try decode([Int?].self, "[1.0, null]") == [1, nil])
        #expect(try decode([UInt64].self, "[18446744073709551615]") == [UInt64.max])
    }

    @Test(arguments: [
        ("[1.5]", "Int"), ("[300]", "Int8"), ("[-1]", "UInt"), ("[18446744073709551616]", "UInt64"), ("[1e20]", "Int"),
        ("[9223372036854775808]", "Int64"), ("[1e39]", "Float"), ("[1e400]", "Double"), ("[1e-400]", "Double"),
    ])
    func numbersThatDoNotFitAreCorruptData(_ text: String, _ type: String) {
        let error: DecodingError?
        switch type {
        case "Int": error = decodingError([Int].self, text)
        case "Int8": error = decodingError([Int8].self, text)
        case "UInt": error = decodingError([UInt].self, text)
        case "UInt64": error = decodingError([UInt64].self, text)
        case "Int64": error = decodingError([Int64].self, text)
        case "Float": error = decodingError([Float].self, text)
        default: error = decodingError([Double].self, text)
        }
        guard case .dataCorrupted(let context) = error else {
            Issue.record("expected dataCorrupted for \(text) as \(type), got \(String(describing: error))")
            return
        }
        #expect(path(context.codingPath) == "[0]")
        #expect(JSONDecoder.decodes(text, as: type) == false)
    }

    @Test func aWrongTypeIsATypeMismatchAtItsPath() {
        guard case .typeMismatch(let type, let context) = decodingError([String: [Leaf]].self, #"{"leaves":[{"name":1}]}"#) else {
            Issue.record("expected typeMismatch")
            return
        }
        #expect(ObjectIdentifier(type) == ObjectIdentifier(String.self))
        #expect(path(context.codingPath) == "leaves/[0]/name")
    }

    @Test func anArrayWhereAnObjectBelongsIsATypeMismatchForADictionary() {
        guard case .typeMismatch(let type, let context) = decodingError([String: Leaf].self, #"{"k":[]}"#) else {
            Issue.record("expected typeMismatch")
            return
        }
        #expect(ObjectIdentifier(type) == ObjectIdentifier([String: Any].self))
        #expect(path(context.codingPath) == "k")
        guard case .typeMismatch(let arrayType, _) = decodingError([Int].self, "{}") else {
            Issue.record("expected typeMismatch")
            return
        }
        #expect(ObjectIdentifier(arrayType) == ObjectIdentifier([Any].self))
    }

    @Test func nullForARequiredValueIsValueNotFound() {
        guard case .valueNotFound(let type, let context) = decodingError([String: Leaf].self, #"{"k":{"name":null}}"#) else {
            Issue.record("expected valueNotFound")
            return
        }
        #expect(ObjectIdentifier(type) == ObjectIdentifier(String.self))
        #expect(path(context.codingPath) == "k/name")
        guard case .valueNotFound(let nested, let nestedContext) = decodingError([Leaf].self, "[null]") else {
            Issue.record("expected valueNotFound")
            return
        }
        #expect(ObjectIdentifier(nested) == ObjectIdentifier([String: Any].self))
        #expect(path(nestedContext.codingPath) == "[0]")
    }

    @Test func aMissingKeyIsKeyNotFoundWithTheContainersPath() {
        guard case .keyNotFound(let key, let context) = decodingError([Leaf].self, #"[{"name":"a"},{}]"#) else {
            Issue.record("expected keyNotFound")
            return
        }
        #expect(key.stringValue == "name")
        #expect(path(context.codingPath) == "[1]")
    }

    @Test func readingPastTheEndOfAnArrayIsValueNotFound() {
        guard case .valueNotFound(let type, let context) = decodingError(Pair.self, "[1]") else {
            Issue.record("expected valueNotFound")
            return
        }
        #expect(ObjectIdentifier(type) == ObjectIdentifier(Int.self))
        #expect(path(context.codingPath) == "[1]")
    }

    @Test func anUnknownEnumValueIsCorruptDataAtItsPath() {
        guard case .dataCorrupted(let context) = decodingError([Colour].self, #"["red","blue"]"#) else {
            Issue.record("expected dataCorrupted")
            return
        }
        #expect(path(context.codingPath) == "[1]")
    }

    @Test func theFirstOfRepeatedKeysWinsAsInJSONDecoder() throws {
        let text = #"{"name":"first","name":"second"}"#
        #expect(try decode(Leaf.self, text).name == "first")
        #expect(try JSONDecoder().decode(Leaf.self, from: Data(text.utf8)).name == "first")
    }

    /// Nested [String: String] members are read straight from the object; they must read as JSONDecoder reads them.
    @Test func stringDictionariesDecodeAsJSONDecoderReadsThemRepeatedKeysAndErrorsIncluded() throws {
        struct Holder: Codable, Equatable { var m: [String: String]; var n: [String: String]? }
        let text = #"{"m":{"b":"2","a":"1","a":"3","é":"ü"},"n":{}}"#
        let ours = try decode(Holder.self, text)
        #expect(ours == (try JSONDecoder().decode(Holder.self, from: Data(text.utf8))))
        #expect(ours.m == ["a": "1", "b": "2", "é": "ü"])
        guard case .typeMismatch(let type, let context) = decodingError(Holder.self, #"{"m":{"a":1}}"#) else {
            Issue.record("expected typeMismatch")
            return
        }
        #expect(ObjectIdentifier(type) == ObjectIdentifier(String.self))
        #expect(path(context.codingPath) == "m/a")
    }

    @Test func largeObjectsDecodeAsDictionaries() throws {
        let dictionary = Dictionary(uniqueKeysWithValues: (0..<100).map { ("key\($0)", $0) })
        #expect(try JSONTreeDecoder.decode([String: Int].self, from: JSONTreeEncoder.tree(of: dictionary)) == dictionary)
    }

    @Test func decodeIfPresentTreatsNullAndMissingAlike() throws {
        #expect(try decode(Leaf.self, #"{"name":"x","weight":null}"#) == Leaf(name: "x", weight: nil, tags: nil))
        #expect(try decode(Leaf.self, #"{"name":"x","tags":["a"]}"#) == Leaf(name: "x", weight: nil, tags: ["a"]))
    }

    @Test(arguments: [".5", "+1", "0x10", "[1,]", "[[[" + String(repeating: "[", count: 600)])
    func malformedDocumentsDoNotParse(_ text: String) {
        #expect(JSONTree.parse(Array(text.utf8)) == nil)
    }

    @Test(arguments: ["01", "1.", "-", "1e", "--1", "1-2", "1.2.3", "1e+", "-01"])
    func malformedNumbersAreCorruptDataWhenReadAndIgnoredOtherwise(_ text: String) throws {
        // As JSONDecoder: a number is checked when it is read.
        let document = "{\"unused\":\(text),\"name\":\"n\"}"
        #expect(try decode(Leaf.self, document).name == "n")
        #expect(try JSONDecoder().decode(Leaf.self, from: Data(document.utf8)).name == "n")
        guard case .dataCorrupted(let context) = decodingError([Int].self, "[\(text)]") else {
            Issue.record("expected dataCorrupted for \(text)")
            return
        }
        #expect(context.codingPath.isEmpty)
        #expect(JSONDecoder.decodes("[\(text)]", as: "Int") == false)
    }

    @Test(arguments: ["0", "-0", "1.5", "-12.25e+3", "1E5", "0.0e-0", "123"])
    func numbersInJSONGrammarAreValid(_ text: String) {
        #expect(JSONTree.isValidNumber(text))
    }

    @Test func invalidUTF8DoesNotParse() {
        #expect(JSONTree.parse([UInt8(ascii: "\""), 0xFF, UInt8(ascii: "\"")]) == nil)
        // After an escape too (the string is then built byte by byte).
        #expect(JSONTree.parse(Array(#""a\n"#.utf8) + [0xFF, UInt8(ascii: "\"")]) == nil)
        #expect(JSONTree.parse(Array(#""a\né\u00e9b""#.utf8)) == .string("a\néé" + "b"))
    }

    @Test func jsonCodingDecodesWhatOnlyJSONDecoderParses() throws {
        #expect(try JSONCoding.decode([Int].self, from: [0xEF, 0xBB, 0xBF] + Array("[1]".utf8)) == [1])
        #expect(throws: PodrunError.self) { try JSONCoding.decode([Int].self, from: Array("[1".utf8)) }
    }
}

/// Two integers read from a two-element array.
struct Pair: Decodable {
    var first: Int
    var second: Int

    init(from decoder: any Decoder) throws {
        var container = try decoder.unkeyedContainer()
        first = try container.decode(Int.self)
        second = try container.decode(Int.self)
    }
}

extension JSONDecoder {
    /// Whether Foundation's decoder accepts `text` as an array of `type`.
    static func decodes(_ text: String, as type: String) -> Bool {
        let data = Data(text.utf8)
        switch type {
        case "Int": return (try? JSONDecoder().decode([Int].self, from: data)) != nil
        case "Int8": return (try? JSONDecoder().decode([Int8].self, from: data)) != nil
        case "UInt": return (try? JSONDecoder().decode([UInt].self, from: data)) != nil
        case "UInt64": return (try? JSONDecoder().decode([UInt64].self, from: data)) != nil
        case "Int64": return (try? JSONDecoder().decode([Int64].self, from: data)) != nil
        case "Float": return (try? JSONDecoder().decode([Float].self, from: data)) != nil
        default: return (try? JSONDecoder().decode([Double].self, from: data)) != nil
        }
    }
}
