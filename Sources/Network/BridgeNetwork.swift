import Glibc
import LinuxSys
import PodrunCore

/// The native bridge network of pod sandboxes: a Linux bridge holding the gateway address, one veth per
/// pod (host end on the bridge, the other end the pod's `eth0` with an address from the pool and a default
/// route via the gateway), and published ports through iptables. State (address pool, lock, and the config
/// as `network.json`, for `podrun network ls`) is kept in `<stateRoot>/<name>/`.
public struct BridgeNetwork: Sendable {
    /// The settings.
    public let config: BridgeNetworkConfig
    /// The pods' subnet.
    public let subnet: IPv4Subnet
    /// The bridge's address and the pods' gateway.
    public let gateway: IPv4Address
    /// The address pool.
    public let ipam: IPAM
    /// The published ports.
    public let forwarder: PortForwarder
    /// This network's state folder.
    public let directory: String

    /// The name of the pod's interface.
    public static let podInterface = "eth0"

    /// What `attach` made.
    public struct Attachment: Sendable, Equatable {
        /// The pod's address.
        public var address: IPv4Address
        /// The prefix length of the pod's address.
        public var prefixLength: Int
        /// The pod's gateway.
        public var gateway: IPv4Address
        /// The MAC of the pod's interface.
        public var mac: String
        /// The pod's interface.
        public var podInterface: String
        /// The host end of the veth.
        public var hostInterface: String
        /// The published ports.
        public var ports: [PortMapping]
    }

    /// The network `config` describes, with its state under `stateRoot` (created when missing). Checks the
    /// config; changes nothing on the host.
    public init(config: BridgeNetworkConfig, stateRoot: String, forwarder: PortForwarder = PortForwarder()) throws {
        guard !config.name.isEmpty, !config.name.contains("/"), config.name != ".", config.name != ".." else {
            throw PodrunError(.invalidArgument, "invalid network name \"\(config.name)\"")
        }
        try InterfaceName.validate(config.bridge)
        let subnet = try IPv4Subnet(parsing: config.subnet)
        let gateway = try config.gateway.map { try IPv4Address(parsing: $0) } ?? subnet.firstHost
        if let mtu = config.mtu, !(68...65535).contains(mtu) {
            throw PodrunError(.invalidArgument, "invalid MTU \(mtu) (68 to 65535)")
        }
        self.config = config
        self.subnet = subnet
        self.gateway = gateway
        self.directory = stateRoot + "/" + config.name
        self.ipam = try IPAM(directory: directory + "/ips", subnet: subnet, gateway: gateway)
        self.forwarder = forwarder
    }

    /// The host end's name for `sandboxID`: `veth` and 11 hex digits of a hash of the id (15 characters).
    public static func hostInterfaceName(sandboxID: String) -> String {
        var hash = StableHash.fnv1a64(sandboxID)
        // FNV's last multiply barely reaches the top bits the name keeps: mix them (splitmix64's finaliser).
        hash = (hash ^ (hash >> 30)) &* 0xbf58_476d_1ce4_e5b9
        hash = (hash ^ (hash >> 27)) &* 0x94d0_49bb_1331_11eb
        hash ^= hash >> 31
        var hex = String(hash, radix: 16)
        hex = String(repeating: "0", count: max(0, 16 - hex.count)) + hex
        return "veth" + hex.prefix(11)
    }

    /// Makes the bridge with the gateway address and brings it up, when it is not so already; safe against
    /// other processes doing the same. Returns the bridge.
    @discardableResult
    public func ensureBridge() throws -> Link {
        try withNetworkLock { try ensureBridgeLocked() }
    }

    /// Runs `body` holding the network's lock: the bridge is made, given ports and removed under it, so a pod
    /// being attached never finds its bridge deleted by the last pod's detach.
    func withNetworkLock<T>(_ body: () throws -> T) throws -> T {
        try NetworkFileLock.withLock(directory + "/network.lock", body)
    }

