import CLibarchive
import Glibc
import LinuxSys
import PodrunCore

/// Bounds on what an import may stage and what one layer may unpack to.
public struct UnpackLimits: Sendable {
    /// The most bytes of regular-file data an image archive may hold in all (what an import stages
    /// before anything is checked).
    public var maxArchiveBytes: Int64 = 1 << 38
    /// The most bytes of file data a layer may unpack to (the sum of its regular files' sizes).
    public var maxUnpackedBytes: Int64 = 1 << 36
    /// The longest entry name (and hardlink target) in bytes, as written in the tar.
    public var maxEntryNameBytes: Int = 4096
    /// The longest component of an entry name in bytes.
    public var maxNameComponentBytes: Int = 255
    /// The most entries a layer may hold.
    public var maxEntries: Int = 1 << 22

    /// The default limits (256 GiB per archive, 64 GiB per layer, 4096-byte names with 255-byte components, 4 Mi entries).
    public init() {}
}

/// What one unpack wrote.
public struct UnpackSummary: Sendable, Equatable {
    /// The number of tar entries read (whiteouts and skipped entries included).
    public var entries: Int = 0
    /// The bytes of regular-file data (the sum of their sizes, holes included).
    public var bytes: Int64 = 0
    /// The sha256 of the uncompressed layer (what an image config lists as its diff_id).
    public var diffID: Digest?
}

/// Unpacks one OCI image layer (a tar, uncompressed, gzip or zstd) into an empty folder, in overlayfs form,
/// so that the folder can serve as an overlay lower layer.
///
/// - Whiteouts: `.wh.NAME` removes NAME from this layer's folder and makes NAME a 0:0 character device with
///   device number 0; `.wh..wh..opq` in folder D sets `trusted.overlay.opaque=y` on D. Other `.wh..wh.*`
///   names (aufs metadata such as `.wh..wh.plnk`) are skipped with their contents (so a hard link into
///   `.wh..wh.plnk` is refused as pointing outside the layer).
/// - Owners (numeric uid/gid), modes with setuid/setgid/sticky (set after the owner, since chown clears
///   setuid), extended attributes, hard links, symlinks (their text verbatim: it is never followed here),
///   device nodes, fifos, regular files (sparse-aware) and times are kept. Folders' times are set at the
///   end, deepest first, after their children are in place. Sockets (which tar cannot hold data for) are
///   skipped.
/// - A later entry replaces an earlier one of the same name; a folder over a folder keeps its contents and
///   takes the new metadata. The root entry (`./`) gives the target folder its metadata.
/// - A hard link to an earlier symlink links the symlink itself (never what it points to).
/// - Any format but tar (ustar, pax, GNU), any filter but gzip and zstd, a damaged header or truncated data
///   is refused.
/// - Extended attributes: `trusted.overlay.*` from the tar is dropped (only whiteout markers make overlay
///   metadata; a layer must not smuggle redirects or opaque flags). A failure to set one is skipped when the
///   filesystem does not support it (`ENOTSUP`), and on `EPERM` for `user.*` (the kernel refuses them on
///   symlinks and devices) and `security.*` (a security module refused); any other failure is an error.
///
/// Confinement, by refusal: entry names are normalized (`./` and empty components dropped), and a name or
/// hardlink target that is absolute or has a `..` component is refused. Every filesystem operation is
/// relative to a descriptor of the target folder; an entry's parent folder is opened with
/// `openat2(RESOLVE_BENEATH | RESOLVE_NO_SYMLINKS)`, so an entry (or hardlink target, or whiteout) whose
/// path goes through a symlink (`a -> /etc`, then `a/passwd`) is refused rather than followed. The last
/// component is always acted on without following it (`O_NOFOLLOW`, `AT_SYMLINK_NOFOLLOW`, `linkat` without
/// `AT_SYMLINK_FOLLOW`). Missing parent folders are made (0755, root-owned).
///
/// On any error `unpack` throws and leaves what it wrote inside the target folder, for the caller to delete;
/// nothing is ever written outside it.
public struct LayerUnpacker: Sendable {
    /// The limits this unpacker enforces.
    public let limits: UnpackLimits

    /// An unpacker enforcing `limits`.
    public init(limits: UnpackLimits = .init()) {
        self.limits = limits
    }

