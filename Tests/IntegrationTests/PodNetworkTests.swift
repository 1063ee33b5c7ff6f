import Foundation
import Glibc
import Testing

/// Which network a test pod joins.
enum PodNetworkMode: Sendable, CustomStringConvertible {
    /// The native bridge network `podrun-it`.
    case bridge
    /// The CNI network `podrun-it-cni`, its config list in the folder given.
    case cni(String)

    /// The `sandbox create` flags.
    func flags() throws -> [String] {
        switch self {
        case .bridge: return ["--network", "bridge", "--network-name", try TestNetwork.configFile.get()]
        case .cni(let folder): return ["--network", "cni", "--cni-conf-dir", folder]
        }
    }

    var description: String {
        switch self {
        case .bridge: return "bridge"
        case .cni: return "cni"
        }
    }
}

/// A networked test pod, as `sandbox inspect` shows it.
struct NetworkedPod {
    /// The sandbox id.
    let id: String
    /// The `sandbox.network` object.
    let network: [String: Any]
    /// The pinned network namespace.
    let netns: String

    /// The pod's address without its prefix length.
    var ip: String { (network["ip"] as? String ?? "").split(separator: "/").first.map(String.init) ?? "" }
    /// The host end of the pod's veth.
    var hostInterface: String { network["hostInterface"] as? String ?? "" }
}

extension Harness {
    /// `sandbox create --name ID` on a test network with `arguments`; returns the pod as inspect shows it and
    /// remembers its host interface for the leak checks.
    func createNetworkedSandbox(_ mode: PodNetworkMode, _ arguments: [String] = [], label: String = "net",
                                sourceLocation: SourceLocation = #_sourceLocation) async throws -> NetworkedPod {
        let id = newSandboxID(label)
        let result = try await runtime(["sandbox", "create", "--name", id] + (try mode.flags()) + arguments,
                                       globalFlags: ["--store", imageStore], timeout: .seconds(180))
        guard result.succeeded, result.output == id else {
            Issue.record("sandbox create failed: \(result)", sourceLocation: sourceLocation)
            throw HarnessError("sandbox create failed")
        }
        return try await networkedPod(id, sourceLocation: sourceLocation)
    }

    /// Sandbox `id` as inspect shows it; remembers its host interface.
    func networkedPod(_ id: String, sourceLocation: SourceLocation = #_sourceLocation) async throws -> NetworkedPod {
        let sandbox = try await inspectSandbox(id, sourceLocation: sourceLocation)["sandbox"] as? [String: Any] ?? [:]
        let network = sandbox["network"] as? [String: Any] ?? [:]
        if let host = network["hostInterface"] as? String, !host.isEmpty { rememberHostInterface(host) }
        let netns = (sandbox["namespaces"] as? [String: String])?["net"] ?? ""
        return NetworkedPod(id: id, network: network, netns: netns)
    }

    /// Starts busybox httpd on `port` in pod `pod`, serving `index.html` holding `text`.
    func serve(_ text: String, in pod: String, port: Int = 80) async throws {
        _ = try await startInSandbox(pod, podContainer(
            "mkdir -p /dev/shm/www && echo \(text) > /dev/shm/www/index.html && exec httpd -f -p \(port) -h /dev/shm/www"),
            label: "httpd")
    }

    /// What `curl` on the host fetches from `url` once it answers (nil when it never does within 20 s).
    func fetchFromHost(_ url: String, expecting text: String) async throws -> String? {
        var last: String?
        _ = try await waitUntil(timeout: .seconds(20)) {
            let result = try await self.host("/usr/bin/curl", ["-s", "--max-time", "3", url])
            last = result.succeeded ? result.output : nil
            return last == text
        }
        return last
    }
}

extension Harness {
    /// Makes sandbox `id` look as a reboot that wiped its state folder leaves it: pause killed, its pinned
    /// namespaces unmounted, the folder moved aside (returned: put it back for `sandbox rm` to remove the rest).
    func moveSandboxStateAway(_ id: String, sourceLocation: SourceLocation = #_sourceLocation) async throws -> String {
        let owner = networkOwner(id)
        let pausePID = Int32((try await inspectSandbox(id)["sandbox"] as? [String: Any])?["pausePid"] as? Int ?? 0)
        guard pausePID > 0 else { throw HarnessError("sandbox \(id) shows no pause pid") }  // kill(0) is the group
        kill(pausePID, SIGKILL)
        for point in MountTable.current().map(\.mountPoint) where point.hasPrefix(owner + "/") {
            umount2(point, Int32(MNT_DETACH))
        }
        let aside = tempDirectory + "/state-aside-" + id
        #expect(rename(owner, aside) == 0, "moving the state away: errno \(errno)", sourceLocation: sourceLocation)
        return aside
    }
}

