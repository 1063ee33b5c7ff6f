import CLibcap
import CPodrunShim
import Glibc
import OCISpec
import PodrunCore

/// One Linux capability (`CAP_CHOWN` is 0, `CAP_CHECKPOINT_RESTORE` is 40), by its kernel number.
public struct Capability: RawRepresentable, Hashable, Comparable, Codable, Sendable, CustomStringConvertible {
    /// The kernel's number for the capability (libcap's `cap_value_t`).
    public var rawValue: Int32

    /// The capability with the kernel number `rawValue`.
    public init(rawValue: Int32) {
        self.rawValue = rawValue
    }

    /// The capability named exactly as runtime-spec writes it (`CAP_NET_ADMIN`), or nil for any other
    /// spelling (lower case, missing `CAP_` prefix, trailing characters) and for names libcap does not know.
    public init?(name: String) {
        var length = 0
        for byte in name.utf8 {
            guard (byte >= UInt8(ascii: "A") && byte <= UInt8(ascii: "Z")) || byte == UInt8(ascii: "_") else { return nil }
            length += 1
        }
        guard length > 4, name.hasPrefix("CAP_") else { return nil }
        var value: cap_value_t = 0
        guard name.withCString({ cap_from_name($0, &value) }) == 0, let canonical = cap_to_name(value) else { return nil }
        defer { cap_free(canonical) }
        // libcap accepts prefixes and any case; insist on the exact canonical spelling, as runc does: libcap's
        // name for the number, upper-cased (compared byte by byte, without making a string of it).
        var index = 0
        for byte in name.utf8 {
            let expected = UInt8(bitPattern: canonical[index])
            let upper = expected >= UInt8(ascii: "a") && expected <= UInt8(ascii: "z") ? expected - 0x20 : expected
            guard expected != 0, upper == byte else { return nil }
            index += 1
        }
        guard canonical[index] == 0 else { return nil }
        self.init(rawValue: value)
    }

    /// The runtime-spec name (`CAP_SYS_ADMIN`); a number libcap has no name for is written as digits.
    public var name: String {
        guard let text = cap_to_name(rawValue) else { return String(rawValue) }
        defer { cap_free(text) }
        return String(cString: text).uppercased()
    }

    /// Same as `name`.
    public var description: String { name }

    public static func < (lhs: Capability, rhs: Capability) -> Bool { lhs.rawValue < rhs.rawValue }
}

/// The five capability sets of a process, as `process.capabilities` names them.
public struct CapabilitySets: Codable, Sendable, Equatable {
    /// The bounding set: the most the process (and its descendants) can ever gain.
    public var bounding: Set<Capability>
    /// The effective set: what the kernel checks.
    public var effective: Set<Capability>
    /// The inheritable set: what survives execve of a file with matching inheritable file capabilities.
    public var inheritable: Set<Capability>
    /// The permitted set: the limit of effective.
    public var permitted: Set<Capability>
    /// The ambient set: kept across execve of an unprivileged program (needs permitted and inheritable).
    public var ambient: Set<Capability>

    /// Sets with the given members (all empty by default: a process with no capabilities at all).
    public init(bounding: Set<Capability> = [], effective: Set<Capability> = [], inheritable: Set<Capability> = [],
                permitted: Set<Capability> = [], ambient: Set<Capability> = []) {
        self.bounding = bounding
        self.effective = effective
        self.inheritable = inheritable
        self.permitted = permitted
        self.ambient = ambient
    }
}

/// The capability sets that `process.capabilities` asks for, and the names that were left out.
public struct ResolvedCapabilities: Codable, Sendable, Equatable {
    /// The sets to apply.
    public var sets: CapabilitySets
    /// Names that are unknown, or above the kernel's last capability, sorted and without repeats. runc 1.1
    /// ignores them with the warning `ignoring unknown or unavailable capabilities: [...]`.
    public var ignored: [String]

    /// Resolved sets and ignored names, as given.
    public init(sets: CapabilitySets, ignored: [String] = []) {
        self.sets = sets
        self.ignored = ignored
    }

