import Foundation
@testable import Network
import PodrunCore
import Synchronization
import Testing

/// Against the real kernel, as root: one bridge `podrun-t0` with 10.201.0.0/24, serialised.
@Suite(.serialized) struct BridgeNetworkTests {
    @Test func ensuringTheBridgeTwiceLeavesOneBridgeWithTheGatewayAddressUp() throws {
        let test = try TestNetwork()
        defer { test.remove(owners: []) }
        let first = try test.network.ensureBridge()
        let second = try test.network.ensureBridge()
        #expect(first.index == second.index)
        #expect(second.kind == "bridge")
        let shown = try shell("ip", "-4", "-o", "addr", "show", "dev", "podrun-t0").output
        #expect(shown.components(separatedBy: "inet 10.201.0.1/24").count == 2)
        #expect(try shell("ip", "-o", "link", "show", "podrun-t0").output.contains(",UP"))
        #expect(try NetworkSysctl.read("ipv4/conf/podrun-t0/route_localnet") == "1")
        try test.network.removeBridge()
        #expect(try shell("ip", "link", "show", "podrun-t0").status != 0)
    }

    @Test func attachGivesThePodEth0WithItsAddressAndDefaultRouteAndDetachRemovesIt() throws {
        let test = try TestNetwork()
        let pod = try TestNetns("podrun-test-a")
        defer { pod.remove(); test.remove(owners: ["sandbox-a"]) }

        let hostEth0 = try? NetworkSysctl.read("ipv6/conf/eth0/disable_ipv6")
        let made = try test.network.attach(sandboxID: "sandbox-a", netnsPath: pod.path, ports: [])
        #expect(made.address.description == "10.201.0.2")
        #expect(made.gateway.description == "10.201.0.1")
        #expect(made.podInterface == "eth0")

        let address = try pod.run("ip", "-4", "-o", "addr", "show", "dev", "eth0").output
        #expect(address.contains("inet 10.201.0.2/24 brd 10.201.0.255"))
        let link = try pod.run("ip", "-o", "link", "show", "eth0").output
        #expect(link.contains(",UP") && link.contains(made.mac))
        #expect(try pod.run("ip", "route", "show", "default").output.contains("default via 10.201.0.1 dev eth0"))
        #expect(try pod.run("ip", "-o", "link", "show", "lo").output.contains(",UP"))
        // IPv6 off on both ends; the pod's written inside the pod's namespace, not to the host's eth0.
        #expect(try pod.run("cat", "/proc/sys/net/ipv6/conf/eth0/disable_ipv6").output == "1\n")
        #expect(try NetworkSysctl.read("ipv6/conf/\(made.hostInterface)/disable_ipv6") == "1")
        #expect((try? NetworkSysctl.read("ipv6/conf/eth0/disable_ipv6")) == hostEth0)
        let host = try shell("ip", "-o", "link", "show", made.hostInterface).output
        #expect(host.contains("master podrun-t0") && host.contains(",UP"))
        #expect(try test.network.ipam.allocations() == [made.address: "sandbox-a"])

        try test.network.detach(sandboxID: "sandbox-a")
        #expect(try shell("ip", "link", "show", made.hostInterface).status != 0)
        #expect(try pod.run("ip", "link", "show", "eth0").status != 0)
        #expect(try test.network.ipam.allocations().isEmpty)
        try test.network.detach(sandboxID: "sandbox-a")  // again: nothing there, fine
    }

    @Test func twoPodsReachEachOtherAndTheHostReachesThem() throws {
        let test = try TestNetwork()
        let a = try TestNetns("podrun-test-a"), b = try TestNetns("podrun-test-b")
        defer { a.remove(); b.remove(); test.remove(owners: ["sandbox-a", "sandbox-b"]) }
        let first = try test.network.attach(sandboxID: "sandbox-a", netnsPath: a.path, ports: [])
        let second = try test.network.attach(sandboxID: "sandbox-b", netnsPath: b.path, ports: [])
        #expect(first.address != second.address)
        #expect(try a.run("/bin/busybox", "ping", "-c1", "-W2", second.address.description).status == 0)
        #expect(try b.run("/bin/busybox", "ping", "-c1", "-W2", first.address.description).status == 0)
        #expect(try shell("/bin/busybox", "ping", "-c1", "-W2", first.address.description).status == 0)
        #expect(try a.run("/bin/busybox", "ping", "-c1", "-W2", "10.201.0.1").status == 0)
        try test.network.detach(sandboxID: "sandbox-a")
        try test.network.detach(sandboxID: "sandbox-b")
        #expect(try test.network.ipam.allocations().isEmpty)
        // No veth is left on the bridge: the bridge itself goes with its last pod.
        #expect(try NetlinkSocket().link(named: "podrun-t0") == nil)
    }

