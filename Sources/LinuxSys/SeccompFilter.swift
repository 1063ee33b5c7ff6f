import CLibseccomp
import CPodrunShim
import Glibc
import OCISpec
import PodrunCore

/// A seccomp filter compiled to classic BPF, ready to be loaded by one syscall in the container's init.
public struct CompiledSeccomp: Codable, Sendable, Equatable {
    /// The BPF program: `struct sock_filter` records of 8 bytes each, in the machine's byte order.
    public var program: [UInt8]
    /// The `seccomp(2)` flags to load it with (`SECCOMP_FILTER_FLAG_LOG`, `SECCOMP_FILTER_FLAG_SPEC_ALLOW`).
    public var flags: UInt32
    /// What was skipped while compiling (syscall names libseccomp does not know), one sentence each.
    public var warnings: [String]

    /// A compiled program, as given.
    public init(program: [UInt8], flags: UInt32, warnings: [String] = []) {
        self.program = program
        self.flags = flags
        self.warnings = warnings
    }

    /// The number of BPF instructions in `program`.
    public var instructionCount: Int { program.count / 8 }
}

/// Compiles `linux.seccomp` with libseccomp (in the parent, which may be threaded) and loads the result
/// (in the single-threaded init), as runc's `libcontainer/seccomp` does.
///
/// Differences from runc 1.1: the filter is exported to BPF rather than loaded by libseccomp, so the load is
/// one `seccomp(2)` call; runc's `patchbpf` stub that turns syscalls newer than the profile into ENOSYS is
/// not added (Docker's profile answers `clone3` with ENOSYS by an explicit rule); `SCMP_ACT_NOTIFY` is refused.
public enum SeccompFilter {
    /// `SECCOMP_FILTER_FLAG_TSYNC` (<linux/seccomp.h>).
    public static let flagThreadSync: UInt32 = 1
    /// `SECCOMP_FILTER_FLAG_LOG`.
    public static let flagLog: UInt32 = 2
    /// `SECCOMP_FILTER_FLAG_SPEC_ALLOW`.
    public static let flagSpeculationAllow: UInt32 = 4

    /// The highest argument index a condition can name (syscalls have six arguments).
    static let maxArgumentIndex: UInt = 5

    /// The libseccomp action for an OCI action name with its optional errno, as runc's `getAction` maps
    /// them: `SCMP_ACT_KILL` is kill-thread, ERRNO and TRACE default to EPERM. Throws for an unknown name and
    /// for `SCMP_ACT_NOTIFY`, which podrun does not support yet.
    public static func action(_ name: String, errnoRet: UInt32?, field: String) throws -> UInt32 {
        switch name {
        case "SCMP_ACT_KILL", "SCMP_ACT_KILL_THREAD": return SCMP_ACT_KILL_THREAD
        case "SCMP_ACT_KILL_PROCESS": return SCMP_ACT_KILL_PROCESS
        case "SCMP_ACT_TRAP": return SCMP_ACT_TRAP
        case "SCMP_ACT_ALLOW": return SCMP_ACT_ALLOW
        case "SCMP_ACT_LOG": return SCMP_ACT_LOG
        case "SCMP_ACT_ERRNO": return 0x0005_0000 | ((errnoRet ?? UInt32(EPERM)) & 0xffff)
        case "SCMP_ACT_TRACE": return 0x7ff0_0000 | ((errnoRet ?? UInt32(EPERM)) & 0xffff)
        case "SCMP_ACT_NOTIFY":
            throw PodrunError.invalidSpec(field, "SCMP_ACT_NOTIFY (seccomp user notification) is not supported")
        default:
            throw PodrunError.invalidSpec(field, "unknown seccomp action \"\(name)\"")
        }
    }

