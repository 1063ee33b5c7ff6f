import CLibseccomp
import Foundation
import Glibc
import LinuxSys
import OCISpec
import PodrunCore
import Testing

private func allowAllBut(_ rules: [LinuxSyscall]) -> LinuxSeccomp {
    LinuxSeccomp(defaultAction: "SCMP_ACT_ALLOW", syscalls: rules)
}

private func specError(_ body: () throws -> Void) -> PodrunError? {
    do {
        try body()
        return nil
    } catch let error as PodrunError {
        return error
    } catch {
        return PodrunError(.internalError, "\(error)")
    }
}

@Test func compiledProgramIsWholeBPFInstructions() throws {
    let compiled = try SeccompFilter.compile(allowAllBut([LinuxSyscall(names: ["uname"], action: "SCMP_ACT_ERRNO")]))
    #expect(compiled.program.count % 8 == 0)
    #expect(compiled.instructionCount > 3)
    #expect(compiled.flags == 0)
    #expect(compiled.warnings.isEmpty)
}

@Test func unknownSyscallNameIsSkippedWithAWarning() throws {
    let compiled = try SeccompFilter.compile(allowAllBut([
        LinuxSyscall(names: ["no_such_syscall", "uname"], action: "SCMP_ACT_ERRNO"),
    ]))
    #expect(compiled.warnings == ["unknown seccomp syscall \"no_such_syscall\" ignored"])
}

@Test func ruleWithTheDefaultActionIsSkipped() throws {
    let plain = try SeccompFilter.compile(allowAllBut([]))
    let redundant = try SeccompFilter.compile(allowAllBut([LinuxSyscall(names: ["uname"], action: "SCMP_ACT_ALLOW")]))
    #expect(plain.program == redundant.program)
}

@Test func logAndSpecAllowFlagsBecomeLoadFlagsAndTsyncIsIgnored() throws {
    var spec = allowAllBut([])
    spec.flags = ["SECCOMP_FILTER_FLAG_LOG", "SECCOMP_FILTER_FLAG_SPEC_ALLOW", "SECCOMP_FILTER_FLAG_TSYNC"]
    #expect(try SeccompFilter.compile(spec).flags == SeccompFilter.flagLog | SeccompFilter.flagSpeculationAllow)
    spec.flags = ["SECCOMP_FILTER_FLAG_TSYNC"]
    #expect(try SeccompFilter.compile(spec).flags == 0)
}

@Test func invalidSeccompFieldsAreSpecErrorsNamingTheField() {
    var spec = allowAllBut([])
    spec.flags = ["SECCOMP_FILTER_FLAG_WAIT_KILLABLE_RECV"]
    #expect(specError { _ = try SeccompFilter.compile(spec) }?.path == "linux.seccomp.flags[0]")

    spec = allowAllBut([])
    spec.architectures = ["SCMP_ARCH_X86_64", "SCMP_ARCH_VAX"]
    #expect(specError { _ = try SeccompFilter.compile(spec) }?.path == "linux.seccomp.architectures[1]")

    spec = LinuxSeccomp(defaultAction: "SCMP_ACT_SOMETIMES")
    #expect(specError { _ = try SeccompFilter.compile(spec) }?.path == "linux.seccomp.defaultAction")

    spec = allowAllBut([LinuxSyscall(names: ["uname"], action: "SCMP_ACT_ERRNO",
                                     args: [LinuxSeccompArg(index: 6, value: 0, op: "SCMP_CMP_EQ")])])
    #expect(specError { _ = try SeccompFilter.compile(spec) }?.path == "linux.seccomp.syscalls[0].args[0].index")

    spec = allowAllBut([LinuxSyscall(names: ["uname"], action: "SCMP_ACT_ERRNO",
                                     args: [LinuxSeccompArg(index: 0, value: 0, op: "SCMP_CMP_ALMOST")])])
    #expect(specError { _ = try SeccompFilter.compile(spec) }?.path == "linux.seccomp.syscalls[0].args[0].op")
}

@Test func notifyActionIsRefusedWithAClearError() {
    let error = specError {
        _ = try SeccompFilter.compile(allowAllBut([LinuxSyscall(names: ["mkdir"], action: "SCMP_ACT_NOTIFY")]))
    }
    #expect(error?.code == .invalidSpec)
    #expect(error?.path == "linux.seccomp.syscalls[0].action")
    #expect(error?.message.contains("SCMP_ACT_NOTIFY") == true)
}

@Test func actionsMapToLibseccompValues() throws {
    #expect(try SeccompFilter.action("SCMP_ACT_KILL", errnoRet: nil, field: "f") == SCMP_ACT_KILL_THREAD)
    #expect(try SeccompFilter.action("SCMP_ACT_KILL_PROCESS", errnoRet: nil, field: "f") == SCMP_ACT_KILL_PROCESS)
    #expect(try SeccompFilter.action("SCMP_ACT_ERRNO", errnoRet: nil, field: "f") == 0x0005_0001)
    #expect(try SeccompFilter.action("SCMP_ACT_ERRNO", errnoRet: 38, field: "f") == 0x0005_0026)
    #expect(try SeccompFilter.action("SCMP_ACT_TRACE", errnoRet: nil, field: "f") == 0x7ff0_0001)
    #expect(try SeccompFilter.action("SCMP_ACT_LOG", errnoRet: nil, field: "f") == SCMP_ACT_LOG)
    #expect(try SeccompFilter.action("SCMP_ACT_TRAP", errnoRet: nil, field: "f") == SCMP_ACT_TRAP)
}

