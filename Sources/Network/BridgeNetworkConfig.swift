import FoundationEssentials
import LinuxSys
import PodrunCore

/// The native bridge network's settings, from defaults or a JSON file
/// (`{"name": "podrun", "bridge": "podrun0", "subnet": "10.88.0.0/16", "gateway": "10.88.0.1", "mtu": 1500}`).
public struct BridgeNetworkConfig: Codable, Sendable, Equatable {
    /// The network's name (its state folder).
    public var name: String
    /// The bridge interface.
    public var bridge: String
    /// The pods' subnet in CIDR form.
    public var subnet: String
    /// The bridge's address and the pods' default gateway; the subnet's first host when nil.
    public var gateway: String?
    /// The MTU of the pods' veths; the kernel's default when nil.
    public var mtu: UInt32?
    /// Whether pods' traffic leaving the host is masqueraded (and IPv4 forwarding is turned on); default true.
    public var masquerade: Bool?

    /// The default network: `podrun` on bridge `podrun0` with 10.88.0.0/16.
    public init(name: String = "podrun", bridge: String = "podrun0", subnet: String = "10.88.0.0/16",
                gateway: String? = nil, mtu: UInt32? = nil, masquerade: Bool? = nil) {
        self.name = name
        self.bridge = bridge
        self.subnet = subnet
        self.gateway = gateway
        self.mtu = mtu
        self.masquerade = masquerade
    }

    private enum CodingKeys: String, CodingKey { case name, bridge, subnet, gateway, mtu, masquerade }

    /// Decodes a config; missing fields take the defaults.
    public init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        let defaults = BridgeNetworkConfig()
        name = try container.decodeIfPresent(String.self, forKey: .name) ?? defaults.name
        bridge = try container.decodeIfPresent(String.self, forKey: .bridge) ?? defaults.bridge
        subnet = try container.decodeIfPresent(String.self, forKey: .subnet) ?? defaults.subnet
        gateway = try container.decodeIfPresent(String.self, forKey: .gateway)
        mtu = try container.decodeIfPresent(UInt32.self, forKey: .mtu)
        masquerade = try container.decodeIfPresent(Bool.self, forKey: .masquerade)
    }

    /// Reads a config file.
    public static func load(_ path: String) throws -> BridgeNetworkConfig {
        let bytes = try FileIO.readBytes(path)
        do {
            return try JSONDecoder().decode(BridgeNetworkConfig.self, from: Data(bytes))
        } catch {
            throw PodrunError(.invalidArgument, "invalid bridge network config", path: path, cause: "\(error)")
        }
    }
}