    /// The libseccomp comparison for an OCI operator name (`SCMP_CMP_EQ`).
    public static func comparison(_ name: String, field: String) throws -> scmp_compare {
        switch name {
        case "SCMP_CMP_NE": return SCMP_CMP_NE
        case "SCMP_CMP_LT": return SCMP_CMP_LT
        case "SCMP_CMP_LE": return SCMP_CMP_LE
        case "SCMP_CMP_EQ": return SCMP_CMP_EQ
        case "SCMP_CMP_GE": return SCMP_CMP_GE
        case "SCMP_CMP_GT": return SCMP_CMP_GT
        case "SCMP_CMP_MASKED_EQ": return SCMP_CMP_MASKED_EQ
        default: throw PodrunError.invalidSpec(field, "unknown seccomp operator \"\(name)\"")
        }
    }

    /// libseccomp's token for an OCI architecture name (`SCMP_ARCH_X86_64` is libseccomp's `x86_64`).
    public static func architecture(_ name: String, field: String) throws -> UInt32 {
        let prefix = "SCMP_ARCH_"
        guard name.hasPrefix(prefix), name.count > prefix.count else {
            throw PodrunError.invalidSpec(field, "unknown seccomp architecture \"\(name)\"")
        }
        let token = seccomp_arch_resolve_name(String(name.dropFirst(prefix.count)).lowercased())
        guard token != 0 else { throw PodrunError.invalidSpec(field, "unknown seccomp architecture \"\(name)\"") }
        return token
    }

    /// The `seccomp(2)` flag for an OCI flag name; `SECCOMP_FILTER_FLAG_TSYNC` gives 0 because runc ignores
    /// it (the init is single-threaded). Throws for other names, as runc does.
    public static func loadFlag(_ name: String, field: String) throws -> UInt32 {
        switch name {
        case "SECCOMP_FILTER_FLAG_TSYNC": return 0
        case "SECCOMP_FILTER_FLAG_LOG": return flagLog
        case "SECCOMP_FILTER_FLAG_SPEC_ALLOW": return flagSpeculationAllow
        default: throw PodrunError.invalidSpec(field, "seccomp flag \"\(name)\" is not supported")
        }
    }

    /// Compiles `s` into a BPF program with libseccomp. Safe to call from a threaded process.
    ///
    /// Follows runc 1.1's `InitSeccomp`/`matchCall`: extra architectures are added to the native one; the
    /// filter does not set no_new_privs itself (the runtime decides); a rule whose action equals the default
    /// action is skipped; a syscall name libseccomp does not know is skipped with a warning; a rule whose
    /// conditions name the same argument twice becomes one rule per condition (libseccomp refuses them in one).
    public static func compile(_ s: LinuxSeccomp) throws -> CompiledSeccomp {
        let defaultAction = try action(s.defaultAction, errnoRet: s.defaultErrnoRet, field: "linux.seccomp.defaultAction")
        guard let ctx = seccomp_init(defaultAction) else {
            throw PodrunError(.system, "seccomp_init failed for default action \(s.defaultAction)")
        }
        defer { seccomp_release(ctx) }

        for (i, name) in (s.architectures ?? []).enumerated() {
            let token = try architecture(name, field: "linux.seccomp.architectures[\(i)]")
            let rc = seccomp_arch_add(ctx, token)
            if rc != 0 && rc != -EEXIST {
                throw PodrunError(.system, "seccomp_arch_add \(name)", errno: -rc)
            }
        }

        var flags: UInt32 = 0
        for (i, name) in (s.flags ?? []).enumerated() {
            flags |= try loadFlag(name, field: "linux.seccomp.flags[\(i)]")
        }

        let rc = seccomp_attr_set(ctx, SCMP_FLTATR_CTL_NNP, 0)
        if rc != 0 { throw PodrunError(.system, "seccomp_attr_set(SCMP_FLTATR_CTL_NNP)", errno: -rc) }

        var warnings: [String] = []
        for (i, rule) in (s.syscalls ?? []).enumerated() {
            let field = "linux.seccomp.syscalls[\(i)]"
            let ruleAction = try action(rule.action, errnoRet: rule.errnoRet, field: field + ".action")
            let conditions = try (rule.args ?? []).enumerated().map { j, arg in
                guard arg.index <= maxArgumentIndex else {
                    throw PodrunError.invalidSpec(field + ".args[\(j)].index",
                                                  "argument index \(arg.index) is out of range (0...5)")
                }
                return scmp_arg_cmp(arg: UInt32(arg.index), op: try comparison(arg.op, field: field + ".args[\(j)].op"),
                                    datum_a: arg.value, datum_b: arg.valueTwo ?? 0)
            }
            if ruleAction == defaultAction { continue }
            let repeatsAnArgument = Set(conditions.map(\.arg)).count != conditions.count
            let groups = repeatsAnArgument ? conditions.map { [$0] } : [conditions]
            for name in rule.names {
                guard !name.isEmpty else { throw PodrunError.invalidSpec(field + ".names", "empty syscall name") }
                let number = seccomp_syscall_resolve_name(name)
                if number == __NR_SCMP_ERROR {
                    warnings.append("unknown seccomp syscall \"\(name)\" ignored")
                    continue
                }
                for group in groups {
                    let rc = group.withUnsafeBufferPointer {
                        seccomp_rule_add_array(ctx, ruleAction, number, UInt32($0.count), $0.baseAddress)
                    }
                    if rc != 0 {
                        throw PodrunError(.system, "seccomp rule for syscall \(name) (\(field))", errno: -rc)
                    }
                }
            }
        }
        return CompiledSeccomp(program: try export(ctx), flags: flags, warnings: warnings)
    }