/// A pod container running `script` (the pod's hostname).
func podContainer(_ script: String) -> ContainerConfig {
    var config = ContainerConfig.shell(script)
    config.hostname = nil
    return config
}

/// A shell loop fetching `url` with busybox wget until it answers (at most ~40 tries). busybox 1.35's
/// `wget -T` crashes (SIGSEGV), so `timeout` bounds each try.
func wgetLoop(_ url: String) -> String {
    "for i in $(seq 1 40); do timeout 3 wget -q -O - \(url) 2>/dev/null && break; sleep 0.5; done"
}

/// A random high port, unlikely to clash with parallel tests.
func randomHostPort() -> Int { Int.random(in: 30000...45000) }

private var networkTestsEnabled: Bool {
    !TestEnvironment.isRunc && FileManager.default.isExecutableFile(atPath: "/usr/bin/curl")
}

@Suite("pod networks: native bridge and CNI, addresses, reachability, published ports, leaks",
       .enabled(if: networkTestsEnabled, "podrun's sandbox networks (and curl on the host)"))
struct PodNetworkTests {
    // MARK: native bridge

    @Test func twoBridgePodsReachEachOtherAndTheHostReachesThem() async throws {
        try await withHarness { h in
            try await checkTwoPodsAndHost(h, mode: .bridge, subnetPrefix: TestNetwork.subnetPrefix,
                                          gateway: TestNetwork.gateway, bridge: TestNetwork.bridge)
        }
    }

    @Test func bridgeNetworkIsIPv4OnlyOnBothEndsOfTheVethButLoopbackKeepsIPv6() async throws {
        try await withHarness { h in
            // As Docker does for a network without an IPv6 subnet: no link-local address, so no duplicate address
            // detection, listener reports or router solicitations flooded by the bridge to every pod.
            let pod = try await h.createNetworkedSandbox(.bridge)
            let inside = try await h.outputInSandbox(pod.id, podContainer(
                "cat /proc/sys/net/ipv6/conf/eth0/disable_ipv6; awk '{print $6}' /proc/net/if_inet6 | sort -u"))
            #expect(inside == "1\nlo", "eth0's disable_ipv6, then the interfaces with an IPv6 address: \(inside)")
            let host = try String(contentsOfFile: "/proc/sys/net/ipv6/conf/\(pod.hostInterface)/disable_ipv6",
                                  encoding: .utf8)
            #expect(host.trimmingCharacters(in: .whitespacesAndNewlines) == "1", "the host end \(pod.hostInterface)")
            try await h.podrunSucceeds(["sandbox", "rm", "--force", pod.id])
        }
    }

    @Test func publishedPortOnLoopbackReachesABridgePodAndGoesWithIt() async throws {
        try await withHarness { h in
            let port = randomHostPort()
            let pod = try await h.createNetworkedSandbox(.bridge, ["-p", "\(port):80"])
            #expect(pod.network["ports"] as? [String] == ["\(port):80/tcp"], "\(pod.network)")
            let owner = h.networkOwner(pod.id)
            let rules = TestNetwork.natRules().filter { $0.contains("podrun:" + owner) }
            #expect(rules.contains { $0.contains("--dport \(port)") && $0.contains("DNAT") }, "\(rules)")
            try await h.serve("published-\(pod.id)", in: pod.id)
            let fetched = try await h.fetchFromHost("http://127.0.0.1:\(port)/index.html", expecting: "published-\(pod.id)")
            #expect(fetched == "published-\(pod.id)")
            try await h.podrunSucceeds(["sandbox", "rm", "--force", pod.id])
            #expect(TestNetwork.natRules().filter { $0.contains("podrun:" + owner) }.isEmpty, "the pod's rules went with it")
            let after = try await h.host("/usr/bin/curl", ["-s", "--max-time", "3", "http://127.0.0.1:\(port)/index.html"])
            #expect(!after.succeeded, "the port still answers after rm: \(after)")
            #expect(!TestNetwork.linkExists(pod.hostInterface))
        }
    }

