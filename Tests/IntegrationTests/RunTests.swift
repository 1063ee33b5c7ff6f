import Foundation
import Testing

extension Harness {
    /// `run --bundle B ID` of a new bundle made from `config`; returns what the container printed and its
    /// exit status (the runtime passes it through).
    func runContainer(
        _ config: ContainerConfig, rootfs: RootfsKind = .shared, label: String = "run",
        timeout: Duration = .seconds(60)
    ) async throws -> CommandResult {
        let bundle = try makeBundle(config, rootfs: rootfs)
        return try await runtime(["run", "--bundle", bundle.path, newID(label)], timeout: timeout)
    }

    /// Like `runContainer`, but records an issue unless the container exits 0; returns trimmed stdout.
    func output(
        of config: ContainerConfig, rootfs: RootfsKind = .shared,
        sourceLocation: SourceLocation = #_sourceLocation
    ) async throws -> String {
        let result = try await runContainer(config, rootfs: rootfs)
        #expect(result.status == 0, "\(result)", sourceLocation: sourceLocation)
        return result.output
    }
}

/// `run`: the container's process sees its configured identity and environment.
@Suite("run: the process as configured")
struct RunTests {
    @Test func runPrintsHostnameFromConfig() async throws {
        try await withHarness { h in
            var config = ContainerConfig(args: ["hostname"])
            config.hostname = "it-host-7"
            let hostname = try await h.output(of: config)
            #expect(hostname == "it-host-7")
        }
    }

    @Test func processIsPIDOneInItsNamespace() async throws {
        try await withHarness { h in
            let stat = try await h.output(of: ContainerConfig(args: ["cat", "/proc/self/stat"]))
            #expect(stat.hasPrefix("1 (cat)"), "stat: \(stat)")
            let shellPID = try await h.output(of: .shell("echo $$"))
            #expect(shellPID == "1")
        }
    }

    @Test func userGroupAndAdditionalGidsAsConfigured() async throws {
        try await withHarness { h in
            var config = ContainerConfig(args: ["id"])
            config.uid = 1000
            config.gid = 1000
            config.additionalGids = [1001]
            // Supplementary groups are exactly additionalGids (setgroups), the primary gid is process.user.gid.
            let identity = try await h.output(of: config)
            #expect(identity == "uid=1000(tester) gid=1000(tester) groups=1001(testgrp)")
            config.args = ["sh", "-c", "id -u; id -g; id -G"]
            let lines = try await h.output(of: config).split(separator: "\n").map(String.init)
            #expect(lines.count == 3)
            #expect(lines.first == "1000")
            #expect(lines.dropFirst().first == "1000")
            #expect(lines.last?.split(separator: " ").contains("1001") == true, "\(lines)")
        }
    }

    @Test func umaskAsConfigured() async throws {
        try await withHarness { h in
            var config = ContainerConfig(args: ["sh", "-c", "umask"])
            config.umask = 0o077
            let umask077 = try await h.output(of: config)
            #expect(umask077 == "0077")
            config.umask = 0o027
            let umask027 = try await h.output(of: config)
            #expect(umask027 == "0027")
        }
    }

    @Test func cwdAsConfigured() async throws {
        try await withHarness { h in
            var config = ContainerConfig(args: ["pwd"])
            config.cwd = "/home/tester"
            let cwd = try await h.output(of: config)
            #expect(cwd == "/home/tester")
        }
    }

    @Test func envAsConfigured() async throws {
        try await withHarness { h in
            var config = ContainerConfig(args: ["env"])
            config.env = ["PATH=/bin", "GREETING=hello world", "EMPTY="]
            let lines = Set(try await h.output(of: config).split(separator: "\n").map(String.init))
            #expect(lines.contains("GREETING=hello world"), "env: \(lines)")
            #expect(lines.contains("EMPTY="), "env: \(lines)")
            #expect(lines.contains("PATH=/bin"), "env: \(lines)")
            #expect(!lines.contains { $0.hasPrefix("PODRUN_BIN=") }, "the host environment leaked in: \(lines)")
        }
    }

    @Test func exitCodeIsPassedThrough() async throws {
        try await withHarness { h in
            let result = try await h.runContainer(.shell("exit 42"))
            #expect(result.status == 42, "\(result)")
            let zero = try await h.runContainer(.shell("exit 0"))
            #expect(zero.status == 0, "\(zero)")
        }
    }

    @Test func killedBySignalExitsWith128PlusSignal() async throws {
        try await withHarness { h in
            // PID 1 of a pid namespace cannot be killed by its own SIGKILL: kill it from outside.
            let bundle = try h.makeBundle(ContainerConfig(args: ["sleep", "1000"]))
            let id = h.newID("sig")
            async let run = h.runtime(["run", "--bundle", bundle.path, id])
            let running = try await waitUntil(timeout: .seconds(60)) {
                let state = try await h.runtime(["state", id])
                return state.succeeded && state.stdout.contains("\"running\"")
            }
            #expect(running, "container never ran")
            if !running {
                // Let the pending `run` end instead of waiting for its timeout.
                _ = try? await h.runtime(["delete", "--force", id])
            }
            try await h.runtimeSucceeds(["kill", id, "KILL"])
            let result = try await run
            #expect(result.status == 128 + 9, "\(result)")
        }
    }

    @Test func runWithoutDetachDeletesTheContainerAfterExit() async throws {
        try await withHarness { h in
            let bundle = try h.makeBundle(.shell("true"))
            let id = h.newID("gone")
            let result = try await h.runtime(["run", "--bundle", bundle.path, id])
            #expect(result.status == 0, "\(result)")
            #expect(try await h.runtime(["state", id]).status != 0)
        }
    }
}
