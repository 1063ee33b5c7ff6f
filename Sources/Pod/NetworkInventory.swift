import CNI
import FoundationEssentials
import LinuxSys
import Network
import PodrunCore

/// One network as `podrun network ls` lists it: a native bridge network with state, or a CNI config list.
public struct NetworkSummary: Codable, Sendable, Equatable {
    /// The network's name.
    public var name: String
    /// `bridge` (native) or `cni`.
    public var driver: String
    /// The bridge interface, when known.
    public var bridge: String?
    /// The pods' subnet, when known.
    public var subnet: String?
    /// The gateway, when known.
    public var gateway: String?
    /// How many addresses are held by sandboxes (native, and CNI with host-local).
    public var addressesInUse: Int?
    /// The plugin types, in order (CNI).
    public var plugins: [String]?
    /// The config list's file (CNI).
    public var file: String?
}

/// One network as `podrun network inspect` shows it: its config and who holds its addresses.
public struct NetworkDetail: Codable, Sendable, Equatable {
    /// The network's name.
    public var name: String
    /// `bridge` (native) or `cni`.
    public var driver: String
    /// The config list's file (CNI).
    public var file: String?
    /// The native config (as recorded at attach) or the CNI config list; null when never recorded.
    public var config: JSONValue
    /// Address -> owner: a sandbox's state folder (native) or its id (CNI with host-local).
    public var allocations: [String: String]
}

/// The networks this host has: native ones with state under `NativeBridgeNetwork.stateRoot` and the CNI
/// config lists of a folder.
public enum NetworkInventory {
    /// Every native network with state, then every CNI config list of `cniConfDirectory` (a missing folder
    /// has none; a file that does not parse is skipped).
    public static func list(cniConfDirectory: String) throws -> [NetworkSummary] {
        var summaries: [NetworkSummary] = []
        let root = NativeBridgeNetwork.stateRoot
        for name in try BridgeNetworkState.names(stateRoot: root) {
            let state = try BridgeNetworkState.load(name: name, stateRoot: root)
            summaries.append(NetworkSummary(name: name, driver: "bridge", bridge: state.config?.bridge,
                                            subnet: state.config?.subnet, gateway: state.config?.gateway,
                                            addressesInUse: state.allocations.count))
        }
        for (file, list) in cniLists(cniConfDirectory) {
            let ipam = hostLocalIPAM(list)
            // host-local takes `ranges` (sets of ranges) or, in older configs, `subnet` in the ipam object.
            let range = ipam?["ranges"]?.arrayValue?.first?.arrayValue?.first?.objectValue ?? ipam
            summaries.append(NetworkSummary(
                name: list.name, driver: "cni", bridge: list.plugins.first { $0.type == "bridge" }?.raw["bridge"]?.stringValue,
                subnet: range?["subnet"]?.stringValue, gateway: range?["gateway"]?.stringValue,
                addressesInUse: ipam.map { _ in hostLocalAllocations(list).count }, plugins: list.plugins.map(\.type), file: file))
        }
        return summaries
    }

    /// The native network `name`, else the CNI config list called `name` in `cniConfDirectory`;
    /// `.notFound` when there is neither.
    public static func inspect(_ name: String, cniConfDirectory: String) throws -> NetworkDetail {
        guard !name.isEmpty, !name.contains("/" as Character), name != ".", name != ".." else {
            throw PodrunError(.invalidArgument, "invalid network name \"\(name)\"")
        }
        let root = NativeBridgeNetwork.stateRoot
        if FileIO.isDirectory(root + "/" + name) {
            let state = try BridgeNetworkState.load(name: name, stateRoot: root)
            return NetworkDetail(name: name, driver: "bridge", file: nil,
                                 config: try state.config.map { try JSONValue(encoding: $0) } ?? .null,
                                 allocations: state.allocations)
        }
        guard let (file, list) = cniLists(cniConfDirectory).first(where: { $0.list.name == name }) else {
            throw PodrunError(.notFound, "no network \(name) (no native network state in \(root), "
                              + "no CNI config list of that name in \(cniConfDirectory))")
        }
        return NetworkDetail(name: name, driver: "cni", file: file, config: try JSONValue(encoding: list),
                             allocations: hostLocalAllocations(list))
    }

    /// The config lists of `directory` that parse, with their files.
    static func cniLists(_ directory: String) -> [(file: String, list: NetworkConfigList)] {
        guard let files = try? NetworkConfigList.configFiles(in: directory) else { return [] }
        return files.compactMap { file in (try? NetworkConfigList.load(file: file)).map { (file, $0) } }
    }

    /// The `ipam` object of the list's first plugin using host-local.
    static func hostLocalIPAM(_ list: NetworkConfigList) -> [String: JSONValue]? {
        list.plugins.lazy.compactMap { $0.raw["ipam"]?.objectValue }.first { $0["type"]?.stringValue == "host-local" }
    }

    /// host-local's allocations for the list (`<dataDir>/<name>/<address>` files whose first line is the
    /// container id); none when it does not use host-local.
    static func hostLocalAllocations(_ list: NetworkConfigList) -> [String: String] {
        guard let ipam = hostLocalIPAM(list) else { return [:] }
        let folder = (ipam["dataDir"]?.stringValue ?? "/var/lib/cni/networks") + "/" + list.name
        var allocations: [String: String] = [:]
        for entry in (try? FileManager.default.contentsOfDirectory(atPath: folder)) ?? [] {
            guard (try? IPv4Address(parsing: entry)) != nil || entry.contains(":" as Character),
                  let text = try? FileIO.readString(folder + "/" + entry) else { continue }
            allocations[entry] = text.split(whereSeparator: \.isNewline).first.map(String.init) ?? ""
        }
        return allocations
    }
}