    @Test func fiftyPodsCreatedAtOnceGetDistinctAddressesAndReachTheGateway() async throws {
        try await withHarness { h in
            try await checkFiftyPods(h, mode: .bridge)
        }
    }

    @Test(arguments: ["sandbox-namespaces", "sandbox-network"])
    func bridgeCreateKilledMidwayLeavesNoNetworkAfterGC(step: String) async throws {
        try await withHarness { h in
            let id = h.newSandboxID("crash")
            let port = randomHostPort()
            let killed = try await h.runtime(["sandbox", "create", "--name", id, "-p", "\(port):80"] + (try PodNetworkMode.bridge.flags()),
                                             globalFlags: ["--store", h.imageStore], environment: ["PODRUN_FAILPOINT": step])
            #expect(killed.status == 128 + SIGKILL, "the fail point kills podrun: \(killed)")
            let pod = try await h.networkedPod(id)
            let owner = h.networkOwner(id)
            if step == "sandbox-network" {
                // The attach finished before the kill: there is something for gc to free.
                #expect(TestNetwork.linkExists(pod.hostInterface), "\(pod.network)")
                #expect(TestNetwork.nativeAllocations().contains { $0.owner == owner })
                #expect(TestNetwork.natRules().contains { $0.contains("podrun:" + owner) })
            }
            try await h.podrunSucceeds(["gc"])
            #expect(h.sandboxRemains(id).isEmpty, "\(h.sandboxRemains(id))")
            #expect(h.leakedNetworkState().isEmpty, "\(step): \(h.leakedNetworkState())")
        }
    }

    @Test func bridgeNetworkWithMasqueradeComesUpOnAHostWithoutPodrunChains() async throws {
        try await withHarness { h in
            // A private network namespace is a fresh host: no bridge, no PODRUN chains, forwarding off.
            let config = h.tempDirectory + "/fresh.json"
            try Data(#"{"name": "podrun-it-fresh", "bridge": "podrun-itf0", "subnet": "10.205.0.0/16"}"#.utf8)
                .write(to: URL(fileURLWithPath: config))
            let id = h.newSandboxID("fresh")
            let podrun = "\(TestEnvironment.binary) --root \(h.stateDirectory) --store \(h.imageStore)"
            let script = "ip link set lo up && \(podrun) sandbox create --name \(id) --network bridge --network-name \(config) "
                + "&& iptables -w -t nat -S && cat /proc/sys/net/ipv4/ip_forward && \(podrun) sandbox rm \(id) && echo removed"
            let result = try await h.host("/usr/bin/unshare", ["-n", "/bin/sh", "-c", script], timeout: .seconds(60))
            #expect(result.succeeded && result.output.hasSuffix("1\nremoved"), "\(result)")
            #expect(result.stdout.contains("-A PODRUN-POSTROUTING -s 10.205.0.0/16 ! -o podrun-itf0"), "\(result.stdout)")
            #expect(result.stdout.contains("-A POSTROUTING -j PODRUN-POSTROUTING"), "\(result.stdout)")
        }
    }

    @Test func stopReleasesTheAddressAndVethAndRmAfterItLeavesNothing() async throws {
        try await withHarness { h in
            let pod = try await h.createNetworkedSandbox(.bridge)
            let owner = h.networkOwner(pod.id)
            #expect(TestNetwork.nativeAllocations().contains { $0.owner == owner })
            try await h.podrunSucceeds(["sandbox", "stop", pod.id])
            #expect(try await h.inspectSandbox(pod.id)["state"] as? String == "NotReady")
            #expect(!TestNetwork.nativeAllocations().contains { $0.owner == owner }, "stop returned the address")
            #expect(!TestNetwork.linkExists(pod.hostInterface), "stop removed the veth")
            // The stopped pod's record keeps its network's description; rm does not release it a second time.
            try await h.podrunSucceeds(["sandbox", "rm", pod.id])
            #expect(h.sandboxRemains(pod.id).isEmpty, "\(h.sandboxRemains(pod.id))")
            #expect(!TestNetwork.nativeAllocations().contains { $0.owner == owner })
        }
    }

    @Test func gcReturnsTheAddressAndPortsOfASandboxWhoseStateIsGone() async throws {
        try await withHarness { h in
            let port = randomHostPort()
            let pod = try await h.createNetworkedSandbox(.bridge, ["-p", "\(port):80"])
            let owner = h.networkOwner(pod.id)
            #expect(TestNetwork.nativeAllocations().contains { $0.owner == owner })
            #expect(TestNetwork.natRules().contains { $0.contains(owner) })
            // What a reboot that wiped the state folder leaves: no pause, no namespaces, no state, but the
            // address file and the port rules, which live elsewhere.
            let aside = try await h.moveSandboxStateAway(pod.id)
            try await h.podrunSucceeds(["gc"])
            #expect(!TestNetwork.nativeAllocations().contains { $0.owner == owner }, "the address came back to the pool")
            #expect(!TestNetwork.natRules().contains { $0.contains(owner) }, "the port rules went")
            #expect(!TestNetwork.linkExists(pod.hostInterface), "the veth went with the namespace")
            // Put the state back so that rm removes the rest (cgroup, volumes) as it would after a real reboot.
            #expect(rename(aside, owner) == 0)
            try await h.podrunSucceeds(["sandbox", "rm", "--force", pod.id])
        }
    }

}

/// The CNI tests share the bridge the plugins make (`podrun-cni0`): they run one at a time, and each removes it
/// when no pod is left on it, as the last `sandbox rm` does for the native bridge.
@Suite("pod networks in CNI mode (Debian's plugins)", .serialized,
       .enabled(if: networkTestsEnabled && TestNetwork.cniPluginsInstalled, "podrun's CNI mode and Debian's plugins"))
struct PodCNINetworkTests {
    @Test(.enabled(if: TestNetwork.cniPluginsInstalled, "needs containernetworking-plugins in /usr/lib/cni"))
    func fiftyCNIPodsCreatedAtOnceGetDistinctAddressesAndReachTheGateway() async throws {
        defer { TestNetwork.removeIdleCNIBridge() }
        try await withHarness { h in
            try await checkFiftyPods(h, mode: .cni(try TestNetwork.writeCNIConfig(in: h.tempDirectory + "/cni")))
        }
    }

