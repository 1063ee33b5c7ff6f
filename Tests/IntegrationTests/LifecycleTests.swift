import Foundation
import Glibc
import Testing

extension Harness {
    /// Creates (not starts) a container running `config`; returns its id, bundle and the create result
    /// (whose stdout file receives the container's output).
    func create(
        _ config: ContainerConfig, rootfs: RootfsKind = .shared, label: String = "c", extraFlags: [String] = [],
        sourceLocation: SourceLocation = #_sourceLocation
    ) async throws -> (id: String, bundle: Bundle, result: CommandResult) {
        let bundle = try makeBundle(config, rootfs: rootfs)
        let id = newID(label)
        let result = try await runtimeSucceeds(
            ["create", "--bundle", bundle.path] + extraFlags + [id], sourceLocation: sourceLocation)
        return (id, bundle, result)
    }

    /// Creates and starts a `sleep` container and waits until it runs; returns its id.
    func startSleeper(label: String = "sleep", config: ContainerConfig = ContainerConfig(args: ["sleep", "1000"]))
        async throws -> String
    {
        let (id, _, _) = try await create(config, label: label)
        try await runtimeSucceeds(["start", id])
        try await waitForStatus(id, "running")
        return id
    }

    /// Kills (SIGKILL), waits for "stopped", and deletes a container.
    func stopAndDelete(_ id: String, sourceLocation: SourceLocation = #_sourceLocation) async throws {
        try await runtimeSucceeds(["kill", id, "KILL"], sourceLocation: sourceLocation)
        try await waitForStatus(id, "stopped", sourceLocation: sourceLocation)
        try await runtimeSucceeds(["delete", id], sourceLocation: sourceLocation)
    }
}

/// create / start / state / kill / delete, list and ps.
@Suite("lifecycle")
struct LifecycleTests {
    @Test func createStartKillDeleteWalksThroughTheStates() async throws {
        try await withHarness { h in
            let shared = try h.makeHostDirectory("observe")
            var config = ContainerConfig.shell("echo container-output; echo started > /observe/started; exec sleep 1000")
            config.extraMounts = [ContainerConfig.bind(shared, at: "/observe")]
            let (id, bundle, create) = try await h.create(config, label: "life")

            let created = try await h.state(id)
            #expect(created["status"] as? String == "created")
            #expect(created["id"] as? String == id)
            #expect(created["ociVersion"] is String)
            #expect(created["bundle"] as? String == bundle.path)
            let pid = Int32(created["pid"] as? Int ?? 0)
            #expect(pid > 0)
            #expect(kill(pid, 0) == 0, "the created container's process \(pid) does not exist")
            // The process must not have run yet.
            try await Task.sleep(for: .milliseconds(200))
            #expect(!FileManager.default.fileExists(atPath: shared + "/started"))
            #expect(!create.currentStdout().contains("container-output"))

            try await h.runtimeSucceeds(["start", id])
            let started = try await waitUntil { FileManager.default.fileExists(atPath: shared + "/started") }
            #expect(started, "the process did not run after start")
            // Its output goes to the stdout the container was created with.
            let printed = try await waitUntil { create.currentStdout().contains("container-output") }
            #expect(printed, "create's stdout: \(create.currentStdout())")
            let running = try await h.state(id)
            #expect(running["status"] as? String == "running")
            #expect(Int32(running["pid"] as? Int ?? 0) == pid)

            try await h.runtimeSucceeds(["kill", id, "KILL"])
            try await h.waitForStatus(id, "stopped")
            try await h.runtimeSucceeds(["delete", id])
            let gone = try await h.runtime(["state", id])
            #expect(gone.status != 0, "state after delete: \(gone)")
            #expect(!gone.stderr.isEmpty)
        }
    }

