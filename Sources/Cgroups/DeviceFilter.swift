import CPodrunShim
import Glibc
import OCISpec
import PodrunCore

/// The cgroup v2 device controller: an eBPF program (BPF_PROG_TYPE_CGROUP_DEVICE) built from the device rules,
/// as runc's devicefilter does. The last matching rule decides; a device no rule matches is allowed (so a
/// leading "deny all" rule, as in runc's default spec, makes it an allow list).
public enum DeviceFilter {
    /// One eBPF instruction.
    public struct Instruction: Equatable, Sendable {
        public var code: UInt8
        public var dst: UInt8
        public var src: UInt8
        public var offset: Int16
        public var immediate: Int32

        /// The 8 bytes the kernel reads.
        var bytes: [UInt8] {
            let off = UInt16(bitPattern: offset)
            let imm = UInt32(bitPattern: immediate)
            return [code, (src << 4) | (dst & 0x0f), UInt8(off & 0xff), UInt8(off >> 8),
                    UInt8(imm & 0xff), UInt8((imm >> 8) & 0xff), UInt8((imm >> 16) & 0xff), UInt8(imm >> 24)]
        }
    }

    // Opcodes (linux/bpf.h, linux/bpf_common.h).
    static let ldxMemW: UInt8 = 0x61      // BPF_LDX | BPF_MEM | BPF_W
    static let andImm32: UInt8 = 0x54     // BPF_ALU | BPF_AND | BPF_K
    static let rshImm32: UInt8 = 0x74     // BPF_ALU | BPF_RSH | BPF_K
    static let movReg32: UInt8 = 0xbc     // BPF_ALU | BPF_MOV | BPF_X
    static let movImm64: UInt8 = 0xb7     // BPF_ALU64 | BPF_MOV | BPF_K
    static let jneImm: UInt8 = 0x55       // BPF_JMP | BPF_JNE | BPF_K
    static let exit: UInt8 = 0x95         // BPF_JMP | BPF_EXIT

    /// The program for `rules`.
    public static func program(_ rules: [LinuxDeviceCgroup]) throws -> [Instruction] {
        // r2 = device type, r3 = requested access, r4 = major, r5 = minor (struct bpf_cgroup_dev_ctx).
        var out: [Instruction] = [
            Instruction(code: ldxMemW, dst: 2, src: 1, offset: 0, immediate: 0),
            Instruction(code: andImm32, dst: 2, src: 0, offset: 0, immediate: 0xffff),
            Instruction(code: ldxMemW, dst: 3, src: 1, offset: 0, immediate: 0),
            Instruction(code: rshImm32, dst: 3, src: 0, offset: 0, immediate: 16),
            Instruction(code: ldxMemW, dst: 4, src: 1, offset: 4, immediate: 0),
            Instruction(code: ldxMemW, dst: 5, src: 1, offset: 8, immediate: 0),
        ]
        for (index, rule) in rules.enumerated().reversed() {
            let checks = try block(rule, field: "linux.resources.devices[\(index)]")
            out += checks
            // A rule matching every device ends the program: what follows could never run, and the verifier
            // refuses unreachable instructions.
            if !checks.contains(where: { $0.code == jneImm }) { return out }
        }
        out.append(Instruction(code: movImm64, dst: 0, src: 0, offset: 0, immediate: 1))
        out.append(Instruction(code: exit, dst: 0, src: 0, offset: 0, immediate: 0))
        return out
    }

