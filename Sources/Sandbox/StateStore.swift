import Glibc
import LinuxSys
import OCISpec
import PodrunCore

/// The state folder (`--root`, default /run/podrun): one folder per container holding `state.json` and, between
/// create and start, the `exec.fifo` the container's process waits on.
public struct StateStore: Sendable {
    /// The root folder.
    public let root: String

    public init(root: String) {
        self.root = root.count > 1 && root.hasSuffix("/") ? String(root.dropLast()) : root
    }

    /// The folder of container `id`.
    public func directory(_ id: String) -> String { root + "/" + id }
    /// The state file of container `id`.
    public func stateFile(_ id: String) -> String { directory(id) + "/state.json" }
    /// The exec fifo of container `id`.
    public func execFifo(_ id: String) -> String { directory(id) + "/exec.fifo" }

    /// Makes the folder of a new container; `.alreadyExists` if it exists.
    public func makeDirectory(for id: String) throws -> String {
        try FileIO.makeDirectories(root, mode: 0o700)
        let dir = directory(id)
        guard mkdir(dir, 0o711) == 0 else {
            if errno == EEXIST { throw PodrunError(.alreadyExists, "container with id exists: \(id)") }
            throw PodrunError.system("mkdir", path: dir)
        }
        chmod(dir, 0o711)
        return dir
    }

    /// Loads the record of container `id`; `.notFound` ("container does not exist") if there is none.
    public func load(_ id: String) throws -> ContainerRecord {
        try ContainerID.validate(id)
        let bytes = try readState(id)
        return try JSONCoding.decode(ContainerRecord.self, from: bytes, what: "state \(stateFile(id))")
    }

    /// The record of container `id` for `start`, `kill`, `delete`, `state` and `ps`: its spec holds only the
    /// annotations and namespaces unless it has hooks (see `ContainerRecord.summary(from:)`). Never save it.
    public func loadSummary(_ id: String) throws -> ContainerRecord {
        try ContainerID.validate(id)
        let bytes = try readState(id)
        if let tree = JSONTree.parse(bytes), let record = ContainerRecord.summary(from: tree) { return record }
        return try JSONCoding.decode(ContainerRecord.self, from: bytes, what: "state \(stateFile(id))")
    }

    private func readState(_ id: String) throws -> [UInt8] {
        do {
            return try FileIO.readBytes(stateFile(id))
        } catch let e as PodrunError where e.code == .notFound {
            throw PodrunError(.notFound, "container does not exist")
        }
    }

    /// Writes the record atomically. `specDocument`, the parsed config.json the record's spec was decoded from,
    /// is written as it is instead of encoding the spec again.
    public func save(_ record: ContainerRecord, specDocument: JSONTree? = nil) throws {
        let bytes = try specDocument.map { record.stateDocument(spec: $0).jsonBytes() }
            ?? JSONCoding.encode(record, what: "state")
        try FileIO.writeAtomically(stateFile(record.id), bytes, mode: 0o600)
    }

    /// The ids of every container folder holding a state file, sorted.
    public func ids() throws -> [String] {
        try FileIO.entries(of: root).filter { !$0.hasPrefix(".") && FileIO.exists(stateFile($0)) }.sorted()
    }

    /// Removes the folder of container `id` and all in it.
    public func remove(_ id: String) throws {
        try FileIO.removeTree(directory(id))
    }

    /// Takes an exclusive lock on container `id` for the life of the returned descriptor (close it to unlock).
    public func lock(_ id: String) throws -> Int32 {
        let fd = open(directory(id), O_RDONLY | O_DIRECTORY | O_CLOEXEC)
        guard fd >= 0 else {
            if errno == ENOENT { throw PodrunError(.notFound, "container does not exist") }
            throw PodrunError.system("open", path: directory(id))
        }
        while flock(fd, LOCK_EX) != 0 {
            if errno != EINTR {
                close(fd)
                throw PodrunError.system("lock", path: directory(id))
            }
        }
        return fd
    }
}
