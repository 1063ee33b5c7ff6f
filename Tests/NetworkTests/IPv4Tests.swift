import Network
import PodrunCore
import Testing

@Test func dottedQuadParsesToItsNumberAndBack() throws {
    let address = try IPv4Address(parsing: "10.88.0.1")
    #expect(address.value == 0x0A58_0001)
    #expect(address.description == "10.88.0.1")
    #expect(address.bytes == [10, 88, 0, 1])
    #expect(try IPv4Address(bytes: [192, 168, 1, 255]) == IPv4Address(parsing: "192.168.1.255"))
}

@Test(arguments: ["", "1.2.3", "1.2.3.4.5", "256.0.0.1", "01.2.3.4", "1.2.3.-4", "a.b.c.d", "1..2.3", " 1.2.3.4", "1.2.3.4/8"])
func malformedAddressesAreRejected(_ text: String) {
    #expect(throws: PodrunError.self) { try IPv4Address(parsing: text) }
}

@Test func subnetKnowsItsNetworkBroadcastAndHosts() throws {
    let subnet = try IPv4Subnet(parsing: "10.88.0.0/16")
    #expect(subnet.network.description == "10.88.0.0")
    #expect(subnet.prefixLength == 16)
    #expect(subnet.mask == 0xFFFF_0000)
    #expect(subnet.broadcast.description == "10.88.255.255")
    #expect(subnet.firstHost.description == "10.88.0.1")
    #expect(subnet.lastHost.description == "10.88.255.254")
    #expect(try subnet.contains(IPv4Address(parsing: "10.88.3.4")))
    #expect(try !subnet.contains(IPv4Address(parsing: "10.89.0.1")))
    #expect(subnet.description == "10.88.0.0/16")
    let all = try IPv4Subnet(parsing: "0.0.0.0/0")
    #expect(try all.mask == 0 && all.contains(IPv4Address(parsing: "8.8.8.8")))
}

@Test(arguments: ["10.88.0.0", "10.88.0.0/", "10.88.0.0/33", "10.88.0.1/16", "10.88.0.0/1a", "x/16", "10.88.0.0/16/1"])
func malformedSubnetsAreRejected(_ text: String) {
    #expect(throws: PodrunError.self) { try IPv4Subnet(parsing: text) }
}
