/// The status of a container, as the runtime-spec names it.
public enum ContainerStatus: String, Codable, Sendable {
    case creating, created, running, stopped, paused
}

/// The runtime-spec state of a container: what `state` prints (with runc's extra fields) and what hooks
/// read on stdin.
public struct State: Codable, Sendable, Equatable {
    public var ociVersion: String
    public var id: String
    public var status: ContainerStatus
    public var pid: Int32?
    public var bundle: String
    public var rootfs: String?
    public var created: String?
    public var owner: String?
    public var annotations: [String: String]?

    public init(ociVersion: String = Spec.currentVersion, id: String, status: ContainerStatus, pid: Int32? = nil,
                bundle: String, rootfs: String? = nil, created: String? = nil, owner: String? = nil,
                annotations: [String: String]? = nil) {
        self.ociVersion = ociVersion
        self.id = id
        self.status = status
        self.pid = pid
        self.bundle = bundle
        self.rootfs = rootfs
        self.created = created
        self.owner = owner
        self.annotations = annotations
    }
}
