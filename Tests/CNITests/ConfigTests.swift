import Foundation
import Testing
@testable import CNI
import PodrunCore

@Suite struct NetworkConfigListTests {
    @Test func conflistParsesAndKeepsUnknownKeys() throws {
        let text = #"""
        {"cniVersion": "1.0.0", "name": "net1", "disableCheck": true, "unknownTop": 1,
         "plugins": [{"type": "bridge", "bridge": "br0", "mtu": 1450, "nested": {"a": [true, null, 2.5, "x"]}},
                     {"type": "portmap", "capabilities": {"portMappings": true, "other": false}}]}
        """#
        let list = try NetworkConfigList.parse(Array(text.utf8))
        #expect(list.cniVersion == "1.0.0")
        #expect(list.name == "net1")
        #expect(list.disableCheck)
        #expect(list.plugins.map(\.type) == ["bridge", "portmap"])
        #expect(list.plugins[0].raw["mtu"] == .integer(1450))
        #expect(list.plugins[0].raw["nested"] == .object(["a": .array([.bool(true), .null, .number(2.5), .string("x")])]))
        #expect(list.plugins[1].capabilities == ["portMappings"])
        // Round trip: the plugin objects come back unchanged.
        let again = try JSONDecoder().decode(NetworkConfigList.self, from: JSONEncoder().encode(list))
        #expect(again == list)
    }

    @Test func singlePluginConfBecomesAListOfOne() throws {
        let list = try NetworkConfigList.parse(Array(#"{"cniVersion": "0.4.0", "name": "lo", "type": "loopback"}"#.utf8))
        #expect(list.name == "lo")
        #expect(list.cniVersion == "0.4.0")
        #expect(list.plugins.map(\.type) == ["loopback"])
        #expect(!list.disableCheck)
    }

    @Test func disableCheckAcceptsAString() throws {
        let list = try NetworkConfigList.parse(Array(#"{"cniVersion": "1.0.0", "name": "n", "disableCheck": "true", "plugins": [{"type": "x"}]}"#.utf8))
        #expect(list.disableCheck)
    }

    @Test(arguments: [
        #"{"cniVersion": "1.0.0", "name": "n", "plugins": []}"#,
        #"{"cniVersion": "1.0.0", "name": "", "plugins": [{"type": "x"}]}"#,
        #"{"cniVersion": "1.0.0", "name": "n", "plugins": [{"notype": "x"}]}"#,
        #"{"cniVersion": "1.0.0", "name": "n", "plugins": [{"type": 3}]}"#,
        #"{"name": "n", "plugins": [{"type": "x"}]}"#,
        #"[1, 2]"#,
        #"{"cniVersion": "1.0.0", "name": "n", "#,
    ])
    func invalidConfigIsRejectedAsInvalidSpec(text: String) {
        #expect {
            try NetworkConfigList.parse(Array(text.utf8), path: "/etc/cni/net.d/bad.conflist")
        } throws: { error in
            let e = error as? PodrunError
            return e?.code == .invalidSpec && e?.path?.hasPrefix("/etc/cni/net.d/bad.conflist") == true
        }
    }

    @Test func directoryGivesLexicallyFirstConfigOrTheNamedOne() throws {
        let dir = try TempDirectory()
        defer { dir.remove() }
        try dir.write("20-b.conflist", #"{"cniVersion": "1.0.0", "name": "b", "plugins": [{"type": "bridge"}]}"#)
        try dir.write("10-a.conf", #"{"cniVersion": "1.0.0", "name": "a", "type": "ptp"}"#)
        try dir.write("00-ignored.txt", "not a config")
        try dir.write("30-c.json", #"{"cniVersion": "1.0.0", "name": "c", "plugins": [{"type": "macvlan"}]}"#)
        #expect(try NetworkConfigList.configFiles(in: dir.path).map { ($0 as NSString).lastPathComponent }
                == ["10-a.conf", "20-b.conflist", "30-c.json"])
        #expect(try NetworkConfigList.load(directory: dir.path).name == "a")
        #expect(try NetworkConfigList.load(directory: dir.path, name: "b").plugins.map(\.type) == ["bridge"])
        #expect(try NetworkConfigList.load(directory: dir.path, name: "c").name == "c")
        #expect { try NetworkConfigList.load(directory: dir.path, name: "zzz") } throws: {
            ($0 as? PodrunError)?.code == .notFound
        }
    }

    @Test func emptyOrMissingDirectoryIsNotFound() throws {
        let dir = try TempDirectory()
        defer { dir.remove() }
        #expect { try NetworkConfigList.load(directory: dir.path) } throws: { ($0 as? PodrunError)?.code == .notFound }
        #expect { try NetworkConfigList.load(directory: dir.path + "/none") } throws: { ($0 as? PodrunError)?.code == .notFound }
    }
}

@Suite struct CNIResultTests {
    @Test func result040WithIPVersionDecodesAndRoundTrips() throws {
        let text = #"""
        {"cniVersion": "0.4.0",
         "interfaces": [{"name": "cni0", "mac": "aa:bb:cc:dd:ee:ff"}, {"name": "eth0", "mac": "11:22:33:44:55:66", "sandbox": "/var/run/netns/x"}],
         "ips": [{"version": "4", "address": "10.1.0.5/16", "gateway": "10.1.0.1", "interface": 1}],
         "routes": [{"dst": "0.0.0.0/0"}], "dns": {"nameservers": ["10.1.0.1"]}}
        """#
        let result = try JSONDecoder().decode(CNIResult.self, from: Data(text.utf8))
        #expect(result.ips == [CNIIPConfig(address: "10.1.0.5/16", gateway: "10.1.0.1", interface: 1, version: "4")])
        #expect(result.interfaces[1].sandbox == "/var/run/netns/x")
        #expect(result.routes == [CNIRoute(dst: "0.0.0.0/0")])
        #expect(result.dns?.nameservers == ["10.1.0.1"])
        #expect(CNINetwork.podIP(of: result) == "10.1.0.5")
        #expect(try JSONDecoder().decode(CNIResult.self, from: JSONEncoder().encode(result)) == result)
    }

    @Test func result020IP4BlockIsConverted() throws {
        let text = #"{"cniVersion": "0.2.0", "ip4": {"ip": "10.3.0.7/24", "gateway": "10.3.0.1", "routes": [{"dst": "0.0.0.0/0"}]}, "dns": {}}"#
        let result = try JSONDecoder().decode(CNIResult.self, from: Data(text.utf8))
        #expect(result.ips == [CNIIPConfig(address: "10.3.0.7/24", gateway: "10.3.0.1")])
        #expect(result.routes.count == 1)
        #expect(result.dns == nil)
        #expect(CNINetwork.podIP(of: result) == "10.3.0.7")
    }

    @Test func podIPIsTheFirstIPv4InTheSandbox() {
        let result = CNIResult(cniVersion: "1.0.0", interfaces: [
            CNIInterface(name: "br0"), CNIInterface(name: "eth0", sandbox: "/run/netns/a"),
            CNIInterface(name: "net1", sandbox: "/run/netns/a"),
        ], ips: [
            CNIIPConfig(address: "10.0.0.1/24", interface: 0),
            CNIIPConfig(address: "fd00::5/64", interface: 1),
            CNIIPConfig(address: "10.0.0.5/24", interface: 1),
            CNIIPConfig(address: "10.9.0.5/24", interface: 2),
        ])
        #expect(CNINetwork.podIP(of: result) == "10.0.0.5")
        #expect(CNINetwork.podIP(of: result, ifName: "net1") == "10.9.0.5")
        #expect(CNINetwork.podIP(of: CNIResult(cniVersion: "1.0.0")) == nil)
    }
}
