import Foundation
import Testing
@testable import CNI
import PodrunCore

/// Debian's containernetworking-plugins (bridge, host-local, loopback, portmap) run for real, as root. Each
/// test has its own bridge, subnet 10.202.OCTET.0/24, host-local state and namespaces, all removed after.
@Suite(.enabled(if: runningAsRoot && FileManager.default.isExecutableFile(atPath: "/usr/lib/cni/bridge"),
                "needs root and containernetworking-plugins"))
struct BridgePluginTests {
    @Test func addGivesAnAddressOnEth0AndLoopbackBringsLoUp() throws {
        let lab = try BridgeLab(octet: 11)
        defer { lab.cleanup() }
        let ns = try lab.makeNamespace()
        let net = CNINetwork(config: try NetworkConfigList.load(file: lab.writeConflist()))
        let id = "cnitest-" + uniqueTag()
        let result = try lab.add(net, containerID: id, netns: ns.path)
        let ip = try #require(CNINetwork.podIP(of: result))
        #expect(ip.hasPrefix("10.202.11."))
        #expect(result.cniVersion == "1.0.0")
        #expect(result.interfaces.contains { $0.name == "eth0" && $0.sandbox == ns.path })
        #expect(result.interfaces.contains { $0.name == lab.bridge })
        #expect(sh("ip", "-n", ns.name, "-4", "addr", "show", "eth0").output.contains("inet \(ip)/24"))
        #expect(sh("ip", "-n", ns.name, "route").output.contains("default via 10.202.11.1"))

        let lo = try lab.loopbackNetwork()
        _ = try lab.add(lo, containerID: id, netns: ns.path, ifName: "lo")
        let loState = sh("ip", "-n", ns.name, "-4", "addr", "show", "lo").output
        #expect(loState.contains("UP") && loState.contains("127.0.0.1"))
    }

    @Test func twoNamespacesOnOneBridgeReachEachOther() throws {
        let lab = try BridgeLab(octet: 12)
        defer { lab.cleanup() }
        let net = CNINetwork(config: try NetworkConfigList.load(file: lab.writeConflist()))
        let a = try lab.makeNamespace()
        let b = try lab.makeNamespace()
        let ipA = try #require(CNINetwork.podIP(of: lab.add(net, containerID: "cnitest-a" + uniqueTag(), netns: a.path)))
        let ipB = try #require(CNINetwork.podIP(of: lab.add(net, containerID: "cnitest-b" + uniqueTag(), netns: b.path)))
        #expect(ipA != ipB)
        let ping = sh("ip", "netns", "exec", a.name, "busybox", "ping", "-c1", "-W2", ipB)
        #expect(ping.status == 0, "\(ping.output)")
        let back = sh("ip", "netns", "exec", b.name, "busybox", "ping", "-c1", "-W2", ipA)
        #expect(back.status == 0, "\(back.output)")
    }

    @Test func checkPassesAfterAddAndFailsWhenTheAddressIsGone() throws {
        let lab = try BridgeLab(octet: 13)
        defer { lab.cleanup() }
        let ns = try lab.makeNamespace()
        let net = CNINetwork(config: try NetworkConfigList.load(file: lab.writeConflist()))
        let id = "cnitest-" + uniqueTag()
        let result = try lab.add(net, containerID: id, netns: ns.path)
        try net.check(containerID: id, netnsPath: ns.path, prevResult: result)
        sh("ip", "-n", ns.name, "addr", "flush", "dev", "eth0")
        #expect(throws: PodrunError.self) { try net.check(containerID: id, netnsPath: ns.path, prevResult: result) }
    }

    @Test func deleteRemovesTheVethAndReleasesTheAddress() throws {
        let lab = try BridgeLab(octet: 14)
        defer { lab.cleanup() }
        let ns = try lab.makeNamespace()
        let net = CNINetwork(config: try NetworkConfigList.load(file: lab.writeConflist()))
        let id = "cnitest-" + uniqueTag()
        // The caller stores the result as JSON and hands it back to DEL.
        let stored = try JSONEncoder().encode(try lab.add(net, containerID: id, netns: ns.path))
        let result = try JSONDecoder().decode(CNIResult.self, from: stored)
        let ip = try #require(CNINetwork.podIP(of: result))
        let lease = lab.ipamDirectory + "/" + lab.networkName + "/" + ip
        #expect(FileManager.default.fileExists(atPath: lease))
        let hostVeth = try #require(result.interfaces.first { $0.sandbox == nil && $0.name != lab.bridge }).name
        #expect(sh("ip", "link", "show", hostVeth).status == 0)

        try net.delete(containerID: id, netnsPath: ns.path, prevResult: result)
        #expect(!FileManager.default.fileExists(atPath: lease))
        #expect(sh("ip", "link", "show", hostVeth).status != 0)
        #expect(sh("ip", "-n", ns.name, "link", "show", "eth0").status != 0)
        // DEL again is fine (idempotent), as is DEL after the namespace is gone.
        try net.delete(containerID: id, netnsPath: ns.path, prevResult: result)
        sh("ip", "netns", "del", ns.name)
        try net.delete(containerID: id, netnsPath: ns.path, prevResult: result)
    }

