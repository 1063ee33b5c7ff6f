import Glibc
import LinuxSys
import OCISpec
import PodrunCore

/// A container's cgroup on v1 hierarchies (and, on a hybrid host, the controller-less v2 one too, as runc does).
struct CgroupV1Manager: CgroupManager {
    let path: String
    /// The container's folder in each hierarchy.
    let directoriesByHierarchy: [(hierarchy: CgroupHierarchy, directory: String)]

    /// The container's folder in the hierarchy holding `controller`.
    var directories: [String: String] {
        Dictionary(uniqueKeysWithValues: directoriesByHierarchy.map { ($0.hierarchy.mountPoint, $0.directory) })
    }

    func directory(_ controller: String) -> String? {
        directoriesByHierarchy.first { $0.hierarchy.controllers.contains(controller) }?.directory
    }

    func create() throws {
        try create(directoriesByHierarchy)
    }

    func createUnified() throws {
        try create(directoriesByHierarchy.filter { $0.hierarchy.isUnified })
    }

    /// The v1 folders (all but the unified one).
    private var legacyFolders: [(hierarchy: CgroupHierarchy, directory: String)] {
        directoriesByHierarchy.filter { !$0.hierarchy.isUnified }
    }

    func startLegacy(devices: [LinuxDeviceCgroup]?, copyingMountsWith mountAttributes: MountAttributes?) -> FolderBatch? {
        let folders = legacyFolders
        guard !folders.isEmpty else { return nil }
        var writes: [FolderBatch.Write] = []
        for index in folders.indices {
            let (hierarchy, directory) = folders[index]
            // The cpuset values a new cpuset folder needs, copied down from its parent by the thread; when that
            // fails (a parent is missing too), `createLegacy` copies them after making the parents.
            if hierarchy.controllers.contains("cpuset") {
                let parent = Self.parent(of: directory)
                for file in ["cpuset.cpus", "cpuset.mems"] {
                    writes.append(FolderBatch.Write(folder: index, file: directory + "/" + file, copying: parent + "/" + file))
                }
            }
            if hierarchy.controllers.contains("devices"), let devices, !devices.isEmpty {
                for run in Self.deviceRuleRuns(devices) {
                    writes.append(FolderBatch.Write(folder: index, file: directory + "/" + run.file, lines: run.lines))
                }
            }
        }
        // And the `tasks` files, which the container's process then joins through descriptors.
        return FolderBatch(making: folders.map(\.directory), thenWriting: writes, opening: "tasks",
                           copyingMountsWith: mountAttributes)
    }

    func createLegacy(after started: FolderBatch?, devices: [LinuxDeviceCgroup]?) throws {
        let folders = legacyFolders
        // What the batch did, when it was started for these very folders.
        let batch = started.flatMap { $0.paths == folders.map(\.directory) ? $0 : nil }
        let results = batch?.wait()
        /// Whether the batch wrote `file` (each of its writes that failed is done again below, which throws
        /// its error).
        func batchWrote(_ file: String) -> Bool {
            guard let batch, let results else { return false }
            return batch.writes.indices.contains { batch.writes[$0].file == file && results.writes[$0] == 0 }
        }
        try create(folders, firstAttempts: results?.folders, skipping: batchWrote)
        guard let devices, !devices.isEmpty, let dir = directory("devices") else { return }
        // The rules are written here unless the batch wrote them all (it got them when it made the folder).
        let ruleFiles = batch.map { batch in batch.writes.map(\.file).filter { $0.hasPrefix(dir + "/devices.") } } ?? []
        if ruleFiles.isEmpty || !ruleFiles.allSatisfy(batchWrote) { try writeDeviceRules(devices, dir) }
    }

    /// The folder `directory` is in.
    private static func parent(of directory: String) -> String {
        String(directory[..<(directory.lastIndex(of: "/") ?? directory.endIndex)])
    }

    /// Makes `folders` (`firstAttempts`: a batch's mkdir results) and copies the cpuset values down into each
    /// cpuset folder made, but for the files `alreadyWritten` says are.
    private func create(_ folders: [(hierarchy: CgroupHierarchy, directory: String)],
                        firstAttempts: [Int32]? = nil, skipping alreadyWritten: (String) -> Bool = { _ in false }) throws {
        for index in folders.indices {
            let (hierarchy, directory) = folders[index]
            let made = try CgroupTree.make(directory, below: hierarchy.mountPoint, firstAttempt: firstAttempts?[index])
            if hierarchy.controllers.contains("cpuset") {
                // A new cpuset cgroup starts empty and takes no tasks: copy the parent's cpus and mems down.
                for dir in made {
                    let parent = Self.parent(of: dir)
                    for file in ["cpuset.cpus", "cpuset.mems"] where !alreadyWritten(dir + "/" + file) {
                        try CgroupTree.write(dir, file, try CgroupTree.read(parent, file))
                    }
                }
            }
        }
    }

