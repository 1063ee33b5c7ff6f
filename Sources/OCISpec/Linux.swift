/// The Linux-specific part of a container's configuration (`linux`).
public struct Linux: Codable, Sendable, Equatable {
    public var uidMappings: [LinuxIDMapping]?
    public var gidMappings: [LinuxIDMapping]?
    public var sysctl: [String: String]?
    public var resources: LinuxResources?
    public var cgroupsPath: String?
    public var namespaces: [LinuxNamespace]?
    public var devices: [LinuxDevice]?
    public var seccomp: LinuxSeccomp?
    public var rootfsPropagation: String?
    public var maskedPaths: [String]?
    public var readonlyPaths: [String]?
    public var mountLabel: String?
    public var personality: LinuxPersonality?
    /// Offsets of the container's time namespace clocks, by clock (`monotonic`, `boottime`).
    public var timeOffsets: [String: LinuxTimeOffset]?

    public init(uidMappings: [LinuxIDMapping]? = nil, gidMappings: [LinuxIDMapping]? = nil,
                sysctl: [String: String]? = nil, resources: LinuxResources? = nil, cgroupsPath: String? = nil,
                namespaces: [LinuxNamespace]? = nil, devices: [LinuxDevice]? = nil, seccomp: LinuxSeccomp? = nil,
                rootfsPropagation: String? = nil, maskedPaths: [String]? = nil, readonlyPaths: [String]? = nil,
                mountLabel: String? = nil, personality: LinuxPersonality? = nil,
                timeOffsets: [String: LinuxTimeOffset]? = nil) {
        self.uidMappings = uidMappings
        self.gidMappings = gidMappings
        self.sysctl = sysctl
        self.resources = resources
        self.cgroupsPath = cgroupsPath
        self.namespaces = namespaces
        self.devices = devices
        self.seccomp = seccomp
        self.rootfsPropagation = rootfsPropagation
        self.maskedPaths = maskedPaths
        self.readonlyPaths = readonlyPaths
        self.mountLabel = mountLabel
        self.personality = personality
        self.timeOffsets = timeOffsets
    }
}

/// The kinds of Linux namespace a container can have (`linux.namespaces[].type`).
public enum LinuxNamespaceType: String, Codable, Sendable, CaseIterable {
    case pid, network, mount, ipc, uts, user, cgroup, time
}

/// One namespace: a new one, or the one at `path` to join.
public struct LinuxNamespace: Codable, Sendable, Equatable {
    public var type: LinuxNamespaceType
    public var path: String?

    public init(type: LinuxNamespaceType, path: String? = nil) {
        self.type = type
        self.path = path
    }
}

/// A range of user or group ids mapped into a user namespace.
public struct LinuxIDMapping: Codable, Sendable, Equatable {
    public var containerID: UInt32
    public var hostID: UInt32
    public var size: UInt32

    public init(containerID: UInt32, hostID: UInt32, size: UInt32) {
        self.containerID = containerID
        self.hostID = hostID
        self.size = size
    }
}

/// A device node to create in the container (`linux.devices[]`); `type` is `c`, `b`, `u` or `p`.
public struct LinuxDevice: Codable, Sendable, Equatable {
    public var path: String
    public var type: String
    public var major: Int64?
    public var minor: Int64?
    public var fileMode: UInt32?
    public var uid: UInt32?
    public var gid: UInt32?

    public init(path: String, type: String, major: Int64? = nil, minor: Int64? = nil, fileMode: UInt32? = nil,
                uid: UInt32? = nil, gid: UInt32? = nil) {
        self.path = path
        self.type = type
        self.major = major
        self.minor = minor
        self.fileMode = fileMode
        self.uid = uid
        self.gid = gid
    }
}

/// An offset of one clock in a time namespace.
public struct LinuxTimeOffset: Codable, Sendable, Equatable {
    public var secs: Int64?
    public var nanosecs: UInt32?

    public init(secs: Int64? = nil, nanosecs: UInt32? = nil) {
        self.secs = secs
        self.nanosecs = nanosecs
    }
}

/// The process' execution domain (`linux.personality`).
public struct LinuxPersonality: Codable, Sendable, Equatable {
    public var domain: String
    public var flags: [String]?

    public init(domain: String, flags: [String]? = nil) {
        self.domain = domain
        self.flags = flags
    }
}
