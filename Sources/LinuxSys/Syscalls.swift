import CPodrunShim
import Glibc
import PodrunCore

/// Throwing wrappers over the system calls the runtime makes, each turning -1 into a `PodrunError`
/// that names the call and the path it was about.
public enum Sys {
    /// Mount flags of <sys/mount.h> that the runtime itself uses.
    public static let MS_RDONLY: UInt = 0x1
    public static let MS_NOSUID: UInt = 0x2
    public static let MS_NODEV: UInt = 0x4
    public static let MS_NOEXEC: UInt = 0x8
    public static let MS_REMOUNT: UInt = 0x20
    public static let MS_BIND: UInt = 0x1000
    public static let MS_MOVE: UInt = 0x2000
    public static let MS_REC: UInt = 0x4000
    public static let MS_PRIVATE: UInt = 0x40000
    public static let MS_SLAVE: UInt = 0x80000
    public static let MS_SHARED: UInt = 0x100000
    public static let MS_UNBINDABLE: UInt = 0x20000
    public static let MNT_DETACH: Int32 = 2

    /// mount(2).
    public static func mount(_ source: String?, _ target: String, _ fstype: String?, _ flags: UInt,
                             _ data: String? = nil, describe: @autoclosure () -> String? = nil) throws {
        let rc = podrun_mount(source, target, fstype, flags, data)
        if rc != 0 {
            let e = errno
            let what = describe() ?? "mount \(source ?? "none") (\(fstype ?? "")) to"
            throw PodrunError.system(what, path: target, errno: e)
        }
    }

    /// umount2(2).
    public static func unmount(_ target: String, flags: Int32 = 0) throws {
        guard podrun_umount2(target, flags) == 0 else { throw PodrunError.system("umount", path: target) }
    }

    /// unshare(2) with CLONE_NEW* flags.
    public static func unshare(_ flags: Int32) throws {
        guard podrun_unshare(flags) == 0 else { throw PodrunError.system("unshare namespaces") }
    }

    /// Joins the namespace at `path` (a /proc/PID/ns file or a bind mount of one).
    public static func setns(path: String, type: Int32) throws {
        let fd = open(path, O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else { throw PodrunError.system("open namespace", path: path) }
        defer { close(fd) }
        guard podrun_setns(fd, type) == 0 else { throw PodrunError.system("setns", path: path) }
    }

    /// pivot_root(2).
    public static func pivotRoot(_ newRoot: String, _ putOld: String) throws {
        guard podrun_pivot_root(newRoot, putOld) == 0 else { throw PodrunError.system("pivot_root", path: newRoot) }
    }

    /// prctl(2).
    @discardableResult
    public static func prctl(_ option: Int32, _ a2: UInt = 0, _ a3: UInt = 0, _ a4: UInt = 0, _ a5: UInt = 0,
                             what: String) throws -> Int32 {
        let rc = podrun_prctl(option, a2, a3, a4, a5)
        guard rc >= 0 else { throw PodrunError.system(what) }
        return rc
    }

    /// chdir(2).
    public static func chdir(_ path: String) throws {
        guard Glibc.chdir(path) == 0 else { throw PodrunError.system("chdir", path: path) }
    }

    /// Moves `fd` to a number at or above `minimum`, close-on-exec, closing the old number.
    public static func moveAbove(_ fd: Int32, minimum: Int32) throws -> Int32 {
        let new = fcntl(fd, F_DUPFD_CLOEXEC, minimum)
        guard new >= 0 else { throw PodrunError.system("dup fd") }
        close(fd)
        return new
    }

    /// Marks every descriptor from `first` on close-on-exec, so that only stdio and the preserved fds reach
    /// the container's program.
    public static func closeOnExec(from first: Int32) throws {
        let CLOSE_RANGE_CLOEXEC: UInt32 = 1 << 2
        guard podrun_close_range(UInt32(first), UInt32.max, CLOSE_RANGE_CLOEXEC) == 0 else {
            throw PodrunError.system("close_range")
        }
    }

    /// A new memfd holding `bytes`, positioned at its start.
    public static func memfd(_ name: String, _ bytes: [UInt8], sealed: Bool = false) throws -> Int32 {
        let fd = podrun_memfd(name, sealed ? 1 : 0)
        guard fd >= 0 else { throw PodrunError.system("memfd_create") }
        do {
            try FileIO.writeAll(fd: fd, bytes, path: "memfd:\(name)")
            if sealed, podrun_seal_readonly(fd) != 0 { throw PodrunError.system("seal memfd") }
            guard lseek(fd, 0, SEEK_SET) == 0 else { throw PodrunError.system("lseek memfd") }
        } catch {
            close(fd)
            throw error
        }
        return fd
    }

    /// The number of threads of this process.
    public static func threadCount() -> Int { Int(podrun_thread_count()) }
}
