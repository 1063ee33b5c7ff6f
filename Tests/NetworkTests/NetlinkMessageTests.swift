import Glibc
@testable import Network
import PodrunCore
import Testing

private func u16(_ bytes: [UInt8], _ at: Int) -> UInt16 { UInt16(bytes[at]) | UInt16(bytes[at + 1]) << 8 }
private func u32(_ bytes: [UInt8], _ at: Int) -> UInt32 {
    UInt32(bytes[at]) | UInt32(bytes[at + 1]) << 8 | UInt32(bytes[at + 2]) << 16 | UInt32(bytes[at + 3]) << 24
}

@Test func bridgeRequestHasHeaderFamilyHeaderAndAlignedNestedAttributes() {
    var request = NetlinkRequest(type: Netlink.RTM_NEWLINK, flags: Netlink.NLM_F_CREATE | Netlink.NLM_F_EXCL,
                                 header: NetlinkRequest.ifinfomsg())
    request.attribute(Netlink.IFLA_IFNAME, string: "br0")
    request.nested(Netlink.IFLA_LINKINFO) { $0.attribute(Netlink.IFLA_INFO_KIND, string: "bridge") }
    let bytes = request.finished(seq: 42)
    // nlmsghdr 16 + ifinfomsg 16 + IFNAME (4 + "br0\0") 8 + LINKINFO (4 + KIND (4 + "bridge\0" padded to 8)) 16.
    #expect(bytes.count == 56)
    #expect(u32(bytes, 0) == 56)
    #expect(u16(bytes, 4) == Netlink.RTM_NEWLINK)
    #expect(u16(bytes, 6) == Netlink.NLM_F_REQUEST | Netlink.NLM_F_CREATE | Netlink.NLM_F_EXCL)
    #expect(u32(bytes, 8) == 42)
    #expect(bytes[16..<32].allSatisfy { $0 == 0 })
    #expect(u16(bytes, 32) == 8 && u16(bytes, 34) == Netlink.IFLA_IFNAME)
    #expect(Array(bytes[36..<40]) == Array("br0".utf8) + [0])
    #expect(u16(bytes, 40) == 16 && u16(bytes, 42) == Netlink.IFLA_LINKINFO | Netlink.NLA_F_NESTED)
    #expect(u16(bytes, 44) == 11 && u16(bytes, 46) == Netlink.IFLA_INFO_KIND)
    #expect(Array(bytes[48..<55]) == Array("bridge".utf8) + [0])
    #expect(bytes[55] == 0)
}

@Test func addressRequestCarriesPrefixIndexAndNetworkOrderAddresses() throws {
    var request = NetlinkRequest(type: Netlink.RTM_NEWADDR, flags: 0,
                                 header: NetlinkRequest.ifaddrmsg(prefixLength: 24, index: 7))
    request.attribute(Netlink.IFA_LOCAL, try IPv4Address(parsing: "10.201.0.5").bytes)
    let bytes = request.finished(seq: 1)
    #expect(bytes.count == 16 + 8 + 8)
    #expect(bytes[16] == Netlink.AF_INET && bytes[17] == 24)
    #expect(u32(bytes, 20) == 7)
    #expect(u16(bytes, 24) == 8 && u16(bytes, 26) == Netlink.IFA_LOCAL)
    #expect(Array(bytes[28..<32]) == [10, 201, 0, 5])
}

@Test func addFlagKeepsTheOtherFlags() {
    var request = NetlinkRequest(type: Netlink.RTM_GETLINK, flags: 0, header: NetlinkRequest.ifinfomsg())
    #expect(!request.asksForAck)
    request.addFlag(Netlink.NLM_F_ACK)
    #expect(request.asksForAck)
    #expect(u16(request.finished(seq: 0), 6) == Netlink.NLM_F_REQUEST | Netlink.NLM_F_ACK)
}

@Test func messagesAndAttributesParseBackFromADatagram() {
    var first = NetlinkRequest(type: Netlink.RTM_NEWLINK, flags: Netlink.NLM_F_MULTI, header: NetlinkRequest.ifinfomsg(index: 3))
    first.attribute(Netlink.IFLA_IFNAME, string: "veth0")
    first.attribute(Netlink.IFLA_MTU, uint32: 1400)
    first.nested(Netlink.IFLA_LINKINFO) { $0.attribute(Netlink.IFLA_INFO_KIND, string: "veth") }
    let done = NetlinkRequest(type: Netlink.NLMSG_DONE, flags: 0, header: [0, 0, 0, 0])
    let datagram = first.finished(seq: 9) + done.finished(seq: 9) + [1, 2, 3]  // trailing garbage is ignored
    let messages = NetlinkMessage.parse(datagram[...])
    #expect(messages.count == 2)
    #expect(messages.map(\.type) == [Netlink.RTM_NEWLINK, Netlink.NLMSG_DONE])
    #expect(messages.allSatisfy { $0.seq == 9 })
    let link = Link(messages[0])
    #expect(link?.name == "veth0")
    #expect(link?.index == 3)
    #expect(link?.mtu == 1400)
    #expect(link?.kind == "veth")
}

@Test func kernelErrorBecomesPodrunErrorWithErrnoAndExtendedAckText() {
    // NLMSG_ERROR payload: -EEXIST, the capped request header, then NLMSGERR_ATTR_MSG.
    var payload: [UInt8] = []
    withUnsafeBytes(of: Int32(-EEXIST)) { payload.append(contentsOf: $0) }
    let echoed = NetlinkRequest(type: Netlink.RTM_NEWLINK, flags: 0, header: []).finished(seq: 5)
    payload.append(contentsOf: echoed)
    var attributes = NetlinkRequest(type: 0, flags: 0, header: [])
    attributes.attribute(Netlink.NLMSGERR_ATTR_MSG, string: "File exists here")
    payload.append(contentsOf: attributes.bytes.dropFirst(16))
    let reply = NetlinkMessage(type: Netlink.NLMSG_ERROR, flags: Netlink.NLM_F_ACK_TLVS | Netlink.NLM_F_CAPPED, seq: 5,
                               payload: payload[...])
    let error = NetlinkSocket.error(code: -EEXIST, reply: reply, what: "create bridge x")
    #expect(error.errno == EEXIST)
    #expect(error.code == .system)
    #expect(error.message == "create bridge x (File exists here)")
}

@Test func hostInterfaceNamesAreShortStableAndDistinct() {
    let a = BridgeNetwork.hostInterfaceName(sandboxID: "sandbox-a")
    #expect(a == BridgeNetwork.hostInterfaceName(sandboxID: "sandbox-a"))
    #expect(a.hasPrefix("veth") && a.utf8.count == 15)
    #expect(a != BridgeNetwork.hostInterfaceName(sandboxID: "sandbox-b"))
    // Ids that differ in their last character differ early in the name, not only in one digit.
    let one = BridgeNetwork.hostInterfaceName(sandboxID: "/run/podrun/.sandboxes/pod1")
    let two = BridgeNetwork.hostInterfaceName(sandboxID: "/run/podrun/.sandboxes/pod2")
    #expect(zip(one, two).filter { $0 != $1 }.count > 3, "\(one) \(two)")
    #expect(throws: Never.self) { try InterfaceName.validate(a) }
}

@Test(arguments: ["", "sixteen-chars-xx", "a/b", "a b", ".", "eth:0"])
func invalidInterfaceNamesAreRejected(_ name: String) {
    #expect(throws: PodrunError.self) { try InterfaceName.validate(name) }
}
