import CPodrunShim
import Glibc
import OCISpec
import PodrunCore

/// The process attributes of runtime-spec 1.2 beyond user and capabilities: execution domain, scheduler,
/// I/O priority and CPU affinity, and the time namespace's clock offsets.
public enum ProcessAttributes {
    /// The personality(2) value for `linux.personality` (`LINUX` or `LINUX32`; no flags are defined yet).
    public static func personality(_ p: LinuxPersonality) throws -> UInt {
        switch p.domain {
        case "LINUX": return 0x0000
        case "LINUX32": return 0x0008
        default: throw PodrunError.invalidSpec("linux.personality.domain", "unknown domain \"\(p.domain)\"")
        }
    }

    /// Sets the execution domain.
    public static func apply(_ p: LinuxPersonality) throws {
        guard podrun_personality(try personality(p)) >= 0 else { throw PodrunError.system("personality") }
    }

    /// The sched_setattr(2) policy number of a `SCHED_*` name.
    public static func schedulerPolicy(_ name: String) throws -> UInt32 {
        let policies: [String: UInt32] = ["SCHED_OTHER": 0, "SCHED_FIFO": 1, "SCHED_RR": 2, "SCHED_BATCH": 3,
                                          "SCHED_ISO": 4, "SCHED_IDLE": 5, "SCHED_DEADLINE": 6]
        guard let policy = policies[name] else {
            throw PodrunError.invalidSpec("process.scheduler.policy", "unknown policy \"\(name)\"")
        }
        return policy
    }

    /// The sched_setattr(2) flags of `SCHED_FLAG_*` names.
    public static func schedulerFlags(_ names: [String]) throws -> UInt64 {
        let flags: [String: UInt64] = [
            "SCHED_FLAG_RESET_ON_FORK": 0x01, "SCHED_FLAG_RECLAIM": 0x02, "SCHED_FLAG_DL_OVERRUN": 0x04,
            "SCHED_FLAG_KEEP_POLICY": 0x08, "SCHED_FLAG_KEEP_PARAMS": 0x10, "SCHED_FLAG_UTIL_CLAMP_MIN": 0x20,
            "SCHED_FLAG_UTIL_CLAMP_MAX": 0x40,
        ]
        return try names.reduce(0) { acc, name in
            guard let flag = flags[name] else {
                throw PodrunError.invalidSpec("process.scheduler.flags", "unknown flag \"\(name)\"")
            }
            return acc | flag
        }
    }

    /// Applies a scheduler.
    public static func apply(_ s: Scheduler) throws {
        let rc = podrun_sched_setattr(try schedulerPolicy(s.policy), try schedulerFlags(s.flags ?? []), s.nice ?? 0,
                                      UInt32(max(0, s.priority ?? 0)), s.runtime ?? 0, s.deadline ?? 0, s.period ?? 0)
        guard rc == 0 else { throw PodrunError.system("sched_setattr") }
    }

    /// The ioprio_set(2) value for an I/O priority: class in the top bits, level 0-7 below.
    public static func ioPriorityValue(_ p: LinuxIOPriority) throws -> Int32 {
        let classes: [String: Int32] = ["IOPRIO_CLASS_RT": 1, "IOPRIO_CLASS_BE": 2, "IOPRIO_CLASS_IDLE": 3]
        guard let cls = classes[p.class] else {
            throw PodrunError.invalidSpec("process.ioPriority.class", "unknown class \"\(p.class)\"")
        }
        guard (0...7).contains(p.priority) else {
            throw PodrunError.invalidSpec("process.ioPriority.priority", "must be 0 to 7")
        }
        return (cls << 13) | Int32(p.priority)
    }

    /// Applies an I/O priority.
    public static func apply(_ p: LinuxIOPriority) throws {
        guard podrun_ioprio_set(try ioPriorityValue(p)) == 0 else { throw PodrunError.system("ioprio_set") }
    }

    /// The CPUs of a list such as `0-3,7`.
    public static func cpuList(_ text: String, field: String) throws -> [Int32] {
        var cpus: [Int32] = []
        for part in text.split(separator: ",") {
            let bounds = part.split(separator: "-", maxSplits: 1, omittingEmptySubsequences: false)
                .map { Int32($0.trimmingSpaces()) }
            guard let first = bounds.first ?? nil, first >= 0 else {
                throw PodrunError.invalidSpec(field, "invalid CPU list \"\(text)\"")
            }
            if bounds.count == 1 {
                cpus.append(first)
            } else {
                guard let last = bounds[1], last >= first else {
                    throw PodrunError.invalidSpec(field, "invalid CPU list \"\(text)\"")
                }
                cpus += Array(first...last)
            }
        }
        guard !cpus.isEmpty else { throw PodrunError.invalidSpec(field, "empty CPU list") }
        return cpus
    }

    /// Pins this process to the CPUs of `list`.
    public static func setAffinity(_ list: String, field: String) throws {
        let cpus = try cpuList(list, field: field)
        guard cpus.withUnsafeBufferPointer({ podrun_set_affinity($0.baseAddress, Int32($0.count)) }) == 0 else {
            throw PodrunError.system("sched_setaffinity \(list)")
        }
    }

    /// The text of /proc/self/timens_offsets for the offsets (clock names `monotonic` and `boottime`).
    public static func timeOffsetsText(_ offsets: [String: LinuxTimeOffset]) throws -> String {
        try offsets.sorted { $0.key < $1.key }.map { clock, offset in
            guard clock == "monotonic" || clock == "boottime" else {
                throw PodrunError.invalidSpec("linux.timeOffsets.\(clock)", "unknown clock")
            }
            return "\(clock) \(offset.secs ?? 0) \(offset.nanosecs ?? 0)\n"
        }.joined()
    }
}

extension Substring {
    fileprivate func trimmingSpaces() -> Substring {
        var s = self
        while s.first == " " { s.removeFirst() }
        while s.last == " " { s.removeLast() }
        return s
    }
}