    /// The device rules as runs of lines for the same file (`devices.deny`, `devices.allow`), in order.
    static func deviceRuleRuns(_ devices: [LinuxDeviceCgroup]) -> [(file: String, lines: [String])] {
        var runs: [(file: String, lines: [String])] = []
        for (file, line) in DeviceRules.v1Writes(DeviceRules.effective(devices)) {
            if runs.last?.file == file { runs[runs.count - 1].lines.append(line) } else { runs.append((file, [line])) }
        }
        return runs
    }

    /// Writes the device rules: each run of rules for the same file through one descriptor.
    private func writeDeviceRules(_ devices: [LinuxDeviceCgroup], _ dir: String) throws {
        for run in Self.deviceRuleRuns(devices) { try CgroupTree.writeLines(dir, run.file, run.lines) }
    }

    func apply(pid: Int32) throws {
        for (_, directory) in directoriesByHierarchy { try CgroupTree.write(directory, "cgroup.procs", String(pid)) }
    }

    var join: CgroupJoin {
        CgroupJoin(taskFiles: directoriesByHierarchy.filter { !$0.hierarchy.isUnified }.map { $0.directory + "/tasks" },
                   unifiedDirectory: directoriesByHierarchy.first { $0.hierarchy.isUnified }?.directory)
    }

    func pids() throws -> [Int32] {
        guard let dir = directory("pids") ?? directoriesByHierarchy.first?.directory else { return [] }
        return try CgroupTree.pids(dir)
    }

    func freeze() throws { try setFreezer("FROZEN") }
    func thaw() throws { try setFreezer("THAWED") }

    private func setFreezer(_ state: String) throws {
        guard let dir = directory("freezer") else {
            throw PodrunError(.system, "the freezer cgroup controller is not mounted")
        }
        for _ in 0..<1000 {
            try CgroupTree.write(dir, "freezer.state", state)
            if try CgroupTree.read(dir, "freezer.state") == state { return }
            usleep(1000)
        }
        throw PodrunError(.timeout, "cgroup did not reach \(state)", path: dir)
    }

    func isFrozen() throws -> Bool {
        guard let dir = directory("freezer") else { return false }
        let state = (try? CgroupTree.read(dir, "freezer.state")) ?? "THAWED"
        return state == "FROZEN" || state == "FREEZING"
    }

    func destroy() throws {
        for (_, directory) in directoriesByHierarchy { try CgroupTree.remove(directory) }
    }

    func exists() -> Bool {
        directoriesByHierarchy.contains { FileIO.isDirectory($0.directory) }
    }

    func set(_ r: LinuxResources) throws {
        if let memory = r.memory, let dir = directory("memory") { try setMemory(memory, dir) }
        if let cpu = r.cpu {
            if let dir = directory("cpu") {
                if let shares = cpu.shares, shares != 0 { try CgroupTree.write(dir, "cpu.shares", String(shares)) }
                if let period = cpu.period, period != 0 { try CgroupTree.write(dir, "cpu.cfs_period_us", String(period)) }
                if let quota = cpu.quota, quota != 0 { try CgroupTree.write(dir, "cpu.cfs_quota_us", String(quota)) }
                if let p = cpu.realtimePeriod, p != 0 { try CgroupTree.write(dir, "cpu.rt_period_us", String(p)) }
                if let rt = cpu.realtimeRuntime, rt != 0 { try CgroupTree.write(dir, "cpu.rt_runtime_us", String(rt)) }
            }
            if let dir = directory("cpuset") {
                if let cpus = cpu.cpus, !cpus.isEmpty { try CgroupTree.write(dir, "cpuset.cpus", cpus) }
                if let mems = cpu.mems, !mems.isEmpty { try CgroupTree.write(dir, "cpuset.mems", mems) }
            }
        }
        if let pids = r.pids, let dir = directory("pids") {
            try CgroupTree.write(dir, "pids.max", pids.limit > 0 ? String(pids.limit) : "max")
        }
        if let blockIO = r.blockIO, let dir = directory("blkio") { try setBlockIO(blockIO, dir) }
        if let limits = r.hugepageLimits, let dir = directory("hugetlb") {
            for limit in limits {
                try CgroupTree.write(dir, "hugetlb.\(limit.pageSize).limit_in_bytes", String(limit.limit))
            }
        }
        if let devices = r.devices, !devices.isEmpty, let dir = directory("devices") { try writeDeviceRules(devices, dir) }
        if let network = r.network {
            if let classID = network.classID, let dir = directory("net_cls") {
                try CgroupTree.write(dir, "net_cls.classid", String(classID))
            }
            if let dir = directory("net_prio") {
                for p in network.priorities ?? [] { try CgroupTree.write(dir, "net_prio.ifpriomap", "\(p.name) \(p.priority)") }
            }
        }
        if let unified = r.unified, !unified.isEmpty {
            throw PodrunError.invalidSpec("linux.resources.unified", "unified resources need a cgroup v2 host")
        }
    }