    // MARK: podrun network

    @Test(.enabled(if: TestNetwork.cniPluginsInstalled, "needs containernetworking-plugins in /usr/lib/cni"))
    func networkLsAndInspectShowConfigsAndWhoHoldsTheAddresses() async throws {
        defer { TestNetwork.removeIdleCNIBridge() }
        try await withHarness { h in
            let folder = try TestNetwork.writeCNIConfig(in: h.tempDirectory + "/cni")
            let native = try await h.createNetworkedSandbox(.bridge)
            let cni = try await h.createNetworkedSandbox(.cni(folder))

            let listed = try await h.podrunSucceeds(["network", "ls", "--format", "json", "--cni-conf-dir", folder])
            let entries = parseJSON(listed.stdout) as? [[String: Any]] ?? []
            let it = entries.first { $0["name"] as? String == TestNetwork.name }
            #expect(it?["driver"] as? String == "bridge" && it?["bridge"] as? String == TestNetwork.bridge, "\(listed.stdout)")
            #expect(it?["subnet"] as? String == "10.203.0.0/16" && it?["gateway"] as? String == TestNetwork.gateway)
            #expect((it?["addressesInUse"] as? Int ?? 0) >= 1)
            let itCNI = entries.first { $0["name"] as? String == TestNetwork.cniName }
            #expect(itCNI?["driver"] as? String == "cni" && itCNI?["plugins"] as? [String] == ["bridge", "portmap"], "\(listed.stdout)")
            #expect(itCNI?["bridge"] as? String == TestNetwork.cniBridge && itCNI?["subnet"] as? String == "10.204.0.0/16")
            let table = try await h.podrunSucceeds(["network", "ls", "--cni-conf-dir", folder])
            #expect(table.stdout.hasPrefix("NAME") && table.stdout.contains(TestNetwork.name + " ")
                    && table.stdout.contains(TestNetwork.cniName + " "), "\(table.stdout)")

            let inspected = try await h.podrunSucceeds(["network", "inspect", TestNetwork.name])
            let object = parseJSON(inspected.stdout) as? [String: Any] ?? [:]
            #expect((object["config"] as? [String: Any])?["bridge"] as? String == TestNetwork.bridge, "\(inspected.stdout)")
            #expect((object["allocations"] as? [String: String])?[native.ip] == h.networkOwner(native.id), "\(inspected.stdout)")
            let inspectedCNI = try await h.podrunSucceeds(["network", "inspect", "--cni-conf-dir", folder, TestNetwork.cniName])
            let cniObject = parseJSON(inspectedCNI.stdout) as? [String: Any] ?? [:]
            #expect(cniObject["driver"] as? String == "cni", "\(inspectedCNI.stdout)")
            #expect((cniObject["allocations"] as? [String: String])?[cni.ip] == cni.id, "\(inspectedCNI.stdout)")

            for bad in ["no-such-network", "../up"] {
                let refused = try await h.podrun(["network", "inspect", "--cni-conf-dir", folder, bad])
                #expect(refused.status != 0 && (refused.stderr.contains("no network") || refused.stderr.contains("invalid")),
                        "\(refused)")
            }
            try await h.podrunSucceeds(["sandbox", "rm", native.id, cni.id])
            let after = try await h.podrunSucceeds(["network", "inspect", TestNetwork.name])
            #expect((parseJSON(after.stdout) as? [String: Any]).flatMap { $0["allocations"] as? [String: String] }?[native.ip] == nil,
                    "the address went back to the pool: \(after.stdout)")
        }
    }

    // MARK: CNI

    @Test(.enabled(if: TestNetwork.cniPluginsInstalled, "needs containernetworking-plugins in /usr/lib/cni"))
    func twoCNIPodsReachEachOtherAndTheHostReachesThem() async throws {
        defer { TestNetwork.removeIdleCNIBridge() }
        try await withHarness { h in
            let folder = try TestNetwork.writeCNIConfig(in: h.tempDirectory + "/cni")
            try await checkTwoPodsAndHost(h, mode: .cni(folder), subnetPrefix: TestNetwork.cniSubnetPrefix,
                                          gateway: TestNetwork.cniGateway, bridge: TestNetwork.cniBridge)
        }
    }

    @Test(.enabled(if: TestNetwork.cniPluginsInstalled, "needs containernetworking-plugins in /usr/lib/cni"))
    func publishedPortThroughPortmapReachesACNIPodAndGoesWithIt() async throws {
        defer { TestNetwork.removeIdleCNIBridge() }
        try await withHarness { h in
            let folder = try TestNetwork.writeCNIConfig(in: h.tempDirectory + "/cni")
            let port = randomHostPort()
            let pod = try await h.createNetworkedSandbox(.cni(folder), ["-p", "\(port):80"])
            #expect(TestNetwork.natRules().contains { $0.contains(pod.id) && $0.contains("\(port)") },
                    "portmap made a rule for the pod")
            try await h.serve("portmap-\(pod.id)", in: pod.id)
            let fetched = try await h.fetchFromHost("http://127.0.0.1:\(port)/index.html", expecting: "portmap-\(pod.id)")
            #expect(fetched == "portmap-\(pod.id)")
            try await h.podrunSucceeds(["sandbox", "rm", "--force", pod.id])
            #expect(TestNetwork.natRules().filter { $0.contains(pod.id) }.isEmpty, "portmap's rules went with the pod")
            #expect(!TestNetwork.cniAllocations().contains { $0.containerID == pod.id })
            #expect(!TestNetwork.linkExists(pod.hostInterface))
        }
    }

    @Test(.enabled(if: TestNetwork.cniPluginsInstalled, "needs containernetworking-plugins in /usr/lib/cni"))
    func gcReleasesTheCNILeaseAndPortsOfASandboxWhoseStateIsGone() async throws {
        defer { TestNetwork.removeIdleCNIBridge() }
        try await withHarness { h in
            let folder = try TestNetwork.writeCNIConfig(in: h.tempDirectory + "/cni")
            let port = randomHostPort()
            let pod = try await h.createNetworkedSandbox(.cni(folder), ["-p", "\(port):80"])
            let owner = h.networkOwner(pod.id)
            #expect(TestNetwork.cniAllocations().contains { $0.containerID == pod.id })
            #expect(TestNetwork.cniLedgerEntries().contains { $0.owner == owner }, "the attachment is recorded for gc")
            // What a reboot that wiped the state folder leaves: host-local's lease file and portmap's rules.
            let aside = try await h.moveSandboxStateAway(pod.id)
            let gc = try await h.podrunSucceeds(["gc"])
            #expect(gc.stdout.contains(pod.id), "\(gc)")
            #expect(!TestNetwork.cniAllocations().contains { $0.containerID == pod.id }, "the lease was released")
            #expect(TestNetwork.natRules().filter { $0.contains(pod.id) }.isEmpty, "portmap's rules went")
            #expect(!TestNetwork.cniLedgerEntries().contains { $0.owner == owner }, "the record went")
            let again = try await h.podrunSucceeds(["gc"])
            #expect(!again.stdout.contains(pod.id), "a second gc has nothing to release: \(again)")
            // Put the state back so that rm removes the rest (cgroup, volumes) as it would after a real reboot.
            #expect(rename(aside, owner) == 0)
            try await h.podrunSucceeds(["sandbox", "rm", "--force", pod.id])
        }
    }

    @Test(.enabled(if: TestNetwork.cniPluginsInstalled, "needs containernetworking-plugins in /usr/lib/cni"))
    func cniCreateKilledAfterTheAttachLeavesNothingAfterGC() async throws {
        defer { TestNetwork.removeIdleCNIBridge() }
        try await withHarness { h in
            let folder = try TestNetwork.writeCNIConfig(in: h.tempDirectory + "/cni")
            let id = h.newSandboxID("crash")
            let killed = try await h.runtime(["sandbox", "create", "--name", id] + (try PodNetworkMode.cni(folder).flags()),
                                             globalFlags: ["--store", h.imageStore],
                                             environment: ["PODRUN_FAILPOINT": "sandbox-network"])
            #expect(killed.status == 128 + SIGKILL, "the fail point kills podrun: \(killed)")
            let pod = try await h.networkedPod(id)
            #expect(TestNetwork.linkExists(pod.hostInterface), "\(pod.network)")
            #expect(TestNetwork.cniAllocations().contains { $0.containerID == id })
            try await h.podrunSucceeds(["gc"])
            #expect(h.sandboxRemains(id).isEmpty, "\(h.sandboxRemains(id))")
            #expect(h.leakedNetworkState().isEmpty, "\(h.leakedNetworkState())")
        }
    }
}

