/// The OCI runtime-spec 1.2 configuration (`config.json`) of a container.
///
/// The Swift names mirror the Go types of `opencontainers/runtime-spec/specs-go` (without their package
/// prefix) and the property names are the JSON keys, so the spec text reads straight onto this code.
public struct Spec: Codable, Sendable, Equatable {
    public var ociVersion: String
    public var process: Process?
    public var root: Root?
    public var hostname: String?
    public var domainname: String?
    public var mounts: [Mount]?
    public var hooks: Hooks?
    public var annotations: [String: String]?
    public var linux: Linux?

    public init(ociVersion: String = Spec.currentVersion, process: Process? = nil, root: Root? = nil,
                hostname: String? = nil, domainname: String? = nil, mounts: [Mount]? = nil, hooks: Hooks? = nil,
                annotations: [String: String]? = nil, linux: Linux? = nil) {
        self.ociVersion = ociVersion
        self.process = process
        self.root = root
        self.hostname = hostname
        self.domainname = domainname
        self.mounts = mounts
        self.hooks = hooks
        self.annotations = annotations
        self.linux = linux
    }

    /// The runtime-spec version podrun writes and implements.
    public static let currentVersion = "1.2.0"
}

/// The container's process (`process`).
public struct Process: Codable, Sendable, Equatable {
    public var terminal: Bool?
    public var consoleSize: Box?
    public var user: User
    public var args: [String]?
    public var commandLine: String?
    public var env: [String]?
    public var cwd: String
    public var capabilities: LinuxCapabilities?
    public var rlimits: [POSIXRlimit]?
    public var noNewPrivileges: Bool?
    public var apparmorProfile: String?
    public var oomScoreAdj: Int?
    public var selinuxLabel: String?
    public var scheduler: Scheduler?
    public var ioPriority: LinuxIOPriority?
    public var execCPUAffinity: CPUAffinity?

    public init(terminal: Bool? = nil, consoleSize: Box? = nil, user: User = User(), args: [String]? = nil,
                commandLine: String? = nil, env: [String]? = nil, cwd: String = "/",
                capabilities: LinuxCapabilities? = nil, rlimits: [POSIXRlimit]? = nil, noNewPrivileges: Bool? = nil,
                apparmorProfile: String? = nil, oomScoreAdj: Int? = nil, selinuxLabel: String? = nil,
                scheduler: Scheduler? = nil, ioPriority: LinuxIOPriority? = nil, execCPUAffinity: CPUAffinity? = nil) {
        self.terminal = terminal
        self.consoleSize = consoleSize
        self.user = user
        self.args = args
        self.commandLine = commandLine
        self.env = env
        self.cwd = cwd
        self.capabilities = capabilities
        self.rlimits = rlimits
        self.noNewPrivileges = noNewPrivileges
        self.apparmorProfile = apparmorProfile
        self.oomScoreAdj = oomScoreAdj
        self.selinuxLabel = selinuxLabel
        self.scheduler = scheduler
        self.ioPriority = ioPriority
        self.execCPUAffinity = execCPUAffinity
    }
}

extension Process {
    enum CodingKeys: String, CodingKey {
        case terminal, consoleSize, user, args, commandLine, env, cwd, capabilities, rlimits, noNewPrivileges
        case apparmorProfile, oomScoreAdj, selinuxLabel, scheduler, ioPriority, execCPUAffinity
    }

    /// Decodes a process as runc does: a missing `user` is root and a missing `cwd` is empty (which validation
    /// then refuses with its own message).
    public init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        self.init(
            terminal: try c.decodeIfPresent(Bool.self, forKey: .terminal),
            consoleSize: try c.decodeIfPresent(Box.self, forKey: .consoleSize),
            user: try c.decodeIfPresent(User.self, forKey: .user) ?? User(),
            args: try c.decodeIfPresent([String].self, forKey: .args),
            commandLine: try c.decodeIfPresent(String.self, forKey: .commandLine),
            env: try c.decodeIfPresent([String].self, forKey: .env),
            cwd: try c.decodeIfPresent(String.self, forKey: .cwd) ?? "",
            capabilities: try c.decodeIfPresent(LinuxCapabilities.self, forKey: .capabilities),
            rlimits: try c.decodeIfPresent([POSIXRlimit].self, forKey: .rlimits),
            noNewPrivileges: try c.decodeIfPresent(Bool.self, forKey: .noNewPrivileges),
            apparmorProfile: try c.decodeIfPresent(String.self, forKey: .apparmorProfile),
            oomScoreAdj: try c.decodeIfPresent(Int.self, forKey: .oomScoreAdj),
            selinuxLabel: try c.decodeIfPresent(String.self, forKey: .selinuxLabel),
            scheduler: try c.decodeIfPresent(Scheduler.self, forKey: .scheduler),
            ioPriority: try c.decodeIfPresent(LinuxIOPriority.self, forKey: .ioPriority),
            execCPUAffinity: try c.decodeIfPresent(CPUAffinity.self, forKey: .execCPUAffinity))
    }
}

