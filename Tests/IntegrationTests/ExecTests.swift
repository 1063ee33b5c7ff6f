import Foundation
import Glibc
import Testing

/// `exec`: another process in a running container.
@Suite("exec")
struct ExecTests {
    @Test func execRunsInTheContainersNamespaces() async throws {
        try await withHarness { h in
            var config = ContainerConfig(args: ["sleep", "1000"])
            config.hostname = "exec-target"
            let id = try await h.startSleeper(label: "exec", config: config)
            let hostname = try await h.runtimeSucceeds(["exec", id, "hostname"])
            #expect(hostname.output == "exec-target")
            let pids = try await h.runtimeSucceeds(["exec", id, "sh", "-c", "cat /proc/1/cmdline | tr '\\0' ' '"])
            #expect(pids.output == "sleep 1000", "PID 1 seen by exec: \(pids)")
            let etc = try await h.runtimeSucceeds(["exec", id, "cat", "/etc/group"])
            #expect(etc.stdout.contains("testgrp:x:1001"))
            try await h.stopAndDelete(id)
        }
    }

    @Test func execPassesTheExitCodeThrough() async throws {
        try await withHarness { h in
            let id = try await h.startSleeper(label: "execrc")
            let result = try await h.runtime(["exec", id, "sh", "-c", "exit 3"])
            #expect(result.status == 3, "\(result)")
            try await h.stopAndDelete(id)
        }
    }

    @Test func execEnvCwdAndUserFlags() async throws {
        try await withHarness { h in
            let id = try await h.startSleeper(label: "execfl")
            let env = try await h.runtimeSucceeds(["exec", "--env", "FOO=bar", "--env", "BAZ=qux", id, "sh", "-c", "echo $FOO $BAZ"])
            #expect(env.output == "bar qux")
            let cwd = try await h.runtimeSucceeds(["exec", "--cwd", "/tmp", id, "pwd"])
            #expect(cwd.output == "/tmp")
            let user = try await h.runtimeSucceeds(["exec", "--user", "1000:1001", id, "id"])
            #expect(user.output == "uid=1000(tester) gid=1001(testgrp)", "\(user)")
            let uidOnly = try await h.runtimeSucceeds(["exec", "-u", "1000", id, "id", "-u"])
            #expect(uidOnly.output == "1000")
            try await h.stopAndDelete(id)
        }
    }

    @Test func execProcessFileRunsThatProcess() async throws {
        try await withHarness { h in
            let id = try await h.startSleeper(label: "execpf")
            let process: [String: Any] = [
                "terminal": false,
                "user": ["uid": 1000, "gid": 1000],
                "args": ["sh", "-c", "echo $(id -u) $(pwd) $X"],
                "env": ["PATH=/bin", "X=from-process-file"],
                "cwd": "/home/tester",
            ]
            let file = h.tempDirectory + "/process.json"
            try JSONSerialization.data(withJSONObject: process).write(to: URL(fileURLWithPath: file))
            let result = try await h.runtimeSucceeds(["exec", "--process", file, id])
            #expect(result.output == "1000 /home/tester from-process-file", "\(result)")
            try await h.stopAndDelete(id)
        }
    }

    @Test func execPidFileHoldsTheExecProcessPID() async throws {
        try await withHarness { h in
            let id = try await h.startSleeper(label: "execpid")
            let initPID = try await h.pid(id)
            let pidFile = h.tempDirectory + "/exec.pid"
            try await h.runtimeSucceeds(["exec", "--detach", "--pid-file", pidFile, id, "sleep", "777"])
            let pid = try #require(Int32(readText(pidFile).trimmingCharacters(in: .whitespacesAndNewlines)), "pid file: \(readText(pidFile))")
            #expect(commandLine(of: pid).trimmingCharacters(in: .whitespaces) == "sleep 777")
            let nsOfExec = try FileManager.default.destinationOfSymbolicLink(atPath: "/proc/\(pid)/ns/pid")
            let nsOfInit = try FileManager.default.destinationOfSymbolicLink(atPath: "/proc/\(initPID)/ns/pid")
            #expect(nsOfExec == nsOfInit)
            #expect(try await h.processIDs(id).contains(pid))
            try await h.stopAndDelete(id)
        }
    }

    @Test func execOfAMissingBinaryFails() async throws {
        try await withHarness { h in
            let id = try await h.startSleeper(label: "execmiss")
            let result = try await h.runtime(["exec", id, "/no/such/binary"])
            #expect(result.status != 0, "\(result)")
            #expect(result.stderrLines.count == 1, "\(result)")
            #expect(result.stderr.contains("/no/such/binary"), "the error should name the binary: \(result)")
            #expect(try await h.status(id) == "running")
            try await h.stopAndDelete(id)
        }
    }

    @Test func execIntoAStoppedContainerFails() async throws {
        try await withHarness { h in
            let (id, _, _) = try await h.create(.shell("exit 0"), label: "execstop")
            try await h.runtimeSucceeds(["start", id])
            try await h.waitForStatus(id, "stopped")
            let result = try await h.runtime(["exec", id, "true"])
            #expect(result.status != 0, "\(result)")
            #expect(result.stderrLines.count == 1, "\(result)")
            try await h.runtimeSucceeds(["delete", id])
        }
    }
}