@Test func errnoRuleMakesTheSyscallFailWithTheChosenErrno() throws {
    let compiled = try SeccompFilter.compile(allowAllBut([
        LinuxSyscall(names: ["uname"], action: "SCMP_ACT_ERRNO", errnoRet: UInt32(EXDEV)),
    ]))
    let outcome = runInChild { report in
        report.line("before", "\(unameErrno())")
        do { try SeccompFilter.load(compiled) } catch {
            report.line("error", "\(error)")
            return 1
        }
        report.line("after", "\(unameErrno())")
        report.line("getpid", getpid() > 0 ? "ok" : "failed")
        return 0
    }
    #expect(outcome.end == .exited(0), "\(outcome.report)")
    #expect(outcome.values["before"] == "0")
    #expect(outcome.values["after"] == "\(EXDEV)")
    #expect(outcome.values["getpid"] == "ok")
}

@Test func killProcessRuleKillsTheProcessWithSIGSYS() throws {
    let compiled = try SeccompFilter.compile(allowAllBut([LinuxSyscall(names: ["uname"], action: "SCMP_ACT_KILL_PROCESS")]))
    let outcome = runInChild { _ in
        do { try SeccompFilter.load(compiled) } catch { return 1 }
        _ = unameErrno()
        return 0
    }
    #expect(outcome.end == .signaled(SIGSYS))
}

@Test func maskedEqualConditionComparesOnlyTheMaskedBits() throws {
    // mkdirat(dirfd, path, mode): fail with EDQUOT when the owner bits of mode are all set.
    let compiled = try SeccompFilter.compile(allowAllBut([
        LinuxSyscall(names: ["mkdirat"], action: "SCMP_ACT_ERRNO", errnoRet: UInt32(EDQUOT),
                     args: [LinuxSeccompArg(index: 2, value: 0o700, valueTwo: 0o700, op: "SCMP_CMP_MASKED_EQ")]),
    ]))
    let outcome = runInChild { report in
        do { try SeccompFilter.load(compiled) } catch { return 1 }
        // The parent folder does not exist, so an allowed call fails with ENOENT and creates nothing.
        for mode: mode_t in [0o755, 0o700, 0o500] {
            let rc = mkdirat(AT_FDCWD, "/nonexistent-podrun-test/child", mode)
            report.line(String(mode, radix: 8), rc == 0 ? "created" : "\(errno)")
        }
        return 0
    }
    #expect(outcome.end == .exited(0), "\(outcome.report)")
    #expect(outcome.values["755"] == "\(EDQUOT)")
    #expect(outcome.values["700"] == "\(EDQUOT)")
    #expect(outcome.values["500"] == "\(ENOENT)")
}

@Test func conditionsOnTheSameArgumentMatchEitherValue() throws {
    // Two conditions on argument 2 become two rules (runc's fallback), so either mode matches.
    let compiled = try SeccompFilter.compile(allowAllBut([
        LinuxSyscall(names: ["mkdirat"], action: "SCMP_ACT_ERRNO", errnoRet: UInt32(EDQUOT), args: [
            LinuxSeccompArg(index: 2, value: 0o700, op: "SCMP_CMP_EQ"),
            LinuxSeccompArg(index: 2, value: 0o711, op: "SCMP_CMP_EQ"),
        ]),
    ]))
    let outcome = runInChild { report in
        do { try SeccompFilter.load(compiled) } catch { return 1 }
        for mode: mode_t in [0o700, 0o711, 0o755] {
            let rc = mkdirat(AT_FDCWD, "/nonexistent-podrun-test/child", mode)
            report.line(String(mode, radix: 8), rc == 0 ? "created" : "\(errno)")
        }
        return 0
    }
    #expect(outcome.end == .exited(0), "\(outcome.report)")
    #expect(outcome.values["700"] == "\(EDQUOT)")
    #expect(outcome.values["711"] == "\(EDQUOT)")
    #expect(outcome.values["755"] == "\(ENOENT)")
}

@Test func loadingAnEmptyProgramIsRefused() {
    #expect(throws: PodrunError.self) { try SeccompFilter.load(CompiledSeccomp(program: [], flags: 0)) }
}

@Test func compiledFilterSurvivesAJSONTripToTheInit() throws {
    let compiled = try SeccompFilter.compile(.dockerDefault(capabilities: []))
    let data = try JSONEncoder().encode(compiled)
    #expect(try JSONDecoder().decode(CompiledSeccomp.self, from: data) == compiled)
}