/// Two pods on `mode`'s network: inspect shows their addresses, the pod's `eth0` has them, one pod fetches
/// from the other's httpd by IP, the host fetches from a pod; `sandbox rm` takes veths and addresses.
private func checkTwoPodsAndHost(_ h: Harness, mode: PodNetworkMode, subnetPrefix: String, gateway: String,
                                 bridge: String) async throws {
    let server = try await h.createNetworkedSandbox(mode, label: "srv")
    let client = try await h.createNetworkedSandbox(mode, label: "cli")
    for pod in [server, client] {
        let network = pod.network
        #expect(network["mode"] as? String == "\(mode)")
        #expect((network["ip"] as? String)?.hasPrefix(subnetPrefix) == true && (network["ip"] as? String)?.hasSuffix("/16") == true,
                "\(network)")
        #expect(network["gateway"] as? String == gateway, "\(network)")
        #expect(network["interface"] as? String == "eth0", "\(network)")
        let mac = network["mac"] as? String ?? ""
        #expect(mac.split(separator: ":").count == 6, "\(network)")
        #expect(TestNetwork.bridgePorts(bridge).contains(pod.hostInterface), "host end on \(bridge): \(network)")
        let inside = try await h.outputInSandbox(pod.id, podContainer("ip -4 -o addr show eth0; cat /sys/class/net/eth0/address"))
        #expect(inside.contains("inet \(network["ip"] as? String ?? "?") "), "\(inside)")
        #expect(inside.hasSuffix(mac), "\(inside)")
    }
    #expect(server.ip != client.ip)

    try await h.serve("hello-from-\(server.id)", in: server.id)
    let fetched = try await h.outputInSandbox(client.id, podContainer(wgetLoop("http://\(server.ip)/index.html")))
    #expect(fetched == "hello-from-\(server.id)", "pod to pod by IP")
    let fromHost = try await h.fetchFromHost("http://\(server.ip)/index.html", expecting: "hello-from-\(server.id)")
    #expect(fromHost == "hello-from-\(server.id)", "host to pod")

    try await h.podrunSucceeds(["sandbox", "rm", "--force", server.id, client.id])
    for pod in [server, client] {
        #expect(!TestNetwork.linkExists(pod.hostInterface), "veth \(pod.hostInterface) left")
        #expect(h.sandboxRemains(pod.id).isEmpty, "\(h.sandboxRemains(pod.id))")
    }
    #expect(h.leakedNetworkState().isEmpty, "\(h.leakedNetworkState())")
}

