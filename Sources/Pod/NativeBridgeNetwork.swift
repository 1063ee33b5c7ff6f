import Glibc
import Network
import PodrunCore

/// The native bridge network (`--network bridge`): an adapter over `BridgeNetwork`. Its state (address
/// pools) is kept under `$PODRUN_NETWORK_STATE`, else `/var/lib/podrun/networks`: the bridge and its subnet
/// are the host's, whatever `--root` a podrun runs with.
///
/// A pod's address, veth name and port rules belong to its *owner key*, the path of its sandbox's state
/// folder (`<root>/.sandboxes/<id>`): unique on the host even when two roots have a sandbox of the same id, and
/// live exactly while that folder exists, so `reconcile` needs no list of sandboxes and never frees the
/// address of another root's pod.
public struct NativeBridgeNetwork: SandboxNetwork {
    /// The network.
    public let network: BridgeNetwork
    /// The folder holding the sandboxes' state folders (absolute, as `SandboxStore` makes it).
    public let sandboxStore: String

    /// Where the native networks keep their state.
    public static var stateRoot: String {
        if let value = getenv("PODRUN_NETWORK_STATE").map({ String(cString: $0) }), !value.isEmpty { return value }
        return "/var/lib/podrun/networks"
    }

    /// The default network (`podrun` on `podrun0`, 10.88.0.0/16), or the one a JSON config file describes.
    public init(configFile: String?, sandboxStore: String) throws {
        self.sandboxStore = sandboxStore
        let config = try configFile.map { try BridgeNetworkConfig.load($0) } ?? BridgeNetworkConfig()
        network = try BridgeNetwork(config: config, stateRoot: NativeBridgeNetwork.stateRoot)
    }

    /// Connects the pod to the bridge: `eth0` with an address from the pool, a default route, published ports.
    public func attach(sandboxID: String, netnsPath: String, ports: [String]) throws -> SandboxNetworkAttachment {
        let made = try network.attach(sandboxID: owner(sandboxID), netnsPath: netnsPath, ports: ports)
        return SandboxNetworkAttachment(mode: "bridge", network: network.config.name,
                                        ip: "\(made.address)/\(made.prefixLength)", gateway: made.gateway.description,
                                        mac: made.mac, interface: made.podInterface, hostInterface: made.hostInterface,
                                        ports: made.ports.map(\.description))
    }

    /// Removes the pod's published ports, veth and address; idempotent.
    public func detach(sandboxID: String, netnsPath: String?, attachment: SandboxNetworkAttachment?) throws {
        // With a recorded attachment and no ports, there are no iptables rules to look for.
        let hadPorts = attachment.map { !($0.ports ?? []).isEmpty || $0.ip == nil } ?? true
        try network.detach(sandboxID: owner(sandboxID), removePorts: hadPorts)
    }

    /// The owner key of sandbox `id`.
    func owner(_ id: String) -> String { sandboxStore + "/" + id }

    /// Returns to the pool the addresses, and removes the published ports, of sandboxes whose state folder
    /// is gone (in any root: after a crash, or a reboot that wiped `/run`).
    public static func reconcile() throws {
        try BridgeNetwork.reconcile(stateRoot: stateRoot, isLive: { owner in
            !owner.hasPrefix("/") || access(owner, F_OK) == 0
        })
    }
}
