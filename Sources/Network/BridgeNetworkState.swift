import FoundationEssentials
import Glibc
import LinuxSys
import PodrunCore

/// A native network as its state folder (`<stateRoot>/<name>/`) records it: the config `attach` wrote to
/// `network.json` and the address pool under `ips/`. What `podrun network ls|inspect` shows.
public struct BridgeNetworkState: Sendable, Equatable {
    /// The network's name (its state folder).
    public var name: String
    /// The recorded config, its gateway filled in; nil for a pool whose config was never recorded.
    public var config: BridgeNetworkConfig?
    /// The addresses in use and their owners (the sandboxes' state folders).
    public var allocations: [String: String]

    /// The file holding a network's config, beside its `ips/` folder.
    public static let configFile = "network.json"

    /// The names of the networks with state under `stateRoot`, sorted; none when it does not exist.
    public static func names(stateRoot: String) throws -> [String] {
        guard FileIO.isDirectory(stateRoot) else { return [] }
        let entries: [String]
        do {
            entries = try FileManager.default.contentsOfDirectory(atPath: stateRoot)
        } catch {
            throw PodrunError(.system, "list networks", path: stateRoot, cause: "\(error)")
        }
        return entries.filter { !$0.hasPrefix(".") && FileIO.isDirectory(stateRoot + "/" + $0) }.sorted()
    }

    /// The state of network `name` under `stateRoot`; `.notFound` when it has none.
    public static func load(name: String, stateRoot: String) throws -> BridgeNetworkState {
        guard !name.isEmpty, !name.contains("/"), name != ".", name != ".." else {
            throw PodrunError(.invalidArgument, "invalid network name \"\(name)\"")
        }
        let directory = stateRoot + "/" + name
        guard FileIO.isDirectory(directory) else { throw PodrunError(.notFound, "no native network \(name)", path: directory) }
        let configPath = directory + "/" + configFile
        let config = FileIO.exists(configPath) ? try BridgeNetworkConfig.load(configPath) : nil
        let ips = directory + "/ips"
        var allocations: [String: String] = [:]
        if FileIO.isDirectory(ips) {
            let found = try NetworkFileLock.withLock(ips + "/" + IPAM.lockFile) { try IPAM.allocations(in: ips) }
            for (address, owner) in found { allocations[address.description] = owner }
        }
        return BridgeNetworkState(name: name, config: config, allocations: allocations)
    }

    /// Records `config` (with `gateway`) as network `config.name`'s, in `directory`, when it is not so already.
    static func record(_ config: BridgeNetworkConfig, gateway: IPv4Address, in directory: String) throws {
        var recorded = config
        recorded.gateway = gateway.description
        let path = directory + "/" + configFile
        if FileIO.exists(path), (try? BridgeNetworkConfig.load(path)) == recorded { return }
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
        let bytes: Data
        do {
            bytes = try encoder.encode(recorded)
        } catch {
            throw PodrunError(.internalError, "encode the network config", path: path, cause: "\(error)")
        }
        try FileIO.writeAtomically(path, Array(bytes), mode: 0o644)
    }
}
