import CPodrunShim
import Foundation
import Glibc
import LinuxSys
import OCISpec
import PodrunCore
import Testing

private let chown = Capability(rawValue: 0)
private let kill = Capability(rawValue: 5)
private let setpcap = Capability(rawValue: 8)
private let netBindService = Capability(rawValue: 10)
private let sysAdmin = Capability(rawValue: 21)

@Test func capabilityNamesResolveToKernelNumbers() {
    #expect(Capability(name: "CAP_CHOWN") == chown)
    #expect(Capability(name: "CAP_NET_BIND_SERVICE") == netBindService)
    #expect(Capability(name: "CAP_SYS_ADMIN") == sysAdmin)
    #expect(Capability(name: "CAP_CHECKPOINT_RESTORE")?.rawValue == 40)
    #expect(sysAdmin.name == "CAP_SYS_ADMIN")
    #expect(Capability(rawValue: 40).name == "CAP_CHECKPOINT_RESTORE")
}

@Test func capabilityNamesMustBeSpelledExactlyAsRuntimeSpec() {
    for name in ["cap_chown", "Cap_Chown", "CHOWN", "CAP_", "CAP_CHOWNX", "CAP_CHOWN1", "CAP_CHOWN,CAP_KILL",
                 " CAP_CHOWN", "0", "CAP_NOT_A_THING", ""] {
        #expect(Capability(name: name) == nil, "\(name)")
    }
}

@Test func parseSeparatesUnknownNamesInInputOrder() {
    let (known, unknown) = Capabilities.parse(["CAP_KILL", "CAP_BOGUS", "CAP_CHOWN", "CAP_KILL", "cap_kill"])
    #expect(known == [kill, chown])
    #expect(unknown == ["CAP_BOGUS", "cap_kill"])
}

@Test func resolveIgnoresUnknownAndUnavailableCapabilitiesWithRuncsWarning() {
    let spec = LinuxCapabilities(bounding: ["CAP_CHOWN", "CAP_BPF", "CAP_WAKE_ALARM"],
                                 effective: ["CAP_CHOWN", "CAP_MADE_UP"], inheritable: nil,
                                 permitted: ["CAP_CHOWN"], ambient: [])
    // As on a kernel whose last capability is CAP_BLOCK_SUSPEND (36): CAP_WAKE_ALARM (35) is known and
    // available, CAP_BPF (39) is known to libcap but not to that kernel.
    let resolved = Capabilities.resolve(spec, lastCapability: Capability(rawValue: 36))
    #expect(resolved.sets.bounding == [chown, Capability(rawValue: 35)])
    #expect(resolved.sets.effective == [chown])
    #expect(resolved.sets.permitted == [chown])
    #expect(resolved.sets.inheritable.isEmpty)
    #expect(resolved.ignored == ["CAP_BPF", "CAP_MADE_UP"])
    #expect(resolved.warning == "ignoring unknown or unavailable capabilities: [CAP_BPF CAP_MADE_UP]")
}

@Test func missingCapabilitiesObjectMeansEmptySets() {
    let resolved = Capabilities.resolve(nil)
    #expect(resolved.sets == CapabilitySets())
    #expect(resolved.ignored.isEmpty)
    #expect(resolved.warning == nil)
}

@Test func lastCapabilityIsTheKernels() throws {
    let text = try FileIO.readString("/proc/sys/kernel/cap_last_cap")
    #expect(Capabilities.lastCapability().rawValue == Int32(text.filter { !$0.isWhitespace }))
}

@Test func currentReadsTheSameSetsAsProcStatus() throws {
    let sets = try Capabilities.current()
    let status = procSelfStatus()
    #expect(capabilityMask(sets.bounding.map(\.rawValue)) == status["CapBnd"])
    #expect(capabilityMask(sets.effective.map(\.rawValue)) == status["CapEff"])
    #expect(capabilityMask(sets.permitted.map(\.rawValue)) == status["CapPrm"])
    #expect(capabilityMask(sets.inheritable.map(\.rawValue)) == status["CapInh"])
    #expect(capabilityMask(sets.ambient.map(\.rawValue)) == status["CapAmb"])
}

