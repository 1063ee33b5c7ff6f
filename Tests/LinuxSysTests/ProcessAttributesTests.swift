import OCISpec
import PodrunCore
import Testing
@testable import LinuxSys

@Suite struct ProcessAttributesTests {
    @Test func cpuListsExpandRangesAndSingles() throws {
        #expect(try ProcessAttributes.cpuList("0-2,5", field: "f") == [0, 1, 2, 5])
        #expect(try ProcessAttributes.cpuList("3", field: "f") == [3])
    }

    @Test(arguments: ["", "2-1", "a", "-1", "1,,x"])
    func malformedCpuListsAreRefused(_ text: String) {
        #expect(throws: PodrunError.self) { _ = try ProcessAttributes.cpuList(text, field: "f") }
    }

    @Test func ioPriorityPutsTheClassInTheTopBits() throws {
        #expect(try ProcessAttributes.ioPriorityValue(LinuxIOPriority(class: "IOPRIO_CLASS_BE", priority: 4)) == (2 << 13) | 4)
        #expect(throws: PodrunError.self) {
            _ = try ProcessAttributes.ioPriorityValue(LinuxIOPriority(class: "IOPRIO_CLASS_BE", priority: 9))
        }
    }

    @Test func schedulerNamesMapToKernelNumbers() throws {
        #expect(try ProcessAttributes.schedulerPolicy("SCHED_DEADLINE") == 6)
        #expect(try ProcessAttributes.schedulerFlags(["SCHED_FLAG_RESET_ON_FORK", "SCHED_FLAG_RECLAIM"]) == 3)
        #expect(throws: PodrunError.self) { _ = try ProcessAttributes.schedulerPolicy("SCHED_FAST") }
    }

    @Test func timeOffsetsAreWrittenPerClock() throws {
        let text = try ProcessAttributes.timeOffsetsText(["monotonic": LinuxTimeOffset(secs: 5),
                                                          "boottime": LinuxTimeOffset(secs: -1, nanosecs: 7)])
        #expect(text == "boottime -1 7\nmonotonic 5 0\n")
        #expect(throws: PodrunError.self) { _ = try ProcessAttributes.timeOffsetsText(["realtime": LinuxTimeOffset()]) }
    }

    @Test func personalityDomains() throws {
        #expect(try ProcessAttributes.personality(LinuxPersonality(domain: "LINUX32")) == 8)
        #expect(throws: PodrunError.self) { _ = try ProcessAttributes.personality(LinuxPersonality(domain: "BSD")) }
    }
}