    /// Unpacks the layer tar at `path` into the folder `directory` (which should be empty); returns what it
    /// wrote and the layer's diff_id (read in the same pass).
    public func unpack(layerAt path: String, into directory: String) throws -> UnpackSummary {
        let root = Glibc.open(directory, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC)
        guard root >= 0 else { throw PodrunError.system("open layer folder", path: directory) }
        defer { close(root) }
        let reader = try LayerTarReader(path: path)
        var writer = LayerTreeWriter(root: root, layer: path, limits: limits)
        while let entry = try reader.next() {
            try writer.count(entry)
            try writer.write(entry, reader: reader)
        }
        try writer.finish()
        var summary = writer.summary
        summary.diffID = try reader.diffID()
        return summary
    }
}

/// The libarchive read handles of one layer: `stream` undoes the compression (filters none, gzip and zstd
/// only) and hashes the uncompressed bytes as they pass; `handle` reads them as a tar (tar formats only, no
/// filter), so the layer is decompressed once for both its files and its diff_id.
private final class LayerTarReader {
    let handle: OpaquePointer
    let stream: OpaquePointer
    let path: String
    private var hasher = SHA256Hasher()
    private let buffer: UnsafeMutableRawBufferPointer
    private var streamError: PodrunError?

    init(path: String) throws {
        guard let stream = archive_read_new() else { throw PodrunError(.system, "archive_read_new failed", path: path) }
        guard let handle = archive_read_new() else {
            archive_read_free(stream)
            throw PodrunError(.system, "archive_read_new failed", path: path)
        }
        self.stream = stream
        self.handle = handle
        self.path = path
        buffer = .allocate(byteCount: 1 << 20, alignment: 64)
        archive_read_support_format_raw(stream)
        archive_read_support_filter_none(stream)
        archive_read_support_filter_gzip(stream)
        archive_read_support_filter_zstd(stream)
        var status = archive_read_open_filename(stream, path, 1 << 20)
        if status != ARCHIVE_OK && status != ARCHIVE_WARN {
            let e = archive_errno(stream)
            if e == ENOENT { throw PodrunError(.notFound, "layer not found", path: path, errno: e) }
            throw Self.error(stream, "open", path: path)
        }
        var rawEntry: OpaquePointer?
        status = archive_read_next_header(stream, &rawEntry)
        guard status == ARCHIVE_OK || status == ARCHIVE_WARN || status == ARCHIVE_EOF else {
            throw Self.error(stream, "open", path: path)
        }
        archive_read_support_format_tar(handle)
        archive_read_support_filter_none(handle)
        status = archive_read_open(handle, Unmanaged.passUnretained(self).toOpaque(), nil, { _, client, out in
            guard let client, let out else { return -1 }
            return Unmanaged<LayerTarReader>.fromOpaque(client).takeUnretainedValue().fill(out)
        }, nil)
        if status != ARCHIVE_OK && status != ARCHIVE_WARN { throw error("open") }
    }

    deinit {
        archive_read_free(handle)
        archive_read_free(stream)
        buffer.deallocate()
    }

    /// The tar reader's read callback: the next block of uncompressed bytes (0 at the end, -1 on an error).
    private func fill(_ out: UnsafeMutablePointer<UnsafeRawPointer?>) -> la_ssize_t {
        let n = archive_read_data(stream, buffer.baseAddress, buffer.count)
        if n < 0 {
            let message = archive_error_string(stream).map { String(cString: $0) } ?? "unknown error"
            let code = archive_errno(stream)
            streamError = PodrunError(.invalidArgument, message, path: path, errno: code > 0 ? code : nil)
            return -1
        }
        hasher.update(UnsafeRawBufferPointer(rebasing: buffer[0..<n]))
        out.pointee = UnsafeRawPointer(buffer.baseAddress)
        return n
    }

    /// The sha256 of the whole uncompressed layer (its diff_id), reading what follows the tar's end marker.
    func diffID() throws -> Digest {
        while true {
            var ignored: UnsafeRawPointer?
            let n = fill(&ignored)
            if n == 0 { return hasher.finalize() }
            if n < 0 { throw error("decompress") }
        }
    }

