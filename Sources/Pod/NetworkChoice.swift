import PodrunCore

/// Which network a sandbox uses and where its configuration is, kept in the sandbox's record so that
/// `stop`, `rm` and `gc` tear down with the same implementation.
public struct NetworkChoice: Codable, Sendable, Equatable {
    /// `none`, `bridge` or `cni`.
    public var mode: String
    /// The CNI network name (default: the first config list), or the native network config file.
    public var name: String?
    /// Where CNI network config lists are.
    public var cniConfDirectory: String
    /// Where CNI plugins are.
    public var cniBinDirectories: [String]

    /// A choice with the given fields.
    public init(mode: String, name: String? = nil, cniConfDirectory: String = "/etc/cni/net.d",
                cniBinDirectories: [String] = ["/usr/lib/cni", "/opt/cni/bin"]) {
        self.mode = mode
        self.name = name
        self.cniConfDirectory = cniConfDirectory
        self.cniBinDirectories = cniBinDirectories
    }

    /// The implementation of this choice for the sandboxes whose state folders are in `sandboxStore`.
    public func make(sandboxStore: String) throws -> any SandboxNetwork {
        switch mode {
        case "none": return LoopbackOnlyNetwork()
        case "cni":
            return try CNISandboxNetwork(confDirectory: cniConfDirectory, name: name, binDirectories: cniBinDirectories,
                                         sandboxStore: sandboxStore)
        case "bridge": return try NativeBridgeNetwork(configFile: name, sandboxStore: sandboxStore)
        default: throw PodrunError(.invalidArgument, "unknown network \(mode) (none, bridge or cni)", path: "--network")
        }
    }
}