/// 50 pods of `mode` created at once: distinct addresses, veths on the bridge, each reaches a listener on the
/// gateway from its own network namespace; after rm no veth and no address of theirs is left.
private func checkFiftyPods(_ h: Harness, mode: PodNetworkMode) async throws {
    let (prefix, gateway, bridge): (String, String, String)
    switch mode {
    case .bridge: (prefix, gateway, bridge) = (TestNetwork.subnetPrefix, TestNetwork.gateway, TestNetwork.bridge)
    case .cni: (prefix, gateway, bridge) = (TestNetwork.cniSubnetPrefix, TestNetwork.cniGateway, TestNetwork.cniBridge)
    }
    func ownedAddresses() -> Int {
        switch mode {
        case .bridge: return TestNetwork.nativeAllocations().filter { $0.owner.hasPrefix(h.stateDirectory + "/") }.count
        case .cni: return TestNetwork.cniAllocations().filter { h.sandboxes.contains($0.containerID) }.count
        }
    }
        let count = 50
        let ids = try await withThrowingTaskGroup(of: String.self) { group in
            for _ in 0..<count {
                group.addTask { try await h.createNetworkedSandbox(mode, label: "many").id }
            }
            return try await group.reduce(into: [String]()) { $0.append($1) }
        }
        var pods: [NetworkedPod] = []
        for id in ids { pods.append(try await h.networkedPod(id)) }
        let addresses = pods.map(\.ip)
        #expect(Set(addresses).count == count, "addresses handed out twice: \(addresses.sorted())")
        #expect(addresses.allSatisfy { $0.hasPrefix(prefix) && $0 != gateway })
        #expect(Set(pods.map(\.hostInterface)).count == count)
        let ports = Set(TestNetwork.bridgePorts(bridge))
        #expect(pods.allSatisfy { ports.contains($0.hostInterface) }, "every veth is on \(bridge)")
        #expect(ownedAddresses() == count, "one address file per pod")

        // A listener on the gateway address; every pod fetches from it through its own namespace.
        let www = try h.makeHostDirectory("gateway-www")
        try Data("gateway-ok\n".utf8).write(to: URL(fileURLWithPath: www + "/ok"))
        let port = randomHostPort()
        _ = try h.startHostProcess("/usr/bin/busybox", ["httpd", "-f", "-p", "\(gateway):\(port)", "-h", www])
        let url = "http://\(gateway):\(port)/ok"
        #expect(try await h.fetchFromHost(url, expecting: "gateway-ok") == "gateway-ok")
        let answers = try await withThrowingTaskGroup(of: (String, String).self) { group in
            for (id, netns) in pods.map({ ($0.id, $0.netns) }) {
                group.addTask {
                    let result = try await h.host("/usr/bin/nsenter", ["--net=" + netns, "/usr/bin/busybox", "sh", "-c",
                                                                       wgetLoop(url)], timeout: .seconds(60))
                    return (id, result.output)
                }
            }
            return try await group.reduce(into: [String: String]()) { $0[$1.0] = $1.1 }
        }
        let silent = answers.filter { $0.value != "gateway-ok" }
        #expect(answers.count == count && silent.isEmpty, "pods that did not reach the gateway: \(silent)")

        try await withThrowingTaskGroup(of: Void.self) { group in
            for id in ids { group.addTask { try await h.podrunSucceeds(["sandbox", "rm", id]) } }
            try await group.waitForAll()
        }
        let left = Set(TestNetwork.bridgePorts(bridge)).intersection(pods.map(\.hostInterface))
        #expect(left.isEmpty, "veths left on the bridge: \(left)")
        #expect(ownedAddresses() == 0, "addresses not back in the pool")
}
