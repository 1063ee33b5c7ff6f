import CPodrunShim
import Glibc
import PodrunCore

/// Pseudoterminals: the container's pty (made inside its /dev/pts) and the raw mode of the caller's terminal.
public enum Pseudoterminal {
    /// Opens a new pty through `ptmx` (resolved in the current root); returns the master and the slave's path.
    public static func open(ptmx: String = "/dev/ptmx") throws -> (master: Int32, slave: String) {
        let master = Glibc.open(ptmx, O_RDWR | O_NOCTTY | O_CLOEXEC)
        guard master >= 0 else { throw PodrunError.system("open", path: ptmx) }
        var number: UInt32 = 0
        guard podrun_ioctl_unlock_pt(master) == 0, podrun_ioctl_ptsnum(master, &number) == 0 else {
            let e = errno
            close(master)
            throw PodrunError.system("unlock pty", path: ptmx, errno: e)
        }
        return (master, "/dev/pts/\(number)")
    }

    /// Makes the slave at `path` this process' stdin, stdout, stderr and controlling terminal.
    /// The caller must be a session leader (setsid).
    public static func attach(slave path: String) throws {
        let fd = Glibc.open(path, O_RDWR | O_CLOEXEC)
        guard fd >= 0 else { throw PodrunError.system("open", path: path) }
        defer { if fd > 2 { close(fd) } }
        for target: Int32 in 0...2 where dup2(fd, target) < 0 {
            throw PodrunError.system("dup2 pty")
        }
        guard podrun_ioctl_set_ctty(0) == 0 else { throw PodrunError.system("set controlling terminal", path: path) }
    }

    /// Copies the window size of `from` onto `to` (both terminals); silently does nothing when `from` is none.
    public static func copyWindowSize(from: Int32, to: Int32) {
        var rows: UInt16 = 0
        var cols: UInt16 = 0
        if podrun_ioctl_get_winsize(from, &rows, &cols) == 0 {
            _ = podrun_ioctl_set_winsize(to, rows, cols)
        }
    }

    /// Sets a window size on a terminal.
    public static func setWindowSize(_ fd: Int32, rows: UInt16, columns: UInt16) {
        _ = podrun_ioctl_set_winsize(fd, rows, columns)
    }

    /// Puts the terminal `fd` in raw mode; returns the previous settings to restore, or nil if it is no terminal.
    public static func makeRaw(_ fd: Int32) -> termios? {
        guard isatty(fd) == 1 else { return nil }
        var saved = termios()
        guard tcgetattr(fd, &saved) == 0 else { return nil }
        var raw = saved
        cfmakeraw(&raw)
        tcsetattr(fd, TCSANOW, &raw)
        return saved
    }

    /// Restores settings returned by `makeRaw`.
    public static func restore(_ fd: Int32, _ settings: termios) {
        var copy = settings
        tcsetattr(fd, TCSANOW, &copy)
    }
}
