import Glibc
import PodrunCore

/// An exclusive `flock` on a lock file, held while a closure runs. Not re-entrant: a second lock of the
/// same file from the same process waits for the first.
enum NetworkFileLock {
    /// Runs `body` holding an exclusive lock on `path` (created when missing; its folder must exist).
    static func withLock<T>(_ path: String, _ body: () throws -> T) throws -> T {
        let fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0o600)
        guard fd >= 0 else { throw PodrunError.system("open lock file", path: path) }
        defer { close(fd) }
        while flock(fd, LOCK_EX) != 0 {
            if errno != EINTR { throw PodrunError.system("lock", path: path) }
        }
        return try body()
    }
}
