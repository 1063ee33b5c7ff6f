import Glibc
import LinuxSys
import PodrunCore

/// Operations on one cgroup folder and its sub-cgroups, common to v1 and v2.
enum CgroupTree {
    /// The folders below `directory` (sub-cgroups), deepest first.
    static func descendants(_ directory: String) -> [String] {
        guard let dir = opendir(directory) else { return [] }
        var children: [String] = []
        while let entry = readdir(dir) {
            guard entry.pointee.d_type == UInt8(DT_DIR) else { continue }
            let name = withUnsafePointer(to: entry.pointee.d_name) {
                $0.withMemoryRebound(to: CChar.self, capacity: 256) { String(cString: $0) }
            }
            if name != "." && name != ".." { children.append(directory + "/" + name) }
        }
        closedir(dir)
        return children.flatMap { descendants($0) + [$0] }
    }

    /// The pids in `directory/cgroup.procs` and in every sub-cgroup's.
    static func pids(_ directory: String) throws -> [Int32] {
        var out: [Int32] = []
        for dir in [directory] + descendants(directory) {
            do {
                out += try FileIO.readString(dir + "/cgroup.procs").split(separator: "\n").compactMap { Int32($0) }
            } catch let e as PodrunError where e.code == .notFound {
                continue
            }
        }
        return out
    }

    /// Removes `directory` and its sub-cgroups; missing is fine, EBUSY (still populated) is an error. The folder
    /// is listed for sub-cgroups only when removing it alone fails.
    static func remove(_ directory: String) throws {
        if rmdir(directory) == 0 || errno == ENOENT { return }
        for dir in descendants(directory) + [directory] {
            if rmdir(dir) != 0 && errno != ENOENT {
                throw PodrunError.system("remove cgroup", path: dir)
            }
        }
    }

    /// Makes `directory` and its missing parents below `mountPoint`; returns the folders it made, outermost first.
    /// `firstAttempt` is the result of a mkdir of `directory` already made (0 or its errno, see `FolderBatch`).
    @discardableResult
    static func make(_ directory: String, below mountPoint: String, firstAttempt: Int32? = nil) throws -> [String] {
        // Usually only the folder itself is missing: one mkdir, and the walk down from the mount point only when
        // a parent is missing too (a nested cgroupsPath, or the first container below a new parent).
        let first = firstAttempt ?? (mkdir(directory, 0o755) == 0 ? 0 : errno)
        if first == 0 { return [directory] }
        if first == EEXIST { return [] }
        guard first == ENOENT else { throw PodrunError.system("make cgroup", path: directory, errno: first) }
        var made: [String] = []
        var current = mountPoint
        for part in directory.utf8.dropFirst(mountPoint.utf8.count).split(separator: UInt8(ascii: "/")) {
            current += "/"
            current += String(Substring(part))
            if mkdir(current, 0o755) == 0 {
                made.append(current)
            } else if errno != EEXIST {
                throw PodrunError.system("make cgroup", path: current)
            }
        }
        return made
    }

    /// Writes each line to a cgroup file in its own write through one descriptor (files such as `devices.allow`
    /// take one rule per write), naming the file in the error.
    static func writeLines(_ directory: String, _ file: String, _ lines: [String]) throws {
        let path = directory + "/" + file
        let fd = open(path, O_WRONLY | O_CLOEXEC)
        guard fd >= 0 else {
            let e = errno
            throw PodrunError(e == ENOENT ? .invalidSpec : .system, "write \(lines.first ?? "") to", path: path, errno: e)
        }
        defer { close(fd) }
        for line in lines {
            do {
                try FileIO.writeAll(fd: fd, Array(line.utf8), path: path)
            } catch let e as PodrunError {
                throw PodrunError(.system, "write \(line) to", path: path, errno: e.errno)
            }
        }
    }

    /// Writes a cgroup file, naming it in the error.
    static func write(_ directory: String, _ file: String, _ value: String) throws {
        do {
            try FileIO.writeExisting(directory + "/" + file, value)
        } catch let e as PodrunError {
            throw PodrunError(e.code == .notFound ? .invalidSpec : .system, "write \(value) to", path: directory + "/" + file,
                              errno: e.errno)
        }
    }

    /// Reads a cgroup file's text without its trailing newline.
    static func read(_ directory: String, _ file: String) throws -> String {
        var bytes = try FileIO.readBytes(directory + "/" + file)
        while bytes.last == UInt8(ascii: "\n") { bytes.removeLast() }
        return String(decoding: bytes, as: UTF8.self)
    }

    /// Reads a file of `key value` lines.
    static func readKeyValues(_ directory: String, _ file: String) -> [String: UInt64] {
        guard let text = try? read(directory, file) else { return [:] }
        var out: [String: UInt64] = [:]
        for line in text.split(separator: "\n") {
            let parts = line.split(separator: " ")
            if parts.count == 2, let v = UInt64(parts[1]) { out[String(parts[0])] = v }
        }
        return out
    }

    /// Reads a number file; nil when missing or "max".
    static func readNumber(_ directory: String, _ file: String) -> UInt64? {
        (try? read(directory, file)).flatMap { UInt64($0) }
    }
}
