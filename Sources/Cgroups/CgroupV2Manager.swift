import Glibc
import LinuxSys
import OCISpec
import PodrunCore

/// A container's cgroup on a unified (v2) host. Device rules become an eBPF program attached to the cgroup.
struct CgroupV2Manager: CgroupManager {
    let path: String
    /// The container's folder.
    let directory: String
    /// The cgroup2 mount point.
    let mountPoint: String

    /// The controllers podrun enables for its cgroups, when the parent offers them.
    static let controllers = ["cpu", "cpuset", "io", "memory", "pids", "hugetlb"]

    var directories: [String: String] { [mountPoint: directory] }

    func create() throws {
        try CgroupTree.make(directory, below: mountPoint)
        // Enable the controllers along the way down, so the leaf has their files.
        var current = mountPoint
        for part in directory.dropFirst(mountPoint.count).split(separator: "/").dropLast() {
            try enableControllers(in: current)
            current += "/" + part
        }
        try enableControllers(in: current)
    }

    private func enableControllers(in dir: String) throws {
        let available = Set(((try? CgroupTree.read(dir, "cgroup.controllers")) ?? "").split(separator: " ").map(String.init))
        let enabled = Set(((try? CgroupTree.read(dir, "cgroup.subtree_control")) ?? "").split(separator: " ").map(String.init))
        for controller in Self.controllers where available.contains(controller) && !enabled.contains(controller) {
            try? CgroupTree.write(dir, "cgroup.subtree_control", "+" + controller)
        }
    }

    func createUnified() throws { try create() }
    func startLegacy(devices: [LinuxDeviceCgroup]?, copyingMountsWith mountAttributes: MountAttributes?) -> FolderBatch? {
        nil
    }
    /// No v1 folders: only the device rules (an eBPF program).
    func createLegacy(after started: FolderBatch?, devices: [LinuxDeviceCgroup]?) throws {
        try set(LinuxResources(devices: devices))
    }

    func apply(pid: Int32) throws { try CgroupTree.write(directory, "cgroup.procs", String(pid)) }
    var join: CgroupJoin { CgroupJoin(taskFiles: [], unifiedDirectory: directory) }
    func pids() throws -> [Int32] { try CgroupTree.pids(directory) }

    func freeze() throws { try setFrozen(true) }
    func thaw() throws { try setFrozen(false) }

    private func setFrozen(_ frozen: Bool) throws {
        try CgroupTree.write(directory, "cgroup.freeze", frozen ? "1" : "0")
        for _ in 0..<1000 {
            if try isFrozen() == frozen { return }
            usleep(1000)
        }
        throw PodrunError(.timeout, "cgroup did not \(frozen ? "freeze" : "thaw")", path: directory)
    }

    func isFrozen() throws -> Bool {
        CgroupTree.readKeyValues(directory, "cgroup.events")["frozen"] == 1
    }

    func destroy() throws { try CgroupTree.remove(directory) }
    func exists() -> Bool { FileIO.isDirectory(directory) }

    func set(_ r: LinuxResources) throws {
        if let m = r.memory {
            if let limit = m.limit, limit != 0 {
                try write("memory.max", Self.max(limit), for: "linux.resources.memory.limit")
            }
            if let reservation = m.reservation, reservation != 0 {
                try write("memory.low", Self.max(reservation), for: "linux.resources.memory.reservation")
            }
            if let swap = m.swap, swap != 0 {
                // The spec's swap is memory+swap; v2's swap.max is swap alone.
                let value = swap == -1 ? "max" : String(Swift.max(0, swap - (m.limit ?? 0)))
                try write("memory.swap.max", value, for: "linux.resources.memory.swap")
            }
        }
        if let cpu = r.cpu {
            if let shares = cpu.shares, shares != 0 {
                try write("cpu.weight", String(Self.weight(fromShares: shares)), for: "linux.resources.cpu.shares")
            }
            if cpu.quota != nil || cpu.period != nil {
                let quota = cpu.quota.map { $0 > 0 ? String($0) : "max" } ?? "max"
                try write("cpu.max", "\(quota) \(cpu.period ?? 100_000)", for: "linux.resources.cpu.quota")
            }
            if let idle = cpu.idle { try write("cpu.idle", String(idle), for: "linux.resources.cpu.idle") }
            if let cpus = cpu.cpus, !cpus.isEmpty { try write("cpuset.cpus", cpus, for: "linux.resources.cpu.cpus") }
            if let mems = cpu.mems, !mems.isEmpty { try write("cpuset.mems", mems, for: "linux.resources.cpu.mems") }
        }
        if let pids = r.pids {
            try write("pids.max", pids.limit > 0 ? String(pids.limit) : "max", for: "linux.resources.pids.limit")
        }
        if let b = r.blockIO {
            if let weight = b.weight, weight != 0 {
                if FileIO.exists(directory + "/io.bfq.weight") {
                    try write("io.bfq.weight", String(weight), for: "linux.resources.blockIO.weight")
                } else {
                    try write("io.weight", "default \(Self.ioWeight(fromBlkio: weight))", for: "linux.resources.blockIO.weight")
                }
            }
            let throttles: [(String, [LinuxThrottleDevice]?)] = [
                ("rbps", b.throttleReadBpsDevice), ("wbps", b.throttleWriteBpsDevice),
                ("riops", b.throttleReadIOPSDevice), ("wiops", b.throttleWriteIOPSDevice),
            ]
            for (key, devices) in throttles {
                for d in devices ?? [] { try write("io.max", "\(d.major):\(d.minor) \(key)=\(d.rate)", for: "linux.resources.blockIO") }
            }
        }
        for limit in r.hugepageLimits ?? [] {
            try write("hugetlb.\(limit.pageSize).max", String(limit.limit), for: "linux.resources.hugepageLimits")
        }
        if let devices = r.devices, !devices.isEmpty {
            try DeviceFilter.attach(DeviceRules.effective(devices), to: directory)
        }
        for (key, value) in (r.unified ?? [:]).sorted(by: { $0.key < $1.key }) {
            guard !key.contains("/"), !key.contains(".."), !key.isEmpty else {
                throw PodrunError.invalidSpec("linux.resources.unified", "invalid cgroup file name \"\(key)\"")
            }
            try write(key, value, for: "linux.resources.unified")
        }
    }