    /// The warning runc prints for `ignored` names, or nil when there are none.
    public var warning: String? {
        ignored.isEmpty ? nil : "ignoring unknown or unavailable capabilities: [" + ignored.joined(separator: " ") + "]"
    }
}

/// Reading, resolving and changing the capabilities of the calling process (libcap and prctl).
///
/// Everything that changes the process is meant for the single-threaded init, after fork and before exec;
/// the name resolution (`resolve`, `parse`) is pure and can run in the threaded parent.
///
/// ## Keeping capabilities across the switch to a non-root user
///
/// A setuid from uid 0 to another uid clears the permitted, effective and ambient sets unless
/// `PR_SET_KEEPCAPS` is set. runc (`libcontainer/init_linux.go`, `finalizeNamespace`) and crun both use this
/// order, which `applyAll(_:switchingUser:)` performs:
///
/// 1. drop the bounding set (needs `CAP_SETPCAP`, so before anything else is dropped),
/// 2. `prctl(PR_SET_KEEPCAPS, 1)`,
/// 3. switch user: setgroups, setresgid, setresuid (needs `CAP_SETGID`/`CAP_SETUID`, still held),
/// 4. `prctl(PR_SET_KEEPCAPS, 0)`,
/// 5. set effective, permitted and inheritable with capset (only lowering permitted, so allowed as non-root),
/// 6. clear the ambient set, then raise each requested ambient capability.
///
/// `finalize(_:noNewPrivileges:seccomp:switchingUser:)` adds no_new_privs and the seccomp filter around that
/// sequence in runc's order.
public enum Capabilities {
    // <linux/prctl.h>: not part of Swift's Glibc module.
    static let prSetKeepCaps: Int32 = 8
    static let prCapBoundingSetRead: Int32 = 23
    static let prCapBoundingSetDrop: Int32 = 24
    static let prSetNoNewPrivileges: Int32 = 38
    static let prCapAmbient: Int32 = 47
    static let prCapAmbientIsSet: UInt = 1
    static let prCapAmbientRaise: UInt = 2
    static let prCapAmbientClearAll: UInt = 4

    /// The highest capability the running kernel knows, from `/proc/sys/kernel/cap_last_cap` (libcap's
    /// probe when that file cannot be read).
    /// Read once per process: the runtime asks when it compiles the capability sets, and the container's
    /// process, forked from it, then has the answer without reading again.
    public static func lastCapability() -> Capability { lastOfRunningKernel }

    private static let lastOfRunningKernel: Capability = {
        if let bytes = try? FileIO.readBytes("/proc/sys/kernel/cap_last_cap"),
           let value = Int32(String(decoding: bytes.filter { $0 != UInt8(ascii: "\n") && $0 != UInt8(ascii: " ") },
                                    as: UTF8.self)) {
            return Capability(rawValue: value)
        }
        return Capability(rawValue: cap_max_bits() - 1)
    }()

    /// Splits names into the capabilities libcap knows (in input order, without repeats) and the names it
    /// does not know (in input order). Names must be spelled as runtime-spec does: `CAP_` and upper case.
    public static func parse(_ names: [String]) -> (known: [Capability], unknown: [String]) {
        var known: [Capability] = []
        var unknown: [String] = []
        for name in names {
            if let cap = Capability(name: name) {
                if !known.contains(cap) { known.append(cap) }
            } else {
                unknown.append(name)
            }
        }
        return (known, unknown)
    }

    /// Resolves `process.capabilities` as runc 1.1 does: a missing object means every set is empty, and a
    /// name that is unknown or above `lastCapability` is left out and reported in `ignored`.
    public static func resolve(_ caps: LinuxCapabilities?, lastCapability: Capability? = nil) -> ResolvedCapabilities {
        let last = lastCapability ?? Capabilities.lastCapability()
        var ignored: Set<String> = []
        func set(_ names: [String]?) -> Set<Capability> {
            let (known, unknown) = parse(names ?? [])
            ignored.formUnion(unknown)
            var out: Set<Capability> = []
            for cap in known {
                if cap > last { ignored.insert(cap.name) } else { out.insert(cap) }
            }
            return out
        }
        let sets = CapabilitySets(bounding: set(caps?.bounding), effective: set(caps?.effective),
                                  inheritable: set(caps?.inheritable), permitted: set(caps?.permitted),
                                  ambient: set(caps?.ambient))
        return ResolvedCapabilities(sets: sets, ignored: ignored.sorted())
    }

