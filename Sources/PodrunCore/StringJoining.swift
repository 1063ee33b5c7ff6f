/// Joining strings on the paths every container start takes.
///
/// The standard library's `joined(separator:)` is compiled generic code: its first use in a process looks the
/// element type's conformances up at run time, and each such look-up scans every conformance record of podrun's
/// static binary (about 7,000). This loop is inlined into its callers and specialized there, where the types are
/// known.
extension Sequence where Element: StringProtocol {
    /// The elements with `separator` between them.
    @inlinable
    public func joinedText(_ separator: String) -> String {
        var out = ""
        var first = true
        for element in self {
            if !first { out += separator }
            first = false
            out += String(element)
        }
        return out
    }
}
