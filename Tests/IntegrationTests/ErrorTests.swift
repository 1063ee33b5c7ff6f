import Foundation
import Testing

extension Harness {
    /// Checks the shape of a failure: non-zero exit, exactly one non-empty line on stderr.
    func expectOneLineFailure(_ result: CommandResult, sourceLocation: SourceLocation = #_sourceLocation) {
        #expect(result.status != 0, "expected a failure: \(result)", sourceLocation: sourceLocation)
        #expect(result.stderrLines.count == 1, "expected a one-line error on stderr: \(result)", sourceLocation: sourceLocation)
    }

    /// After a failed create: no state entry, and `state ID` fails. (Mounts, processes and cgroups are
    /// checked by the harness after every test.)
    func expectNothingLeftOf(_ id: String, sourceLocation: SourceLocation = #_sourceLocation) async throws {
        let entries = (try? FileManager.default.contentsOfDirectory(atPath: stateDirectory)) ?? []
        #expect(!entries.contains(id), "state folder holds \(entries)", sourceLocation: sourceLocation)
        #expect(try await runtime(["state", id]).status != 0, sourceLocation: sourceLocation)
        let leaks = await leaks()
        #expect(leaks.isEmpty, "after a failed create: \(leaks)", sourceLocation: sourceLocation)
    }
}

/// Errors: each exits non-zero with a one-line message and leaves nothing behind.
@Suite("errors")
struct ErrorTests {
    @Test func malformedConfigFailsCreate() async throws {
        try await withHarness { h in
            let bundle = try h.makeBundle(rawConfig: "{\"ociVersion\": \"1.0.2\", \"process\": {")
            let id = h.newID("badjson")
            h.expectOneLineFailure(try await h.runtime(["create", "--bundle", bundle.path, id]))
            try await h.expectNothingLeftOf(id)
        }
    }

    @Test func missingConfigFailsCreate() async throws {
        try await withHarness { h in
            let empty = try h.makeHostDirectory("empty-bundle")
            let id = h.newID("noconf")
            h.expectOneLineFailure(try await h.runtime(["create", "--bundle", empty, id]))
            try await h.expectNothingLeftOf(id)
        }
    }

    @Test func missingRootfsFailsCreate() async throws {
        try await withHarness { h in
            var config = ContainerConfig(args: ["true"])
            config.customize = { $0["root"] = ["path": "/nonexistent/it-rootfs", "readonly": true] }
            let bundle = try h.makeBundle(config)
            let id = h.newID("noroot")
            let result = try await h.runtime(["create", "--bundle", bundle.path, id])
            h.expectOneLineFailure(result)
            #expect(result.stderr.contains("/nonexistent/it-rootfs"), "the error should name the rootfs: \(result)")
            try await h.expectNothingLeftOf(id)
        }
    }

    @Test func missingProcessBinaryFailsAndLeavesNothing() async throws {
        try await withHarness { h in
            let bundle = try h.makeBundle(ContainerConfig(args: ["/no/such/binary"]))
            let id = h.newID("nobin")
            let result = try await h.runtime(["run", "--bundle", bundle.path, id])
            h.expectOneLineFailure(result)
            try await h.runtime(["delete", "--force", id])
            try await h.expectNothingLeftOf(id)
        }
    }

    @Test func duplicateIDFailsCreate() async throws {
        try await withHarness { h in
            let (id, bundle, _) = try await h.create(ContainerConfig(args: ["sleep", "1000"]), label: "dup")
            let pid = try await h.pid(id)
            h.expectOneLineFailure(try await h.runtime(["create", "--bundle", bundle.path, id]))
            // The first container is untouched.
            #expect(try await h.status(id) == "created")
            #expect(try await h.pid(id) == pid)
            try await h.runtimeSucceeds(["delete", "--force", id])
        }
    }

    @Test(arguments: [["state"], ["start"], ["kill"], ["kill", "--all"], ["delete"], ["ps"], ["exec"]])
    func unknownIDFails(command: [String]) async throws {
        try await withHarness { h in
            let id = h.newID("unknown")
            var arguments = command + [id]
            if command == ["exec"] { arguments.append("true") }
            h.expectOneLineFailure(try await h.runtime(arguments))
        }
    }

    @Test func startOfARunningContainerFails() async throws {
        try await withHarness { h in
            let id = try await h.startSleeper(label: "twice")
            h.expectOneLineFailure(try await h.runtime(["start", id]))
            #expect(try await h.status(id) == "running")
            try await h.stopAndDelete(id)
        }
    }

    @Test func missingIDIsAUsageError() async throws {
        try await withHarness { h in
            let result = try await h.runtime(["state"])
            #expect(result.status != 0, "\(result)")
            #expect(!result.stderr.isEmpty, "a usage error must say what is wrong: \(result)")
        }
    }

    @Test func errorsAreJSONWithLogFormatJSON() async throws {
        try await withHarness { h in
            let result = try await h.runtime(["state", h.newID("nosuch")], globalFlags: ["--log-format", "json"])
            h.expectOneLineFailure(result)
            let line = try #require(parseJSON(String(result.stderrLines.first ?? "")) as? [String: Any], "\(result)")
            #expect(line["level"] as? String == "error")
            #expect((line["msg"] as? String)?.isEmpty == false)
        }
    }

    @Test func errorsGoToTheLogFileWithLog() async throws {
        try await withHarness { h in
            let log = h.tempDirectory + "/runtime.log"
            let result = try await h.runtime(["state", h.newID("nosuch")], globalFlags: ["--log", log, "--log-format", "json"])
            #expect(result.status != 0)
            let lines = readText(log).split(separator: "\n")
            let last = try #require(lines.last.flatMap { parseJSON(String($0)) as? [String: Any] }, "log: \(readText(log))")
            #expect(last["level"] as? String == "error")
            // runc also prints the bare message on stderr.
            #expect(result.stderrLines.count == 1, "\(result)")
        }
    }

    @Test func debugFlagIsAccepted() async throws {
        try await withHarness { h in
            let bundle = try h.makeBundle(ContainerConfig(args: ["echo", "debug-run"]))
            let result = try await h.runtime(["run", "--bundle", bundle.path, h.newID("debug")], globalFlags: ["--debug"])
            #expect(result.status == 0, "\(result)")
            #expect(result.output == "debug-run", "\(result)")
        }
    }

    @Test func startOfAStoppedContainerFails() async throws {
        try await withHarness { h in
            let (id, _, _) = try await h.create(ContainerConfig(args: ["sleep", "1000"]), label: "restart")
            try await h.runtimeSucceeds(["kill", id, "KILL"])
            try await h.waitForStatus(id, "stopped")
            h.expectOneLineFailure(try await h.runtime(["start", id]))
            try await h.runtimeSucceeds(["delete", id])
        }
    }
}
