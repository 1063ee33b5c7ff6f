import PodrunCore

/// An IPv4 network: a network address and a prefix length (`10.88.0.0/16`), host bits zero.
public struct IPv4Subnet: Hashable, Sendable, CustomStringConvertible {
    /// The network address (all host bits zero).
    public let network: IPv4Address
    /// The number of leading network bits, 0...32.
    public let prefixLength: Int

    /// A subnet from its network address and prefix; the host bits of `network` must be zero.
    public init(network: IPv4Address, prefixLength: Int) throws {
        guard (0...32).contains(prefixLength) else {
            throw PodrunError(.invalidArgument, "invalid prefix length \(prefixLength) (0 to 32)")
        }
        let mask = IPv4Subnet.mask(prefixLength)
        guard network.value & ~mask == 0 else {
            throw PodrunError(.invalidArgument,
                              "\(network)/\(prefixLength) has host bits set (the network is \(IPv4Address(network.value & mask))/\(prefixLength))")
        }
        self.network = network
        self.prefixLength = prefixLength
    }

    /// Parses CIDR text (`10.88.0.0/16`).
    public init(parsing text: String) throws {
        let parts = text.split(separator: "/", omittingEmptySubsequences: false)
        guard parts.count == 2, !parts[1].isEmpty, parts[1].allSatisfy({ $0.isASCII && $0.isNumber }),
              parts[1].count <= 2, let prefix = Int(parts[1])
        else { throw PodrunError(.invalidArgument, "invalid IPv4 subnet \"\(text)\" (want ADDRESS/PREFIX)") }
        try self.init(network: IPv4Address(parsing: String(parts[0])), prefixLength: prefix)
    }

    /// The netmask as a number (`/16` is `0xFFFF0000`).
    public var mask: UInt32 { IPv4Subnet.mask(prefixLength) }

    /// The broadcast address (all host bits one).
    public var broadcast: IPv4Address { IPv4Address(network.value | ~mask) }

    /// The first address after the network address (the conventional gateway, `.1`).
    public var firstHost: IPv4Address { IPv4Address(network.value &+ 1) }

    /// The last address before the broadcast address.
    public var lastHost: IPv4Address { IPv4Address(broadcast.value &- 1) }

    /// Whether `address` is inside this subnet.
    public func contains(_ address: IPv4Address) -> Bool {
        address.value & mask == network.value
    }

    /// CIDR text.
    public var description: String { "\(network)/\(prefixLength)" }

    private static func mask(_ prefixLength: Int) -> UInt32 {
        prefixLength == 0 ? 0 : UInt32.max << UInt32(32 - prefixLength)
    }
}