    /// The next entry, or nil at the end of the archive. The entry is valid until the next call. A damaged
    /// header (`ARCHIVE_RETRY`, which libarchive would skip over) is an error: a layer is whole or refused.
    func next() throws -> OpaquePointer? {
        var entry: OpaquePointer?
        let status = archive_read_next_header(handle, &entry)
        if status == ARCHIVE_EOF { return nil }
        guard status == ARCHIVE_OK || status == ARCHIVE_WARN, let entry else { throw error("read header") }
        return entry
    }

    /// Streams the current entry's data blocks to `body` as (offset, bytes).
    func readBlocks(_ body: (Int64, UnsafeRawBufferPointer) throws -> Void) throws {
        while true {
            var buffer: UnsafeRawPointer?
            var size = 0
            var offset: la_int64_t = 0
            let status = archive_read_data_block(handle, &buffer, &size, &offset)
            if status == ARCHIVE_EOF { return }
            guard status == ARCHIVE_OK || status == ARCHIVE_WARN else { throw error("read data") }
            if size > 0, let buffer { try body(offset, UnsafeRawBufferPointer(start: buffer, count: size)) }
        }
    }

    /// An error of the tar reader; when decompressing failed, that failure's message.
    func error(_ what: String) -> PodrunError {
        if let streamError {
            return PodrunError(.invalidArgument, "layer \(what) failed: " + streamError.message, path: path,
                               errno: streamError.errno)
        }
        return Self.error(handle, what, path: path)
    }

    private static func error(_ handle: OpaquePointer, _ what: String, path: String) -> PodrunError {
        let message = archive_error_string(handle).map { String(cString: $0) } ?? "unknown error"
        let code = archive_errno(handle)
        if code == EILSEQ {  // ARCHIVE_ERRNO_FILE_FORMAT: not a tar, or a filter that is not enabled
            return PodrunError(.invalidArgument, "layer is not a tar archive (uncompressed, gzip or zstd): " + message,
                               path: path)
        }
        return PodrunError(.invalidArgument, "layer \(what) failed: " + message, path: path, errno: code > 0 ? code : nil)
    }
}

/// The name of one entry: its components as raw bytes (tar names need not be UTF-8).
private struct EntryName: Hashable {
    var components: [[UInt8]]

    /// The name for messages.
    var text: String {
        components.isEmpty ? "." : components.map { String(decoding: $0, as: UTF8.self) }.joined(separator: "/")
    }

    /// The last component as a C string.
    var base: [CChar] { EntryName.cString(components.last ?? Array(".".utf8)) }

    /// The parent folder's name.
    var parent: EntryName { EntryName(components: Array(components.dropLast())) }

    /// The whole name as a relative C string (`.` when empty).
    var path: [CChar] {
        EntryName.cString(components.isEmpty ? Array(".".utf8) : Array(components.joined(separator: [0x2f])))
    }

    static func cString(_ bytes: [UInt8]) -> [CChar] {
        bytes.map { CChar(bitPattern: $0) } + [0]
    }

    /// Parses and normalizes `raw`, refusing absolute names, `..` components and names over the limits.
    init(raw: UnsafePointer<CChar>, limits: UnpackLimits, what: String) throws {
        let length = strlen(raw)
        let bytes = UnsafeRawBufferPointer(start: raw, count: length)
        let shown = String(decoding: bytes.prefix(200), as: UTF8.self) + (length > 200 ? "..." : "")
        guard length <= limits.maxEntryNameBytes else {
            throw PodrunError(.invalidArgument,
                              "layer \(what) \(shown) is \(length) bytes long, more than the limit of \(limits.maxEntryNameBytes)")
        }
        guard bytes.first != 0x2f else {
            throw PodrunError(.invalidArgument, "layer \(what) \(shown) escapes the layer folder (absolute name)")
        }
        var parts: [[UInt8]] = []
        for part in bytes.split(separator: 0x2f, omittingEmptySubsequences: true) {
            if part.count == 1 && part.first == 0x2e { continue }
            if part.count == 2 && part.allSatisfy({ $0 == 0x2e }) {
                throw PodrunError(.invalidArgument, "layer \(what) \(shown) escapes the layer folder (.. component)")
            }
            guard part.count <= limits.maxNameComponentBytes else {
                throw PodrunError(.invalidArgument,
                                  "layer \(what) \(shown) has a component of \(part.count) bytes, more than the limit of \(limits.maxNameComponentBytes)")
            }
            parts.append(Array(part))
        }
        components = parts
    }

