import FoundationEssentials
import Glibc
import LinuxSys
import PodrunCore

/// A content-addressed blob store on disk, with the image records that name its images.
///
/// Layout under `root`: `blobs/sha256/<hex>` (blobs, never changed once written), `staging/` (files being
/// written), `images/<escaped name>.json` (`ImageRecord`s) and `lock` (flock'd exclusively around writes).
public struct ContentStore: Sendable {
    /// podrun's default store root.
    public static let defaultRoot = "/var/lib/podrun"

    /// The store's root folder.
    public let root: String

    /// A store over `root` (nothing is created until something is written).
    public init(root: String = ContentStore.defaultRoot) {
        self.root = root
    }

    /// The folder of the sha256 blobs.
    public var blobsDirectory: String { root + "/blobs/sha256" }
    /// The folder of files being written.
    public var stagingDirectory: String { root + "/staging" }
    /// The folder of image records.
    public var imagesDirectory: String { root + "/images" }
    /// The lock file.
    public var lockPath: String { root + "/lock" }

    /// Where the blob `digest` is (or would be).
    public func path(_ digest: Digest) -> String {
        blobsDirectory + "/" + digest.hex
    }

    /// Whether the store has the blob `digest`.
    public func has(_ digest: Digest) -> Bool {
        FileIO.exists(path(digest))
    }

    /// The bytes of blob `digest`; `.notFound` when the store does not have it.
    public func read(_ digest: Digest) throws -> [UInt8] {
        guard has(digest) else { throw PodrunError(.notFound, "blob \(digest) is not in the store", path: path(digest)) }
        return try FileIO.readBytes(path(digest))
    }

    /// A new staging file to write a blob into (the store's folders are made when missing).
    public func stage() throws -> StagedBlob {
        try FileIO.makeDirectories(stagingDirectory, mode: 0o700)
        return try StagedBlob(in: stagingDirectory)
    }

    /// Streams the bytes readable from `fd` (until end of file) into the store as the blob `expected`
    /// describes; the digest and size must match, or nothing is stored. An existing blob is kept.
    @discardableResult
    public func ingest(_ expected: Descriptor, from fd: Int32) throws -> Digest {
        let staged = try stage()
        defer { staged.discard() }
        var buffer = [UInt8](repeating: 0, count: 1 << 16)
        while true {
            let n = buffer.withUnsafeMutableBytes { raw in Glibc.read(fd, raw.baseAddress, raw.count) }
            if n < 0 {
                if errno == EINTR { continue }
                throw PodrunError.system("read", path: "fd \(fd)")
            }
            if n == 0 { break }
            try buffer.withUnsafeBytes { try staged.write(UnsafeRawBufferPointer(rebasing: $0[0..<n])) }
        }
        try staged.verify(expected, what: "blob \(expected.digest)")
        try withLock { try commitLocked(staged) }
        return try Digest(expected.digest)
    }

    /// Stores `bytes` as the blob `expected` describes; the digest and size must match.
    @discardableResult
    public func ingest(_ expected: Descriptor, bytes: [UInt8]) throws -> Digest {
        let staged = try stage()
        defer { staged.discard() }
        try staged.write(bytes)
        try staged.verify(expected, what: "blob \(expected.digest)")
        try withLock { try commitLocked(staged) }
        return try Digest(expected.digest)
    }

    /// Runs `body` holding the store's exclusive lock.
    public func withLock<T>(_ body: () throws -> T) throws -> T {
        try FileIO.makeDirectories(root, mode: 0o700)
        let fd = open(lockPath, O_RDWR | O_CREAT | O_CLOEXEC, 0o600)
        guard fd >= 0 else { throw PodrunError.system("open", path: lockPath) }
        defer { close(fd) }
        while flock(fd, LOCK_EX) != 0 {
            if errno != EINTR { throw PodrunError.system("flock", path: lockPath) }
        }
        return try body()
    }

    /// Renames a finished staging file into place as its digest; an existing blob is kept and the staging
    /// file removed. The caller holds the lock.
    func commitLocked(_ staged: StagedBlob) throws {
        let digest = try staged.finish()
        try FileIO.makeDirectories(blobsDirectory)
        let target = path(digest)
        if FileIO.exists(target) {
            staged.discard()
            return
        }
        guard rename(staged.path, target) == 0 else { throw PodrunError.system("rename", path: target) }
        try syncDirectory(blobsDirectory)
    }

    /// Writes `record` as `images/<escaped name>.json` (fsync'd, then renamed into place). The caller holds
    /// the lock.
    func writeRecordLocked(_ record: ImageRecord) throws {
        try FileIO.makeDirectories(imagesDirectory)
        let staged = try stage()
        defer { staged.discard() }
        try staged.write(try JSONCoding.encode(record, pretty: true, what: "image record"))
        try staged.finish()
        let target = recordPath(record.name)
        guard rename(staged.path, target) == 0 else { throw PodrunError.system("rename", path: target) }
        try syncDirectory(imagesDirectory)
    }

    /// Where the record of image `name` is.
    public func recordPath(_ name: String) -> String {
        imagesDirectory + "/" + ImageRecord.escapedName(name) + ".json"
    }

    /// The record of image `name`; `.notFound` when there is none.
    public func record(named name: String) throws -> ImageRecord {
        let path = recordPath(name)
        guard FileIO.exists(path) else { throw PodrunError(.notFound, "no image named \(name)", path: path) }
        return try JSONCoding.decode(ImageRecord.self, from: try FileIO.readBytes(path), what: "image record \(path)")
    }

    /// The records of all images in the store, sorted by name.
    public func records() throws -> [ImageRecord] {
        try FileIO.entries(of: imagesDirectory).filter { $0.hasSuffix(".json") }.map { name in
            let path = imagesDirectory + "/" + name
            return try JSONCoding.decode(ImageRecord.self, from: try FileIO.readBytes(path), what: "image record \(path)")
        }.sorted { $0.name < $1.name }
    }

    private func syncDirectory(_ path: String) throws {
        let fd = open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC)
        guard fd >= 0 else { throw PodrunError.system("open", path: path) }
        defer { close(fd) }
        guard fsync(fd) == 0 else { throw PodrunError.system("fsync", path: path) }
    }
}