    /// The calling process' five capability sets (effective, permitted and inheritable from capget, the
    /// bounding set from `PR_CAPBSET_READ`, the ambient set from `PR_CAP_AMBIENT_IS_SET`).
    public static func current() throws -> CapabilitySets {
        guard let caps = cap_get_proc() else { throw PodrunError.system("cap_get_proc") }
        defer { cap_free(UnsafeMutableRawPointer(caps)) }
        var sets = CapabilitySets()
        let last = lastCapability()
        for value in 0...last.rawValue {
            let cap = Capability(rawValue: value)
            var flag = CAP_CLEAR
            if cap_get_flag(caps, value, CAP_EFFECTIVE, &flag) == 0, flag == CAP_SET { sets.effective.insert(cap) }
            if cap_get_flag(caps, value, CAP_PERMITTED, &flag) == 0, flag == CAP_SET { sets.permitted.insert(cap) }
            if cap_get_flag(caps, value, CAP_INHERITABLE, &flag) == 0, flag == CAP_SET { sets.inheritable.insert(cap) }
            let bounding = podrun_prctl(prCapBoundingSetRead, UInt(value), 0, 0, 0)
            if bounding < 0 { throw PodrunError.system("prctl(PR_CAPBSET_READ, \(cap.name))") }
            if bounding == 1 { sets.bounding.insert(cap) }
            let ambient = podrun_prctl(prCapAmbient, prCapAmbientIsSet, UInt(value), 0, 0)
            if ambient < 0 { throw PodrunError.system("prctl(PR_CAP_AMBIENT_IS_SET, \(cap.name))") }
            if ambient == 1 { sets.ambient.insert(cap) }
        }
        return sets
    }

    /// Drops from the bounding set every capability up to the kernel's last one that is not in `keeping`
    /// (`PR_CAPBSET_DROP`; needs `CAP_SETPCAP`). EINVAL, a capability this kernel lacks, is skipped as runc does.
    public static func dropBoundingSet(keeping: Set<Capability>) throws {
        let last = lastCapability()
        for value in 0...last.rawValue where !keeping.contains(Capability(rawValue: value)) {
            if podrun_prctl(prCapBoundingSetDrop, UInt(value), 0, 0, 0) != 0 {
                let e = errno
                if e == EINVAL { continue }
                throw PodrunError.system("prctl(PR_CAPBSET_DROP, \(Capability(rawValue: value).name))", errno: e)
            }
        }
    }

    /// Sets the effective, permitted and inheritable sets in one capset (libcap's `cap_set_proc`).
    public static func apply(effective: Set<Capability>, permitted: Set<Capability>,
                             inheritable: Set<Capability>) throws {
        guard let caps = cap_init() else { throw PodrunError.system("cap_init") }
        defer { cap_free(UnsafeMutableRawPointer(caps)) }
        // One flag at a time (an array of (flag, set) pairs would make its generic types at run time, in the
        // container's process).
        func set(_ flag: cap_flag_t, _ set: Set<Capability>) throws {
            guard !set.isEmpty else { return }
            let values = set.map(\.rawValue)
            let rc = values.withUnsafeBufferPointer {
                cap_set_flag(caps, flag, Int32($0.count), $0.baseAddress, CAP_SET)
            }
            if rc != 0 { throw PodrunError.system("cap_set_flag") }
        }
        try set(CAP_EFFECTIVE, effective)
        try set(CAP_PERMITTED, permitted)
        try set(CAP_INHERITABLE, inheritable)
        if cap_set_proc(caps) != 0 { throw PodrunError.system("cap_set_proc") }
    }

