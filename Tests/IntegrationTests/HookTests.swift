import Foundation
import Testing

/// runtime-spec hooks: run at their points, in their namespaces, with the state on stdin.
@Suite("hooks")
struct HookTests {
    /// A host script that appends "NAME mnt-namespace" to `log` and saves its stdin to `dir/NAME.json`.
    func hookScript(_ h: Harness, dir: String) throws -> String {
        let path = dir + "/hook.sh"
        try """
            #!/bin/sh
            cat > \(dir)/$1.json
            echo "$1 $(readlink /proc/self/ns/mnt)" >> \(dir)/order
            exit ${2:-0}
            """.write(toFile: path, atomically: false, encoding: .utf8)
        chmod(path, 0o755)
        return path
    }

    @Test func everyHookRunsInOrderInItsNamespace() async throws {
        try await withHarness { h in
            let dir = try h.makeHostDirectory("hooks")
            let script = try hookScript(h, dir: dir)
            var config = ContainerConfig(args: ["true"])
            config.extraMounts = [ContainerConfig.bind(dir, at: "/hooks")]
            config.customize = { spec in
                func hook(_ name: String) -> [[String: Any]] { [["path": script, "args": ["hook.sh", name]]] }
                spec["hooks"] = [
                    "prestart": hook("prestart"), "createRuntime": hook("createRuntime"),
                    "createContainer": hook("createContainer"),
                    "startContainer": [["path": "/bin/sh", "args": ["sh", "-c", "echo startContainer in-container >> /hooks/order"]]],
                    "poststart": hook("poststart"), "poststop": hook("poststop"),
                ]
            }
            let bundle = try h.makeBundle(config)
            let id = h.newID("hooks")
            try await h.runtimeSucceeds(["create", "--bundle", bundle.path, id])
            try await h.runtimeSucceeds(["start", id])
            _ = try await waitUntil { try await h.status(id) == "stopped" }
            try await h.runtimeSucceeds(["delete", id])

            let lines = readText(dir + "/order").split(separator: "\n").map { $0.split(separator: " ") }
            // startContainer (in the container, before exec) and poststart (in `start`, after the fifo) race in
            // runc; podrun runs startContainer first, as runtime-spec's wording has it. Either order passes.
            let names = lines.map { String($0[0]) }
            #expect(Array(names.prefix(3)) == ["prestart", "createRuntime", "createContainer"], "\(names)")
            #expect(Set(names.dropFirst(3).prefix(2)) == ["startContainer", "poststart"], "\(names)")
            #expect(names.last == "poststop")
            let hostNS = (try? FileManager.default.destinationOfSymbolicLink(atPath: "/proc/self/ns/mnt")) ?? ""
            let ns = Dictionary(uniqueKeysWithValues: lines.map { (String($0[0]), String($0[1])) })
            #expect(ns["createRuntime"] == hostNS)
            #expect(ns["poststop"] == hostNS)
            #expect(ns["createContainer"] != hostNS, "createContainer runs in the container's mount namespace")
            let state = try #require(parseJSON(readText(dir + "/createRuntime.json")) as? [String: Any])
            #expect(state["id"] as? String == id)
            #expect(state["status"] as? String == "creating")
            #expect((state["pid"] as? Int ?? 0) > 0)
            let stopped = try #require(parseJSON(readText(dir + "/poststop.json")) as? [String: Any])
            #expect(stopped["status"] as? String == "stopped")
        }
    }

    @Test func aFailingCreateRuntimeHookFailsCreateAndLeavesNothing() async throws {
        try await withHarness { h in
            let dir = try h.makeHostDirectory("hooks")
            let script = try hookScript(h, dir: dir)
            var config = ContainerConfig(args: ["true"])
            config.customize = { spec in
                spec["hooks"] = ["createRuntime": [["path": script, "args": ["hook.sh", "createRuntime", "3"]]]]
            }
            let bundle = try h.makeBundle(config)
            let id = h.newID("hookfail")
            let result = try await h.runtime(["create", "--bundle", bundle.path, id])
            #expect(result.status != 0)
            let state = try await h.runtime(["state", id])
            #expect(state.status != 0)
        }
    }

    @Test func aHookPastItsTimeoutIsKilledAndFailsCreate() async throws {
        try await withHarness { h in
            var config = ContainerConfig(args: ["true"])
            config.customize = { spec in
                spec["hooks"] = ["createRuntime": [["path": "/bin/sleep", "args": ["sleep", "30"], "timeout": 1]]]
            }
            let bundle = try h.makeBundle(config)
            let started = ContinuousClock.now
            let result = try await h.runtime(["create", "--bundle", bundle.path, h.newID("hooktimeout")])
            #expect(result.status != 0)
            #expect(ContinuousClock.now - started < .seconds(20))
        }
    }
}
