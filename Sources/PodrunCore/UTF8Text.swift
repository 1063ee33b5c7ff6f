import Glibc

/// Byte-level text helpers for the paths every container start takes.
///
/// `String`'s own operations work on Characters (grapheme clusters), and the generic `Collection` ones
/// (`split`, `lexicographicallyPrecedes`) walk a `UTF8View` index by index; on the few short lines of /proc and
/// cgroupfs that a create reads, both cost more than the reading. These work on the contiguous UTF-8 of a native
/// string.
extension String {
    /// Whether this string's UTF-8 bytes sort before `other`'s: the order of Go's sorted map keys and of
    /// byte-wise `memcmp`, which is also code point order.
    @inlinable
    public func utf8Precedes(_ other: String) -> Bool {
        var left = self
        var right = other
        return left.withUTF8 { a in
            right.withUTF8 { b in
                let common = Swift.min(a.count, b.count)
                if common > 0, let x = a.baseAddress, let y = b.baseAddress {
                    let order = memcmp(x, y, common)
                    if order != 0 { return order < 0 }
                }
                return a.count < b.count
            }
        }
    }

    /// What follows the last `/` (the whole string when there is none): `"/sys/fs/cgroup/memory"` gives `"memory"`,
    /// `"/a/"` gives `""`.
    public var lastPathComponent: String {
        guard let slash = utf8.lastIndex(of: UInt8(ascii: "/")) else { return self }
        return String(self[utf8.index(after: slash)...])
    }

    /// The fields of each line of this text: every line (without its newline; empty lines skipped) split at
    /// every `separator` byte, or at the first `maxSplits` of them, each field a new string.
    ///
    /// `"1:cpu,cpuacct:/a:b\n".fieldsOfLines(":", maxSplits: 2)` is `[["1", "cpu,cpuacct", "/a:b"]]`.
    public func fieldsOfLines(_ separator: Unicode.Scalar, maxSplits: Int = .max) -> [[String]] {
        precondition(separator.isASCII, "fieldsOfLines splits on an ASCII byte")
        let split = UInt8(separator.value)
        var text = self
        return text.withUTF8 { bytes in
            var lines: [[String]] = []
            var start = 0
            while start < bytes.count {
                var end = start
                while end < bytes.count, bytes[end] != UInt8(ascii: "\n") { end += 1 }
                if end > start { lines.append(Self.fields(bytes, start..<end, split, maxSplits)) }
                start = end + 1
            }
            return lines
        }
    }

    /// The fields of `bytes[range]` split at `separator`, at most `maxSplits` times.
    private static func fields(_ bytes: UnsafeBufferPointer<UInt8>, _ range: Range<Int>, _ separator: UInt8,
                               _ maxSplits: Int) -> [String] {
        var fields: [String] = []
        var start = range.lowerBound
        var index = start
        while index < range.upperBound {
            if bytes[index] == separator && fields.count < maxSplits {
                fields.append(String(decoding: UnsafeBufferPointer(rebasing: bytes[start..<index]), as: UTF8.self))
                start = index + 1
            }
            index += 1
        }
        fields.append(String(decoding: UnsafeBufferPointer(rebasing: bytes[start..<range.upperBound]), as: UTF8.self))
        return fields
    }
}