    init(components: [[UInt8]]) {
        self.components = components
    }
}

/// Writes entries into the layer folder `root`, confined to it.
private struct LayerTreeWriter {
    let root: Int32
    let layer: String
    let limits: UnpackLimits
    var summary = UnpackSummary()
    /// Folders' times, set at the end.
    var folderTimes: [EntryName: [timespec]] = [:]

    static let whiteoutPrefix = Array(".wh.".utf8)
    static let opaqueMarker = Array(".wh..wh..opq".utf8)
    static let metadataPrefix = Array(".wh..wh.".utf8)

    init(root: Int32, layer: String, limits: UnpackLimits) {
        self.root = root
        self.layer = layer
        self.limits = limits
    }

    /// Counts `entry` against the entry and size limits.
    mutating func count(_ entry: OpaquePointer) throws {
        guard summary.entries < limits.maxEntries else {
            throw PodrunError(.invalidArgument, "layer has more than \(limits.maxEntries) entries", path: layer)
        }
        summary.entries += 1
        if archive_entry_hardlink(entry) == nil && archive_entry_filetype(entry) == S_IFREG {
            let size = archive_entry_size(entry)
            guard size >= 0, size <= limits.maxUnpackedBytes - summary.bytes else {
                throw PodrunError(.invalidArgument, "layer unpacks to more than \(limits.maxUnpackedBytes) bytes", path: layer)
            }
            summary.bytes += size
        }
    }

    /// Writes one entry.
    mutating func write(_ entry: OpaquePointer, reader: LayerTarReader) throws {
        guard let raw = archive_entry_pathname(entry) ?? archive_entry_pathname_utf8(entry) else {
            throw PodrunError(.invalidArgument, "layer entry without a name", path: layer)
        }
        let name = try EntryName(raw: raw, limits: limits, what: "entry")
        do {
            try write(entry, name: name, reader: reader)
        } catch let error as PodrunError where error.path == nil {
            var located = error
            located.path = layer
            throw located
        }
    }

    private mutating func write(_ entry: OpaquePointer, name: EntryName, reader: LayerTarReader) throws {
        if name.components.dropLast().contains(where: { $0.starts(with: Self.metadataPrefix) }) {
            return  // inside an aufs metadata folder (`.wh..wh.plnk/...`)
        }
        if let last = name.components.last, last.starts(with: Self.whiteoutPrefix) {
            return try whiteout(name, last: last)
        }
        let type = archive_entry_filetype(entry)
        if let target = archive_entry_hardlink(entry) {
            return try hardlink(name, target: EntryName(raw: target, limits: limits, what: "hardlink target"))
        }
        if name.components.isEmpty {
            guard type == S_IFDIR else { throw PodrunError(.invalidArgument, "layer entry . is not a folder") }
            try setMetadata(entry, fd: root, name: name)
            folderTimes[name] = times(entry)
            return
        }
        let parent = try openParent(name, create: true)
        defer { close(parent) }
        let base = name.base
        switch type {
        case S_IFDIR:
            var st = stat()
            if fstatat(parent, base, &st, AT_SYMLINK_NOFOLLOW) != 0 || st.st_mode & S_IFMT != S_IFDIR {
                try removeExisting(parent, base, name: name)
                guard mkdirat(parent, base, 0o700) == 0 else { throw PodrunError.system("mkdir", path: name.text) }
            }
            let fd = openat(parent, base, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC)
            guard fd >= 0 else { throw PodrunError.system("open", path: name.text) }
            defer { close(fd) }
            try setMetadata(entry, fd: fd, name: name)
            folderTimes[name] = times(entry)
        case S_IFREG:
            try removeExisting(parent, base, name: name)
            let fd = openat(parent, base, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0o600)
            guard fd >= 0 else { throw PodrunError.system("create", path: name.text) }
            defer { close(fd) }
            try writeData(fd, name: name, size: archive_entry_size(entry), reader: reader)
            try setMetadata(entry, fd: fd, name: name)
            var stamps = times(entry)
            guard futimens(fd, &stamps) == 0 else { throw PodrunError.system("set times", path: name.text) }
        case S_IFLNK:
            guard let text = archive_entry_symlink(entry) ?? archive_entry_symlink_utf8(entry) else {
                throw PodrunError(.invalidArgument, "layer symlink \(name.text) has no target")
            }
            try removeExisting(parent, base, name: name)
            guard symlinkat(text, parent, base) == 0 else { throw PodrunError.system("symlink", path: name.text) }
            try setMetadata(entry, parent: parent, name: name, symlink: true)
        case S_IFCHR, S_IFBLK, S_IFIFO:
            try removeExisting(parent, base, name: name)
            let device = type == S_IFIFO ? 0 : Self.device(archive_entry_rdevmajor(entry), archive_entry_rdevminor(entry))
            guard mknodat(parent, base, mode_t(type) | 0o600, device) == 0 else {
                throw PodrunError.system("mknod", path: name.text)
            }
            try setMetadata(entry, parent: parent, name: name, symlink: false)
        default:
            return  // sockets and unknown types carry nothing to unpack
        }
    }

