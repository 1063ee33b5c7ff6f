import CPodrunShim
import Glibc
import PodrunCore

/// Starts programs with posix_spawn: explicit descriptors only (everything else is closed), signals reset,
/// and the exec error reported to the caller rather than lost in a child.
public enum Spawn {
    /// Starts `path` with `arguments` and `environment`.
    ///
    /// - Parameters:
    ///   - descriptors: target fd -> source fd; stdio (0, 1, 2) is inherited unless named here.
    ///   - keepFrom: descriptors from this number on are closed in the child, except the targets named.
    ///   - newSession: run the child in a new session (setsid).
    public static func start(_ path: String, _ arguments: [String], environment: [String],
                             descriptors: [Int32: Int32] = [:], keepUpTo keepFrom: Int32 = 3,
                             newSession: Bool = false) throws -> pid_t {
        var actions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        defer { posix_spawn_file_actions_destroy(&actions) }
        // Copy every source above every target first, so that no dup2 overwrites a source still to be used.
        let highest = max(keepFrom, (descriptors.keys.max() ?? 0) + 1)
        var copies: [Int32] = []
        defer { copies.forEach { close($0) } }
        for (target, source) in descriptors.sorted(by: { $0.key < $1.key }) {
            if target == source {
                // glibc clears close-on-exec for a dup2 onto the same number.
                posix_spawn_file_actions_adddup2(&actions, source, target)
                continue
            }
            let copy = fcntl(source, F_DUPFD_CLOEXEC, highest)
            guard copy >= 0 else { throw PodrunError.system("dup fd \(source)") }
            copies.append(copy)
            posix_spawn_file_actions_adddup2(&actions, copy, target)
        }
        podrun_spawn_addclosefrom(&actions, highest)

        var attributes = posix_spawnattr_t()
        posix_spawnattr_init(&attributes)
        defer { posix_spawnattr_destroy(&attributes) }
        var defaultSignals = sigset_t()
        sigfillset(&defaultSignals)
        posix_spawnattr_setsigdefault(&attributes, &defaultSignals)
        var noSignals = sigset_t()
        sigemptyset(&noSignals)
        posix_spawnattr_setsigmask(&attributes, &noSignals)
        var flags = Int16(POSIX_SPAWN_SETSIGDEF | POSIX_SPAWN_SETSIGMASK)
        if newSession { flags |= Int16(0x80) }  // POSIX_SPAWN_SETSID
        posix_spawnattr_setflags(&attributes, flags)

        var pid: pid_t = 0
        let rc = withCStrings(arguments) { argv in
            withCStrings(environment) { envp in
                posix_spawn(&pid, path, &actions, &attributes, argv, envp)
            }
        }
        guard rc == 0 else { throw PodrunError(.execFailed, "start", path: path, errno: rc) }
        return pid
    }

    /// Calls `body` with a NULL-terminated C array of C strings (in memory of its own, not an `Array`, whose
    /// storage type the container's process would otherwise make at run time just before its exec).
    public static func withCStrings<R>(_ strings: [String],
                                       _ body: (UnsafePointer<UnsafeMutablePointer<CChar>?>) throws -> R) rethrows -> R {
        let pointers = UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>.allocate(capacity: strings.count + 1)
        var count = 0
        defer {
            for index in 0..<count { free(pointers[index]) }
            pointers.deallocate()
        }
        for string in strings {
            pointers[count] = strdup(string)
            count += 1
        }
        pointers[count] = nil
        return try body(pointers)
    }
}
