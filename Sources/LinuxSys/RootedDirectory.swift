import CPodrunShim
import Glibc
import PodrunCore

/// A directory that acts as `/` for every path resolved through it.
///
/// Paths are resolved with `openat2(RESOLVE_IN_ROOT | RESOLVE_NO_MAGICLINKS)`: `..` stops at the directory and
/// an absolute symlink inside it (`/`, `../../etc`) resolves inside it too, so a hostile rootfs cannot send a
/// mount or a write to the host. Callers act through the returned descriptors (`/proc/self/fd/N`), never
/// through a path string that the kernel would resolve again.
public struct RootedDirectory: ~Copyable {
    /// The directory's descriptor (O_PATH).
    public let fd: Int32
    /// The host path it was opened from (for messages only).
    public let hostPath: String

    static let RESOLVE_NO_MAGICLINKS: UInt64 = 0x02
    static let RESOLVE_IN_ROOT: UInt64 = 0x10
    /// open(2)'s O_PATH, which the Swift importer does not expose.
    public static let O_PATH: Int32 = 0o10000000

    /// Opens `path` (a host path) as the root.
    public init(opening path: String) throws {
        let fd = Glibc.open(path, RootedDirectory.O_PATH | O_DIRECTORY | O_CLOEXEC)
        guard fd >= 0 else { throw PodrunError.system("open rootfs", path: path) }
        self.fd = fd
        self.hostPath = path
    }

    deinit { close(fd) }

    /// Opens `path` resolved inside the root; returns a new descriptor the caller closes.
    public func open(_ path: String, flags: Int32, mode: mode_t = 0) throws -> Int32 {
        let fd = openIfPresent(path, flags: flags, mode: mode)
        guard fd >= 0 else {
            let e = errno
            throw PodrunError(e == ENOENT ? .notFound : .system, "open",
                              path: "\(hostPath)/\(RootedDirectory.relative(path))", errno: e)
        }
        return fd
    }

    /// `open` without the error: the descriptor, or -1 with errno set (no error value made for a path that is
    /// simply not there yet).
    private func openIfPresent(_ path: String, flags: Int32, mode: mode_t = 0) -> Int32 {
        let rel = RootedDirectory.relative(path)
        return podrun_openat2(self.fd, rel.isEmpty ? "." : rel, UInt64(UInt32(bitPattern: flags | O_CLOEXEC)),
                              UInt64(mode), RootedDirectory.RESOLVE_IN_ROOT | RootedDirectory.RESOLVE_NO_MAGICLINKS)
    }

    /// An O_PATH descriptor of `path` inside the root, which must exist.
    public func openPath(_ path: String) throws -> Int32 {
        try open(path, flags: RootedDirectory.O_PATH)
    }

    /// Makes the directory `path` and its missing parents inside the root; returns an O_PATH descriptor of it.
    ///
    /// A component that is a dangling symlink is followed the way the kernel would, but inside the root: its
    /// target is made instead (as runc's securejoin does), and at most 40 links are followed.
    public func makeDirectories(_ path: String, mode: mode_t = 0o755) throws -> Int32 {
        // Most folders exist (a mount's destination in an image): one open, and the walk only for what is missing.
        let existing = openIfPresent(path, flags: RootedDirectory.O_PATH | O_DIRECTORY)
        if existing >= 0 { return existing }
        let parts = RootedDirectory.relative(path).split(separator: "/").map(String.init)
        // The walk starts at the deepest folder that resolves, looked for upwards from the parent: usually only
        // the last part is missing (`dev/pts` in a new /dev).
        var depth = max(parts.count - 1, 0)
        var current: Int32 = -1
        while depth > 0 {
            current = openIfPresent(parts[0..<depth].joinedText("/"), flags: RootedDirectory.O_PATH | O_DIRECTORY)
            if current >= 0 { break }
            depth -= 1
        }
        if current < 0 { current = try open("", flags: RootedDirectory.O_PATH | O_DIRECTORY) }
        var done = Array(parts[0..<depth])
        var remaining = Array(parts[depth...])
        var links = 0
        while !remaining.isEmpty {
            let part = remaining.removeFirst()
            let next = (done + [part]).joinedText("/")
            guard mkdirat(current, part, mode) == 0 || errno == EEXIST else {
                let e = errno
                close(current)
                throw PodrunError(e == ENOENT ? .notFound : .system, "mkdir", path: "\(hostPath)/\(next)", errno: e)
            }
            // Made, or something is there: opened again from the root, so that what resolves is what counts.
            let fd = openIfPresent(next, flags: RootedDirectory.O_PATH | O_DIRECTORY)
            if fd >= 0 {
                close(current)
                current = fd
                done.append(part)
                continue
            }
            // Something is there but does not resolve to a folder: a dangling symlink is followed, in the root.
            var buffer = [CChar](repeating: 0, count: 4096)
            let n = readlinkat(current, part, &buffer, buffer.count - 1)
            guard n > 0, links < 40 else {
                close(current)
                throw PodrunError(.system, "mkdir", path: "\(hostPath)/\(next)", errno: n > 0 ? ELOOP : ENOTDIR)
            }
            links += 1
            buffer[n] = 0
            let target = String(decoding: buffer[0..<n].map { UInt8(bitPattern: $0) }, as: UTF8.self)
            let targetParts = RootedDirectory.relative(target).split(separator: "/").map(String.init)
            remaining = targetParts + remaining
            if target.hasPrefix("/") {
                done = []
                close(current)
                current = try open("", flags: RootedDirectory.O_PATH | O_DIRECTORY)
            }
            // A relative target is resolved from the symlink's folder, which `current` already is; `..` in it is
            // resolved by the kernel inside the root when the prefix is opened.
        }
        return current
    }

