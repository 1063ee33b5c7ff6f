import Glibc
import LinuxSys
import PodrunCore
import Sandbox

/// Where sandboxes are kept: `<root>/.sandboxes/<id>/` holds `sandbox.json`, the pinned namespace files
/// (`ns/net`, ...) and the lock; the container listing of `<root>` skips it (its name starts with a dot).
public struct SandboxStore: Sendable {
    /// The folder of all sandboxes.
    public let directory: String

    /// The sandboxes of the runtime root `root`, made absolute (mounts under it are found by their absolute
    /// paths in /proc/self/mountinfo, and a pod's network owner key is this path).
    public init(root: String) {
        var root = root
        if !root.hasPrefix("/"), let cwd = try? Runtime.absolutePath(".") {
            root = cwd + "/" + root
        }
        directory = (root.count > 1 && root.hasSuffix("/") ? String(root.dropLast()) : root) + "/.sandboxes"
    }

    /// The folder of sandbox `id`.
    public func folder(_ id: String) -> String { directory + "/" + id }

    /// The record file of sandbox `id`.
    public func recordFile(_ id: String) -> String { folder(id) + "/sandbox.json" }

    /// Loads sandbox `id`; `.notFound` when it has no record.
    public func load(_ id: String) throws -> SandboxRecord {
        try ContainerID.validate(id)
        guard FileIO.exists(recordFile(id)) else { throw PodrunError(.notFound, "sandbox \(id) does not exist") }
        return try JSONCoding.decode(SandboxRecord.self, from: try FileIO.readBytes(recordFile(id)),
                                     what: "sandbox record \(recordFile(id))")
    }

    /// Writes `record` atomically.
    public func save(_ record: SandboxRecord) throws {
        try FileIO.writeAtomically(recordFile(record.id), try JSONCoding.encode(record, pretty: true, what: "sandbox record"),
                                   mode: 0o600)
    }

    /// The ids of every sandbox folder (with or without a record), sorted.
    public func ids() throws -> [String] {
        try FileIO.entries(of: directory).filter { !$0.hasSuffix(".lock") }.sorted()
    }

    /// Runs `body` holding the exclusive lock of sandbox `id` (`<id>.lock` beside its folder, so that it
    /// outlives the folder's removal).
    public func withLock<T>(_ id: String, _ body: () throws -> T) throws -> T {
        try ContainerID.validate(id)
        try FileIO.makeDirectories(directory, mode: 0o700)
        let path = directory + "/" + id + ".lock"
        let fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0o600)
        guard fd >= 0 else { throw PodrunError.system("open", path: path) }
        defer { close(fd) }
        while flock(fd, LOCK_EX) != 0 {
            if errno != EINTR { throw PodrunError.system("flock", path: path) }
        }
        return try body()
    }

    /// Removes the lock file of a removed sandbox.
    func removeLock(_ id: String) {
        unlink(directory + "/" + id + ".lock")
    }
}