    /// A whiteout entry: `.wh..wh..opq` marks its folder opaque, `.wh.NAME` hides NAME.
    private func whiteout(_ name: EntryName, last: [UInt8]) throws {
        if last == Self.opaqueMarker {
            let parent = try openParent(name, create: true)
            defer { close(parent) }
            guard ExtendedAttributes.set(fd: parent, "trusted.overlay.opaque", "y", 1) == 0 else {
                throw PodrunError.system("set trusted.overlay.opaque", path: name.parent.text)
            }
            return
        }
        if last.starts(with: Self.metadataPrefix) { return }
        let hidden = Array(last.dropFirst(Self.whiteoutPrefix.count))
        guard !hidden.isEmpty, hidden != [0x2e], hidden != [0x2e, 0x2e] else {
            throw PodrunError(.invalidArgument, "layer whiteout \(name.text) names no file")
        }
        let parent = try openParent(name, create: true)
        defer { close(parent) }
        let target = EntryName(components: name.parent.components + [hidden])
        let base = target.base
        try removeExisting(parent, base, name: target)
        guard mknodat(parent, base, S_IFCHR | 0o000, 0) == 0 else { throw PodrunError.system("mknod whiteout", path: target.text) }
        guard fchownat(parent, base, 0, 0, AT_SYMLINK_NOFOLLOW) == 0 else {
            throw PodrunError.system("chown whiteout", path: target.text)
        }
    }

    /// A hard link `name` to the earlier entry `target`.
    private func hardlink(_ name: EntryName, target: EntryName) throws {
        guard !target.components.isEmpty else { throw PodrunError(.invalidArgument, "layer hardlink \(name.text) has no target") }
        guard !name.components.isEmpty else { throw PodrunError(.invalidArgument, "layer hardlink . is refused") }
        if target == name { return }
        let targetParent = try openParent(target, create: false)
        defer { close(targetParent) }
        var st = stat()
        guard fstatat(targetParent, target.base, &st, AT_SYMLINK_NOFOLLOW) == 0 else {
            throw PodrunError(.invalidArgument, "layer hardlink \(name.text) points to \(target.text), which is not in the layer",
                              errno: errno)
        }
        let parent = try openParent(name, create: true)
        defer { close(parent) }
        try removeExisting(parent, name.base, name: name)
        guard linkat(targetParent, target.base, parent, name.base, 0) == 0 else {
            throw PodrunError.system("link to \(target.text)", path: name.text)
        }
    }

    /// Streams the entry's data into `fd` (holes left as holes) and sets its size.
    private func writeData(_ fd: Int32, name: EntryName, size: Int64, reader: LayerTarReader) throws {
        var written: Int64 = 0
        try reader.readBlocks { offset, bytes in
            written += Int64(bytes.count)
            guard written <= size, offset >= 0, offset <= size - Int64(bytes.count) else {
                throw PodrunError(.invalidArgument, "layer entry \(name.text) has more data than its size \(size)")
            }
            var done = 0
            while done < bytes.count {
                let n = pwrite(fd, bytes.baseAddress.map { $0 + done }, bytes.count - done, off_t(offset) + off_t(done))
                if n < 0 && errno == EINTR { continue }
                guard n > 0 else { throw PodrunError.system("write", path: name.text) }
                done += n
            }
        }
        guard ftruncate(fd, off_t(size)) == 0 else { throw PodrunError.system("truncate", path: name.text) }
    }