    @Test func killAcceptsNameNumberAndSigName() async throws {
        try await withHarness { h in
            for signal in ["KILL", "9", "SIGKILL"] {
                let id = try await h.startSleeper(label: "sig")
                try await h.runtimeSucceeds(["kill", id, signal])
                try await h.waitForStatus(id, "stopped")
                try await h.runtimeSucceeds(["delete", id])
            }
            // A signal the process handles: TERM to a shell that traps it and writes a file.
            let shared = try h.makeHostDirectory("trap")
            var config = ContainerConfig.shell("trap 'echo got-term > /trap/term; exit 0' TERM; echo ready > /trap/ready; while :; do sleep 0.1; done")
            config.extraMounts = [ContainerConfig.bind(shared, at: "/trap")]
            let id = try await h.startSleeper(label: "term", config: config)
            #expect(try await waitUntil { FileManager.default.fileExists(atPath: shared + "/ready") })
            try await h.runtimeSucceeds(["kill", id, "TERM"])
            try await h.waitForStatus(id, "stopped")
            #expect(readText(shared + "/term") == "got-term\n")
            try await h.runtimeSucceeds(["delete", id])
            // Default signal: SIGTERM.
            try FileManager.default.removeItem(atPath: shared + "/term")
            try FileManager.default.removeItem(atPath: shared + "/ready")
            let second = try await h.startSleeper(label: "term2", config: config)
            #expect(try await waitUntil { FileManager.default.fileExists(atPath: shared + "/ready") })
            try await h.runtimeSucceeds(["kill", second])
            try await h.waitForStatus(second, "stopped")
            #expect(readText(shared + "/term") == "got-term\n")
            try await h.runtimeSucceeds(["delete", second])
        }
    }

    @Test func killRejectsAnUnknownSignal() async throws {
        try await withHarness { h in
            let id = try await h.startSleeper(label: "badsig")
            let result = try await h.runtime(["kill", id, "NOTASIGNAL"])
            #expect(result.status != 0)
            #expect(result.stderrLines.count == 1, "\(result)")
            #expect(try await h.status(id) == "running")
            try await h.stopAndDelete(id)
        }
    }

    @Test func killAllSignalsEveryProcessOfTheContainer() async throws {
        try await withHarness { h in
            // PID 1 (sh) ignores SIGTERM (no handler in a pid namespace's init); its children do not.
            let config = ContainerConfig.shell("sleep 1000 & sleep 1000 & wait")
            let id = try await h.startSleeper(label: "all", config: config)
            #expect(try await waitUntil { try await h.processIDs(id).count >= 3 }, "children never started")
            try await h.runtimeSucceeds(["kill", id, "TERM"])
            try await Task.sleep(for: .milliseconds(300))
            #expect(try await h.status(id) == "running", "plain kill TERM should reach only PID 1, which ignores it")
            try await h.runtimeSucceeds(["kill", "--all", id, "TERM"])
            // The sleeps die, `wait` returns, PID 1 exits.
            try await h.waitForStatus(id, "stopped")
            try await h.runtimeSucceeds(["delete", id])
        }
    }

    @Test func deleteForceRemovesARunningContainer() async throws {
        try await withHarness { h in
            let id = try await h.startSleeper(label: "force")
            let pid = try await h.pid(id)
            let refused = try await h.runtime(["delete", id])
            #expect(refused.status != 0, "delete of a running container without --force must fail: \(refused)")
            #expect(try await h.status(id) == "running")
            try await h.runtimeSucceeds(["delete", "--force", id])
            #expect(try await h.runtime(["state", id]).status != 0)
            #expect(try await waitUntil { kill(pid, 0) != 0 || readText("/proc/\(pid)/stat").contains(") Z ") })
        }
    }

    @Test func deleteRemovesAStoppedContainer() async throws {
        try await withHarness { h in
            let (id, _, _) = try await h.create(.shell("exit 0"), label: "stopped")
            try await h.runtimeSucceeds(["start", id])
            try await h.waitForStatus(id, "stopped")
            #expect(try await h.pid(id) == 0, "runc reports pid 0 for a stopped container")
            try await h.runtimeSucceeds(["delete", id])
            #expect(try await h.runtime(["state", id]).status != 0)
        }
    }

