/// A container's resource usage, shaped as the `data` of runc's `events --stats`.
public struct CgroupStats: Codable, Sendable, Equatable {
    public var cpu = CPU()
    public var memory = Memory()
    public var pids = Pids()

    public init() {}

    /// CPU time used (nanoseconds) and throttling.
    public struct CPU: Codable, Sendable, Equatable {
        public var usage = Usage()
        public var throttling = Throttling()

        public struct Usage: Codable, Sendable, Equatable {
            public var total: UInt64 = 0
            public var percpu: [UInt64] = []
            public var kernel: UInt64 = 0
            public var user: UInt64 = 0
        }

        public struct Throttling: Codable, Sendable, Equatable {
            public var periods: UInt64 = 0
            public var throttledPeriods: UInt64 = 0
            public var throttledTime: UInt64 = 0

            enum CodingKeys: String, CodingKey {
                case periods
                case throttledPeriods = "throttled_periods"
                case throttledTime = "throttled_time"
            }
        }
    }

    /// Memory use and limits in bytes, and the controller's raw counters.
    public struct Memory: Codable, Sendable, Equatable {
        public var usage = Entry()
        public var swap = Entry()
        public var raw: [String: UInt64] = [:]

        public struct Entry: Codable, Sendable, Equatable {
            public var limit: UInt64 = 0
            public var usage: UInt64 = 0
            public var max: UInt64 = 0
            public var failcnt: UInt64 = 0
        }
    }

    /// Process count and limit (0: none).
    public struct Pids: Codable, Sendable, Equatable {
        public var current: UInt64 = 0
        public var limit: UInt64 = 0
    }
}
