import PodrunCore

/// The result of a CNI `ADD`: the interfaces made, the addresses given, routes and DNS settings.
///
/// The shape is CNI 1.0.0's; results of 0.3.x and 0.4.0 have the same shape (their `ips` also carry a
/// `version`, kept here so that they round-trip), and 0.1.0/0.2.0 results (`ip4`, `ip6`) are converted on
/// decoding. Callers store it (it is Codable) and hand it back to `DEL` and `CHECK` as the `prevResult`.
public struct CNIResult: Sendable, Equatable, Codable {
    /// The CNI version the result was written in.
    public var cniVersion: String
    /// Interfaces created or used, on the host and in the sandbox.
    public var interfaces: [CNIInterface]
    /// Addresses assigned.
    public var ips: [CNIIPConfig]
    /// Routes added.
    public var routes: [CNIRoute]
    /// DNS settings for the sandbox, when a plugin gives any.
    public var dns: CNIDNS?

    /// A result from its parts.
    public init(cniVersion: String, interfaces: [CNIInterface] = [], ips: [CNIIPConfig] = [],
                routes: [CNIRoute] = [], dns: CNIDNS? = nil) {
        self.cniVersion = cniVersion
        self.interfaces = interfaces
        self.ips = ips
        self.routes = routes
        self.dns = dns
    }

    private enum CodingKeys: String, CodingKey {
        case cniVersion, interfaces, ips, routes, dns
    }

    /// The keys of 0.1.0 and 0.2.0 results.
    private enum LegacyKeys: String, CodingKey {
        case ip4, ip6
    }

    /// An 0.1.0/0.2.0 address block (`{"ip": "10.1.0.5/16", "gateway": ..., "routes": [...]}`).
    private struct LegacyIPBlock: Decodable {
        var ip: String
        var gateway: String?
        var routes: [CNIRoute]?
    }

    /// Decodes from JSON; see the type's description for what is accepted.
    public init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        cniVersion = try container.decodeIfPresent(String.self, forKey: .cniVersion) ?? ""
        interfaces = try container.decodeIfPresent([CNIInterface].self, forKey: .interfaces) ?? []
        ips = try container.decodeIfPresent([CNIIPConfig].self, forKey: .ips) ?? []
        routes = try container.decodeIfPresent([CNIRoute].self, forKey: .routes) ?? []
        dns = try container.decodeIfPresent(CNIDNS.self, forKey: .dns)
        let legacy = try decoder.container(keyedBy: LegacyKeys.self)
        for key in [LegacyKeys.ip4, .ip6] {
            guard let block = try legacy.decodeIfPresent(LegacyIPBlock.self, forKey: key) else { continue }
            ips.append(CNIIPConfig(address: block.ip, gateway: block.gateway))
            routes += block.routes ?? []
        }
        if dns == CNIDNS() { dns = nil }
    }

    /// Encodes to JSON.
    public func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: CodingKeys.self)
        try container.encode(cniVersion, forKey: .cniVersion)
        if !interfaces.isEmpty { try container.encode(interfaces, forKey: .interfaces) }
        if !ips.isEmpty { try container.encode(ips, forKey: .ips) }
        if !routes.isEmpty { try container.encode(routes, forKey: .routes) }
        try container.encodeIfPresent(dns, forKey: .dns)
    }

    /// The first IPv4 address (without its prefix length) on an interface inside the sandbox; addresses
    /// that name no interface count as the sandbox's, as plugins that do not make interfaces report them.
    ///
    /// - Parameter ifName: only addresses on the sandbox interface with this name (`eth0`), when given.
    public func firstIPv4InSandbox(ifName: String? = nil) -> String? {
        for ip in ips {
            if let index = ip.interface {
                guard interfaces.indices.contains(index) else { continue }
                let interface = interfaces[index]
                guard let sandbox = interface.sandbox, !sandbox.isEmpty else { continue }
                if let ifName, interface.name != ifName { continue }
            } else if ifName != nil, interfaces.contains(where: { $0.sandbox?.isEmpty == false }) {
                continue
            }
            let address = ip.address.split(separator: "/").first.map(String.init) ?? ip.address
            if !address.contains(":") && address.contains(".") { return address }
        }
        return nil
    }
}