    @Test func deleteRemovesACreatedContainer() async throws {
        try await withHarness { h in
            let (id, _, _) = try await h.create(ContainerConfig(args: ["sleep", "1000"]), label: "created")
            let pid = try await h.pid(id)
            try await h.runtimeSucceeds(["delete", id])
            #expect(try await h.runtime(["state", id]).status != 0)
            #expect(try await waitUntil { kill(pid, 0) != 0 })
        }
    }

    @Test func runDetachReturnsWithTheContainerRunning() async throws {
        try await withHarness { h in
            let bundle = try h.makeBundle(ContainerConfig(args: ["sleep", "1000"]))
            let id = h.newID("detach")
            let result = try await h.runtime(["run", "--detach", "--bundle", bundle.path, id], timeout: .seconds(20))
            #expect(result.status == 0, "\(result)")
            #expect(try await h.status(id) == "running")
            try await h.stopAndDelete(id)
        }
    }

    @Test func killOfACreatedContainerStopsIt() async throws {
        try await withHarness { h in
            let (id, _, _) = try await h.create(ContainerConfig(args: ["sleep", "1000"]), label: "killcreated")
            try await h.runtimeSucceeds(["kill", id, "KILL"])
            try await h.waitForStatus(id, "stopped")
            try await h.runtimeSucceeds(["delete", id])
        }
    }

    @Test func deleteForceOfUnknownContainerSucceedsQuietly() async throws {
        try await withHarness { h in
            let result = try await h.runtime(["delete", "--force", h.newID("nosuch")])
            #expect(result.status == 0, "runc exits 0 for delete --force of a missing container: \(result)")
            #expect(result.stderr.isEmpty, "\(result)")
            // Without --force it is an error.
            h.expectOneLineFailure(try await h.runtime(["delete", h.newID("nosuch")]))
        }
    }

