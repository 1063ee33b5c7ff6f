import PodrunCore

/// An IPv4 address on an interface, as RTM_GETADDR reports it.
public struct InterfaceAddress: Sendable, Equatable {
    /// The interface index.
    public var index: Int32
    /// The address (IFA_LOCAL, else IFA_ADDRESS).
    public var address: IPv4Address
    /// The prefix length.
    public var prefixLength: Int

    init?(_ message: NetlinkMessage) {
        guard message.type == Netlink.RTM_NEWADDR, message.payload.count >= 8,
              message.payload[message.payload.startIndex] == Netlink.AF_INET else { return nil }
        let attributes = NetlinkAttributes(message.payload, from: 8)
        guard let raw = attributes[Netlink.IFA_LOCAL] ?? attributes[Netlink.IFA_ADDRESS],
              let address = IPv4Address(bytes: raw) else { return nil }
        self.index = Int32(bitPattern: readHostOrder(UInt32.self, message.payload, at: 4))
        self.address = address
        self.prefixLength = Int(message.payload[message.payload.startIndex + 1])
    }
}

extension NetlinkSocket {
    /// Adds `address/prefixLength` to interface `index` (IFA_LOCAL and IFA_ADDRESS, and IFA_BROADCAST when
    /// given); throws EEXIST when the interface has it already.
    public func addAddress(index: Int32, _ address: IPv4Address, prefixLength: Int, broadcast: IPv4Address? = nil) throws {
        guard (0...32).contains(prefixLength) else {
            throw PodrunError(.invalidArgument, "invalid prefix length \(prefixLength)")
        }
        var request = NetlinkRequest(type: Netlink.RTM_NEWADDR, flags: Netlink.NLM_F_CREATE | Netlink.NLM_F_EXCL,
                                     header: NetlinkRequest.ifaddrmsg(prefixLength: UInt8(prefixLength), index: index))
        request.attribute(Netlink.IFA_LOCAL, address.bytes)
        request.attribute(Netlink.IFA_ADDRESS, address.bytes)
        if let broadcast { request.attribute(Netlink.IFA_BROADCAST, broadcast.bytes) }
        try perform(request, "add address \(address)/\(prefixLength) to link \(index)")
    }

    /// The IPv4 addresses of interface `index` (of every interface when nil).
    public func addresses(index: Int32? = nil) throws -> [InterfaceAddress] {
        let request = NetlinkRequest(type: Netlink.RTM_GETADDR, flags: 0,
                                     header: NetlinkRequest.ifaddrmsg(prefixLength: 0, index: 0))
        let all = try dump(request, "list addresses").compactMap(InterfaceAddress.init)
        guard let index else { return all }
        return all.filter { $0.index == index }
    }
}
