import CPodrunShim
import Glibc
import OCISpec
import PodrunCore

/// One resource limit: the soft (current) and hard (maximum) values. `RLIM_INFINITY` is `UInt64.max`.
public struct ResourceLimit: Codable, Sendable, Equatable {
    /// The value the kernel enforces.
    public var soft: UInt64
    /// The ceiling an unprivileged process can raise `soft` to.
    public var hard: UInt64

    /// A limit with the given values.
    public init(soft: UInt64, hard: UInt64) {
        self.soft = soft
        self.hard = hard
    }
}

/// `process.rlimits`: the `RLIMIT_*` names of runtime-spec and setting them on the calling process.
public enum ResourceLimits {
    /// The sixteen Linux resources by runtime-spec name, with the kernel's numbers (<asm-generic/resource.h>).
    public static let resources: [String: Int32] = [
        "RLIMIT_CPU": 0,
        "RLIMIT_FSIZE": 1,
        "RLIMIT_DATA": 2,
        "RLIMIT_STACK": 3,
        "RLIMIT_CORE": 4,
        "RLIMIT_RSS": 5,
        "RLIMIT_NPROC": 6,
        "RLIMIT_NOFILE": 7,
        "RLIMIT_MEMLOCK": 8,
        "RLIMIT_AS": 9,
        "RLIMIT_LOCKS": 10,
        "RLIMIT_SIGPENDING": 11,
        "RLIMIT_MSGQUEUE": 12,
        "RLIMIT_NICE": 13,
        "RLIMIT_RTPRIO": 14,
        "RLIMIT_RTTIME": 15,
    ]

    /// The kernel's number for a resource named as runtime-spec does (`RLIMIT_NOFILE`), or nil.
    public static func resource(named name: String) -> Int32? {
        resources[name]
    }

    /// The runtime-spec name of a resource number, or nil.
    public static func name(ofResource resource: Int32) -> String? {
        resources.first { $0.value == resource }?.key
    }

    /// Checks every entry before anything is set (for the parent): an unknown type is an `invalidSpec`
    /// error, as in runc (`wrong rlimit value`), and so is a soft value above the hard one.
    public static func validate(_ rlimits: [POSIXRlimit]) throws {
        for (i, limit) in rlimits.enumerated() {
            guard resource(named: limit.type) != nil else {
                throw PodrunError.invalidSpec("process.rlimits[\(i)].type", "wrong rlimit value: \(limit.type)")
            }
            guard limit.soft <= limit.hard else {
                throw PodrunError.invalidSpec("process.rlimits[\(i)]",
                                              "soft limit \(limit.soft) is above hard limit \(limit.hard) for \(limit.type)")
            }
        }
    }

    /// Sets each limit on the calling process, in order (setrlimit). Raising a hard limit needs
    /// `CAP_SYS_RESOURCE`, so the init calls this before it drops capabilities.
    public static func apply(_ rlimits: [POSIXRlimit]) throws {
        try validate(rlimits)
        for limit in rlimits {
            guard let resource = resource(named: limit.type) else { continue }
            if podrun_setrlimit(resource, limit.soft, limit.hard) != 0 {
                throw PodrunError.system("setrlimit \(limit.type) (soft \(limit.soft), hard \(limit.hard))")
            }
        }
    }

    /// The calling process' current limit for a resource number (getrlimit).
    public static func current(_ resource: Int32) throws -> ResourceLimit {
        var value = rlimit()
        guard getrlimit(__rlimit_resource_t(UInt32(bitPattern: resource)), &value) == 0 else {
            throw PodrunError.system("getrlimit \(name(ofResource: resource) ?? String(resource))")
        }
        return ResourceLimit(soft: UInt64(value.rlim_cur), hard: UInt64(value.rlim_max))
    }
}