    @Test func deleteAfterTheNamespaceIsGoneStillReleasesTheAddress() throws {
        let lab = try BridgeLab(octet: 15)
        defer { lab.cleanup() }
        let ns = try lab.makeNamespace()
        let net = CNINetwork(config: try NetworkConfigList.load(file: lab.writeConflist()))
        let id = "cnitest-" + uniqueTag()
        let result = try lab.add(net, containerID: id, netns: ns.path)
        let lease = lab.ipamDirectory + "/" + lab.networkName + "/" + (CNINetwork.podIP(of: result) ?? "?")
        #expect(FileManager.default.fileExists(atPath: lease))
        sh("ip", "netns", "del", ns.name)
        try net.delete(containerID: id, netnsPath: ns.path, prevResult: result)
        #expect(!FileManager.default.fileExists(atPath: lease))
    }

    @Test func versionOfTheBridgePluginIncludes100() throws {
        let lab = try BridgeLab(octet: 16)
        defer { lab.cleanup() }
        let net = CNINetwork(config: try NetworkConfigList.load(file: lab.writeConflist()))
        #expect(try net.versions(ofPlugin: "bridge").supportedVersions.contains("1.0.0"))
    }

    @Test func olderListVersionGivesAnOlderResultThatWorksForCheckAndDelete() throws {
        let lab = try BridgeLab(octet: 17)
        defer { lab.cleanup() }
        let ns = try lab.makeNamespace()
        let net = CNINetwork(config: try NetworkConfigList.load(file: lab.writeConflist(cniVersion: "0.4.0")))
        let id = "cnitest-" + uniqueTag()
        let result = try lab.add(net, containerID: id, netns: ns.path)
        #expect(result.cniVersion == "0.4.0")
        #expect(result.ips.first?.version == "4")
        #expect(CNINetwork.podIP(of: result)?.hasPrefix("10.202.17.") == true)
        try net.check(containerID: id, netnsPath: ns.path, prevResult: result)
        try net.delete(containerID: id, netnsPath: ns.path, prevResult: result)
    }

    @Test(.enabled(if: iptablesWorks, "iptables -t nat does not work here"))
    func portmapForwardsHostPortAndDeleteRemovesItsRules() throws {
        let lab = try BridgeLab(octet: 18)
        defer { lab.cleanup() }
        let ns = try lab.makeNamespace()
        let net = CNINetwork(config: try NetworkConfigList.load(file: lab.writeConflist(portmap: true)))
        let id = "cnitest-" + uniqueTag()
        let hostPort = 23000 + Int.random(in: 0..<2000)
        let result = try lab.add(net, containerID: id, netns: ns.path,
                                 portMappings: [PortMapping(hostPort: hostPort, containerPort: 8080)])
        let ip = try #require(CNINetwork.podIP(of: result))
        #expect(sh("iptables-save", "-t", "nat").output.contains(id))

        // A one-shot listener in the namespace answers "hello" to whoever connects.
        let listener = Process()
        listener.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        listener.arguments = ["ip", "netns", "exec", ns.name, "busybox", "nc", "-l", "-p", "8080", "-e", "echo", "hello"]
        listener.standardOutput = FileHandle.nullDevice
        listener.standardError = FileHandle.nullDevice
        try listener.run()
        defer { if listener.isRunning { listener.terminate() }; listener.waitUntilExit() }
        var reply = ""
        for _ in 0..<20 where !reply.contains("hello") {
            usleep(100_000)
            reply = sh("busybox", "nc", "-w", "2", "127.0.0.1", String(hostPort)).output
        }
        #expect(reply.contains("hello"), "no answer through 127.0.0.1:\(hostPort) -> \(ip):8080")

        try net.delete(containerID: id, netnsPath: ns.path, prevResult: result,
                       portMappings: [PortMapping(hostPort: hostPort, containerPort: 8080)])
        let rules = sh("iptables-save").output
        #expect(!rules.contains(id), "portmap left rules for \(id)")
        #expect(!rules.contains("--dport \(hostPort)"))
    }
}