    @Test func listShowsTableQuietAndJSON() async throws {
        try await withHarness { h in
            let running = try await h.startSleeper(label: "list")
            let (created, bundle, _) = try await h.create(ContainerConfig(args: ["sleep", "1000"]), label: "list")

            let table = try await h.runtimeSucceeds(["list"])
            let lines = table.stdout.split(separator: "\n").map(String.init)
            #expect(lines.first?.split(separator: " ", omittingEmptySubsequences: true)
                == ["ID", "PID", "STATUS", "BUNDLE", "CREATED", "OWNER"], "\(table)")
            let rows = lines.dropFirst().map { $0.split(separator: " ", omittingEmptySubsequences: true).map(String.init) }
            #expect(rows.count == 2)
            let createdRow = try #require(rows.first { $0.first == created })
            #expect(createdRow.count == 6)
            #expect(createdRow.dropFirst(2).first == "created")
            #expect(createdRow.dropFirst(3).first == bundle.path)
            #expect(createdRow.last == "root")
            #expect(rows.first { $0.first == running }?.dropFirst(2).first == "running")

            let quiet = try await h.runtimeSucceeds(["list", "-q"])
            #expect(Set(quiet.stdout.split(separator: "\n").map(String.init)) == [running, created])
            let quietLong = try await h.runtimeSucceeds(["list", "--quiet"])
            #expect(quietLong.stdout == quiet.stdout)

            let json = try await h.runtimeSucceeds(["list", "--format", "json"])
            let entries = try #require(parseJSON(json.stdout) as? [[String: Any]], "\(json)")
            #expect(Set(entries.compactMap { $0["id"] as? String }) == [running, created])
            let createdEntry = try #require(entries.first { $0["id"] as? String == created })
            #expect(createdEntry["status"] as? String == "created")
            #expect(createdEntry["bundle"] as? String == bundle.path)
            #expect((createdEntry["pid"] as? Int ?? 0) == Int(try await h.pid(created)))
            #expect(createdEntry["owner"] as? String == "root")
            #expect(createdEntry["created"] is String)

            try await h.stopAndDelete(running)
            try await h.runtimeSucceeds(["delete", "--force", created])
            let empty = try await h.runtimeSucceeds(["list", "-q"])
            #expect(empty.output.isEmpty)
        }
    }

    @Test(.disabled(if: TestEnvironment.isRunc, "runc prints `null` for an empty JSON list; podrun prints []"))
    func listJSONOfNoContainersIsAnEmptyArray() async throws {
        try await withHarness { h in
            let json = try await h.runtimeSucceeds(["list", "--format", "json"])
            #expect((parseJSON(json.stdout) as? [Any])?.isEmpty == true, "\(json)")
        }
    }

    @Test func psJSONListsTheContainerProcess() async throws {
        try await withHarness { h in
            let id = try await h.startSleeper(label: "ps")
            let pid = try await h.pid(id)
            #expect(try await h.processIDs(id) == [pid])
            let table = try await h.runtimeSucceeds(["ps", id])
            #expect(table.stdout.contains("PID"), "\(table)")
            #expect(table.stdout.contains("sleep"), "\(table)")
            try await h.stopAndDelete(id)
        }
    }

    @Test func pidFileOfCreateHoldsTheContainerPID() async throws {
        try await withHarness { h in
            let pidFile = h.tempDirectory + "/create.pid"
            let (id, _, _) = try await h.create(
                ContainerConfig(args: ["sleep", "1000"]), label: "pidf", extraFlags: ["--pid-file", pidFile])
            let written = readText(pidFile).trimmingCharacters(in: .whitespacesAndNewlines)
            #expect(Int32(written) == (try await h.pid(id)), "pid file: \(written)")
            try await h.runtimeSucceeds(["delete", "--force", id])
        }
    }

    @Test func twentyContainersRunAtOnce() async throws {
        try await withHarness { h in
            let bundle = try h.makeBundle(ContainerConfig(args: ["sleep", "1000"]))
            let ids = (0..<20).map { _ in h.newID("many") }
            try await forEachConcurrently(ids, width: 4) { id in
                try await h.runtimeSucceeds(["create", "--bundle", bundle.path, id])
            }
            try await forEachConcurrently(ids, width: 4) { id in
                try await h.runtimeSucceeds(["start", id])
            }
            let list = try await h.runtimeSucceeds(["list", "--format", "json"])
            let entries = (parseJSON(list.stdout) as? [[String: Any]]) ?? []
            #expect(entries.count == 20)
            #expect(entries.allSatisfy { $0["status"] as? String == "running" }, "\(list.stdout)")
            let pids = Set(entries.compactMap { $0["pid"] as? Int })
            #expect(pids.count == 20)
            try await forEachConcurrently(ids, width: 4) { id in
                try await h.runtimeSucceeds(["kill", id, "KILL"])
            }
            try await forEachConcurrently(ids, width: 4) { id in
                try await h.waitForStatus(id, "stopped")
                try await h.runtimeSucceeds(["delete", id])
            }
            let after = try await h.runtimeSucceeds(["list", "-q"])
            #expect(after.output.isEmpty)
        }
    }
}

extension Harness {
    /// The pids `ps --format json ID` reports.
    func processIDs(_ id: String, sourceLocation: SourceLocation = #_sourceLocation) async throws -> [Int32] {
        let result = try await runtimeSucceeds(["ps", "--format", "json", id], sourceLocation: sourceLocation)
        guard let pids = parseJSON(result.stdout) as? [Int] else {
            Issue.record("ps --format json did not print an array of pids: \(result)", sourceLocation: sourceLocation)
            return []
        }
        return pids.map { Int32($0) }
    }
}

/// Runs `body` for every element, at most `width` at a time.
func forEachConcurrently<T: Sendable>(
    _ items: [T], width: Int, _ body: @escaping @Sendable (T) async throws -> Void
) async throws {
    try await withThrowingTaskGroup(of: Void.self) { group in
        var iterator = items.makeIterator()
        for _ in 0..<width {
            guard let item = iterator.next() else { break }
            group.addTask { try await body(item) }
        }
        while try await group.next() != nil {
            if let item = iterator.next() {
                group.addTask { try await body(item) }
            }
        }
    }
}