    /// Makes an empty file at `path` (and its parents) inside the root unless something exists there; returns
    /// an O_PATH descriptor of what is there.
    public func makeFile(_ path: String, mode: mode_t = 0o644) throws -> Int32 {
        let existing = openIfPresent(path, flags: RootedDirectory.O_PATH)
        if existing >= 0 { return existing }
        let (parent, name) = RootedDirectory.split(path)
        let dir = try makeDirectories(parent)
        defer { close(dir) }
        let created = openat(dir, name, O_CREAT | O_WRONLY | O_NOFOLLOW | O_CLOEXEC, mode)
        if created < 0 && errno != EEXIST { throw PodrunError.system("create", path: "\(hostPath)/\(path)") }
        if created >= 0 { close(created) }
        return try openPath(path)
    }

    static let RESOLVE_NO_XDEV: UInt64 = 0x01
    static let RESOLVE_NO_SYMLINKS: UInt64 = 0x04
    static let RESOLVE_BENEATH: UInt64 = 0x08

    /// Opens `path` (relative) beneath folder `dirfd` with `openat2(RESOLVE_BENEATH | RESOLVE_NO_SYMLINKS |
    /// RESOLVE_NO_MAGICLINKS)`: no component may be a symlink and `..` may not leave `dirfd`, so the result is
    /// always inside it (`path` is a C string, so names need not be UTF-8). Returns a new descriptor the caller closes; the error carries the errno (`ELOOP` for a
    /// symlink on the way, `EXDEV` for an escape, `ENOENT`, `ENOTDIR`).
    public static func openBeneath(_ dirfd: Int32, _ path: UnsafePointer<CChar>, flags: Int32,
                                   mode: mode_t = 0) throws -> Int32 {
        let fd = podrun_openat2(dirfd, path, UInt64(UInt32(bitPattern: flags | O_CLOEXEC)),
                                UInt64(mode), RESOLVE_BENEATH | RESOLVE_NO_SYMLINKS | RESOLVE_NO_MAGICLINKS)
        guard fd >= 0 else {
            let e = errno
            throw PodrunError(e == ENOENT ? .notFound : .system, "open", path: String(cString: path), errno: e)
        }
        return fd
    }

    /// The parent folder and the last component of a path (`/a/b/c` -> `/a/b`, `c`).
    public static func split(_ path: String) -> (parent: String, name: String) {
        let parts = relative(path).split(separator: "/")
        guard let last = parts.last else { return ("/", ".") }
        return ("/" + parts.dropLast().joinedText("/"), String(last))
    }

    /// `path` without leading slashes and `.` components.
    public static func relative(_ path: String) -> String {
        // A path that needs no more than its leading slashes dropped (`/dev/pts`) is copied as it is, without
        // splitting it into components.
        let slash = UInt8(ascii: "/"), dot = UInt8(ascii: ".")
        let utf8 = path.utf8
        guard let start = utf8.firstIndex(where: { $0 != slash }) else { return "" }
        var length = 0
        var startsWithDot = false
        var isPlain = true
        for byte in utf8[start...] {
            if byte == slash {
                if length == 0 || (length == 1 && startsWithDot) {
                    isPlain = false
                    break
                }
                length = 0
            } else {
                if length == 0 { startsWithDot = byte == dot }
                length += 1
            }
        }
        if isPlain && length > 0 && !(length == 1 && startsWithDot) { return String(path[start...]) }
        return path.split(separator: "/").filter { $0 != "." }.joinedText("/")
    }

    /// The magic-link path through which the kernel acts on `fd` (`/proc/self/fd/N`).
    public static func procPath(_ fd: Int32) -> String { "/proc/self/fd/\(fd)" }
}
