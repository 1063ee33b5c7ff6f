// TEMPORARY: replaced by the cgroups branch at merge.
import Glibc
import LinuxSys
import OCISpec
import PodrunCore

public protocol CgroupManager: Sendable {
    var path: String { get }
    func create() throws
    func apply(pid: Int32) throws
    func set(_ resources: LinuxResources) throws
    func pids() throws -> [Int32]
    func freeze() throws
    func thaw() throws
    func isFrozen() throws -> Bool
    func destroy() throws
    func exists() -> Bool
    func stats() throws -> CgroupStats
}

public struct CgroupStats: Codable, Sendable {}

public enum Cgroups {
    public static func manager(cgroupsPath: String?, containerID: String) throws -> any CgroupManager {
        StubManager(path: cgroupsPath ?? "/\(containerID)")
    }
}

struct StubManager: CgroupManager {
    var path: String
    var controllers = ["cpu", "cpuacct", "cpuset", "memory", "devices", "freezer", "blkio", "pids", "systemd"]

    func dirs() -> [String] { controllers.map { "/sys/fs/cgroup/\($0)\(path)" } }

    func create() throws {
        for d in dirs() { try FileIO.makeDirectories(d) }
        var prefix = "/sys/fs/cgroup/cpuset"
        for part in path.split(separator: "/") {
            let parent = prefix
            prefix += "/" + String(part)
            for f in ["cpuset.cpus", "cpuset.mems"] {
                let current: String = (try? FileIO.readString(prefix + "/" + f)) ?? ""
                if current.allSatisfy({ $0 == "\n" || $0 == " " }) {
                    let value: String = try FileIO.readString(parent + "/" + f)
                    try FileIO.writeExisting(prefix + "/" + f, value)
                }
            }
        }
    }

    func apply(pid: Int32) throws { for d in dirs() { try FileIO.writeExisting(d + "/cgroup.procs", "\(pid)") } }
    func set(_ resources: LinuxResources) throws {}
    func pids() throws -> [Int32] {
        try FileIO.readString(dirs()[7] + "/cgroup.procs").split(separator: "\n").compactMap { Int32($0) }
    }
    func freeze() throws {}
    func thaw() throws {}
    func isFrozen() throws -> Bool { false }
    func destroy() throws { for d in dirs() { rmdir(d) } }
    func exists() -> Bool { FileIO.isDirectory(dirs()[7]) }
    func stats() throws -> CgroupStats { CgroupStats() }
}