    /// The checks of one rule, each jumping past the block when it fails, then "return allow".
    static func block(_ rule: LinuxDeviceCgroup, field: String) throws -> [Instruction] {
        var checks: [[Instruction]] = []
        switch rule.type ?? "a" {
        case "a", "": break
        case "c": checks.append([Instruction(code: jneImm, dst: 2, src: 0, offset: 0, immediate: 2)])
        case "b": checks.append([Instruction(code: jneImm, dst: 2, src: 0, offset: 0, immediate: 1)])
        default: throw PodrunError.invalidSpec(field + ".type", "unknown device type \"\(rule.type ?? "")\"")
        }
        var access: Int32 = 0
        for c in rule.access ?? "rwm" {
            switch c {
            case "m": access |= 1
            case "r": access |= 2
            case "w": access |= 4
            default: throw PodrunError.invalidSpec(field + ".access", "unknown access \"\(c)\"")
            }
        }
        if access != 7 {
            // Matches when every requested access is in the rule's: (requested & ~rule) == 0.
            checks.append([
                Instruction(code: movReg32, dst: 1, src: 3, offset: 0, immediate: 0),
                Instruction(code: andImm32, dst: 1, src: 0, offset: 0, immediate: ~access & 7),
                Instruction(code: jneImm, dst: 1, src: 0, offset: 0, immediate: 0),
            ])
        }
        if let major = rule.major, major >= 0 {
            checks.append([Instruction(code: jneImm, dst: 4, src: 0, offset: 0, immediate: Int32(truncatingIfNeeded: major))])
        }
        if let minor = rule.minor, minor >= 0 {
            checks.append([Instruction(code: jneImm, dst: 5, src: 0, offset: 0, immediate: Int32(truncatingIfNeeded: minor))])
        }
        let verdict = [Instruction(code: movImm64, dst: 0, src: 0, offset: 0, immediate: rule.allow ? 1 : 0),
                       Instruction(code: exit, dst: 0, src: 0, offset: 0, immediate: 0)]
        var flat = checks.flatMap { $0 } + verdict
        // Each jump skips to the end of the block.
        for i in flat.indices where flat[i].code == jneImm {
            flat[i].offset = Int16(flat.count - i - 1)
        }
        return flat
    }

    /// Loads the program for `rules` and attaches it to the cgroup2 folder `directory`.
    public static func attach(_ rules: [LinuxDeviceCgroup], to directory: String) throws {
        let program = try load(program(rules))
        defer { close(program) }
        let cgroup = open(directory, O_RDONLY | O_DIRECTORY | O_CLOEXEC)
        guard cgroup >= 0 else { throw PodrunError.system("open cgroup", path: directory) }
        defer { close(cgroup) }
        guard podrun_bpf_attach_device_program(cgroup, program) == 0 else {
            throw PodrunError.system("attach the device cgroup program to", path: directory)
        }
    }

    /// The verifier log asked for when a load fails: 1 MiB, ample for a device program (the log of runc's default
    /// rules at log level 1 outgrows 4 KiB, which made a single load with a 4 KiB log fail with ENOSPC).
    static let largestLog = 1 << 20

    /// Loads `instructions` as a BPF_PROG_TYPE_CGROUP_DEVICE program; returns its descriptor.
    ///
    /// As cilium/ebpf (runc's loader) does: the first load asks for no verifier log, because a log that outgrows
    /// its buffer fails the load with ENOSPC even when the program is fine. Only when the program is refused is it
    /// loaded again with a log, for the verifier's reason; if that log still does not fit, the first error
    /// is reported without it.
    static func load(_ instructions: [Instruction]) throws -> Int32 {
        let bytes = instructions.flatMap(\.bytes)
        func load(log: inout [CChar]) -> (descriptor: Int32, errno: Int32) {
            let descriptor = bytes.withUnsafeBytes { raw in
                log.withUnsafeMutableBufferPointer { buffer in
                    podrun_bpf_load_device_program(raw.baseAddress, UInt32(bytes.count / 8), buffer.baseAddress,
                                                   UInt32(buffer.count))
                }
            }
            return (descriptor, descriptor >= 0 ? 0 : errno)
        }
        var noLog: [CChar] = []
        let first = load(log: &noLog)
        if first.descriptor >= 0 { return first.descriptor }
        var log = [CChar](repeating: 0, count: largestLog)
        let retry = load(log: &log)
        if retry.descriptor >= 0 {
            // Refused once, then loaded: keep the program (a transient failure such as EAGAIN).
            return retry.descriptor
        }
        let text = retry.errno == ENOSPC
            ? "" : String(decoding: log.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
        // The verifier's reason is the log's last line; the whole log stays in `cause`.
        let reason = text.split(separator: "\n").last.map { " (verifier: \($0))" } ?? ""
        throw PodrunError(.system, "load the device cgroup program" + reason, errno: first.errno,
                          cause: text.isEmpty ? nil : text)
    }
}
