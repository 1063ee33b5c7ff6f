import CLibseccomp
import Glibc
import LinuxSys
import OCISpec
import Testing

/// Docker's default capability set (what containerd and `runc spec` give a container).
private let dockerCapabilities = [
    "CAP_CHOWN", "CAP_DAC_OVERRIDE", "CAP_FSETID", "CAP_FOWNER", "CAP_MKNOD", "CAP_NET_RAW", "CAP_SETGID",
    "CAP_SETUID", "CAP_SETFCAP", "CAP_SETPCAP", "CAP_NET_BIND_SERVICE", "CAP_SYS_CHROOT", "CAP_KILL",
    "CAP_AUDIT_WRITE",
]

private func rules(for name: String, in profile: LinuxSeccomp) -> [LinuxSyscall] {
    (profile.syscalls ?? []).filter { $0.names.contains(name) }
}

@Test func dockerDefaultRefusesWithEPERMAndCoversTheNativeArchitectures() {
    let profile = LinuxSeccomp.dockerDefault(capabilities: dockerCapabilities)
    #expect(profile.defaultAction == "SCMP_ACT_ERRNO")
    #expect(profile.defaultErrnoRet == nil)
    #if arch(x86_64)
    #expect(profile.architectures == ["SCMP_ARCH_X86_64", "SCMP_ARCH_X86", "SCMP_ARCH_X32"])
    #expect(rules(for: "arch_prctl", in: profile).count == 1)
    #endif
    #expect(rules(for: "read", in: profile).first?.action == "SCMP_ACT_ALLOW")
    #expect(rules(for: "keyctl", in: profile).isEmpty)
}

@Test func dockerDefaultWithoutSysAdminLimitsCloneAndAnswersClone3WithENOSYS() {
    let profile = LinuxSeccomp.dockerDefault(capabilities: dockerCapabilities)
    let clone = rules(for: "clone", in: profile)
    #expect(clone.count == 1)
    #expect(clone.first?.args == [LinuxSeccompArg(index: 0, value: 0x7E02_0000, valueTwo: 0, op: "SCMP_CMP_MASKED_EQ")])
    let clone3 = rules(for: "clone3", in: profile)
    #expect(clone3 == [LinuxSyscall(names: ["clone3"], action: "SCMP_ACT_ERRNO", errnoRet: 38)])
    #expect(rules(for: "mount", in: profile).isEmpty)
    #expect(rules(for: "chroot", in: profile).count == 1)
}

@Test func dockerDefaultWithSysAdminAllowsNamespacesAndMounts() {
    let profile = LinuxSeccomp.dockerDefault(capabilities: dockerCapabilities + ["CAP_SYS_ADMIN"])
    #expect(rules(for: "clone", in: profile).map(\.args) == [nil])
    #expect(rules(for: "clone3", in: profile).map(\.action) == ["SCMP_ACT_ALLOW"])
    for name in ["mount", "umount2", "unshare", "setns", "sethostname", "bpf", "syslog"] {
        #expect(rules(for: name, in: profile).count == 1, "\(name)")
    }
}

@Test func dockerDefaultGatesSyscallGroupsOnCapabilities() {
    let plain = LinuxSeccomp.dockerDefault(capabilities: [])
    let extra = LinuxSeccomp.dockerDefault(capabilities: ["CAP_SYS_PTRACE", "CAP_SYS_TIME", "CAP_SYS_MODULE",
                                                          "CAP_SYS_BOOT", "CAP_DAC_READ_SEARCH", "CAP_BPF"])
    for name in ["kcmp", "process_vm_readv", "clock_settime", "init_module", "reboot", "open_by_handle_at", "bpf"] {
        #expect(rules(for: name, in: plain).isEmpty, "\(name)")
        #expect(!rules(for: name, in: extra).isEmpty, "\(name)")
    }
    // ptrace is allowed on every kernel podrun supports (containerd: 4.8 and later).
    #expect(rules(for: "ptrace", in: plain).count == 1)
}

@Test func dockerDefaultAllowsOnlyHarmlessPersonalities() {
    let personas = rules(for: "personality", in: LinuxSeccomp.dockerDefault(capabilities: []))
    #expect(personas.compactMap { $0.args?.first?.value } == [0x0, 0x0008, 0x20000, 0x20008, 0xffff_ffff])
    #expect(personas.allSatisfy { $0.args?.first?.op == "SCMP_CMP_EQ" && $0.args?.first?.index == 0 })
}

@Test func dockerDefaultCompilesWithOnlyTheSyscallsThisLibseccompLacksSkipped() throws {
    let compiled = try SeccompFilter.compile(.dockerDefault(capabilities: dockerCapabilities))
    #expect(compiled.instructionCount > 100)
    #expect(compiled.warnings.isEmpty, "\(compiled.warnings)")
}

@Test func dockerDefaultProfileAllowsOrdinarySyscallsAndRefusesTheRest() throws {
    let compiled = try SeccompFilter.compile(.dockerDefault(capabilities: dockerCapabilities))
    let clone3 = Int(seccomp_syscall_resolve_name("clone3"))
    let keyctl = Int(seccomp_syscall_resolve_name("keyctl"))
    let unshare = Int(seccomp_syscall_resolve_name("unshare"))
    let outcome = runInChild { report in
        // Controls: without the filter, clone3 with no arguments is EINVAL and keyctl is not EPERM.
        report.line("clone3-before", "\(rawSyscall(clone3, 0, 0).errno)")
        report.line("keyctl-before", "\(rawSyscall(keyctl, 0 /* KEYCTL_GET_KEYRING_ID */, -3, 0).errno)")
        do { try SeccompFilter.load(compiled) } catch {
            report.line("error", "\(error)")
            return 1
        }
        report.line("uname", "\(unameErrno())")
        report.line("getpid", getpid() > 0 ? "ok" : "failed")
        report.line("clone3", "\(rawSyscall(clone3, 0, 0).errno)")
        report.line("keyctl", "\(rawSyscall(keyctl, 0, -3, 0).errno)")
        report.line("unshare", "\(rawSyscall(unshare, 0x0400_0000 /* CLONE_NEWUTS */).errno)")
        return 0
    }
    #expect(outcome.end == .exited(0), "\(outcome.report)")
    let values = outcome.values
    #expect(values["clone3-before"] == "\(EINVAL)")
    #expect(values["keyctl-before"] != "\(EPERM)")
    #expect(values["uname"] == "0")
    #expect(values["getpid"] == "ok")
    #expect(values["clone3"] == "\(ENOSYS)")
    #expect(values["keyctl"] == "\(EPERM)")
    #expect(values["unshare"] == "\(EPERM)")
}