    private func ensureBridgeLocked() throws -> Link {
        try BridgeNetworkState.record(config, gateway: gateway, in: directory)
        let socket = try NetlinkSocket()
        var found = try socket.link(named: config.bridge)
        // iptables costs tens of milliseconds a call: the masquerade rule is made when this bridge is made
        // (after a reboot, in a fresh network namespace) and otherwise only while the marker saying it was
        // made is missing (a podrun killed between the two).
        let marker = directory + "/masquerade-ready"
        var created = false
        if found == nil {
            _ = unlink(marker)
            created = true
            do {
                try socket.createBridge(named: config.bridge)
            } catch let error as PodrunError where error.errno == EEXIST {
                // Made by someone else in between.
            }
            found = try socket.link(named: config.bridge)
        }
        guard let bridge = found else {
            throw PodrunError(.system, "bridge \(config.bridge) vanished after its creation")
        }
        guard bridge.kind == "bridge" else {
            throw PodrunError(.alreadyExists, "interface \(config.bridge) exists and is not a bridge")
        }
        let addresses = try socket.addresses(index: bridge.index)
        if !addresses.contains(where: { $0.address == gateway && $0.prefixLength == subnet.prefixLength }) {
            do {
                try socket.addAddress(index: bridge.index, gateway, prefixLength: subnet.prefixLength,
                                      broadcast: subnet.broadcast)
            } catch let error as PodrunError where error.errno == EEXIST {}
        }
        if !bridge.isUp { try socket.setUp(index: bridge.index) }
        // 127.0.0.1:HOST reaches a published port only with route_localnet on the way out (the bridge).
        try NetworkSysctl.write("ipv4/conf/\(config.bridge)/route_localnet", "1")
        if config.masquerade ?? true {
            if try NetworkSysctl.read("ipv4/ip_forward") != "1" { try NetworkSysctl.write("ipv4/ip_forward", "1") }
            if created || access(marker, F_OK) != 0 {
                try forwarder.ensureOutboundMasquerade(subnet: subnet, bridge: config.bridge, network: config.name)
                try FileIO.writeAtomically(marker, Array("\(config.bridge)\n".utf8), mode: 0o644)
            }
        }
        return bridge
    }

    /// Connects the pod whose network namespace is pinned at `netnsPath` (`ports` are `HOST:POD[/proto]`).
    /// On failure everything done is undone.
    public func attach(sandboxID: String, netnsPath: String, ports: [String]) throws -> Attachment {
        let mappings = try ports.map { try PortMapping(parsing: $0) }
        guard !sandboxID.isEmpty, !sandboxID.contains(where: { $0.isWhitespace || $0 == "\"" }) else {
            throw PodrunError(.invalidArgument, "invalid sandbox id \"\(sandboxID)\"")
        }
        guard FileIO.exists(netnsPath) else { throw PodrunError(.notFound, "no network namespace", path: netnsPath) }
        return try withNetworkLock { try attachLocked(sandboxID: sandboxID, netnsPath: netnsPath, mappings: mappings) }
    }

    private func attachLocked(sandboxID: String, netnsPath: String, mappings: [PortMapping]) throws -> Attachment {
        let bridge = try ensureBridgeLocked()
        let address = try ipam.allocate(owner: sandboxID)
        let hostName = BridgeNetwork.hostInterfaceName(sandboxID: sandboxID)
        var vethMade = false, portsAdded = false
        do {
            let socket = try NetlinkSocket()
            try socket.deleteLink(named: hostName)  // a leftover of a killed attach of this sandbox
            let netnsFD = try NetworkNamespace.open(netnsPath)
            defer { close(netnsFD) }
            try socket.createVethPair(named: hostName, peerName: BridgeNetwork.podInterface, peerNetnsFD: netnsFD,
                                      mtu: config.mtu)
            vethMade = true
            guard let host = try socket.link(named: hostName) else {
                throw PodrunError(.system, "veth \(hostName) vanished after its creation")
            }
            try NetworkSysctl.disableIPv6(hostName)
            try socket.setMaster(index: host.index, masterIndex: bridge.index)
            try socket.setUp(index: host.index)
            let mac = try NetworkNamespace.run(in: netnsPath) { () throws -> String in
                let pod = try NetlinkSocket()
                guard let eth0 = try pod.link(named: BridgeNetwork.podInterface) else {
                    throw PodrunError(.system, "the pod's \(BridgeNetwork.podInterface) is missing after its creation")
                }
                try NetworkSysctl.disableIPv6(BridgeNetwork.podInterface)
                try pod.addAddress(index: eth0.index, address, prefixLength: subnet.prefixLength, broadcast: subnet.broadcast)
                try pod.setUp(index: eth0.index)
                if let lo = try pod.link(named: "lo"), !lo.isUp { try pod.setUp(index: lo.index) }
                try pod.addDefaultRoute(via: gateway, index: eth0.index)
                return eth0.macText
            }
            portsAdded = !mappings.isEmpty
            try forwarder.add(mappings, podAddress: address, owner: sandboxID)
            return Attachment(address: address, prefixLength: subnet.prefixLength, gateway: gateway, mac: mac,
                              podInterface: BridgeNetwork.podInterface, hostInterface: hostName, ports: mappings)
        } catch {
            if portsAdded { try? forwarder.remove(owner: sandboxID) }
            if vethMade { _ = try? NetlinkSocket().deleteLink(named: hostName) }
            try? ipam.release(owner: sandboxID)
            throw error
        }
    }

