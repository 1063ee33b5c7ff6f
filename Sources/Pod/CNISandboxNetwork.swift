import CNI
import LinuxSys
import PodrunCore

/// A pod network made by real CNI plugins from a network config list (`--network cni`).
public struct CNISandboxNetwork: SandboxNetwork {
    /// The plugins and their config.
    public let network: CNINetwork
    /// The folder holding the sandboxes' state folders (absolute, as `SandboxStore` makes it).
    public let sandboxStore: String
    /// Where each attachment is recorded until its `DEL`, for `podrun gc`.
    public let ledger: CNIAttachmentLedger

    /// The network of `confDirectory` (the first config file, or the one called `name`), with plugins
    /// looked up in `binDirectories`, for the sandboxes of `sandboxStore`.
    public init(confDirectory: String, name: String? = nil, binDirectories: [String], sandboxStore: String,
                ledger: CNIAttachmentLedger = CNIAttachmentLedger(stateRoot: NativeBridgeNetwork.stateRoot)) throws {
        network = CNINetwork(config: try NetworkConfigList.load(directory: confDirectory, name: name),
                             runner: CNIPluginRunner(binDirectories: binDirectories))
        self.sandboxStore = sandboxStore
        self.ledger = ledger
    }

    public func attach(sandboxID: String, netnsPath: String, ports: [String]) throws -> SandboxNetworkAttachment {
        let mappings = try ports.map(Self.mapping)
        // Recorded before ADD: a podrun killed during it leaves an entry for gc, not an unknown lease.
        var record = CNIAttachmentLedger.Entry(owner: sandboxStore + "/" + sandboxID, containerID: sandboxID, ifName: "eth0",
                                              config: network.config, binDirectories: network.runner.binDirectories,
                                              ports: ports, result: nil)
        try ledger.record(record)
        let result: CNIResult
        do {
            result = try network.add(containerID: sandboxID, netnsPath: netnsPath, portMappings: mappings)
        } catch {
            // A failed ADD has run DEL for every plugin already.
            try? ledger.remove(owner: record.owner)
            throw error
        }
        record.result = result
        try ledger.record(record)
        let ip = CNINetwork.podIP(of: result, ifName: "eth0")
        // The result's addresses are in CIDR form (`10.22.0.5/16`), as the native bridge records them too.
        let entry = result.ips.first { $0.address == ip || $0.address.hasPrefix((ip ?? "") + "/") }
        let interface = entry?.interface.flatMap { result.interfaces.indices.contains($0) ? result.interfaces[$0] : nil }
        return SandboxNetworkAttachment(
            mode: "cni", network: network.config.name, ip: entry?.address ?? ip, gateway: entry?.gateway,
            mac: interface?.mac, interface: interface?.name ?? "eth0", hostInterface: Self.hostEnd(of: result),
            ports: ports.isEmpty ? nil : ports,
            detail: String(decoding: try JSONCoding.encode(result, what: "CNI result"), as: UTF8.self))
    }

    public func detach(sandboxID: String, netnsPath: String?, attachment: SandboxNetworkAttachment?) throws {
        let previous = try attachment?.detail.map {
            try JSONCoding.decode(CNIResult.self, from: Array($0.utf8), what: "stored CNI result")
        }
        try network.delete(containerID: sandboxID, netnsPath: netnsPath, prevResult: previous,
                           portMappings: try (attachment?.ports ?? []).map(Self.mapping))
        try ledger.remove(owner: sandboxStore + "/" + sandboxID)
    }

    /// The host end of the pod's link: the last interface of the result outside the sandbox that is not a
    /// bridge (the bridge plugin lists the bridge first, then the veth's host end).
    static func hostEnd(of result: CNIResult) -> String? {
        let onHost = result.interfaces.filter { $0.sandbox == nil || $0.sandbox?.isEmpty == true }
        let notBridges = onHost.filter { !FileIO.isDirectory("/sys/class/net/\($0.name)/bridge") }
        return (notBridges.last ?? onHost.last)?.name
    }

    /// `HOST:POD[/tcp|udp]` as a CNI port mapping.
    static func mapping(_ text: String) throws -> PortMapping {
        let parts = text.split(separator: "/", maxSplits: 1).map(String.init)
        let ports = parts[0].split(separator: ":").compactMap { Int($0) }
        let proto = parts.count > 1 ? parts[1] : "tcp"
        guard ports.count == 2, ports.allSatisfy({ (1...65535).contains($0) }), proto == "tcp" || proto == "udp" else {
            throw PodrunError(.invalidArgument, "a published port is HOSTPORT:PODPORT[/tcp|udp], not \(text)", path: "--publish")
        }
        return PortMapping(hostPort: ports[0], containerPort: ports[1], protocol: proto)
    }
}
