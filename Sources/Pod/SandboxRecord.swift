/// What podrun keeps about one pod sandbox (`<root>/.sandboxes/<id>/sandbox.json`), written before each step
/// of `sandbox create` so that `rm` and `gc` know what a killed create left.
public struct SandboxRecord: Codable, Sendable, Equatable {
    /// The sandbox's id.
    public var id: String
    /// The pod's hostname.
    public var hostname: String
    /// When the sandbox was created (RFC 3339).
    public var created: String
    /// Labels given at create.
    public var labels: [String: String]
    /// Whether the pod shares one pid namespace (pause is its PID 1).
    public var sharePid: Bool
    /// The pod's network and its configuration.
    public var networkChoice: NetworkChoice
    /// The podrun process making the sandbox, while `complete` is false.
    public var creatorPid: Int32
    /// Whether create finished.
    public var complete: Bool = false
    /// Whether `stop` ran (containers stopped, pause ended, network released).
    public var stopped: Bool = false
    /// The pause process and its start time.
    public var pausePid: Int32?
    public var pauseStartTime: UInt64?
    /// The pinned namespace files, by kind (`network`, `ipc`, `uts`, `pid`).
    public var namespaces: [String: String] = [:]
    /// The sandbox's cgroup path and its folder per hierarchy mount point.
    public var cgroupPath: String?
    public var cgroupDirectories: [String: String]?
    /// The sandbox's data folder in the store (volumes).
    public var dataDirectory: String?
    /// Volumes by name: folders made with the sandbox and removed with it.
    public var volumes: [String: String] = [:]
    /// The pod's `/dev/shm`: a tmpfs under the sandbox's state folder that every container of the pod binds,
    /// so POSIX shared memory is shared like the ipc namespace's SysV objects.
    public var shm: String?
    /// The pod's network, once set up.
    public var network: SandboxNetworkAttachment?
    /// True once `stop` released the network (remove then leaves it be: a second release would look for the
    /// pod's address in every allocation, as for an address without an index).
    public var networkReleased: Bool?

    /// A record of a sandbox being created.
    public init(id: String, hostname: String, created: String, labels: [String: String], sharePid: Bool,
                networkChoice: NetworkChoice, creatorPid: Int32) {
        self.id = id
        self.hostname = hostname
        self.created = created
        self.labels = labels
        self.sharePid = sharePid
        self.networkChoice = networkChoice
        self.creatorPid = creatorPid
    }
}

/// A pod's network identity as the network set-up reported it.
public struct SandboxNetworkAttachment: Codable, Sendable, Equatable {
    /// `none`, `bridge` or `cni`.
    public var mode: String
    /// The network's name.
    public var network: String?
    /// The pod's address with its prefix (`10.88.0.2/16`).
    public var ip: String?
    /// The gateway.
    public var gateway: String?
    /// The MAC of the pod's interface.
    public var mac: String?
    /// The pod's interface (`eth0`).
    public var interface: String?
    /// The host end of the pod's veth.
    public var hostInterface: String?
    /// Published ports (`8080:80/tcp`).
    public var ports: [String]?
    /// The network implementation's own state (a CNI result, say), as JSON text.
    public var detail: String?

    /// An attachment with the given fields.
    public init(mode: String, network: String? = nil, ip: String? = nil, gateway: String? = nil, mac: String? = nil,
                interface: String? = nil, hostInterface: String? = nil, ports: [String]? = nil, detail: String? = nil) {
        self.mode = mode
        self.network = network
        self.ip = ip
        self.gateway = gateway
        self.mac = mac
        self.interface = interface
        self.hostInterface = hostInterface
        self.ports = ports
        self.detail = detail
    }
}

/// What `sandbox inspect` and `sandbox ls` show.
public struct SandboxStatus: Codable, Sendable, Equatable {
    /// `Ready` (pause alive), `NotReady` (pause gone or stopped) or `Creating`.
    public var state: String
    /// The sandbox's record.
    public var sandbox: SandboxRecord
    /// The ids of the containers in the sandbox, with their status.
    public var containers: [String: String]
}

/// One row of `sandbox ls --format json`.
public struct SandboxSummary: Codable, Sendable, Equatable {
    public var id: String
    /// `Ready`, `NotReady` or `Creating`.
    public var state: String
    public var hostname: String
    /// The pod's address with its prefix, when it has a network.
    public var ip: String?
    /// `none`, `bridge` or `cni`.
    public var network: String
    /// The ids of the sandbox's containers.
    public var containers: [String]
    public var created: String
    public var labels: [String: String]
    public var pausePid: Int32?

    /// The summary of `status`.
    public init(_ status: SandboxStatus) {
        id = status.sandbox.id
        state = status.state
        hostname = status.sandbox.hostname
        ip = status.sandbox.network?.ip
        network = status.sandbox.networkChoice.mode
        containers = status.containers.keys.sorted()
        created = status.sandbox.created
        labels = status.sandbox.labels
        pausePid = status.sandbox.pausePid
    }
}
