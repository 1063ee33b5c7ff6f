@testable import Network
import PodrunCore
import Testing

@Test func portMappingParsesHostPodAndProtocol() throws {
    #expect(try PortMapping(parsing: "8080:80") == PortMapping(hostPort: 8080, podPort: 80, proto: "tcp"))
    #expect(try PortMapping(parsing: "53:5353/udp") == PortMapping(hostPort: 53, podPort: 5353, proto: "udp"))
    #expect(try PortMapping(parsing: "1:65535/TCP").description == "1:65535/tcp")
}

@Test(arguments: ["", "80", "0:80", "80:0", "65536:80", "80:80/sctp", "a:80", "80:80/tcp/udp", ":80", "1:2:3", "-1:80"])
func malformedPortMappingsAreRejected(_ text: String) {
    #expect(throws: PodrunError.self) { try PortMapping(parsing: text) }
}

@Test func iptablesRuleLinesSplitIntoArgumentsHonouringQuotes() {
    #expect(PortForwarder.splitArguments(#"-A PODRUN-DNAT -p tcp -m comment --comment "podrun:a b" -j DNAT"#)
            == ["-A", "PODRUN-DNAT", "-p", "tcp", "-m", "comment", "--comment", "podrun:a b", "-j", "DNAT"])
    #expect(PortForwarder.splitArguments("-A X  -j Y") == ["-A", "X", "-j", "Y"])
}
