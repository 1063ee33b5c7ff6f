import Foundation
import Network
import PodrunCore

/// Runs a program and returns its exit status and its standard output and error together.
@discardableResult
func shell(_ arguments: String...) throws -> (status: Int32, output: String) {
    let process = Process()
    process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
    process.arguments = arguments
    let pipe = Pipe()
    process.standardOutput = pipe
    process.standardError = pipe
    try process.run()
    let data = pipe.fileHandleForReading.readDataToEndOfFile()
    process.waitUntilExit()
    return (process.terminationStatus, String(decoding: data, as: UTF8.self))
}

/// A named network namespace made with `ip netns add` (a test fixture only), deleted by `remove()`.
struct TestNetns {
    let name: String
    var path: String { "/run/netns/" + name }

    init(_ name: String) throws {
        self.name = name
        _ = try? shell("ip", "netns", "del", name)
        let made = try shell("ip", "netns", "add", name)
        guard made.status == 0 else { throw PodrunError(.system, "ip netns add \(name)", cause: made.output) }
    }

    /// Runs a command inside the namespace (as an outside observer would).
    @discardableResult
    func run(_ arguments: String...) throws -> (status: Int32, output: String) {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = ["ip", "netns", "exec", name] + arguments
        let pipe = Pipe()
        process.standardOutput = pipe
        process.standardError = pipe
        try process.run()
        let data = pipe.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        return (process.terminationStatus, String(decoding: data, as: UTF8.self))
    }

    func remove() { _ = try? shell("ip", "netns", "del", name) }
}

/// The test network: its own bridge and subnet, state in a temporary folder.
struct TestNetwork {
    let folder: TemporaryFolder
    let network: BridgeNetwork

    init(masquerade: Bool = false) throws {
        folder = try TemporaryFolder()
        let config = BridgeNetworkConfig(name: "podrun-test", bridge: "podrun-t0", subnet: "10.201.0.0/24",
                                         masquerade: masquerade)
        network = try BridgeNetwork(config: config, stateRoot: folder.path)
    }

    /// Deletes the bridge, the test's iptables rules and the state folder.
    func remove(owners: [String]) {
        for owner in owners { try? network.detach(sandboxID: owner) }
        try? network.removeBridge()
        folder.remove()
    }
}
