import Foundation
import Glibc
import Testing

/// The networks the integration tests attach pods to, never the default `podrun0`: a native bridge network
/// `podrun-it` (bridge `podrun-it0`, 10.203.0.0/16) and a CNI network `podrun-it-cni` (bridge `podrun-cni0`,
/// 10.204.0.0/16, Debian's plugins). Every test of a run shares them: their address pools are locked, so
/// parallel tests are a concurrency test too. The bridges stay after the run (like the busybox fixture);
/// everything a test's pods get (addresses, veths, NAT rules) is checked for leaks after each test.
enum TestNetwork {
    /// The native network's name (its state folder under `stateRoot`).
    static let name = "podrun-it"
    /// The native network's bridge.
    static let bridge = "podrun-it0"
    /// The native network's subnet and gateway.
    static let subnetPrefix = "10.203."
    static let gateway = "10.203.0.1"

    /// The CNI network's name, bridge, subnet and gateway.
    static let cniName = "podrun-it-cni"
    static let cniBridge = "podrun-cni0"
    static let cniSubnetPrefix = "10.204."
    static let cniGateway = "10.204.0.1"
    /// host-local's state, shared by every test (one pool for one subnet).
    static let cniIPAMDirectory = TestEnvironment.temporaryBase + "/cni-ipam"

    /// Where podrun keeps native network state (podrun runs with the tests' environment).
    static let stateRoot: String = {
        if let value = ProcessInfo.processInfo.environment["PODRUN_NETWORK_STATE"], !value.isEmpty { return value }
        return "/var/lib/podrun/networks"
    }()

    /// The native network's address pool.
    static var ipsDirectory: String { stateRoot + "/" + name + "/ips" }

    /// The native network's config file, written once per run (atomically: parallel `swift test` runs write
    /// the same bytes).
    static let configFile: Result<String, HarnessError> = {
        let path = TestEnvironment.temporaryBase + "/network-it.json"
        let text = #"{"name": "podrun-it", "bridge": "podrun-it0", "subnet": "10.203.0.0/16", "masquerade": false}"#
        do {
            try FileManager.default.createDirectory(atPath: TestEnvironment.temporaryBase, withIntermediateDirectories: true)
            // A temporary file and a rename (Foundation's `.atomic` leaves an empty TemporaryDirectory.* in /tmp).
            let temporary = path + ".\(getpid())"
            try Data(text.utf8).write(to: URL(fileURLWithPath: temporary))
            guard rename(temporary, path) == 0 else { throw HarnessError("rename to \(path): errno \(errno)") }
            return .success(path)
        } catch {
            return .failure(HarnessError("cannot write \(path): \(error)"))
        }
    }()

    /// Writes the CNI network's config list into `directory` (bridge, host-local, portmap); returns the folder.
    static func writeCNIConfig(in directory: String) throws -> String {
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        let text = """
            {"cniVersion": "1.0.0", "name": "\(cniName)", "plugins": [
              {"type": "bridge", "bridge": "\(cniBridge)", "isGateway": true, "ipMasq": false,
               "ipam": {"type": "host-local", "ranges": [[{"subnet": "10.204.0.0/16"}]],
                        "routes": [{"dst": "0.0.0.0/0"}], "dataDir": "\(cniIPAMDirectory)"}},
              {"type": "portmap", "capabilities": {"portMappings": true}, "snat": true}
            ]}
            """
        try Data(text.utf8).write(to: URL(fileURLWithPath: directory + "/10-podrun-it.conflist"))
        return directory
    }

    /// Deletes the CNI bridge when no interface is left on it (the bridge plugin makes it and never removes it).
    static func removeIdleCNIBridge() {
        guard linkExists(cniBridge), bridgePorts(cniBridge).isEmpty else { return }
        _ = try? runCommandSync("/usr/sbin/ip", ["link", "delete", cniBridge])
    }

    /// Whether the CNI tests can run: Debian's plugins are installed.
    static var cniPluginsInstalled: Bool {
        ["bridge", "host-local", "portmap"].allSatisfy { FileManager.default.isExecutableFile(atPath: "/usr/lib/cni/" + $0) }
    }

    // MARK: what is on the host now

    /// The native pools' allocations (every network under `stateRoot`): address file path and owner.
    static func nativeAllocations() -> [(file: String, owner: String)] {
        var found: [(String, String)] = []
        for network in (try? FileManager.default.contentsOfDirectory(atPath: stateRoot)) ?? [] {
            let ips = stateRoot + "/" + network + "/ips"
            for entry in (try? FileManager.default.contentsOfDirectory(atPath: ips)) ?? [] where entry.first?.isNumber == true {
                found.append((ips + "/" + entry, readText(ips + "/" + entry)))
            }
        }
        return found
    }

