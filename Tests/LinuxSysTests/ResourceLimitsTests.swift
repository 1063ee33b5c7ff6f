import Glibc
import LinuxSys
import OCISpec
import PodrunCore
import Testing

@Test func allSixteenResourceNamesMapToKernelNumbers() {
    #expect(ResourceLimits.resources.count == 16)
    #expect(ResourceLimits.resource(named: "RLIMIT_CPU") == 0)
    #expect(ResourceLimits.resource(named: "RLIMIT_NOFILE") == 7)
    #expect(ResourceLimits.resource(named: "RLIMIT_AS") == 9)
    #expect(ResourceLimits.resource(named: "RLIMIT_RTTIME") == 15)
    #expect(Set(ResourceLimits.resources.values) == Set(0...15))
    #expect(ResourceLimits.name(ofResource: 8) == "RLIMIT_MEMLOCK")
}

@Test func resourceNamesMustBeSpelledAsRuntimeSpec() {
    #expect(ResourceLimits.resource(named: "rlimit_nofile") == nil)
    #expect(ResourceLimits.resource(named: "NOFILE") == nil)
    #expect(ResourceLimits.resource(named: "RLIMIT_NLIMITS") == nil)
}

@Test func unknownRlimitTypeIsASpecErrorBeforeAnythingIsSet() {
    let limits = [POSIXRlimit(type: "RLIMIT_CORE", hard: 0, soft: 0), POSIXRlimit(type: "RLIMIT_BOGUS", hard: 1, soft: 1)]
    do {
        try ResourceLimits.apply(limits)
        Issue.record("apply accepted RLIMIT_BOGUS")
    } catch let error as PodrunError {
        #expect(error.code == .invalidSpec)
        #expect(error.path == "process.rlimits[1].type")
        #expect(error.message == "wrong rlimit value: RLIMIT_BOGUS")
    } catch {
        Issue.record("unexpected error \(error)")
    }
}

@Test func softLimitAboveHardLimitIsASpecError() {
    #expect(throws: PodrunError.self) {
        try ResourceLimits.validate([POSIXRlimit(type: "RLIMIT_NOFILE", hard: 10, soft: 20)])
    }
}

@Test func appliedRlimitsReadBackWithGetrlimit() throws {
    let before = try ResourceLimits.current(ResourceLimits.resource(named: "RLIMIT_NOFILE") ?? -1)
    try #require(before.hard >= 200, "needs a NOFILE hard limit of at least 200")
    let outcome = runInChild { report in
        do {
            try ResourceLimits.apply([
                POSIXRlimit(type: "RLIMIT_NOFILE", hard: 200, soft: 100),
                POSIXRlimit(type: "RLIMIT_CORE", hard: 0, soft: 0),
            ])
            let nofile = try ResourceLimits.current(7)
            let core = try ResourceLimits.current(4)
            report.line("nofile", "\(nofile.soft)/\(nofile.hard)")
            report.line("core", "\(core.soft)/\(core.hard)")
            return 0
        } catch {
            report.line("error", "\(error)")
            return 1
        }
    }
    #expect(outcome.end == .exited(0), "\(outcome.report)")
    #expect(outcome.values["nofile"] == "100/200")
    #expect(outcome.values["core"] == "0/0")
}

@Test func rlimitThatTheKernelRefusesThrowsWithTheType() {
    // Raising a hard limit needs CAP_SYS_RESOURCE: lower it, drop every capability, then ask for more.
    let outcome = runInChild { report in
        do {
            try ResourceLimits.apply([POSIXRlimit(type: "RLIMIT_NOFILE", hard: 64, soft: 64)])
            try Capabilities.apply(effective: [], permitted: [], inheritable: [])
            try ResourceLimits.apply([POSIXRlimit(type: "RLIMIT_NOFILE", hard: 128, soft: 128)])
            return 0
        } catch let error as PodrunError {
            report.line("error", error.description)
            report.line("errno", "\(error.errno ?? 0)")
            return 1
        } catch {
            return 2
        }
    }
    #expect(outcome.end == .exited(1), "\(outcome.report)")
    #expect(outcome.values["errno"] == "\(EPERM)")
    #expect(outcome.values["error"]?.hasPrefix("setrlimit RLIMIT_NOFILE") == true)
}