    /// Memory and swap in runc's order: whichever write keeps limit <= memsw limit goes first.
    private func setMemory(_ m: LinuxMemory, _ dir: String) throws {
        let hasSwapFile = FileIO.exists(dir + "/memory.memsw.limit_in_bytes")
        var swap = m.swap ?? 0
        let limit = m.limit ?? 0
        if limit == -1 && swap == 0 { swap = -1 }
        if limit != 0 && swap != 0 && hasSwapFile {
            let current = Int64(try CgroupTree.read(dir, "memory.limit_in_bytes")) ?? Int64.max
            if swap == -1 || current < swap {
                try CgroupTree.write(dir, "memory.memsw.limit_in_bytes", String(swap))
                try CgroupTree.write(dir, "memory.limit_in_bytes", String(limit))
            } else {
                try CgroupTree.write(dir, "memory.limit_in_bytes", String(limit))
                try CgroupTree.write(dir, "memory.memsw.limit_in_bytes", String(swap))
            }
        } else {
            if limit != 0 { try CgroupTree.write(dir, "memory.limit_in_bytes", String(limit)) }
            if swap != 0 && hasSwapFile { try CgroupTree.write(dir, "memory.memsw.limit_in_bytes", String(swap)) }
        }
        if let reservation = m.reservation, reservation != 0 {
            try CgroupTree.write(dir, "memory.soft_limit_in_bytes", String(reservation))
        }
        if let swappiness = m.swappiness, swappiness <= 100 {
            try CgroupTree.write(dir, "memory.swappiness", String(swappiness))
        }
        if m.disableOOMKiller == true { try CgroupTree.write(dir, "memory.oom_control", "1") }
    }

    private func setBlockIO(_ b: LinuxBlockIO, _ dir: String) throws {
        if let weight = b.weight, weight != 0 {
            let file = FileIO.exists(dir + "/blkio.weight") ? "blkio.weight" : "blkio.bfq.weight"
            try CgroupTree.write(dir, file, String(weight))
        }
        if let leaf = b.leafWeight, leaf != 0 { try CgroupTree.write(dir, "blkio.leaf_weight", String(leaf)) }
        for d in b.weightDevice ?? [] {
            if let w = d.weight { try CgroupTree.write(dir, "blkio.weight_device", "\(d.major):\(d.minor) \(w)") }
        }
        let throttles: [(String, [LinuxThrottleDevice]?)] = [
            ("blkio.throttle.read_bps_device", b.throttleReadBpsDevice),
            ("blkio.throttle.write_bps_device", b.throttleWriteBpsDevice),
            ("blkio.throttle.read_iops_device", b.throttleReadIOPSDevice),
            ("blkio.throttle.write_iops_device", b.throttleWriteIOPSDevice),
        ]
        for (file, devices) in throttles {
            for d in devices ?? [] { try CgroupTree.write(dir, file, "\(d.major):\(d.minor) \(d.rate)") }
        }
    }

    func stats() throws -> CgroupStats {
        var s = CgroupStats()
        if let dir = directory("cpuacct") {
            s.cpu.usage.total = CgroupTree.readNumber(dir, "cpuacct.usage") ?? 0
            s.cpu.usage.percpu = ((try? CgroupTree.read(dir, "cpuacct.usage_percpu")) ?? "")
                .split(separator: " ").compactMap { UInt64($0) }
            let ticks = CgroupTree.readKeyValues(dir, "cpuacct.stat")
            let nanosPerTick = UInt64(1_000_000_000) / UInt64(max(1, sysconf(Int32(_SC_CLK_TCK))))
            s.cpu.usage.user = (ticks["user"] ?? 0) * nanosPerTick
            s.cpu.usage.kernel = (ticks["system"] ?? 0) * nanosPerTick
        }
        if let dir = directory("cpu") {
            let t = CgroupTree.readKeyValues(dir, "cpu.stat")
            s.cpu.throttling.periods = t["nr_periods"] ?? 0
            s.cpu.throttling.throttledPeriods = t["nr_throttled"] ?? 0
            s.cpu.throttling.throttledTime = t["throttled_time"] ?? 0
        }
        if let dir = directory("memory") {
            s.memory.usage.usage = CgroupTree.readNumber(dir, "memory.usage_in_bytes") ?? 0
            s.memory.usage.limit = CgroupTree.readNumber(dir, "memory.limit_in_bytes") ?? 0
            s.memory.usage.max = CgroupTree.readNumber(dir, "memory.max_usage_in_bytes") ?? 0
            s.memory.usage.failcnt = CgroupTree.readNumber(dir, "memory.failcnt") ?? 0
            s.memory.swap.usage = CgroupTree.readNumber(dir, "memory.memsw.usage_in_bytes") ?? 0
            s.memory.swap.limit = CgroupTree.readNumber(dir, "memory.memsw.limit_in_bytes") ?? 0
            s.memory.raw = CgroupTree.readKeyValues(dir, "memory.stat")
        }
        if let dir = directory("pids") {
            s.pids.current = CgroupTree.readNumber(dir, "pids.current") ?? 0
            s.pids.limit = CgroupTree.readNumber(dir, "pids.max") ?? 0
        }
        return s
    }
}
