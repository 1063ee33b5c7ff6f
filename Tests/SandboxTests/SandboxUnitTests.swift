import OCISpec
import PodrunCore
import Testing
@testable import Sandbox

@Suite struct ContainerIDTests {
    @Test(arguments: ["abc", "a.b-c_d+e", "0"])
    func acceptsRuncIDs(_ id: String) throws {
        try ContainerID.validate(id)
    }

    @Test(arguments: ["", ".", "..", "a/b", "a b", "x;y"])
    func refusesIDsRuncRefuses(_ id: String) {
        let error = #expect(throws: PodrunError.self) { try ContainerID.validate(id) }
        #expect(error?.code == .invalidArgument)
    }
}

@Suite struct SupervisorTests {
    @Test func exitStatusPassesThrough() {
        #expect(Supervisor.exitCode(42 << 8) == 42)
    }

    @Test func deathBySignalIs128PlusSignal() {
        #expect(Supervisor.exitCode(9) == 137)
    }
}

@Suite struct ContainerRecordTests {
    @Test func privatePidNamespaceIsOnlyANewOne() {
        var spec = Spec(linux: Linux(namespaces: [LinuxNamespace(type: .pid)]))
        let record = ContainerRecord(id: "a", bundle: "/b", rootfs: "/b/r", pid: 1, pidStartTime: 1, created: "",
                                     spec: spec, cgroupPath: "/a", cgroupDirectories: [:])
        #expect(record.hasPrivatePidNamespace)
        spec.linux?.namespaces = [LinuxNamespace(type: .pid, path: "/proc/1/ns/pid")]
        var joined = record
        joined.spec = spec
        #expect(!joined.hasPrivatePidNamespace)
    }
}

@Suite struct HookSelectionTests {
    @Test func hooksAreSelectedByKind() {
        let hooks = Hooks(prestart: [Hook(path: "/a")], poststop: [Hook(path: "/b"), Hook(path: "/c")])
        #expect(HookRunner.hooks(.prestart, in: hooks).map(\.path) == ["/a"])
        #expect(HookRunner.hooks(.poststop, in: hooks).map(\.path) == ["/b", "/c"])
        #expect(HookRunner.hooks(.createRuntime, in: hooks).isEmpty)
        #expect(HookRunner.hooks(.poststart, in: nil).isEmpty)
    }
}

@Suite struct LogWriterTests {
    @Test func jsonLinesAreRuncShaped() {
        let line = LogWriter.render(.error, "container \"x\" does not exist", format: .json, time: "T")
        #expect(line == "{\"level\":\"error\",\"msg\":\"container \\\"x\\\" does not exist\",\"time\":\"T\"}\n")
    }

    @Test func textLinesAreLogrusShaped() {
        let line = LogWriter.render(.warning, "a\nb", format: .text, time: "T")
        #expect(line == "time=\"T\" level=warning msg=\"a\\nb\"\n")
    }
}

@Suite struct PodrunErrorTests {
    @Test func specErrorsNameTheFieldFirst() {
        #expect(PodrunError.invalidSpec("process.args", "must not be empty").description == "process.args: must not be empty")
    }

    @Test func systemErrorsEndWithTheErrnoText() {
        #expect(PodrunError(.system, "open", path: "/x", errno: 2).description == "open /x: no such file or directory")
    }
}
