import Glibc
import PodrunCore

/// A network interface as RTM_GETLINK reports it.
public struct Link: Sendable, Equatable {
    /// The interface index.
    public var index: Int32
    /// The interface name.
    public var name: String
    /// The hardware address (6 bytes for Ethernet, bridges and veths).
    public var mac: [UInt8]
    /// The index of the bridge this interface is a port of.
    public var masterIndex: Int32?
    /// The MTU.
    public var mtu: UInt32
    /// IFF_* flags.
    public var flags: UInt32
    /// The link kind (`bridge`, `veth`), when it has one.
    public var kind: String?

    /// Whether the interface is administratively up.
    public var isUp: Bool { flags & Netlink.IFF_UP != 0 }

    /// The MAC as `aa:bb:cc:dd:ee:ff`.
    public var macText: String { Link.macText(mac) }

    /// `bytes` as lower-case colon-separated hex.
    public static func macText(_ bytes: [UInt8]) -> String {
        bytes.map { byte in
            let hex = String(byte, radix: 16)
            return hex.count == 1 ? "0" + hex : hex
        }.joined(separator: ":")
    }

    /// Decodes an RTM_NEWLINK message.
    init?(_ message: NetlinkMessage) {
        guard message.type == Netlink.RTM_NEWLINK, message.payload.count >= 16 else { return nil }
        let attributes = NetlinkAttributes(message.payload, from: 16)
        guard let name = attributes.string(Netlink.IFLA_IFNAME) else { return nil }
        index = readHostOrder(Int32.self, message.payload, at: 4)
        flags = readHostOrder(UInt32.self, message.payload, at: 8)
        self.name = name
        mac = attributes[Netlink.IFLA_ADDRESS].map { Array($0) } ?? []
        masterIndex = attributes.uint32(Netlink.IFLA_MASTER).map { Int32(bitPattern: $0) }
        mtu = attributes.uint32(Netlink.IFLA_MTU) ?? 0
        kind = attributes[Netlink.IFLA_LINKINFO].flatMap { NetlinkAttributes($0).string(Netlink.IFLA_INFO_KIND) }
    }
}

/// Interface names: at most 15 bytes (IFNAMSIZ - 1), no `/`, no whitespace, not `.` or `..`.
public enum InterfaceName {
    /// Throws unless `name` is a valid interface name.
    public static func validate(_ name: String) throws {
        let bytes = Array(name.utf8)
        guard !bytes.isEmpty, bytes.count <= 15, name != ".", name != "..",
              !bytes.contains(where: { $0 == UInt8(ascii: "/") || $0 == UInt8(ascii: ":") || $0 <= 32 || $0 >= 127 })
        else { throw PodrunError(.invalidArgument, "invalid interface name \"\(name)\" (1 to 15 characters, no / : or spaces)") }
    }
}

extension NetlinkSocket {
    /// The interface named `name`, or nil when there is none.
    public func link(named name: String) throws -> Link? {
        try InterfaceName.validate(name)
        var request = NetlinkRequest(type: Netlink.RTM_GETLINK, flags: 0, header: NetlinkRequest.ifinfomsg())
        request.attribute(Netlink.IFLA_IFNAME, string: name)
        do {
            return try query(request, "get link \(name)").lazy.compactMap(Link.init).first
        } catch let error as PodrunError where error.errno == ENODEV {
            return nil
        }
    }

    /// The interface with index `index`, or nil when there is none.
    public func link(index: Int32) throws -> Link? {
        let request = NetlinkRequest(type: Netlink.RTM_GETLINK, flags: 0, header: NetlinkRequest.ifinfomsg(index: index))
        do {
            return try query(request, "get link \(index)").lazy.compactMap(Link.init).first
        } catch let error as PodrunError where error.errno == ENODEV {
            return nil
        }
    }

    /// Every interface of the namespace, or those that are ports of the bridge `masterIndex`.
    public func links(master masterIndex: Int32? = nil) throws -> [Link] {
        let request = NetlinkRequest(type: Netlink.RTM_GETLINK, flags: 0, header: NetlinkRequest.ifinfomsg())
        let all = try dump(request, "list links").compactMap(Link.init)
        guard let masterIndex else { return all }
        return all.filter { $0.masterIndex == masterIndex }
    }

    /// Creates a bridge named `name` (down, no address); throws EEXIST when the name is taken.
    public func createBridge(named name: String) throws {
        try InterfaceName.validate(name)
        var request = NetlinkRequest(type: Netlink.RTM_NEWLINK, flags: Netlink.NLM_F_CREATE | Netlink.NLM_F_EXCL,
                                     header: NetlinkRequest.ifinfomsg())
        request.attribute(Netlink.IFLA_IFNAME, string: name)
        request.nested(Netlink.IFLA_LINKINFO) { info in
            info.attribute(Netlink.IFLA_INFO_KIND, string: "bridge")
        }
        try perform(request, "create bridge \(name)")
    }