    /// host-local's allocations of the CNI test network: address file path and container id (its first line).
    static func cniAllocations() -> [(file: String, containerID: String)] {
        let folder = cniIPAMDirectory + "/" + cniName
        return ((try? FileManager.default.contentsOfDirectory(atPath: folder)) ?? []).filter { $0.first?.isNumber == true }
            .map { (folder + "/" + $0, readText(folder + "/" + $0).split(whereSeparator: \.isNewline).first.map(String.init) ?? "") }
    }

    /// podrun's record of each CNI attachment (kept for `gc` until its DEL): file path and owner folder.
    static func cniLedgerEntries() -> [(file: String, owner: String)] {
        let folder = stateRoot + "/cni-attachments"
        return ((try? FileManager.default.contentsOfDirectory(atPath: folder)) ?? []).compactMap { name in
            let path = folder + "/" + name
            guard let data = FileManager.default.contents(atPath: path),
                  let object = try? JSONSerialization.jsonObject(with: data) as? [String: Any] else { return nil }
            return (path, object["owner"] as? String ?? "")
        }
    }

    /// The nat table as `iptables -t nat -S` prints it (one rule a line); empty when iptables is missing.
    static func natRules() -> [String] {
        guard let output = try? captureOutput("/usr/bin/env", ["iptables", "-w", "-t", "nat", "-S"]) else { return [] }
        return output.split(separator: "\n").map(String.init).filter { $0.hasPrefix("-A ") }
    }

    /// Whether a network interface of that name exists on the host.
    static func linkExists(_ name: String) -> Bool {
        FileManager.default.fileExists(atPath: "/sys/class/net/" + name)
    }

    /// The interfaces attached to bridge `bridge`.
    static func bridgePorts(_ bridge: String) -> [String] {
        (try? FileManager.default.contentsOfDirectory(atPath: "/sys/class/net/\(bridge)/brif")) ?? []
    }
}

/// Runs a program and returns its standard output; throws when it does not exit 0.
func captureOutput(_ executable: String, _ arguments: [String]) throws -> String {
    let process = Process()
    process.executableURL = URL(fileURLWithPath: executable)
    process.arguments = arguments
    let pipe = Pipe()
    process.standardOutput = pipe
    process.standardError = FileHandle.nullDevice
    process.standardInput = FileHandle.nullDevice
    try process.run()
    let data = pipe.fileHandleForReading.readDataToEndOfFile()
    process.waitUntilExit()
    guard process.terminationStatus == 0 else { throw HarnessError("\(executable) \(arguments) exited \(process.terminationStatus)") }
    return String(decoding: data, as: UTF8.self)
}

extension Harness {
    /// The owner key of the test's sandbox `id` in the native network (its state folder).
    func networkOwner(_ id: String) -> String { stateDirectory + "/.sandboxes/" + id }

    /// NAT rules of the test's sandboxes: native ones (comment `podrun:<owner>` with the test's state folder)
    /// and portmap's (comment naming the sandbox id, unique to the test).
    func natRulesOfTest() -> [String] {
        let ids = sandboxes
        return TestNetwork.natRules().filter { rule in
            rule.contains(stateDirectory + "/") || ids.contains { rule.contains($0) }
        }
    }

    /// The network state the test's sandboxes left: native and host-local address files, host veths seen in
    /// `sandbox inspect`, NAT rules.
    func leakedNetworkState() -> [String] {
        var found: [String] = []
        for (file, owner) in TestNetwork.nativeAllocations() where owner.hasPrefix(stateDirectory + "/") {
            found.append("address \(file) held by \(owner)")
        }
        let ids = Set(sandboxes)
        for (file, id) in TestNetwork.cniAllocations() where ids.contains(id) {
            found.append("CNI address \(file) held by \(id)")
        }
        for (file, owner) in TestNetwork.cniLedgerEntries() where owner.hasPrefix(stateDirectory + "/") {
            found.append("CNI attachment record \(file) of \(owner)")
        }
        for name in hostInterfaces where TestNetwork.linkExists(name) {
            found.append("host interface \(name)")
        }
        for rule in natRulesOfTest() {
            found.append("nat rule \(rule)")
        }
        return found
    }

    /// Removes what `leakedNetworkState` finds.
    func removeLeakedNetworkState() {
        for (file, owner) in TestNetwork.nativeAllocations() where owner.hasPrefix(stateDirectory + "/") {
            unlink(file)
        }
        let ids = Set(sandboxes)
        for (file, id) in TestNetwork.cniAllocations() where ids.contains(id) {
            unlink(file)
        }
        for (file, owner) in TestNetwork.cniLedgerEntries() where owner.hasPrefix(stateDirectory + "/") {
            unlink(file)
        }
        for name in hostInterfaces where TestNetwork.linkExists(name) {
            _ = try? runCommandSync("/usr/bin/env", ["ip", "link", "del", name])
        }
        for rule in natRulesOfTest() {
            // `iptables -S` prints rules shell-quoted: hand the line to sh with -A turned into -D.
            _ = try? runCommandSync("/bin/sh", ["-c", "iptables -w -t nat -D " + rule.dropFirst(3)])
        }
    }
}