/// The scheduling policy and parameters of the process (`process.scheduler`, sched_setattr(2)).
public struct Scheduler: Codable, Sendable, Equatable {
    public var policy: String
    public var nice: Int32?
    public var priority: Int32?
    public var flags: [String]?
    public var runtime: UInt64?
    public var deadline: UInt64?
    public var period: UInt64?

    public init(policy: String, nice: Int32? = nil, priority: Int32? = nil, flags: [String]? = nil,
                runtime: UInt64? = nil, deadline: UInt64? = nil, period: UInt64? = nil) {
        self.policy = policy
        self.nice = nice
        self.priority = priority
        self.flags = flags
        self.runtime = runtime
        self.deadline = deadline
        self.period = period
    }
}

/// The I/O priority of the process (`process.ioPriority`, ioprio_set(2)).
public struct LinuxIOPriority: Codable, Sendable, Equatable {
    public var `class`: String
    public var priority: Int

    public init(class: String, priority: Int) {
        self.class = `class`
        self.priority = priority
    }
}

/// CPU lists the runtime's process (`initial`) and the container's program (`final`) are pinned to.
public struct CPUAffinity: Codable, Sendable, Equatable {
    public var initial: String?
    public var final: String?

    public init(initial: String? = nil, final: String? = nil) {
        self.initial = initial
        self.final = final
    }
}

/// A terminal size in characters.
public struct Box: Codable, Sendable, Equatable {
    public var height: UInt
    public var width: UInt

    public init(height: UInt, width: UInt) {
        self.height = height
        self.width = width
    }
}

/// The user the process runs as (`process.user`).
public struct User: Codable, Sendable, Equatable {
    public var uid: UInt32
    public var gid: UInt32
    public var umask: UInt32?
    public var additionalGids: [UInt32]?
    public var username: String?

    public init(uid: UInt32 = 0, gid: UInt32 = 0, umask: UInt32? = nil, additionalGids: [UInt32]? = nil,
                username: String? = nil) {
        self.uid = uid
        self.gid = gid
        self.umask = umask
        self.additionalGids = additionalGids
        self.username = username
    }
}

/// The capability sets of the process (`process.capabilities`), as `CAP_*` names.
public struct LinuxCapabilities: Codable, Sendable, Equatable {
    public var bounding: [String]?
    public var effective: [String]?
    public var inheritable: [String]?
    public var permitted: [String]?
    public var ambient: [String]?

    public init(bounding: [String]? = nil, effective: [String]? = nil, inheritable: [String]? = nil,
                permitted: [String]? = nil, ambient: [String]? = nil) {
        self.bounding = bounding
        self.effective = effective
        self.inheritable = inheritable
        self.permitted = permitted
        self.ambient = ambient
    }
}

/// One resource limit (`process.rlimits[]`), `type` as `RLIMIT_NOFILE`.
public struct POSIXRlimit: Codable, Sendable, Equatable {
    public var type: String
    public var hard: UInt64
    public var soft: UInt64

    public init(type: String, hard: UInt64, soft: UInt64) {
        self.type = type
        self.hard = hard
        self.soft = soft
    }
}

/// The container's root filesystem (`root`).
public struct Root: Codable, Sendable, Equatable {
    public var path: String
    public var readonly: Bool?

    public init(path: String, readonly: Bool? = nil) {
        self.path = path
        self.readonly = readonly
    }
}

/// One mount (`mounts[]`).
public struct Mount: Codable, Sendable, Equatable {
    public var destination: String
    public var type: String?
    public var source: String?
    public var options: [String]?
    public var uidMappings: [LinuxIDMapping]?
    public var gidMappings: [LinuxIDMapping]?

    public init(destination: String, type: String? = nil, source: String? = nil, options: [String]? = nil,
                uidMappings: [LinuxIDMapping]? = nil, gidMappings: [LinuxIDMapping]? = nil) {
        self.destination = destination
        self.type = type
        self.source = source
        self.options = options
        self.uidMappings = uidMappings
        self.gidMappings = gidMappings
    }
}

/// The lifecycle hooks (`hooks`).
public struct Hooks: Codable, Sendable, Equatable {
    public var prestart: [Hook]?
    public var createRuntime: [Hook]?
    public var createContainer: [Hook]?
    public var startContainer: [Hook]?
    public var poststart: [Hook]?
    public var poststop: [Hook]?

    public init(prestart: [Hook]? = nil, createRuntime: [Hook]? = nil, createContainer: [Hook]? = nil,
                startContainer: [Hook]? = nil, poststart: [Hook]? = nil, poststop: [Hook]? = nil) {
        self.prestart = prestart
        self.createRuntime = createRuntime
        self.createContainer = createContainer
        self.startContainer = startContainer
        self.poststart = poststart
        self.poststop = poststop
    }
}

/// One hook: a program run with the container's state on stdin.
public struct Hook: Codable, Sendable, Equatable {
    public var path: String
    public var args: [String]?
    public var env: [String]?
    public var timeout: Int?

    public init(path: String, args: [String]? = nil, env: [String]? = nil, timeout: Int? = nil) {
        self.path = path
        self.args = args
        self.env = env
        self.timeout = timeout
    }
}
