import PodrunCore

/// The native bridge network (`--network bridge`). TEMPORARY until the Network target lands.
public struct NativeBridgeNetwork: SandboxNetwork {
    public init(configFile: String?) throws {}

    public func attach(sandboxID: String, netnsPath: String, ports: [String]) throws -> SandboxNetworkAttachment {
        throw PodrunError(.invalidArgument, "the bridge network is not available yet; use --network none or cni")
    }

    public func detach(sandboxID: String, netnsPath: String?, attachment: SandboxNetworkAttachment?) throws {}

    /// Returns addresses of sandboxes that no longer exist to the pool.
    public static func reconcile(liveSandboxes: Set<String>) throws {}
}
