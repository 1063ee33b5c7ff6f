/// Joining strings on the paths every container start takes.
///
/// The standard library's `joined(separator:)` is compiled generic code: its first use in a process looks the
/// element type's conformances up at run time, and each such look-up scans every conformance record of podrun's
/// static binary (about 7,000). These loops are inlined into their callers, where the types are known.
extension Array where Element == String {
    /// The elements with `separator` between them.
    @inlinable
    public func joinedText(_ separator: String) -> String {
        var out = ""
        for (position, element) in enumerated() {
            if position > 0 { out += separator }
            out += element
        }
        return out
    }
}

extension Array where Element == Substring {
    /// The elements with `separator` between them.
    @inlinable
    public func joinedText(_ separator: String) -> String {
        var out = ""
        for (position, element) in enumerated() {
            if position > 0 { out += separator }
            out += String(element)
        }
        return out
    }
}

extension ArraySlice where Element == Substring {
    /// The elements with `separator` between them.
    @inlinable
    public func joinedText(_ separator: String) -> String {
        Array(self).joinedText(separator)
    }
}