    /// Disconnects the pod of `sandboxID`: its published ports, its veth (both ends) and its address.
    /// Idempotent: what is not there is skipped.
    /// The bridge goes with its last port, so that removing the last pod leaves nothing behind.
    public func detach(sandboxID: String, removePorts: Bool = true) throws {
        if removePorts { try forwarder.remove(owner: sandboxID) }
        try withNetworkLock {
            let socket = try NetlinkSocket()
            try socket.deleteLink(named: BridgeNetwork.hostInterfaceName(sandboxID: sandboxID))
            try ipam.release(owner: sandboxID)
            // Other pods hold addresses: the bridge stays, and the ports need no listing (a dump of every link,
            // which grows with the pods).
            if try !ipam.hasAllocations(), let bridge = try socket.link(named: config.bridge),
               try socket.links(master: bridge.index).isEmpty {
                try removeBridge()
            }
        }
    }

    /// Releases the addresses and published ports of sandboxes not in `liveOwners`, in every network whose
    /// state is under `stateRoot`.
    public static func reconcile(stateRoot: String, liveOwners: Set<String>,
                                 forwarder: PortForwarder = PortForwarder()) throws {
        if FileIO.isDirectory(stateRoot) {
            for name in try directoryEntries(stateRoot) {
                try IPAM.reconcile(directory: stateRoot + "/" + name + "/ips", liveOwners: liveOwners)
            }
        }
        try forwarder.reconcile(liveOwners: liveOwners)
    }

    /// Frees the addresses and published ports of owners for which `isLive` is false, in every pool under
    /// `stateRoot`.
    public static func reconcile(stateRoot: String, isLive: (String) -> Bool,
                                 forwarder: PortForwarder = PortForwarder()) throws {
        var released: Set<String> = []
        if FileIO.isDirectory(stateRoot) {
            for name in try directoryEntries(stateRoot) {
                released.formUnion(try IPAM.reconcile(directory: stateRoot + "/" + name + "/ips", isLive: isLive))
            }
        }
        try forwarder.reconcile(isLive: isLive)
        // The veth goes with its pod's namespace, but only once nothing holds that namespace any more.
        let socket = try NetlinkSocket()
        for owner in released { try socket.deleteLink(named: hostInterfaceName(sandboxID: owner)) }
        // A bridge whose last pod was freed here goes too, as it does with the last detach.
        for name in try BridgeNetworkState.names(stateRoot: stateRoot) {
            guard let config = try? BridgeNetworkState.load(name: name, stateRoot: stateRoot).config,
                  let network = try? BridgeNetwork(config: config, stateRoot: stateRoot, forwarder: forwarder) else { continue }
            try network.withNetworkLock {
                if let bridge = try socket.link(named: config.bridge), try socket.links(master: bridge.index).isEmpty,
                   try network.ipam.allocations().isEmpty {
                    try network.removeBridge()
                }
            }
        }
    }

    /// Deletes the bridge (pods' veths on it lose their port) and this network's outbound rule; for tests and
    /// clean-up. Nothing to do when it is gone.
    public func removeBridge() throws {
        try NetlinkSocket().deleteLink(named: config.bridge)
        try forwarder.removeOutboundMasquerade(network: config.name)
        _ = unlink(directory + "/masquerade-ready")
    }

    private static func directoryEntries(_ path: String) throws -> [String] {
        guard let dir = opendir(path) else { throw PodrunError.system("open folder", path: path) }
        defer { closedir(dir) }
        var names: [String] = []
        while let entry = readdir(dir) {
            let name = withUnsafeBytes(of: entry.pointee.d_name) { raw in
                String(decoding: raw.prefix { $0 != 0 }, as: UTF8.self)
            }
            if name != "." && name != ".." { names.append(name) }
        }
        return names
    }
}