    /// The v2 controllers whose files a spec's resources write.
    static let resourceControllers: Set<Substring> = ["cpu", "cpuset", "io", "memory", "pids", "hugetlb", "rdma", "misc"]

    /// Writes one of the container's cgroup files for the spec field `field`. A file that is missing because its
    /// controller is not enabled in the cgroup (the parent does not offer it) is refused with that reason.
    private func write(_ file: String, _ value: String, for field: String) throws {
        do {
            try CgroupTree.write(directory, file, value)
        } catch let error as PodrunError where error.code == .invalidSpec {
            let controller = file.prefix { $0 != "." }
            let enabled = ((try? CgroupTree.read(directory, "cgroup.controllers")) ?? "").split(separator: " ")
            guard Self.resourceControllers.contains(controller), !enabled.contains(controller) else { throw error }
            let offered = enabled.isEmpty ? "none" : enabled.joined(separator: " ")
            throw PodrunError.invalidSpec(field, "cannot set \(file): the \(controller) controller is not available in "
                                          + "the cgroup \(directory) (available: \(offered))")
        }
    }

    func stats() throws -> CgroupStats {
        var s = CgroupStats()
        let cpu = CgroupTree.readKeyValues(directory, "cpu.stat")
        s.cpu.usage.total = (cpu["usage_usec"] ?? 0) * 1000
        s.cpu.usage.user = (cpu["user_usec"] ?? 0) * 1000
        s.cpu.usage.kernel = (cpu["system_usec"] ?? 0) * 1000
        s.cpu.throttling.periods = cpu["nr_periods"] ?? 0
        s.cpu.throttling.throttledPeriods = cpu["nr_throttled"] ?? 0
        s.cpu.throttling.throttledTime = (cpu["throttled_usec"] ?? 0) * 1000
        s.memory.usage.usage = CgroupTree.readNumber(directory, "memory.current") ?? 0
        s.memory.usage.limit = CgroupTree.readNumber(directory, "memory.max") ?? UInt64.max
        s.memory.usage.max = CgroupTree.readNumber(directory, "memory.peak") ?? 0
        s.memory.swap.usage = CgroupTree.readNumber(directory, "memory.swap.current") ?? 0
        s.memory.raw = CgroupTree.readKeyValues(directory, "memory.stat")
        s.pids.current = CgroupTree.readNumber(directory, "pids.current") ?? 0
        s.pids.limit = CgroupTree.readNumber(directory, "pids.max") ?? 0
        return s
    }

    /// -1 as "max", else the number.
    static func max(_ value: Int64) -> String { value < 0 ? "max" : String(value) }

    /// runc's conversion of v1 cpu shares (2..262144) to v2 cpu.weight (1..10000).
    static func weight(fromShares shares: UInt64) -> UInt64 {
        if shares == 0 { return 0 }
        return 1 + ((Swift.max(2, Swift.min(shares, 262_144)) - 2) * 9999) / 262_142
    }

    /// runc's conversion of a blkio weight (10..1000) to io.weight (1..10000).
    static func ioWeight(fromBlkio weight: UInt16) -> UInt64 {
        1 + (UInt64(Swift.max(10, weight)) - 10) * 9999 / 990
    }
}