    /// Clears the ambient set, then raises each capability of `ambient`. A capability the kernel refuses to
    /// raise (not both permitted and inheritable) is skipped and described in the returned warnings: runc 1.1
    /// ignores these failures, newer runc warns.
    @discardableResult
    public static func setAmbient(_ ambient: Set<Capability>) throws -> [String] {
        if podrun_prctl(prCapAmbient, prCapAmbientClearAll, 0, 0, 0) != 0 {
            throw PodrunError.system("prctl(PR_CAP_AMBIENT_CLEAR_ALL)")
        }
        var warnings: [String] = []
        for cap in ambient.sorted() where podrun_prctl(prCapAmbient, prCapAmbientRaise, UInt(cap.rawValue), 0, 0) != 0 {
            warnings.append("cannot raise ambient capability \(cap.name): " + PodrunError.errnoDescription(errno))
        }
        return warnings
    }

    /// Sets or clears `PR_SET_KEEPCAPS`, which keeps the permitted set across a setuid away from uid 0.
    public static func setKeepCapabilities(_ keep: Bool) throws {
        if podrun_prctl(prSetKeepCaps, keep ? 1 : 0, 0, 0, 0) != 0 {
            throw PodrunError.system("prctl(PR_SET_KEEPCAPS)")
        }
    }

    /// Sets `no_new_privs` (`PR_SET_NO_NEW_PRIVS`): execve can no longer grant privileges, and a seccomp
    /// filter can be loaded without `CAP_SYS_ADMIN`. It cannot be unset.
    public static func setNoNewPrivileges() throws {
        if podrun_prctl(prSetNoNewPrivileges, 1, 0, 0, 0) != 0 {
            throw PodrunError.system("prctl(PR_SET_NO_NEW_PRIVS)")
        }
    }

    /// Applies `sets` and switches user in runc's order (see the type's documentation): bounding set,
    /// `PR_SET_KEEPCAPS`, `switchUser`, clear `PR_SET_KEEPCAPS`, capset, ambient. `switchUser` runs with every
    /// capability still effective and must call setgroups, setresgid and setresuid (in that order), or do
    /// nothing when the user stays root. Returns the warnings of `setAmbient`.
    @discardableResult
    public static func applyAll(_ sets: CapabilitySets, switchingUser switchUser: () throws -> Void) throws -> [String] {
        try dropBoundingSet(keeping: sets.bounding)
        try setKeepCapabilities(true)
        try switchUser()
        try setKeepCapabilities(false)
        try apply(effective: sets.effective, permitted: sets.permitted, inheritable: sets.inheritable)
        return try setAmbient(sets.ambient)
    }

    /// The whole privilege drop of the container's init, in runc 1.1's order (`standard_init_linux.go`):
    ///
    /// 1. `no_new_privs`, when asked for;
    /// 2. without `no_new_privs`, the seccomp filter now, while `CAP_SYS_ADMIN` still allows loading it;
    /// 3. `applyAll(sets, switchingUser:)`: bounding set, keepcaps, user switch, capset, ambient;
    /// 4. with `no_new_privs`, the seccomp filter last, so the fewest syscalls run under it.
    ///
    /// Without `no_new_privs` the filter must allow what step 3 does (capset, prctl, setgroups, setresuid,
    /// setresgid, and the syscalls of `switchUser`); Docker's default profile does. Returns warnings.
    @discardableResult
    public static func finalize(_ sets: CapabilitySets, noNewPrivileges: Bool, seccomp: CompiledSeccomp?,
                                switchingUser switchUser: () throws -> Void) throws -> [String] {
        if noNewPrivileges { try setNoNewPrivileges() }
        if let seccomp, !noNewPrivileges { try SeccompFilter.load(seccomp) }
        let warnings = try applyAll(sets, switchingUser: switchUser)
        if let seccomp, noNewPrivileges { try SeccompFilter.load(seccomp) }
        return warnings
    }
}
