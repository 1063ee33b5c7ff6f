import Glibc
import PodrunCore

/// An exclusive `flock` on a lock file, held for the duration of a closure.
public enum FileLock {
    /// Runs `body` holding an exclusive lock on `path` (created when missing; its folder must exist).
    public static func withLock<T>(_ path: String, _ body: () throws -> T) throws -> T {
        let fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0o600)
        guard fd >= 0 else { throw PodrunError.system("open lock file", path: path) }
        defer { close(fd) }
        while flock(fd, LOCK_EX) != 0 {
            if errno != EINTR { throw PodrunError.system("flock", path: path) }
        }
        return try body()
    }

    /// Whether process `pid` is alive (a staging file named after a dead process is garbage).
    public static func isAlive(_ pid: Int32) -> Bool {
        pid > 0 && (kill(pid, 0) == 0 || errno == EPERM)
    }
}