    /// `O_TMPFILE` (<bits/fcntl-linux.h>, hidden from Swift's Glibc module behind `_GNU_SOURCE`).
    private static let openTemporaryFile: Int32 = 0o20_200_000

    /// The BPF program of `ctx`. libseccomp 2.5 exports only to a descriptor, and Swift's Glibc module does
    /// not declare memfd_create, so the descriptor is an unnamed file (O_TMPFILE) in /dev/shm or /tmp, or
    /// a named one that is unlinked at once where O_TMPFILE is refused.
    private static func export(_ ctx: scmp_filter_ctx) throws -> [UInt8] {
        let fd = try unnamedTemporaryFile()
        defer { close(fd) }
        let rc = seccomp_export_bpf(ctx, fd)
        if rc != 0 { throw PodrunError(.system, "seccomp_export_bpf", errno: -rc) }
        guard lseek(fd, 0, SEEK_SET) == 0 else { throw PodrunError.system("lseek") }
        let program = try FileIO.readAll(fd: fd, path: "seccomp program")
        guard !program.isEmpty, program.count % 8 == 0 else {
            throw PodrunError(.internalError, "seccomp_export_bpf wrote \(program.count) bytes, not whole instructions")
        }
        return program
    }

    /// A read-write descriptor on a file that has no name.
    private static func unnamedTemporaryFile() throws -> Int32 {
        for folder in ["/dev/shm", "/tmp"] {
            let fd = open(folder, openTemporaryFile | O_RDWR | O_CLOEXEC, 0o600)
            if fd >= 0 { return fd }
        }
        var template = Array("/tmp/podrun-seccomp-XXXXXX".utf8CString)
        let fd = template.withUnsafeMutableBufferPointer { buffer in
            buffer.baseAddress.map { mkstemp($0) } ?? -1
        }
        guard fd >= 0 else { throw PodrunError.system("mkstemp", path: "/tmp") }
        unlink(String(decoding: template.dropLast().map { UInt8(bitPattern: $0) }, as: UTF8.self))
        _ = fcntl(fd, F_SETFD, FD_CLOEXEC)
        return fd
    }

    /// Loads `c` into the calling thread with `seccomp(SECCOMP_SET_MODE_FILTER)`. Needs no_new_privs or
    /// `CAP_SYS_ADMIN` (EACCES otherwise). After this, only the filter's allowed syscalls work.
    public static func load(_ c: CompiledSeccomp) throws {
        guard !c.program.isEmpty, c.program.count % 8 == 0, c.instructionCount <= Int(UInt16.max) else {
            throw PodrunError(.internalError, "invalid seccomp program of \(c.program.count) bytes")
        }
        let rc = c.program.withUnsafeBytes {
            podrun_seccomp_load($0.baseAddress, c.instructionCount, c.flags)
        }
        if rc != 0 { throw PodrunError.system("seccomp load") }
    }
}
