import Foundation
import OCISpec
import Testing
@testable import Cgroups

@Suite struct DeviceFilterProgramTests {
    @Test func everyJumpLandsAtTheEndOfItsRuleBlock() throws {
        let rules = [LinuxDeviceCgroup(allow: false, access: "rwm"),
                     LinuxDeviceCgroup(allow: true, type: "c", major: 1, minor: 3, access: "rw")]
        let program = try DeviceFilter.program(rules)
        // Prologue (6), the allow rule (type, access x3, major, minor, verdict x2 = 8), deny-all (2); the
        // default after an unconditional rule would be unreachable, so there is none.
        #expect(program.count == 6 + 8 + 2)
        for (i, insn) in program.enumerated() where insn.code == DeviceFilter.jneImm {
            let target = i + 1 + Int(insn.offset)
            #expect(target < program.count)
            #expect(target > i)
            // Every jump lands right after an exit: the start of the next rule's block.
            #expect(program[target - 1].code == DeviceFilter.exit)
        }
        #expect(program.last?.code == DeviceFilter.exit)
    }

    @Test func lastRuleIsCheckedFirst() throws {
        let program = try DeviceFilter.program([LinuxDeviceCgroup(allow: false, access: "rwm"),
                                                LinuxDeviceCgroup(allow: true, type: "b", major: 8, access: "rwm")])
        // After the prologue comes the block of the last rule: a block-device check.
        #expect(program[6].code == DeviceFilter.jneImm && program[6].dst == 2 && program[6].immediate == 1)
    }

    @Test func unknownAccessIsRefused() {
        #expect(throws: (any Error).self) {
            _ = try DeviceFilter.program([LinuxDeviceCgroup(allow: true, access: "x")])
        }
    }
}

/// Attaches a real device program to a cgroup2 folder (the unified mount on a hybrid host works too).
@Suite(.enabled(if: getuid() == 0 && FileManager.default.fileExists(atPath: "/sys/fs/cgroup/unified/cgroup.procs")))
struct DeviceFilterKernelTests {
    @Test func deniedDeviceCannotBeOpenedAndAllowedOneCan() throws {
        let dir = "/sys/fs/cgroup/unified/podrun-devtest-\(getpid())"
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: false)
        defer { rmdir(dir) }
        try DeviceFilter.attach([LinuxDeviceCgroup(allow: false, access: "rwm"),
                                 LinuxDeviceCgroup(allow: true, type: "c", major: 1, minor: 5, access: "rwm")], to: dir)
        let shell = Process()
        shell.executableURL = URL(fileURLWithPath: "/bin/sh")
        shell.arguments = ["-c", "echo $$ > \(dir)/cgroup.procs; cat /dev/null; echo null=$?; head -c1 /dev/zero > /tmp/.podrun-devtest-\(getpid()); echo zero=$?"]
        let pipe = Pipe()
        shell.standardOutput = pipe
        shell.standardError = FileHandle.nullDevice
        try shell.run()
        shell.waitUntilExit()
        unlink("/tmp/.podrun-devtest-\(getpid())")
        let out = String(decoding: pipe.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        #expect(out.contains("null=1"), "\(out)")
        #expect(out.contains("zero=0"), "\(out)")
    }
}
