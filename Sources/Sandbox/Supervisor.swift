import CPodrunShim
import Glibc
import LinuxSys
import PodrunCore

/// Waits in the foreground for a container's (or exec'd) process, as `runc run` and `runc exec` do: podrun is
/// the child subreaper, so the process becomes its child once the init exits; signals podrun gets are
/// forwarded to it; with a terminal, the pty master is relayed to podrun's stdio.
///
/// One thread, one poll loop over a signalfd, stdin and the pty master.
public struct Supervisor: ~Copyable {
    private let signalFd: Int32
    private var oldMask = sigset_t()

    /// Becomes a child subreaper and routes every catchable signal to a signalfd. Call before starting the process.
    public init() throws {
        try Sys.prctl(36, 1, what: "become child subreaper")  // PR_SET_CHILD_SUBREAPER
        var mask = sigset_t()
        sigfillset(&mask)
        sigdelset(&mask, SIGSEGV)
        sigdelset(&mask, SIGBUS)
        sigdelset(&mask, SIGILL)
        sigdelset(&mask, SIGFPE)
        sigprocmask(SIG_BLOCK, &mask, &oldMask)
        let fd = podrun_signalfd_all()
        guard fd >= 0 else { throw PodrunError.system("signalfd") }
        signalFd = fd
    }

    deinit {
        close(signalFd)
        var mask = oldMask
        sigprocmask(SIG_SETMASK, &mask, nil)
    }

    /// Waits for `pid` to exit and returns its exit code (128 + signal when killed), forwarding signals and
    /// relaying `master` (a pty) to stdin and stdout.
    public func wait(for pid: Int32, master: Int32?) -> Int32 {
        var savedTerminal: termios? = nil
        if let master {
            Pseudoterminal.copyWindowSize(from: 0, to: master)
            savedTerminal = Pseudoterminal.makeRaw(0)
        }
        defer { if let savedTerminal { Pseudoterminal.restore(0, savedTerminal) } }
        var stdinOpen = master != nil
        var exitCode: Int32? = nil
        var buffer = [UInt8](repeating: 0, count: 32768)
        while true {
            var fds = [pollfd(fd: signalFd, events: Int16(POLLIN), revents: 0)]
            if let master { fds.append(pollfd(fd: master, events: Int16(POLLIN), revents: 0)) }
            if stdinOpen { fds.append(pollfd(fd: 0, events: Int16(POLLIN), revents: 0)) }
            // Once the process is gone, drain what the pty still holds, then stop.
            let rc = poll(&fds, nfds_t(fds.count), exitCode == nil ? -1 : 50)
            if rc < 0 {
                if errno == EINTR { continue }
                break
            }
            if rc == 0, exitCode != nil { break }
            if fds[0].revents & Int16(POLLIN) != 0 {
                let signal = podrun_signalfd_read(signalFd)
                if signal > 0 {
                    if signal == SIGCHLD {
                        if let code = reap(pid) { exitCode = code }
                    } else if signal == SIGWINCH, let master {
                        Pseudoterminal.copyWindowSize(from: 0, to: master)
                    } else {
                        Glibc.kill(pid, signal)
                    }
                }
            }
            if let master, fds.count > 1 {
                if fds[1].revents & Int16(POLLIN) != 0 {
                    let n = buffer.withUnsafeMutableBytes { read(master, $0.baseAddress, $0.count) }
                    if n > 0 {
                        try? FileIO.writeAll(fd: 1, Array(buffer[0..<n]))
                    } else if exitCode != nil {
                        break
                    }
                } else if fds[1].revents & Int16(POLLHUP | POLLERR) != 0, exitCode != nil {
                    break
                }
                if stdinOpen, fds.count > 2, fds[2].revents & Int16(POLLIN | POLLHUP) != 0 {
                    let n = buffer.withUnsafeMutableBytes { read(0, $0.baseAddress, $0.count) }
                    if n > 0 {
                        try? FileIO.writeAll(fd: master, Array(buffer[0..<n]))
                    } else {
                        stdinOpen = false
                    }
                }
            }
            if exitCode != nil && master == nil { break }
        }
        return exitCode ?? reapBlocking(pid)
    }

    /// Reaps every exited child; returns `pid`'s exit code if it was among them.
    private func reap(_ pid: Int32) -> Int32? {
        var result: Int32? = nil
        while true {
            var status: Int32 = 0
            let child = waitpid(-1, &status, WNOHANG)
            if child <= 0 { break }
            if child == pid { result = Self.exitCode(status) }
        }
        return result
    }

    private func reapBlocking(_ pid: Int32) -> Int32 {
        var status: Int32 = 0
        while waitpid(pid, &status, 0) < 0 {
            if errno != EINTR { return 255 }
        }
        return Self.exitCode(status)
    }

    /// A wait status as a shell's exit code: the exit status, or 128 + the signal.
    public static func exitCode(_ status: Int32) -> Int32 {
        let signal = status & 0x7f
        if signal == 0 { return (status >> 8) & 0xff }
        return 128 + signal
    }
}