    /// Creates a veth pair: `name` here and `peerName` in the network namespace `peerNetnsFD` (here when nil).
    public func createVethPair(named name: String, peerName: String, peerNetnsFD: Int32? = nil, mtu: UInt32? = nil) throws {
        try InterfaceName.validate(name)
        try InterfaceName.validate(peerName)
        var request = NetlinkRequest(type: Netlink.RTM_NEWLINK, flags: Netlink.NLM_F_CREATE | Netlink.NLM_F_EXCL,
                                     header: NetlinkRequest.ifinfomsg())
        request.attribute(Netlink.IFLA_IFNAME, string: name)
        if let mtu { request.attribute(Netlink.IFLA_MTU, uint32: mtu) }
        request.nested(Netlink.IFLA_LINKINFO) { info in
            info.attribute(Netlink.IFLA_INFO_KIND, string: "veth")
            info.nested(Netlink.IFLA_INFO_DATA) { data in
                data.nested(Netlink.VETH_INFO_PEER) { peer in
                    peer.append(NetlinkRequest.ifinfomsg())
                    peer.attribute(Netlink.IFLA_IFNAME, string: peerName)
                    if let mtu { peer.attribute(Netlink.IFLA_MTU, uint32: mtu) }
                    if let peerNetnsFD { peer.attribute(Netlink.IFLA_NET_NS_FD, uint32: UInt32(bitPattern: peerNetnsFD)) }
                }
            }
        }
        try perform(request, "create veth pair \(name)/\(peerName)")
    }

    /// Makes interface `index` a port of the bridge `masterIndex` (0 removes it from its bridge).
    public func setMaster(index: Int32, masterIndex: Int32) throws {
        var request = NetlinkRequest(type: Netlink.RTM_NEWLINK, flags: 0, header: NetlinkRequest.ifinfomsg(index: index))
        request.attribute(Netlink.IFLA_MASTER, uint32: UInt32(bitPattern: masterIndex))
        try perform(request, "set master of link \(index)")
    }

    /// Brings interface `index` up (or down).
    public func setUp(index: Int32, _ up: Bool = true) throws {
        let request = NetlinkRequest(type: Netlink.RTM_NEWLINK, flags: 0,
                                     header: NetlinkRequest.ifinfomsg(index: index, flags: up ? Netlink.IFF_UP : 0,
                                                                      change: Netlink.IFF_UP))
        try perform(request, "set link \(index) \(up ? "up" : "down")")
    }

    /// Sets the MTU of interface `index`.
    public func setMTU(index: Int32, _ mtu: UInt32) throws {
        var request = NetlinkRequest(type: Netlink.RTM_NEWLINK, flags: 0, header: NetlinkRequest.ifinfomsg(index: index))
        request.attribute(Netlink.IFLA_MTU, uint32: mtu)
        try perform(request, "set MTU of link \(index)")
    }

    /// Renames interface `index` (it must be down).
    public func rename(index: Int32, to name: String) throws {
        try InterfaceName.validate(name)
        var request = NetlinkRequest(type: Netlink.RTM_NEWLINK, flags: 0, header: NetlinkRequest.ifinfomsg(index: index))
        request.attribute(Netlink.IFLA_IFNAME, string: name)
        try perform(request, "rename link \(index) to \(name)")
    }

    /// Moves interface `index` into the network namespace open at `netnsFD`.
    public func moveToNetns(index: Int32, netnsFD: Int32) throws {
        var request = NetlinkRequest(type: Netlink.RTM_NEWLINK, flags: 0, header: NetlinkRequest.ifinfomsg(index: index))
        request.attribute(Netlink.IFLA_NET_NS_FD, uint32: UInt32(bitPattern: netnsFD))
        try perform(request, "move link \(index) to a network namespace")
    }

    /// Deletes interface `index` (for a veth, both ends).
    public func deleteLink(index: Int32) throws {
        let request = NetlinkRequest(type: Netlink.RTM_DELLINK, flags: 0, header: NetlinkRequest.ifinfomsg(index: index))
        try perform(request, "delete link \(index)")
    }

    /// Deletes the interface named `name`; returns false when there was none.
    @discardableResult
    public func deleteLink(named name: String) throws -> Bool {
        guard let link = try link(named: name) else { return false }
        do {
            try deleteLink(index: link.index)
        } catch let error as PodrunError where error.errno == ENODEV {
            return false
        }
        return true
    }
}
