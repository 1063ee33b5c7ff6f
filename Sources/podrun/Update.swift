import ArgumentParser
import LinuxSys
import OCISpec
import PodrunCore
import Sandbox

/// `podrun update`: changes a running container's resource limits, with runc's flags or a resources JSON file.
struct Update: ParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Update a container's resource limits.")

    @Option(name: [.short, .long], help: "A JSON file with linux.resources ('-' for stdin).") var resources: String?
    @Option(name: .long, help: "Block I/O weight (10-1000).") var blkioWeight: UInt16?
    @Option(name: .long, help: "CPU CFS period (microseconds).") var cpuPeriod: UInt64?
    @Option(name: .long, help: "CPU CFS quota (microseconds).") var cpuQuota: Int64?
    @Option(name: .long, help: "CPU shares (relative weight).") var cpuShare: UInt64?
    @Option(name: .long, help: "CPU realtime period (microseconds).") var cpuRtPeriod: UInt64?
    @Option(name: .long, help: "CPU realtime runtime (microseconds).") var cpuRtRuntime: Int64?
    @Option(name: .long, help: "CPUs allowed (0-3, 0,1).") var cpusetCpus: String?
    @Option(name: .long, help: "Memory nodes allowed.") var cpusetMems: String?
    @Option(name: .long, help: "Memory limit (bytes, or with k, m, g).") var memory: String?
    @Option(name: .long, help: "Memory soft limit.") var memoryReservation: String?
    @Option(name: .long, help: "Memory plus swap limit ('-1' for unlimited).") var memorySwap: String?
    @Option(name: .long, help: "Maximum number of processes.") var pidsLimit: Int64?
    @Argument(help: "The container id.") var id: String

    func run() throws {
        var r = LinuxResources()
        if let resources {
            let bytes = resources == "-" ? try FileIO.readAll(fd: 0, path: "stdin") : try FileIO.readBytes(resources)
            r = try SpecCoding.decode(LinuxResources.self, from: bytes, document: resources == "-" ? "stdin" : resources)
        }
        if let blkioWeight { r.blockIO = LinuxBlockIO(weight: blkioWeight) }
        if cpuPeriod != nil || cpuQuota != nil || cpuShare != nil || cpuRtPeriod != nil || cpuRtRuntime != nil
            || cpusetCpus != nil || cpusetMems != nil {
            var cpu = r.cpu ?? LinuxCPU()
            cpu.period = cpuPeriod ?? cpu.period
            cpu.quota = cpuQuota ?? cpu.quota
            cpu.shares = cpuShare ?? cpu.shares
            cpu.realtimePeriod = cpuRtPeriod ?? cpu.realtimePeriod
            cpu.realtimeRuntime = cpuRtRuntime ?? cpu.realtimeRuntime
            cpu.cpus = cpusetCpus ?? cpu.cpus
            cpu.mems = cpusetMems ?? cpu.mems
            r.cpu = cpu
        }
        if memory != nil || memoryReservation != nil || memorySwap != nil {
            var m = r.memory ?? LinuxMemory()
            if let memory { m.limit = try Self.bytes(memory, flag: "--memory") }
            if let memoryReservation { m.reservation = try Self.bytes(memoryReservation, flag: "--memory-reservation") }
            if let memorySwap { m.swap = try Self.bytes(memorySwap, flag: "--memory-swap") }
            r.memory = m
        }
        if let pidsLimit { r.pids = LinuxPids(limit: pidsLimit) }
        try GlobalOptions.current.makeRuntime().update(id: id, resources: r)
    }

    /// A byte count with an optional k/m/g/t suffix (powers of 1024, as runc's RAMInBytes); -1 stays -1.
    static func bytes(_ text: String, flag: String) throws -> Int64 {
        if text == "-1" { return -1 }
        let lower = text.lowercased()
        let units: [(String, Int64)] = [("tb", 1 << 40), ("gb", 1 << 30), ("mb", 1 << 20), ("kb", 1 << 10),
                                        ("t", 1 << 40), ("g", 1 << 30), ("m", 1 << 20), ("k", 1 << 10), ("b", 1)]
        for (suffix, factor) in units where lower.hasSuffix(suffix) {
            if let n = Int64(lower.dropLast(suffix.count)) { return n * factor }
        }
        guard let n = Int64(lower) else { throw PodrunError(.invalidArgument, "invalid value for \(flag): \(text)") }
        return n
    }
}
