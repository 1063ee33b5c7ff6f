import CPodrunShim
import Glibc
import LinuxSys
import OCISpec
import PodrunCore

/// The last steps before a container's program runs, shared by create and exec: rlimits, oom score, user and
/// groups, capabilities, no_new_privs, cwd, umask, finding the executable; then exec.
enum ProcessSetup {
    /// A resolved program, ready to exec.
    struct Program {
        var path: String
        var arguments: [String]
        var environment: [String]

        /// Execs the program with default signal dispositions and an empty signal mask; on failure calls
        /// `onFailure` with the error and exits 127.
        func exec(onFailure: (PodrunError) -> Void = { _ in }) -> Never {
            ProcessSetup.resetSignals()
            let rc = Spawn.withCStrings(arguments) { argv in
                Spawn.withCStrings(environment) { envp in execve(path, argv, envp) }
            }
            _ = rc
            let e = PodrunError(.execFailed, "exec \"\(arguments.first ?? path)\"", errno: errno)
            onFailure(e)
            _exit(127)
        }
    }

    /// Applies everything in `process` that must happen before exec, and finds the executable.
    static func prepare(_ process: Process, capabilities: CapabilitySets, seccomp: CompiledSeccomp?,
                        personality: LinuxPersonality?, preserveFds: Int) throws -> Program {
        guard let args = process.args, let first = args.first, !first.isEmpty else {
            throw PodrunError.invalidSpec("process.args", "must not be empty")
        }
        try ResourceLimits.apply(process.rlimits ?? [])
        if let personality = personality { try ProcessAttributes.apply(personality) }
        if let scheduler = process.scheduler { try ProcessAttributes.apply(scheduler) }
        if let ioPriority = process.ioPriority { try ProcessAttributes.apply(ioPriority) }
        if let final = process.execCPUAffinity?.final, !final.isEmpty {
            try ProcessAttributes.setAffinity(final, field: "process.execCPUAffinity.final")
        }
        if let adj = process.oomScoreAdj {
            try FileIO.writeExisting("/proc/self/oom_score_adj", String(adj))
        }
        // Chdir as root first (the cwd may not be searchable by the user), and again after the switch if needed.
        let cwd = process.cwd.isEmpty ? "/" : process.cwd
        let chdirDone = Glibc.chdir(cwd) == 0
        try Capabilities.finalize(capabilities, noNewPrivileges: process.noNewPrivileges == true, seccomp: seccomp) {
            try switchUser(process.user)
        }
        if !chdirDone { try Sys.chdir(cwd) }
        umask(mode_t(process.user.umask ?? 0o022))
        try Sys.closeOnExec(from: Int32(3 + preserveFds))

        let environment = process.env ?? []
        let path = try lookPath(first, environment: environment)
        return Program(path: path, arguments: args, environment: environment)
    }

    /// Every signal back to its default action and unblocked: an ignored signal would survive execve, and the
    /// runtime blocks signals while it supervises.
    static func resetSignals() {
        for signal in 1..<Int32(65) where signal != SIGKILL && signal != SIGSTOP {
            Glibc.signal(signal, SIG_DFL)
        }
        var empty = sigset_t()
        sigemptyset(&empty)
        sigprocmask(SIG_SETMASK, &empty, nil)
    }

    /// Sets supplementary groups, gid and uid.
    static func switchUser(_ user: User) throws {
        let groups = (user.additionalGids ?? []).map { gid_t($0) }
        let rc = groups.withUnsafeBufferPointer { podrun_setgroups($0.count, $0.baseAddress) }
        // EPERM here means a user namespace with setgroups denied: leave the groups as they are.
        if rc != 0 && errno != EPERM { throw PodrunError.system("setgroups") }
        guard podrun_setresgid(user.gid, user.gid, user.gid) == 0 else { throw PodrunError.system("setgid \(user.gid)") }
        guard podrun_setresuid(user.uid, user.uid, user.uid) == 0 else { throw PodrunError.system("setuid \(user.uid)") }
    }

    /// Finds `name` as execvp would, with the container's PATH; runc's message when it is not there.
    static func lookPath(_ name: String, environment: [String]) throws -> String {
        if name.contains("/" as Character) {
            guard access(name, X_OK) == 0 else {
                throw PodrunError(.execFailed, "exec: \"\(name)\"", errno: errno)
            }
            return name
        }
        let pathVariable = environment.last { $0.hasPrefix("PATH=") }.map { String($0.dropFirst(5)) }
            ?? "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"
        guard let found = ProgramRunner.find(name, path: pathVariable) else {
            throw PodrunError(.execFailed, "exec: \"\(name)\": executable file not found in $PATH")
        }
        return found
    }
}
