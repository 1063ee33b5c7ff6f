import CLibarchive
import Glibc
import PodrunCore

/// A streaming reader over libarchive: a tar archive (`tar(fd:source:)`) or a single raw stream
/// (`raw(path:)`), each uncompressed, gzip or zstd.
final class ArchiveReader {
    /// One entry's header.
    struct Entry {
        /// The entry's name, normalized (no `./`, no `..`, never absolute).
        var name: String
        /// The entry's file type bits (`S_IFREG`, `S_IFDIR`, ...).
        var fileType: mode_t
        /// The target of a hard link, normalized, when the entry is one.
        var hardlink: String?
        /// The target of a symbolic link, as written, when the entry is one.
        var symlink: String?
    }

    private let handle: OpaquePointer
    private let source: String
    /// Called with the bytes read from the source so far, after each data block.
    var progress: ImportProgress?

    private init(source: String, raw: Bool) throws {
        guard let handle = archive_read_new() else {
            throw PodrunError(.system, "archive_read_new failed", path: source)
        }
        self.handle = handle
        self.source = source
        if raw {
            archive_read_support_format_raw(handle)
        } else {
            archive_read_support_format_tar(handle)
        }
        archive_read_support_filter_none(handle)
        archive_read_support_filter_gzip(handle)
        archive_read_support_filter_zstd(handle)
    }

    deinit {
        archive_read_free(handle)
    }

    /// A tar reader over the open descriptor `fd` (read from its current offset; not closed); `source` names
    /// it in errors.
    static func tar(fd: Int32, source: String) throws -> ArchiveReader {
        let reader = try ArchiveReader(source: source, raw: false)
        try reader.check(archive_read_open_fd(reader.handle, fd, 1 << 16), "open")
        return reader
    }

    /// A reader of the one (possibly compressed) stream in the file at `path`.
    static func raw(path: String) throws -> ArchiveReader {
        let reader = try ArchiveReader(source: path, raw: true)
        try reader.check(archive_read_open_filename(reader.handle, path, 1 << 16), "open")
        return reader
    }

    /// The next entry's header, or nil at the end of the archive.
    func next() throws -> Entry? {
        var entry: OpaquePointer?
        let status = archive_read_next_header(handle, &entry)
        if status == ARCHIVE_EOF { return nil }
        try check(status, "read header")
        guard let entry else { throw PodrunError(.invalidArgument, "archive entry without header", path: source) }
        guard let rawName = archive_entry_pathname(entry) else {
            throw PodrunError(.invalidArgument, "archive entry without a name", path: source)
        }
        let name = try ArchiveReader.normalize(String(cString: rawName))
        var hardlink: String?
        if let target = archive_entry_hardlink(entry) {
            hardlink = try ArchiveReader.normalize(String(cString: target))
        }
        var symlink: String?
        if let target = archive_entry_symlink(entry) {
            symlink = String(cString: target)
        }
        return Entry(name: name, fileType: archive_entry_filetype(entry), hardlink: hardlink, symlink: symlink)
    }

    /// Streams the current entry's data to `body` in chunks.
    func readData(_ body: (UnsafeRawBufferPointer) throws -> Void) throws {
        var buffer = [UInt8](repeating: 0, count: 1 << 16)
        while true {
            let n = buffer.withUnsafeMutableBytes { raw in archive_read_data(handle, raw.baseAddress, raw.count) }
            if n == 0 { return }
            if n < 0 {
                if n == Int(ARCHIVE_RETRY) { continue }
                if n == Int(ARCHIVE_WARN) { continue }
                throw error("read data")
            }
            try buffer.withUnsafeBytes { try body(UnsafeRawBufferPointer(rebasing: $0[0..<n])) }
            if let progress { progress(archive_filter_bytes(handle, -1)) }
        }
    }

    /// `name` without leading `./` and repeated slashes; absolute names and `..` components are refused.
    static func normalize(_ name: String) throws -> String {
        if name.hasPrefix("/") {
            throw PodrunError(.invalidArgument, "archive entry \(name) has an absolute path", path: name)
        }
        var parts: [Substring] = []
        for part in name.split(separator: "/", omittingEmptySubsequences: true) {
            if part == "." { continue }
            if part == ".." {
                throw PodrunError(.invalidArgument, "archive entry \(name) has a .. component", path: name)
            }
            parts.append(part)
        }
        return parts.joined(separator: "/")
    }

    private func check(_ status: Int32, _ what: String) throws {
        if status == ARCHIVE_OK || status == ARCHIVE_WARN { return }
        throw error(what)
    }

    private func error(_ what: String) -> PodrunError {
        let message = archive_error_string(handle).map { String(cString: $0) } ?? "unknown error"
        let code = archive_errno(handle)
        return PodrunError(.invalidArgument, "archive \(what) failed: \(message)", path: source,
                           errno: code > 0 ? code : nil)
    }
}
