/// Sets up and tears down a pod's network (the native bridge, CNI plugins, or loopback only).
public protocol SandboxNetwork: Sendable {
    /// Gives the pod whose network namespace is pinned at `netnsPath` its network; `ports` are
    /// `HOST:POD[/proto]` mappings.
    func attach(sandboxID: String, netnsPath: String, ports: [String]) throws -> SandboxNetworkAttachment
    /// Removes what `attach` made (and, with a nil attachment, whatever a killed attach may have left for
    /// this sandbox). Idempotent.
    func detach(sandboxID: String, netnsPath: String?, attachment: SandboxNetworkAttachment?) throws
}

/// The `none` network: loopback only (pause brings `lo` up).
public struct LoopbackOnlyNetwork: SandboxNetwork {
    public init() {}

    public func attach(sandboxID: String, netnsPath: String, ports: [String]) throws -> SandboxNetworkAttachment {
        SandboxNetworkAttachment(mode: "none")
    }

    public func detach(sandboxID: String, netnsPath: String?, attachment: SandboxNetworkAttachment?) throws {}
}
