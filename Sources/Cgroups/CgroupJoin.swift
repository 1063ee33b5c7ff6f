import CPodrunShim
import Glibc
import LinuxSys
import PodrunCore

/// How a new process enters a container's cgroup by itself, without the runtime moving its pid.
///
/// A runtime that writes a pid to `cgroup.procs` makes the kernel take `cgroup_threadgroup_rwsem` for writing,
/// which waits for an RCU grace period (about 10 ms, during which no other migration or cgroup mkdir goes on).
/// Two ways in skip that lock:
/// - on a v1 hierarchy, a single-threaded process writes `0` (itself) to the cgroup's `tasks` file: moving one
///   thread that is the caller needs no thread-group lock (`cgroup_procs_write_start`), and for a process with
///   one thread that thread is the whole process;
/// - on the v2 hierarchy, the process is born there: clone3 with `CLONE_INTO_CGROUP`.
///
/// `podrun init` does both: it enters the v1 hierarchies, then forks the container's process into the v2 one.
public struct CgroupJoin: Codable, Sendable, Equatable {
    /// The `tasks` file of the container's folder in each v1 hierarchy.
    public var taskFiles: [String]
    /// The container's folder in the v2 hierarchy (the only one on a unified host, the controller-less one on a
    /// hybrid host), if any.
    public var unifiedDirectory: String?

    public init(taskFiles: [String], unifiedDirectory: String?) {
        self.taskFiles = taskFiles
        self.unifiedDirectory = unifiedDirectory
    }

    /// Moves the calling process into the cgroup's v1 hierarchies: through `descriptors` for the `taskFiles`
    /// whose bit is set in `opened` (bit i for file i; one descriptor each, in order; this closes them), by path
    /// for the others. The caller must be single-threaded: only the calling thread moves.
    public func enterLegacyHierarchies(opened: UInt64 = 0, descriptors: [Int32] = []) throws {
        var next = 0
        for index in taskFiles.indices {
            let file = taskFiles[index]
            if index < 64, opened & (1 << UInt64(index)) != 0, next < descriptors.count {
                let descriptor = descriptors[next]
                next += 1
                let written = write(descriptor, "0", 1)
                let e = errno
                close(descriptor)
                guard written == 1 else { throw PodrunError(.system, "join cgroup: write 0 to", path: file, errno: e) }
                continue
            }
            do {
                try FileIO.writeExisting(file, "0")
            } catch let e as PodrunError {
                throw PodrunError(.system, "join cgroup: write 0 to", path: file, errno: e.errno)
            }
        }
    }

    /// Opens the v2 folder for `fork(into:)` or `moveIntoUnified(_:)`; nil without one.
    public func openUnifiedDirectory() throws -> Int32? {
        guard let directory = unifiedDirectory else { return nil }
        let fd = open(directory, RootedDirectory.O_PATH | O_DIRECTORY | O_CLOEXEC)
        guard fd >= 0 else { throw PodrunError.system("open cgroup", path: directory) }
        return fd
    }

    /// Moves the calling process into the v2 folder `directory` (a descriptor from `openUnifiedDirectory`) the
    /// slow way, by writing itself to its `cgroup.procs`. For when `fork(into:)` cannot: a process about to be in a
    /// new user namespace may no longer write the host's cgroup files, and clone3 checks that right.
    public static func moveIntoUnified(_ directory: Int32) throws {
        let fd = openat(directory, "cgroup.procs", O_WRONLY | O_CLOEXEC)
        guard fd >= 0 else { throw PodrunError.system("open cgroup.procs of the container's cgroup") }
        defer { close(fd) }
        guard write(fd, "0", 1) == 1 else { throw PodrunError.system("join cgroup: write 0 to cgroup.procs") }
    }

    /// Forks the calling single-threaded process; with `unified`, the child starts in that v2 folder. On kernels
    /// without `CLONE_INTO_CGROUP` (before 5.7) the child moves itself there after a plain fork.
    public static func fork(into unified: Int32?) throws -> pid_t {
        guard let unified else {
            let pid = podrun_fork()
            guard pid >= 0 else { throw PodrunError.system("fork") }
            return pid
        }
        let pid = podrun_clone_into_cgroup(unified)
        if pid >= 0 { return pid }
        let e = errno
        // ENOSYS: no clone3 (or a seccomp filter refusing it); E2BIG, EINVAL: clone3 without this flag.
        guard e == ENOSYS || e == E2BIG || e == EINVAL else {
            throw PodrunError.system("clone3 into the container's cgroup", errno: e)
        }
        let child = podrun_fork()
        guard child >= 0 else { throw PodrunError.system("fork") }
        if child == 0 { try moveIntoUnified(unified) }
        return child
    }
}