/// An interface in a CNI result.
public struct CNIInterface: Sendable, Equatable, Codable {
    /// The interface's name (`eth0` in the sandbox, `veth1234abcd` on the host).
    public var name: String
    /// The hardware address, when it has one.
    public var mac: String?
    /// The MTU, when the plugin reports it (CNI 1.1).
    public var mtu: Int?
    /// The network namespace path the interface is in; absent for host interfaces.
    public var sandbox: String?

    /// An interface from its parts.
    public init(name: String, mac: String? = nil, mtu: Int? = nil, sandbox: String? = nil) {
        self.name = name
        self.mac = mac
        self.mtu = mtu
        self.sandbox = sandbox
    }
}

/// An address in a CNI result.
public struct CNIIPConfig: Sendable, Equatable, Codable {
    /// The address with its prefix length (`10.202.1.2/24`).
    public var address: String
    /// The default gateway for this subnet, when there is one.
    public var gateway: String?
    /// The index into the result's `interfaces` of the interface holding the address.
    public var interface: Int?
    /// `"4"` or `"6"`, present in 0.3.x and 0.4.0 results only.
    public var version: String?

    /// An address from its parts.
    public init(address: String, gateway: String? = nil, interface: Int? = nil, version: String? = nil) {
        self.address = address
        self.gateway = gateway
        self.interface = interface
        self.version = version
    }
}

/// A route in a CNI result.
public struct CNIRoute: Sendable, Equatable, Codable {
    /// The destination subnet (`0.0.0.0/0`).
    public var dst: String
    /// The next hop; absent means the subnet's gateway.
    public var gw: String?
    /// The route's MTU (CNI 1.1).
    public var mtu: Int?
    /// The route's advertised MSS (CNI 1.1).
    public var advmss: Int?
    /// The route's priority (CNI 1.1).
    public var priority: Int?
    /// The routing table (CNI 1.1).
    public var table: Int?
    /// The route's scope (CNI 1.1).
    public var scope: Int?

    /// A route from its destination and next hop.
    public init(dst: String, gw: String? = nil) {
        self.dst = dst
        self.gw = gw
    }
}

/// DNS settings in a CNI result.
public struct CNIDNS: Sendable, Equatable, Codable {
    /// Name servers, in order of preference.
    public var nameservers: [String]?
    /// The local domain.
    public var domain: String?
    /// Search domains.
    public var search: [String]?
    /// resolv.conf options.
    public var options: [String]?

    /// DNS settings from their parts.
    public init(nameservers: [String]? = nil, domain: String? = nil, search: [String]? = nil, options: [String]? = nil) {
        self.nameservers = nameservers
        self.domain = domain
        self.search = search
        self.options = options
    }
}

/// A plugin's answer to `VERSION`: the CNI versions it speaks.
public struct CNIVersionInfo: Sendable, Equatable, Codable {
    /// The version of this answer.
    public var cniVersion: String
    /// Every version the plugin supports.
    public var supportedVersions: [String]
}

/// The error a plugin writes to stdout when it fails (CNI spec, "Error"): well-known codes 1–11 (1
/// incompatible version, 2 unsupported field, 3 unknown container, 4 invalid environment variables, 5 I/O
/// failure, 6 decoding failure, 7 invalid network config, 11 try again later), 100+ plugin-specific.
public struct CNIErrorResult: Sendable, Equatable, Codable {
    /// The CNI version of the error.
    public var cniVersion: String?
    /// The error code.
    public var code: Int
    /// A short message.
    public var msg: String
    /// A longer description, when the plugin gives one.
    public var details: String?

    /// An error from its parts.
    public init(cniVersion: String? = nil, code: Int, msg: String, details: String? = nil) {
        self.cniVersion = cniVersion
        self.code = code
        self.msg = msg
        self.details = details
    }
}