    /// Owner, mode and xattrs of an open regular file or folder.
    private func setMetadata(_ entry: OpaquePointer, fd: Int32, name: EntryName) throws {
        let (uid, gid) = try owner(entry, name: name)
        guard fchown(fd, uid, gid) == 0 else { throw PodrunError.system("chown", path: name.text) }
        guard fchmod(fd, archive_entry_perm(entry) & 0o7777) == 0 else { throw PodrunError.system("chmod", path: name.text) }
        try setXattrs(entry, name: name, symlinkOrDevice: false) { key, value, size in
            ExtendedAttributes.set(fd: fd, key, value, size)
        }
    }

    /// Owner, mode (not for symlinks), xattrs and times of a symlink, device or fifo `name` in `parent`.
    private func setMetadata(_ entry: OpaquePointer, parent: Int32, name: EntryName, symlink: Bool) throws {
        let base = name.base
        let (uid, gid) = try owner(entry, name: name)
        guard fchownat(parent, base, uid, gid, AT_SYMLINK_NOFOLLOW) == 0 else { throw PodrunError.system("chown", path: name.text) }
        if !symlink {
            // `name` was just made by mknodat in a folder held open, so it is not a symlink.
            guard fchmodat(parent, base, archive_entry_perm(entry) & 0o7777, 0) == 0 else {
                throw PodrunError.system("chmod", path: name.text)
            }
        }
        // The l* calls do not follow the last component; the folder is reached through its descriptor.
        let path = Array("/proc/self/fd/\(parent)/".utf8CString.dropLast()) + base
        try setXattrs(entry, name: name, symlinkOrDevice: true) { key, value, size in
            ExtendedAttributes.setNoFollow(path, key, value, size)
        }
        var stamps = times(entry)
        guard utimensat(parent, base, &stamps, AT_SYMLINK_NOFOLLOW) == 0 else {
            throw PodrunError.system("set times", path: name.text)
        }
    }

    private func setXattrs(_ entry: OpaquePointer, name: EntryName, symlinkOrDevice: Bool,
                           _ set: (UnsafePointer<CChar>, UnsafeRawPointer?, Int) -> Int32) throws {
        guard archive_entry_xattr_reset(entry) > 0 else { return }
        var key: UnsafePointer<CChar>?
        var value: UnsafeRawPointer?
        var size = 0
        while archive_entry_xattr_next(entry, &key, &value, &size) == ARCHIVE_OK {
            guard let key else { continue }
            let text = String(cString: key)
            if text.hasPrefix("trusted.overlay.") { continue }
            if set(key, value, size) == 0 { continue }
            let e = errno
            if e == ENOTSUP || e == EOPNOTSUPP { continue }
            if e == EPERM && (text.hasPrefix("security.") || (symlinkOrDevice && text.hasPrefix("user."))) { continue }
            throw PodrunError(.system, "set xattr \(text)", path: name.text, errno: e)
        }
    }

    private func owner(_ entry: OpaquePointer, name: EntryName) throws -> (uid_t, gid_t) {
        let uid = archive_entry_uid(entry)
        let gid = archive_entry_gid(entry)
        guard uid >= 0, uid < Int64(UInt32.max), gid >= 0, gid < Int64(UInt32.max) else {
            throw PodrunError(.invalidArgument, "layer entry \(name.text) has owner \(uid):\(gid), out of range")
        }
        return (uid_t(uid), gid_t(gid))
    }

    /// The entry's access and modification times (`UTIME_OMIT` when the tar has none).
    private func times(_ entry: OpaquePointer) -> [timespec] {
        let omit = timespec(tv_sec: 0, tv_nsec: (1 << 30) - 2)  // UTIME_OMIT
        let mtime = archive_entry_mtime_is_set(entry) != 0
            ? timespec(tv_sec: archive_entry_mtime(entry), tv_nsec: archive_entry_mtime_nsec(entry)) : omit
        let atime = archive_entry_atime_is_set(entry) != 0
            ? timespec(tv_sec: archive_entry_atime(entry), tv_nsec: archive_entry_atime_nsec(entry)) : mtime
        return [atime, mtime]
    }

