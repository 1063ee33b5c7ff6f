import CLibarchive
import Glibc
import PodrunCore

/// A streaming tar writer over libarchive (POSIX pax format, no compression): regular files and folders.
final class ArchiveWriter {
    private let handle: OpaquePointer
    private let destination: String
    private var closed = false

    /// A writer to the open descriptor `fd` (not closed); `destination` names it in errors.
    init(fd: Int32, destination: String) throws {
        guard let handle = archive_write_new() else {
            throw PodrunError(.system, "archive_write_new failed", path: destination)
        }
        self.handle = handle
        self.destination = destination
        archive_write_set_format_pax_restricted(handle)
        archive_write_add_filter_none(handle)
        archive_write_set_bytes_in_last_block(handle, 1)
        try check(archive_write_open_fd(handle, fd), "open")
    }

    deinit {
        if !closed { archive_write_close(handle) }
        archive_write_free(handle)
    }

    /// Adds a folder entry `name`.
    func addDirectory(_ name: String) throws {
        try header(name, type: 0o040000, mode: 0o755, size: 0)
    }

    /// Adds a regular file `name` holding `bytes`.
    func addFile(_ name: String, bytes: [UInt8]) throws {
        try header(name, type: 0o100000, mode: 0o644, size: Int64(bytes.count))
        try bytes.withUnsafeBytes { try write($0) }
    }

    /// Adds a regular file `name` with the content of the file at `path`.
    func addFile(_ name: String, copying path: String) throws {
        let fd = open(path, O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else { throw PodrunError.system("open", path: path) }
        defer { close(fd) }
        var st = stat()
        guard fstat(fd, &st) == 0 else { throw PodrunError.system("fstat", path: path) }
        try header(name, type: 0o100000, mode: 0o644, size: Int64(st.st_size))
        var buffer = [UInt8](repeating: 0, count: 1 << 20)
        var left = Int64(st.st_size)
        while left > 0 {
            let n = buffer.withUnsafeMutableBytes { Glibc.read(fd, $0.baseAddress, $0.count) }
            if n < 0 && errno == EINTR { continue }
            guard n > 0 else { throw PodrunError.system("read", path: path) }
            try buffer.withUnsafeBytes { try write(UnsafeRawBufferPointer(rebasing: $0[0..<n])) }
            left -= Int64(n)
        }
    }

    /// Writes the archive's end.
    func finish() throws {
        closed = true
        try check(archive_write_close(handle), "close")
    }

    private func header(_ name: String, type: UInt32, mode: mode_t, size: Int64) throws {
        guard let entry = archive_entry_new() else { throw PodrunError(.system, "archive_entry_new failed") }
        defer { archive_entry_free(entry) }
        archive_entry_set_pathname(entry, name)
        archive_entry_set_filetype(entry, type)
        archive_entry_set_perm(entry, mode)
        archive_entry_set_size(entry, size)
        archive_entry_set_mtime(entry, time(nil), 0)
        try check(archive_write_header(handle, entry), "write header of \(name)")
    }

    private func write(_ bytes: UnsafeRawBufferPointer) throws {
        var offset = 0
        while offset < bytes.count {
            let n = archive_write_data(handle, bytes.baseAddress.map { $0 + offset }, bytes.count - offset)
            guard n > 0 else { throw error("write data") }
            offset += n
        }
    }

    private func check(_ status: Int32, _ what: String) throws {
        if status == ARCHIVE_OK || status == ARCHIVE_WARN { return }
        throw error(what)
    }

    private func error(_ what: String) -> PodrunError {
        let message = archive_error_string(handle).map { String(cString: $0) } ?? "unknown error"
        let code = archive_errno(handle)
        return PodrunError(.system, "archive \(what) failed: \(message)", path: destination, errno: code > 0 ? code : nil)
    }
}
