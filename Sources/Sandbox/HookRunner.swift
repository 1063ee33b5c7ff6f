import CPodrunShim
import Glibc
import LinuxSys
import OCISpec
import PodrunCore

/// Runs runtime-spec hooks: each program gets the container's state JSON on stdin, runs with its own args and
/// env, and is killed when its timeout passes. Hooks of one kind run in order; the first failure stops them.
public enum HookRunner {
    /// The hook kinds, as runtime-spec names them.
    public enum Kind: String, Sendable {
        case prestart, createRuntime, createContainer, startContainer, poststart, poststop
    }

    /// The hooks of `kind` in `hooks`.
    public static func hooks(_ kind: Kind, in hooks: Hooks?) -> [Hook] {
        guard let hooks else { return [] }
        switch kind {
        case .prestart: return hooks.prestart ?? []
        case .createRuntime: return hooks.createRuntime ?? []
        case .createContainer: return hooks.createContainer ?? []
        case .startContainer: return hooks.startContainer ?? []
        case .poststart: return hooks.poststart ?? []
        case .poststop: return hooks.poststop ?? []
        }
    }

    /// Runs every hook of `kind`; throws `.hookFailed` naming the hook at the first one that fails or times out.
    public static func run(_ kind: Kind, _ hooks: Hooks?, state: State) throws {
        let list = Self.hooks(kind, in: hooks)
        guard !list.isEmpty else { return }
        let stdin = try JSONCoding.encode(state, what: "state for hooks")
        for (index, hook) in list.enumerated() {
            do {
                try runOne(hook, stdin: stdin)
            } catch let e as PodrunError {
                throw PodrunError(.hookFailed, "error running \(kind.rawValue) hook #\(index) (\(hook.path))",
                                  cause: e.description)
            }
        }
    }

    private static func runOne(_ hook: Hook, stdin: [UInt8]) throws {
        var fds: [Int32] = [0, 0]
        guard pipe(&fds) == 0 else { throw PodrunError.system("pipe") }
        _ = fcntl(fds[0], F_SETFD, FD_CLOEXEC)
        _ = fcntl(fds[1], F_SETFD, FD_CLOEXEC)
        let args = (hook.args?.isEmpty == false) ? hook.args ?? [hook.path] : [hook.path]
        let pid: Int32
        do {
            pid = try Spawn.start(hook.path, args, environment: hook.env ?? [], descriptors: [0: fds[0]])
        } catch {
            close(fds[0])
            close(fds[1])
            throw error
        }
        close(fds[0])
        // The hook may not read its stdin: a closed pipe is not an error.
        signal(SIGPIPE, SIG_IGN)
        try? FileIO.writeAll(fd: fds[1], stdin)
        close(fds[1])
        let pidfd = podrun_pidfd_open(pid)
        if let timeout = hook.timeout, timeout > 0, pidfd >= 0 {
            if !ProcessTable.waitForExit(pidfd: pidfd, timeoutMilliseconds: Int32(clamping: timeout * 1000)) {
                Glibc.kill(pid, SIGKILL)
                var status: Int32 = 0
                waitpid(pid, &status, 0)
                close(pidfd)
                throw PodrunError(.timeout, "timeout after \(timeout) seconds")
            }
        }
        if pidfd >= 0 { close(pidfd) }
        var status: Int32 = 0
        while waitpid(pid, &status, 0) < 0 {
            if errno != EINTR { throw PodrunError.system("wait for hook") }
        }
        let code = Supervisor.exitCode(status)
        guard code == 0 else { throw PodrunError(.hookFailed, "exit status \(code)") }
    }
}
