import CPodrunShim
import Glibc
import PodrunCore

/// Keeps the podrun binary out of a container's reach (the CVE-2019-5736 class): a process that runs inside a
/// container's namespaces before exec must not be the host's binary file unless nothing can write that file.
public enum ExecutableProtection {
    /// Whether the running binary cannot be opened for writing by anyone, root included: it is immutable
    /// (`chattr +i`) or lies on a read-only mount.
    public static func runningBinaryIsProtected() -> Bool {
        let fd = open("/proc/self/exe", O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else { return false }
        defer { close(fd) }
        if podrun_is_immutable(fd) == 1 { return true }
        var fs = statvfs()
        return fstatvfs(fd, &fs) == 0 && (fs.f_flag & UInt(ST_RDONLY)) != 0
    }

    /// A sealed memfd holding a copy of the running binary: writes, growth and shrinking are refused by the
    /// kernel, so a container that reaches it through /proc/PID/exe cannot change anything.
    public static func sealedCopyOfRunningBinary() throws -> Int32 {
        let source = open("/proc/self/exe", O_RDONLY | O_CLOEXEC)
        guard source >= 0 else { throw PodrunError.system("open", path: "/proc/self/exe") }
        defer { close(source) }
        var st = stat()
        guard fstat(source, &st) == 0 else { throw PodrunError.system("stat", path: "/proc/self/exe") }
        let memfd = podrun_memfd("podrun", 1)
        guard memfd >= 0 else { throw PodrunError.system("memfd_create") }
        var remaining = Int(st.st_size)
        while remaining > 0 {
            let n = podrun_sendfile(memfd, source, remaining)
            if n < 0 && errno == EINTR { continue }
            guard n > 0 else {
                let e = errno
                close(memfd)
                throw PodrunError.system("copy podrun binary", errno: e)
            }
            remaining -= n
        }
        guard podrun_seal_readonly(memfd) == 0 else {
            let e = errno
            close(memfd)
            throw PodrunError.system("seal podrun binary copy", errno: e)
        }
        return memfd
    }

    /// Makes this process non-dumpable: other processes (a container's) cannot open its /proc/PID files, exe and
    /// fds included, until it execs.
    public static func makeNonDumpable() throws {
        try Sys.prctl(4, 0, what: "set non-dumpable")  // PR_SET_DUMPABLE
    }
}
