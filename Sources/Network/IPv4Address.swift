import PodrunCore

/// An IPv4 address as a 32-bit number in host order (`10.88.0.1` is `0x0A580001`).
public struct IPv4Address: Hashable, Comparable, Sendable, CustomStringConvertible {
    /// The address as a number, most significant octet first.
    public var value: UInt32

    /// The address with this numeric value.
    public init(_ value: UInt32) {
        self.value = value
    }

    /// Parses dotted-quad text (`192.168.1.10`): four decimal octets 0-255, no leading zeros, nothing else.
    public init(parsing text: String) throws {
        let parts = text.split(separator: ".", omittingEmptySubsequences: false)
        guard parts.count == 4 else { throw IPv4Address.invalid(text) }
        var value: UInt32 = 0
        for part in parts {
            guard !part.isEmpty, part.count <= 3, part.allSatisfy({ $0.isASCII && $0.isNumber }),
                  part == "0" || !part.hasPrefix("0"), let octet = UInt32(part), octet <= 255
            else { throw IPv4Address.invalid(text) }
            value = value << 8 | octet
        }
        self.value = value
    }

    /// The four octets in network order, as netlink and the wire want them.
    public var bytes: [UInt8] {
        [UInt8(value >> 24), UInt8(value >> 16 & 0xff), UInt8(value >> 8 & 0xff), UInt8(value & 0xff)]
    }

    /// The address from four octets in network order.
    public init?(bytes: some Collection<UInt8>) {
        guard bytes.count == 4 else { return nil }
        self.value = bytes.reduce(0) { $0 << 8 | UInt32($1) }
    }

    /// Dotted-quad text.
    public var description: String {
        bytes.map { String($0) }.joined(separator: ".")
    }

    public static func < (lhs: IPv4Address, rhs: IPv4Address) -> Bool { lhs.value < rhs.value }

    private static func invalid(_ text: String) -> PodrunError {
        PodrunError(.invalidArgument, "invalid IPv4 address \"\(text)\"")
    }
}
