import Crypto
import Glibc
import PodrunCore

/// A file being written into a store's staging folder, hashed (sha256) and counted as it is written.
///
/// `finish()` fsyncs and closes it and fixes its digest; `ContentStore.commit` then renames it into place.
/// Whatever is not committed is removed by `discard()` (or left for the next `discard` of its owner).
public final class StagedBlob {
    /// The staging file's path.
    public let path: String
    /// The number of bytes written so far.
    public private(set) var size: Int64 = 0
    /// The sha256 of the content, once `finish()` has run.
    public private(set) var digest: Digest?

    private var fd: Int32
    private var hasher = SHA256()

    /// A new, empty staging file in `directory` (which must exist).
    init(in directory: String) throws {
        var fd: Int32 = -1
        var path = ""
        for _ in 0..<16 {
            path = directory + "/blob-\(getpid())-" + String(UInt64.random(in: 0...UInt64.max), radix: 16)
            fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0o600)
            if fd >= 0 || errno != EEXIST { break }
        }
        guard fd >= 0 else { throw PodrunError.system("create staging file", path: path) }
        self.fd = fd
        self.path = path
    }

    deinit {
        if fd >= 0 { close(fd) }
    }

    /// Appends `bytes` to the file and to the hash.
    public func write(_ bytes: UnsafeRawBufferPointer) throws {
        guard fd >= 0 else { throw PodrunError(.internalError, "write to a finished staging file", path: path) }
        guard let base = bytes.baseAddress else { return }
        var offset = 0
        while offset < bytes.count {
            let n = Glibc.write(fd, base + offset, bytes.count - offset)
            if n < 0 {
                if errno == EINTR { continue }
                throw PodrunError.system("write", path: path)
            }
            offset += n
        }
        hasher.update(bufferPointer: bytes)
        size += Int64(bytes.count)
    }

    /// Appends `bytes` to the file and to the hash.
    public func write(_ bytes: [UInt8]) throws {
        try bytes.withUnsafeBytes { try write($0) }
    }

    /// Fsyncs and closes the file and returns the digest of everything written.
    @discardableResult
    public func finish() throws -> Digest {
        if let digest { return digest }
        guard fsync(fd) == 0 else { throw PodrunError.system("fsync", path: path) }
        close(fd)
        fd = -1
        let digest = Digest(rawBytes: hasher.finalize())
        self.digest = digest
        return digest
    }

    /// Closes and removes the staging file (a file already renamed away is not an error).
    public func discard() {
        if fd >= 0 {
            close(fd)
            fd = -1
        }
        unlink(path)
    }

    /// Checks the finished content against `expected` (digest and size); `what` names the blob in the error.
    public func verify(_ expected: Descriptor, what: String) throws {
        let wanted = try Digest(expected.digest)
        let actual = try finish()
        guard actual == wanted else {
            throw PodrunError(.invalidSpec, "\(what) has digest \(actual), expected \(wanted)", path: expected.digest)
        }
        guard size == expected.size else {
            throw PodrunError(.invalidSpec, "\(what) is \(size) bytes, expected \(expected.size)", path: expected.digest)
        }
    }
}
