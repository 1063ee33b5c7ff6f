import CPodrunShim
import Foundation
import OCISpec
import PodrunCore
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

    @Test func aRefusedProgramReportsTheKernelsErrnoAndTheVerifiersReason() {
        // No exit at the end: the verifier refuses it.
        let noExit = [DeviceFilter.Instruction(code: DeviceFilter.movImm64, dst: 0, src: 0, offset: 0, immediate: 1)]
        do {
            let descriptor = try DeviceFilter.load(noExit)
            close(descriptor)
            Issue.record("a program without an exit was loaded")
        } catch let error as PodrunError {
            #expect(error.errno == EINVAL, "\(error)")
            #expect(error.message.hasPrefix("load the device cgroup program (verifier: "), "\(error.message)")
            #expect(error.cause?.isEmpty == false)
        } catch {
            Issue.record("unexpected error \(error)")
        }
    }

    /// The rules of runc's default spec (deny all, then runc's allowed devices) make a program whose verifier
    /// log outgrows a small log buffer: loading must not depend on the log fitting.
    @Test func programForRuncsDefaultRulesAllowsDevNullAndDeniesAnUnlistedDevice() throws {
        var template = Array("/tmp/podrun-devtest-XXXXXX".utf8CString)
        let made = template.withUnsafeMutableBufferPointer { mkdtemp($0.baseAddress!) }
        let folder = try #require(made.map { String(cString: $0) })
        defer { try? FileManager.default.removeItem(atPath: folder) }
        // 1:11 (kmsg) is in no rule of runc's list; a node of our own, so the test does not depend on /dev.
        let node = folder + "/unlisted"
        #expect(podrun_mknodat(AT_FDCWD, node, S_IFCHR | 0o600, 1, 11) == 0, "mknod \(node): errno \(errno)")
        let dir = "/sys/fs/cgroup/unified/podrun-devtest-default-\(getpid())"
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: false)
        defer { rmdir(dir) }
        let specRules = [LinuxDeviceCgroup(allow: false, access: "rwm")]  // runc spec's linux.resources.devices
        try DeviceFilter.attach(DeviceRules.effective(specRules), to: dir)
        // The node opens outside the cgroup (so a refusal inside is the program's doing), then inside it
        // /dev/null opens and the node does not.
        let script = "true < \(node); echo before=$?; echo $$ > \(dir)/cgroup.procs; "
            + "true < /dev/null; echo null=$?; true < \(node); echo unlisted=$?"
        let shell = Process()
        shell.executableURL = URL(fileURLWithPath: "/bin/sh")
        shell.arguments = ["-c", script]
        let pipe = Pipe()
        shell.standardOutput = pipe
        shell.standardError = FileHandle.nullDevice
        try shell.run()
        shell.waitUntilExit()
        let out = String(decoding: pipe.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        #expect(out.contains("before=0"), "\(out)")
        #expect(out.contains("null=0"), "\(out)")
        #expect(out.contains("unlisted=") && !out.contains("unlisted=0"), "\(out)")
    }
}