@Test func droppingTheBoundingSetKeepsOnlyTheGivenCapabilities() {
    let outcome = runInChild { report in
        do {
            try Capabilities.dropBoundingSet(keeping: [kill, setpcap, netBindService])
            report.line("CapBnd", procSelfStatus()["CapBnd"] ?? "")
            report.line("CapEff", procSelfStatus()["CapEff"] ?? "")
            return 0
        } catch {
            report.line("error", "\(error)")
            return 1
        }
    }
    #expect(outcome.end == .exited(0), "\(outcome.report)")
    #expect(outcome.values["CapBnd"] == capabilityMask([5, 8, 10]))
    // The bounding set limits what execve can grant; it leaves the current effective set alone.
    #expect(outcome.values["CapEff"] == procSelfStatus()["CapEff"])
}

/// Switches to nobody (65534) with no supplementary groups, as the init's user switch would.
private func switchToNobody() throws {
    guard podrun_setgroups(0, nil) == 0 else { throw PodrunError.system("setgroups") }
    guard podrun_setresgid(65534, 65534, 65534) == 0 else { throw PodrunError.system("setresgid") }
    guard podrun_setresuid(65534, 65534, 65534) == 0 else { throw PodrunError.system("setresuid") }
}

@Test func capabilitiesSurviveTheSwitchToANonRootUser() {
    let sets = CapabilitySets(bounding: [chown, netBindService], effective: [chown, netBindService],
                              inheritable: [netBindService], permitted: [chown, netBindService],
                              ambient: [netBindService])
    let outcome = runInChild { report in
        do {
            let warnings = try Capabilities.applyAll(sets, switchingUser: switchToNobody)
            let status = procSelfStatus()
            for key in ["CapBnd", "CapEff", "CapPrm", "CapInh", "CapAmb", "Uid", "Gid", "Groups"] {
                report.line(key, status[key] ?? "")
            }
            report.line("warnings", warnings.joined(separator: ";"))
            report.line("current", try Capabilities.current() == sets ? "same" : "different")
            return 0
        } catch {
            report.line("error", "\(error)")
            return 1
        }
    }
    #expect(outcome.end == .exited(0), "\(outcome.report)")
    let values = outcome.values
    #expect(values["Uid"] == "65534\t65534\t65534\t65534")
    #expect(values["Gid"] == "65534\t65534\t65534\t65534")
    #expect(values["Groups"] == "")
    #expect(values["CapBnd"] == capabilityMask([0, 10]))
    #expect(values["CapEff"] == capabilityMask([0, 10]))
    #expect(values["CapPrm"] == capabilityMask([0, 10]))
    #expect(values["CapInh"] == capabilityMask([10]))
    #expect(values["CapAmb"] == capabilityMask([10]))
    #expect(values["warnings"] == "")
    #expect(values["current"] == "same")
}

@Test func ambientCapabilityOutsideInheritableIsSkippedWithAWarning() {
    let sets = CapabilitySets(bounding: [chown, netBindService], effective: [chown, netBindService],
                              inheritable: [netBindService], permitted: [chown, netBindService],
                              ambient: [chown, netBindService])
    let outcome = runInChild { report in
        do {
            let warnings = try Capabilities.applyAll(sets, switchingUser: switchToNobody)
            report.line("CapAmb", procSelfStatus()["CapAmb"] ?? "")
            report.line("warnings", warnings.joined(separator: ";"))
            return 0
        } catch {
            report.line("error", "\(error)")
            return 1
        }
    }
    #expect(outcome.end == .exited(0), "\(outcome.report)")
    #expect(outcome.values["CapAmb"] == capabilityMask([10]))
    #expect(outcome.values["warnings"] == "cannot raise ambient capability CAP_CHOWN: operation not permitted")
}