    /// Sets the folders' times, deepest first, now that their contents are in place.
    mutating func finish() throws {
        for (name, stamps) in folderTimes.sorted(by: { $0.key.components.count > $1.key.components.count }) {
            var stamps = stamps
            if name.components.isEmpty {
                guard futimens(root, &stamps) == 0 else { throw PodrunError.system("set times", path: layer) }
                continue
            }
            let parent: Int32
            do {
                parent = try openParent(name, create: false)
            } catch let error as PodrunError where error.code == .notFound {
                continue  // removed by a later entry or whiteout
            }
            defer { close(parent) }
            var st = stat()
            guard fstatat(parent, name.base, &st, AT_SYMLINK_NOFOLLOW) == 0, st.st_mode & S_IFMT == S_IFDIR else { continue }
            guard utimensat(parent, name.base, &stamps, AT_SYMLINK_NOFOLLOW) == 0 else {
                throw PodrunError.system("set times", path: name.text)
            }
        }
    }

    /// Opens the parent folder of `name` beneath the root, refusing a path through a symlink; with `create`,
    /// missing folders are made (0755).
    private func openParent(_ name: EntryName, create: Bool) throws -> Int32 {
        let parent = name.parent
        do {
            return try RootedDirectory.openBeneath(root, parent.path, flags: O_RDONLY | O_DIRECTORY)
        } catch let error as PodrunError where error.errno == ENOENT && create {
            var current = dup(root)
            guard current >= 0 else { throw PodrunError.system("dup") }
            for (index, component) in parent.components.enumerated() {
                let part = EntryName.cString(component)
                if mkdirat(current, part, 0o755) != 0 && errno != EEXIST {
                    close(current)
                    throw PodrunError.system("mkdir", path: EntryName(components: Array(parent.components[...index])).text)
                }
                let next: Int32
                do {
                    next = try RootedDirectory.openBeneath(current, part, flags: O_RDONLY | O_DIRECTORY)
                } catch let error as PodrunError {
                    close(current)
                    throw refusal(error, name: name)
                }
                close(current)
                current = next
            }
            return current
        } catch let error as PodrunError {
            throw refusal(error, name: name)
        }
    }

    private func refusal(_ error: PodrunError, name: EntryName) -> PodrunError {
        switch error.errno {
        case ELOOP?, EXDEV?:
            return PodrunError(.invalidArgument, "layer entry \(name.text) escapes the layer folder (a parent is a symlink)",
                               path: layer)
        case ENOTDIR?:
            return PodrunError(.invalidArgument, "layer entry \(name.text) has a parent that is not a folder", path: layer)
        case ENOENT?:
            return PodrunError(.notFound, "layer entry \(name.text) has no parent folder", path: layer, errno: ENOENT)
        default:
            return error.context("layer entry \(name.text)")
        }
    }

    /// Removes whatever is at `base` in `parent` (a folder with its contents); nothing there is fine.
    private func removeExisting(_ parent: Int32, _ base: [CChar], name: EntryName) throws {
        var st = stat()
        guard fstatat(parent, base, &st, AT_SYMLINK_NOFOLLOW) == 0 else {
            if errno == ENOENT { return }
            throw PodrunError.system("stat", path: name.text)
        }
        if st.st_mode & S_IFMT != S_IFDIR {
            guard unlinkat(parent, base, 0) == 0 else { throw PodrunError.system("remove", path: name.text) }
            return
        }
        let fd = openat(parent, base, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC)
        guard fd >= 0 else { throw PodrunError.system("open", path: name.text) }
        guard let dir = fdopendir(fd) else {
            close(fd)
            throw PodrunError.system("opendir", path: name.text)
        }
        defer { closedir(dir) }
        var children: [[UInt8]] = []
        while let item = readdir(dir) {
            let child = withUnsafeBytes(of: item.pointee.d_name) { Array($0.prefix(while: { $0 != 0 })) }
            if child != [0x2e] && child != [0x2e, 0x2e] { children.append(child) }
        }
        for child in children {
            try removeExisting(fd, EntryName.cString(child), name: EntryName(components: name.components + [child]))
        }
        guard unlinkat(parent, base, AT_REMOVEDIR) == 0 else { throw PodrunError.system("remove", path: name.text) }
    }

    /// The Linux device number of `major`:`minor`.
    static func device(_ major: dev_t, _ minor: dev_t) -> dev_t {
        ((major & 0xffff_f000) << 32) | ((major & 0xfff) << 8) | ((minor & 0xffff_ff00) << 12) | (minor & 0xff)
    }
}
