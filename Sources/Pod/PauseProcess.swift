import Cgroups
import Glibc
import LinuxSys
import PodrunCore

/// Starts `podrun-pause`, the process that holds a pod's namespaces.
public enum PauseProcess {
    /// The pause binary: `$PODRUN_PAUSE`, else `podrun-pause` beside the running podrun.
    public static func binary() throws -> String {
        if let value = getenv("PODRUN_PAUSE").map({ String(cString: $0) }), !value.isEmpty { return value }
        var buffer = [CChar](repeating: 0, count: Int(PATH_MAX) + 1)
        let n = readlink("/proc/self/exe", &buffer, buffer.count - 1)
        guard n > 0 else { throw PodrunError.system("readlink", path: "/proc/self/exe") }
        let own = String(decoding: buffer[0..<n].map { UInt8(bitPattern: $0) }, as: UTF8.self)
        let path = String(own[..<(own.lastIndex(of: "/") ?? own.startIndex)]) + "/podrun-pause"
        guard access(path, X_OK) == 0 else {
            throw PodrunError(.notFound, "the pause binary is missing beside podrun (set PODRUN_PAUSE)", path: path)
        }
        return path
    }

    /// Starts pause in `cgroup` (which it enters itself), in new `namespaces` (`net`, `ipc`, `uts`, `pid`) with
    /// `hostname` and loopback up, in a new session; returns the pid of the process that holds them (PID 1 of the
    /// new pid namespace when `pid` is asked for) once it has unshared them.
    public static func start(namespaces: [String], hostname: String, cgroup: CgroupJoin) throws -> Int32 {
        var arguments = ["podrun-pause"]
        for file in cgroup.taskFiles { arguments += ["--cgroup-tasks", file] }
        if let directory = cgroup.unifiedDirectory { arguments += ["--cgroup2", directory] }
        arguments += ["--unshare", namespaces.joined(separator: ","), "--hostname", hostname, "--loopback-up",
                      "--ready-fd", "3"]
        // With a pid namespace or a v2 cgroup, the launched process forks the pause, reports it and exits.
        let launcherExits = namespaces.contains("pid") || cgroup.unifiedDirectory != nil
        var fds: [Int32] = [0, 0]
        guard pipe(&fds) == 0 else { throw PodrunError.system("pipe") }
        _ = fcntl(fds[0], F_SETFD, FD_CLOEXEC)
        _ = fcntl(fds[1], F_SETFD, FD_CLOEXEC)
        defer { close(fds[0]) }
        let launcher: pid_t
        do {
            launcher = try Spawn.start(try binary(), arguments, environment: [], descriptors: [3: fds[1]],
                                       newSession: true)
        } catch {
            close(fds[1])
            throw error
        }
        close(fds[1])
        let bytes = readReport(fds[0], timeoutMilliseconds: 10_000)
        if bytes == nil { kill(launcher, SIGKILL) }
        if launcherExits {
            var status: Int32 = 0
            while waitpid(launcher, &status, 0) < 0 && errno == EINTR {}
        }
        guard let bytes, let pid = Int32(String(decoding: bytes, as: UTF8.self)), pid > 0 else {
            if !launcherExits {
                var status: Int32 = 0
                while waitpid(launcher, &status, 0) < 0 && errno == EINTR {}
            }
            throw PodrunError(.system, bytes == nil ? "the pause process did not report within 10 s"
                                                    : "the pause process did not start (see its message above)")
        }
        return pid
    }

    /// Reads what pause writes to its ready pipe until it closes it; nil when that takes longer than
    /// `timeoutMilliseconds`.
    private static func readReport(_ fd: Int32, timeoutMilliseconds: Int32) -> [UInt8]? {
        var bytes: [UInt8] = []
        var chunk = [UInt8](repeating: 0, count: 64)
        while true {
            var poller = pollfd(fd: fd, events: Int16(POLLIN), revents: 0)
            let ready = poll(&poller, 1, timeoutMilliseconds)
            if ready < 0 && errno == EINTR { continue }
            guard ready > 0 else { return nil }
            let n = read(fd, &chunk, chunk.count)
            if n < 0 && errno == EINTR { continue }
            guard n > 0 else { return bytes }
            bytes += chunk[0..<n]
        }
    }
}