@Test func withoutKeepcapsOrderTheSwitchToNobodyWouldLoseEveryCapability() {
    // The control for the test above: setuid without PR_SET_KEEPCAPS clears the permitted set, so the
    // capset that follows cannot give anything back.
    let outcome = runInChild { report in
        do {
            try switchToNobody()
            report.line("CapPrm", procSelfStatus()["CapPrm"] ?? "")
            try Capabilities.apply(effective: [chown], permitted: [chown], inheritable: [])
            return 0
        } catch let error as PodrunError {
            report.line("errno", "\(error.errno ?? 0)")
            return 1
        } catch {
            return 2
        }
    }
    #expect(outcome.end == .exited(1), "\(outcome.report)")
    #expect(outcome.values["CapPrm"] == capabilityMask([]))
    #expect(outcome.values["errno"] == "\(EPERM)")
}

@Test func finalizeWithNoNewPrivilegesLoadsSeccompAfterDroppingCapabilities() throws {
    let filter = try SeccompFilter.compile(LinuxSeccomp(defaultAction: "SCMP_ACT_ALLOW", syscalls: [
        LinuxSyscall(names: ["uname"], action: "SCMP_ACT_ERRNO", errnoRet: UInt32(EXDEV)),
    ]))
    let sets = CapabilitySets(bounding: [netBindService], effective: [netBindService],
                              permitted: [netBindService])
    let outcome = runInChild { report in
        do {
            try Capabilities.finalize(sets, noNewPrivileges: true, seccomp: filter, switchingUser: switchToNobody)
            let status = procSelfStatus()
            for key in ["NoNewPrivs", "Seccomp", "CapEff", "Uid"] { report.line(key, status[key] ?? "") }
            report.line("uname", "\(unameErrno())")
            return 0
        } catch {
            report.line("error", "\(error)")
            return 1
        }
    }
    #expect(outcome.end == .exited(0), "\(outcome.report)")
    #expect(outcome.values["NoNewPrivs"] == "1")
    #expect(outcome.values["Seccomp"] == "2")
    #expect(outcome.values["CapEff"] == capabilityMask([10]))
    #expect(outcome.values["Uid"] == "65534\t65534\t65534\t65534")
    #expect(outcome.values["uname"] == "\(EXDEV)")
}

@Test func finalizeWithoutNoNewPrivilegesLoadsSeccompWhileCapSysAdminIsHeld() throws {
    // Loading a filter needs no_new_privs or CAP_SYS_ADMIN; the sets below drop CAP_SYS_ADMIN, so this only
    // works when the filter goes in before the capabilities are applied.
    let filter = try SeccompFilter.compile(LinuxSeccomp(defaultAction: "SCMP_ACT_ALLOW", syscalls: [
        LinuxSyscall(names: ["uname"], action: "SCMP_ACT_ERRNO", errnoRet: UInt32(EXDEV)),
    ]))
    let sets = CapabilitySets(bounding: [chown], effective: [chown], permitted: [chown])
    let outcome = runInChild { report in
        do {
            try Capabilities.finalize(sets, noNewPrivileges: false, seccomp: filter, switchingUser: {})
            let status = procSelfStatus()
            for key in ["NoNewPrivs", "Seccomp", "CapEff"] { report.line(key, status[key] ?? "") }
            report.line("uname", "\(unameErrno())")
            return 0
        } catch {
            report.line("error", "\(error)")
            return 1
        }
    }
    #expect(outcome.end == .exited(0), "\(outcome.report)")
    #expect(outcome.values["NoNewPrivs"] == "0")
    #expect(outcome.values["Seccomp"] == "2")
    #expect(outcome.values["CapEff"] == capabilityMask([0]))
    #expect(outcome.values["uname"] == "\(EXDEV)")
}

@Test func resolvedCapabilitiesEncodeAsKernelNumbers() throws {
    let resolved = ResolvedCapabilities(sets: CapabilitySets(bounding: [sysAdmin]), ignored: ["CAP_X"])
    let data = try JSONEncoder().encode(resolved)
    #expect(String(decoding: data, as: UTF8.self).contains("[21]"))
    #expect(try JSONDecoder().decode(ResolvedCapabilities.self, from: data) == resolved)
}