    @Test func failedAttachUndoesTheAddressAndTheVeth() throws {
        let test = try TestNetwork()
        let pod = try TestNetns("podrun-test-a")
        defer { pod.remove(); test.remove(owners: ["sandbox-a"]) }
        // The pod already has an eth0: the veth cannot be made there.
        #expect(try pod.run("ip", "link", "add", "eth0", "type", "veth", "peer", "name", "eth0peer").status == 0)
        let error = #expect(throws: PodrunError.self) {
            try test.network.attach(sandboxID: "sandbox-a", netnsPath: pod.path, ports: [])
        }
        #expect(error?.errno == EEXIST)
        #expect(try test.network.ipam.allocations().isEmpty)
        let hostName = BridgeNetwork.hostInterfaceName(sandboxID: "sandbox-a")
        #expect(try shell("ip", "link", "show", hostName).status != 0)
    }

    @Test func badPortMappingChangesNothing() throws {
        let test = try TestNetwork()
        let pod = try TestNetns("podrun-test-a")
        defer { pod.remove(); test.remove(owners: ["sandbox-a"]) }
        #expect(throws: PodrunError.self) {
            try test.network.attach(sandboxID: "sandbox-a", netnsPath: pod.path, ports: ["80:80/sctp"])
        }
        #expect(try test.network.ipam.allocations().isEmpty)
        #expect(try pod.run("ip", "link", "show", "eth0").status != 0)
    }

    @Test func publishedPortReachesThePodFromLocalhostAndDetachRemovesItsRules() throws {
        let test = try TestNetwork()
        let pod = try TestNetns("podrun-test-a")
        let site = try TemporaryFolder()
        defer { pod.remove(); test.remove(owners: ["sandbox-a"]); site.remove() }
        try "hello from the pod\n".write(toFile: site.path + "/index.html", atomically: false, encoding: .utf8)
        let made = try test.network.attach(sandboxID: "sandbox-a", netnsPath: pod.path, ports: ["18080:8080/tcp"])
        #expect(made.ports == [PortMapping(hostPort: 18080, podPort: 8080)])
        let rules = try shell("iptables", "-w", "-t", "nat", "-S", "PODRUN-DNAT").output
        #expect(rules.contains("podrun:sandbox-a") && rules.contains("--to-destination \(made.address):8080"))

        // A web server in the pod, in the foreground (`ip netns exec` execs it: same pid), ended by its pid.
        let server = Process()
        server.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        server.arguments = ["ip", "netns", "exec", pod.name, "/bin/busybox", "httpd", "-f", "-p", "8080", "-h", site.path]
        try server.run()
        defer { kill(server.processIdentifier, SIGKILL); server.waitUntilExit() }  // SIGTERM may be blocked
        // Wait until it listens (bounded by attempts, not by time).
        for _ in 0..<50 where !(try pod.run("/bin/busybox", "netstat", "-ltn").output.contains(":8080")) {
            usleep(100_000)
        }
        let fetched = try shell("curl", "-s", "-m", "5", "http://127.0.0.1:18080/index.html")
        #expect(fetched.output == "hello from the pod\n")
        let direct = try shell("curl", "-s", "-m", "5", "http://\(made.address):8080/index.html")
        #expect(direct.output == "hello from the pod\n")

        try test.network.detach(sandboxID: "sandbox-a")
        #expect(!(try shell("iptables", "-w", "-t", "nat", "-S").output.contains("podrun:sandbox-a")))
    }

    @Test func reconcileReleasesAddressesAndRulesOfDeadSandboxesOnly() throws {
        let test = try TestNetwork()
        let a = try TestNetns("podrun-test-a"), b = try TestNetns("podrun-test-b")
        defer { a.remove(); b.remove(); test.remove(owners: ["sandbox-a", "sandbox-b"]) }
        _ = try test.network.attach(sandboxID: "sandbox-a", netnsPath: a.path, ports: ["18081:80"])
        let kept = try test.network.attach(sandboxID: "sandbox-b", netnsPath: b.path, ports: ["18082:80"])
        // sandbox-a dies with its namespace (its veth goes with it); reconcile frees the rest.
        a.remove()
        try BridgeNetwork.reconcile(stateRoot: test.folder.path, liveOwners: ["sandbox-b"])
        #expect(try test.network.ipam.allocations() == [kept.address: "sandbox-b"])
        let owners = try test.network.forwarder.owners()
        #expect(!owners.contains("sandbox-a") && owners.contains("sandbox-b"))
    }

    @Test func concurrentAttachesToAMissingBridgeAllSucceedWithDistinctAddresses() throws {
        let test = try TestNetwork()
        let pods = try (0..<4).map { try TestNetns("podrun-test-c\($0)") }
        let owners = (0..<4).map { "sandbox-c\($0)" }
        defer { pods.forEach { $0.remove() }; test.remove(owners: owners) }
        let results = Mutex<[Int: Result<BridgeNetwork.Attachment, any Error>]>([:])
        DispatchQueue.concurrentPerform(iterations: 4) { i in
            let result = Result { try test.network.attach(sandboxID: owners[i], netnsPath: pods[i].path, ports: []) }
            results.withLock { $0[i] = result }
        }
        let made = try results.withLock { $0 }.values.map { try $0.get() }
        #expect(Set(made.map(\.address)).count == 4)
        for (i, pod) in pods.enumerated() {
            #expect(try pod.run("/bin/busybox", "ping", "-c1", "-W2", "10.201.0.1").status == 0, "pod \(i)")
        }
        let bridges = try NetlinkSocket().links().filter { $0.name == "podrun-t0" }
        #expect(bridges.count == 1)
    }

    @Test func outboundMasqueradeRuleComesWithTheBridgeAndGoesWithIt() throws {
        let test = try TestNetwork(masquerade: true)
        defer { test.remove(owners: []) }
        try test.network.ensureBridge()
        try test.network.ensureBridge()
        let rules = try shell("iptables", "-w", "-t", "nat", "-S", "PODRUN-POSTROUTING").output
        #expect(rules.components(separatedBy: "podrun-network:podrun-test").count == 2)
        #expect(rules.contains("-s 10.201.0.0/24 ! -o podrun-t0"))
        #expect(try NetworkSysctl.read("ipv4/ip_forward") == "1")
        try test.network.removeBridge()
        #expect(!(try shell("iptables", "-w", "-t", "nat", "-S").output.contains("podrun-network:podrun-test")))
    }
}
