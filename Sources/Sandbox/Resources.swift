import Glibc
import LinuxSys
import OCISpec
import PodrunCore
import Cgroups

extension Runtime {
    /// Freezes every process of a running container.
    public func pause(id: String) throws {
        let record = try store.load(id)
        let lock = try store.lock(id)
        defer { close(lock) }
        switch status(of: record) {
        case .running: break
        case .paused: return
        default: throw PodrunError(.invalidState, "container not running")
        }
        try record.cgroup().freeze()
    }

    /// Thaws a paused container.
    public func resume(id: String) throws {
        let record = try store.load(id)
        let lock = try store.lock(id)
        defer { close(lock) }
        guard status(of: record) == .paused else { throw PodrunError(.invalidState, "container not paused") }
        try record.cgroup().thaw()
    }

    /// Applies new resource limits to a container's cgroup and keeps them in its state.
    public func update(id: String, resources: LinuxResources) throws {
        var record = try store.load(id)
        let lock = try store.lock(id)
        defer { close(lock) }
        guard status(of: record) != .stopped else { throw PodrunError(.invalidState, "container not running") }
        try record.cgroup().set(resources)
        var linux = record.spec.linux ?? Linux()
        linux.resources = Self.merge(linux.resources ?? LinuxResources(), resources)
        record.spec.linux = linux
        try store.save(record)
    }

    /// The cgroup statistics of a container.
    public func stats(id: String) throws -> CgroupStats {
        let record = try store.load(id)
        guard status(of: record) != .stopped else { throw PodrunError(.invalidState, "container not running") }
        return try record.cgroup().stats()
    }

    /// `base` with every field that `update` sets replaced.
    static func merge(_ base: LinuxResources, _ update: LinuxResources) -> LinuxResources {
        var out = base
        if let memory = update.memory {
            var m = out.memory ?? LinuxMemory()
            m.limit = memory.limit ?? m.limit
            m.reservation = memory.reservation ?? m.reservation
            m.swap = memory.swap ?? m.swap
            m.swappiness = memory.swappiness ?? m.swappiness
            out.memory = m
        }
        if let cpu = update.cpu {
            var c = out.cpu ?? LinuxCPU()
            c.shares = cpu.shares ?? c.shares
            c.quota = cpu.quota ?? c.quota
            c.period = cpu.period ?? c.period
            c.realtimeRuntime = cpu.realtimeRuntime ?? c.realtimeRuntime
            c.realtimePeriod = cpu.realtimePeriod ?? c.realtimePeriod
            c.cpus = cpu.cpus ?? c.cpus
            c.mems = cpu.mems ?? c.mems
            out.cpu = c
        }
        if let pids = update.pids { out.pids = pids }
        if let blockIO = update.blockIO { out.blockIO = blockIO }
        if let hugepages = update.hugepageLimits { out.hugepageLimits = hugepages }
        if let unified = update.unified { out.unified = (out.unified ?? [:]).merging(unified) { $1 } }
        return out
    }
}
