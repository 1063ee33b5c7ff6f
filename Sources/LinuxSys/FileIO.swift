import CPodrunShim
import Glibc
import PodrunCore

/// Small, allocation-light file helpers over raw descriptors (no Foundation), for /proc, /sys and state files.
public enum FileIO {
    /// Reads a whole file as bytes. Throws `.notFound` for ENOENT, `.system` otherwise.
    public static func readBytes(_ path: String, relativeTo dirfd: Int32 = AT_FDCWD) throws -> [UInt8] {
        let fd = openat(dirfd, path, O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else {
            let e = errno
            throw PodrunError(e == ENOENT ? .notFound : .system, "open", path: path, errno: e)
        }
        defer { close(fd) }
        return try readAll(fd: fd, path: path)
    }

    /// Reads everything from a descriptor until end of file.
    ///
    /// Each read goes straight into a new array's uninitialised storage: nothing is zeroed first, and a file that
    /// fits in the first 16 KiB (config.json, a state, anything in /proc or a cgroup) is returned as read.
    public static func readAll(fd: Int32, path: String = "fd") throws -> [UInt8] {
        var out = try readChunk(fd: fd, path: path)
        guard !out.isEmpty else { return out }
        while true {
            let more = try readChunk(fd: fd, path: path)
            if more.isEmpty { return out }
            out.append(contentsOf: more)
        }
    }

    /// One read of up to 16 KiB; empty at end of file.
    private static func readChunk(fd: Int32, path: String) throws -> [UInt8] {
        try [UInt8](unsafeUninitializedCapacity: 16384) { buffer, count in
            count = 0
            while true {
                let n = read(fd, buffer.baseAddress, buffer.count)
                if n >= 0 {
                    count = n
                    return
                }
                if errno != EINTR { throw PodrunError.system("read", path: path) }
            }
        }
    }

    /// Reads a whole file as UTF-8 text.
    public static func readString(_ path: String, relativeTo dirfd: Int32 = AT_FDCWD) throws -> String {
        String(decoding: try readBytes(path, relativeTo: dirfd), as: UTF8.self)
    }

    /// Writes `bytes` to an existing file without creating or truncating it (cgroup, /proc and sysctl files).
    public static func writeExisting(_ path: String, _ text: String) throws {
        let fd = open(path, O_WRONLY | O_CLOEXEC)
        guard fd >= 0 else {
            let e = errno
            throw PodrunError(e == ENOENT ? .notFound : .system, "open", path: path, errno: e)
        }
        defer { close(fd) }
        try writeAll(fd: fd, Array(text.utf8), path: path)
    }

    /// Writes a file atomically: a temporary file in the same folder, then renamed over `path`. Not fsync'd: a
    /// reader sees the old file or the new one, never a part, but a crash may lose the write (the image store
    /// fsyncs what it keeps itself).
    public static func writeAtomically(_ path: String, _ bytes: [UInt8], mode: mode_t = 0o644) throws {
        let tmp = path + ".tmp-\(getpid())"
        let fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, mode)
        guard fd >= 0 else { throw PodrunError.system("create", path: tmp) }
        do {
            try writeAll(fd: fd, bytes, path: tmp)
            close(fd)
        } catch {
            close(fd)
            unlink(tmp)
            throw error
        }
        guard rename(tmp, path) == 0 else {
            let e = errno
            unlink(tmp)
            throw PodrunError.system("rename", path: path, errno: e)
        }
    }

    /// Writes a small file in place: created when missing, else truncated and rewritten (the same inode, no
    /// temporary file). A reader that does not hold the writer's lock, or one after a crash, may see it empty or
    /// in part: only for files whose readers take a bad content as none (a hint, an index checked against what
    /// it names).
    public static func writeInPlace(_ path: String, _ bytes: [UInt8], mode: mode_t = 0o644) throws {
        let fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, mode)
        guard fd >= 0 else { throw PodrunError.system("create", path: path) }
        defer { close(fd) }
        try writeAll(fd: fd, bytes, path: path)
    }

    /// Writes all of `bytes` to a descriptor, retrying on short writes and EINTR.
    public static func writeAll(fd: Int32, _ bytes: [UInt8], path: String = "fd") throws {
        var offset = 0
        while offset < bytes.count {
            let n = bytes.withUnsafeBytes { raw in
                guard let base = raw.baseAddress else { return 0 }
                return write(fd, base + offset, raw.count - offset)
            }
            if n < 0 {
                if errno == EINTR { continue }
                throw PodrunError.system("write", path: path)
            }
            offset += n
        }
    }

    /// Whether something (of any type, a dangling symlink included) exists at `path`.
    public static func exists(_ path: String) -> Bool {
        var st = stat()
        return lstat(path, &st) == 0
    }

    /// Whether `path` is a directory (following symlinks).
    public static func isDirectory(_ path: String) -> Bool {
        var st = stat()
        return stat(path, &st) == 0 && (st.st_mode & S_IFMT) == S_IFDIR
    }

    /// Makes a directory and its missing parents (like `mkdir -p`) on the host; not for paths inside a rootfs.
    public static func makeDirectories(_ path: String, mode: mode_t = 0o755) throws {
        if isDirectory(path) { return }
        var prefix = path.hasPrefix("/") ? "" : "."
        for part in path.split(separator: "/") {
            prefix += "/" + part
            if mkdir(prefix, mode) != 0 && errno != EEXIST {
                throw PodrunError.system("mkdir", path: prefix)
            }
        }
    }

    /// Removes a file tree (like `rm -rf`) without following symlinks and without crossing into mounts' contents
    /// beyond what `unlinkat` allows; a missing path is not an error.
    public static func removeTree(_ path: String) throws {
        var st = stat()
        guard lstat(path, &st) == 0 else {
            if errno == ENOENT { return }
            throw PodrunError.system("lstat", path: path)
        }
        if (st.st_mode & S_IFMT) == S_IFDIR {
            for name in try entries(of: path) { try removeTree(path + "/" + name) }
            if rmdir(path) != 0 && errno != ENOENT { throw PodrunError.system("rmdir", path: path) }
        } else if unlink(path) != 0 && errno != ENOENT {
            throw PodrunError.system("unlink", path: path)
        }
    }

    /// The names in a folder, without `.` and `..`, in no particular order; a missing folder has none.
    public static func entries(of directory: String) throws -> [String] {
        guard let dir = opendir(directory) else {
            if errno == ENOENT { return [] }
            throw PodrunError.system("opendir", path: directory)
        }
        defer { closedir(dir) }
        var names: [String] = []
        while let entry = readdir(dir) {
            let name = withUnsafePointer(to: entry.pointee.d_name) {
                $0.withMemoryRebound(to: CChar.self, capacity: 256) { String(cString: $0) }
            }
            if name != "." && name != ".." { names.append(name) }
        }
        return names
    }
}
