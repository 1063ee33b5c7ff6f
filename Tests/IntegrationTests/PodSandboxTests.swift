import Foundation
import Testing

extension Harness {
    /// `sandbox create --name ID --network none ARGS...`; returns the new sandbox's id.
    func createSandbox(_ arguments: [String] = [], label: String = "pod",
                       sourceLocation: SourceLocation = #_sourceLocation) async throws -> String {
        let id = newSandboxID(label)
        let result = try await podrunSucceeds(["sandbox", "create", "--name", id, "--network", "none"] + arguments,
                                              sourceLocation: sourceLocation)
        #expect(result.output == id, "sandbox create prints the id", sourceLocation: sourceLocation)
        return id
    }

    /// `sandbox inspect ID` as a JSON object.
    func inspectSandbox(_ id: String, sourceLocation: SourceLocation = #_sourceLocation) async throws -> [String: Any] {
        let result = try await podrunSucceeds(["sandbox", "inspect", id], sourceLocation: sourceLocation)
        guard let object = try JSONSerialization.jsonObject(with: Data(result.stdout.utf8)) as? [String: Any] else {
            throw HarnessError("sandbox inspect printed no object: \(result)")
        }
        return object
    }

    /// Starts `config` detached as a container of sandbox `sandbox`, with `--mount` arguments; returns its id.
    func startInSandbox(_ sandbox: String, _ config: ContainerConfig, mounts: [String] = [], label: String = "c",
                        sourceLocation: SourceLocation = #_sourceLocation) async throws -> String {
        let id = newID(label)
        let bundle = try makeBundle(config)
        try await podrunSucceeds(["run", "--detach", "--sandbox", sandbox, "--bundle", bundle.path]
                                 + mounts.flatMap { ["--mount", $0] } + [id], sourceLocation: sourceLocation)
        return id
    }

    /// Runs `config` in the foreground as a container of sandbox `sandbox`; returns what it printed.
    func outputInSandbox(_ sandbox: String, _ config: ContainerConfig, mounts: [String] = [],
                         sourceLocation: SourceLocation = #_sourceLocation) async throws -> String {
        let bundle = try makeBundle(config)
        let result = try await podrunSucceeds(["run", "--sandbox", sandbox, "--bundle", bundle.path]
                                              + mounts.flatMap { ["--mount", $0] } + ["--name", newID("fg")],
                                              sourceLocation: sourceLocation)
        return result.output
    }

    /// The namespace of `kind` of process `pid`, as `/proc/PID/ns/KIND` reads (`net:[4026532180]`).
    func namespace(_ kind: String, of pid: Int32) -> String {
        (try? FileManager.default.destinationOfSymbolicLink(atPath: "/proc/\(pid)/ns/\(kind)")) ?? "<gone>"
    }

    /// The host's view of sandbox `id`: mounts under its state folder, its cgroup folders, its pause process.
    func sandboxRemains(_ id: String) -> [String] {
        var found: [String] = []
        let folder = stateDirectory + "/.sandboxes/" + id
        if FileManager.default.fileExists(atPath: folder) { found.append("state folder \(folder)") }
        if FileManager.default.fileExists(atPath: imageStore + "/sandboxes/" + id) { found.append("data folder") }
        found += leakedMounts().filter { $0.hasPrefix(folder) }.map { "mount \($0)" }
        found += leakedCgroups().filter { $0.hasSuffix("/podrun-sandbox-" + id) }.map { "cgroup \($0)" }
        found += leakedProcesses().map { "process \($0.0) (\($0.1))" }
        return found
    }
}

/// A container of a pod that sleeps until killed.
private var sleeper: ContainerConfig { inSandbox("exec sleep 1000") }

private func inSandbox(_ script: String) -> ContainerConfig {
    var config = ContainerConfig.shell(script)
    config.hostname = nil
    return config
}

@Suite("pod sandboxes: pause, shared namespaces, volumes, faults",
       .enabled(if: !TestEnvironment.isRunc, "podrun's sandbox commands"))
struct PodSandboxTests {
    @Test func twoContainersShareLocalhostHostnameAndIPCButNotMounts() async throws {
        try await withHarness { h in
            let pod = try await h.createSandbox(["--hostname", "it-podhost"])
            // The first serves a file on 127.0.0.1 and puts a POSIX shm object in /dev/shm.
            let server = try await h.startInSandbox(pod, inSandbox(
                "echo first-shm > /dev/shm/segment && mkdir /dev/shm/www && echo served-by-first > /dev/shm/www/index.html && "
                + "exec httpd -f -p 127.0.0.1:8080 -h /dev/shm/www"), label: "srv")
            let serverPID = try await h.pid(server)
            let output = try await h.outputInSandbox(pod, inSandbox(
                "for i in 1 2 3 4 5 6 7 8 9 10; do wget -q -O - http://127.0.0.1:8080/index.html && break; sleep 0.2; done; "
                + "hostname; cat /dev/shm/segment; for ns in net ipc uts mnt; do readlink /proc/self/ns/$ns; done"))
            let lines = output.split(separator: "\n").map(String.init)
            try #require(lines.count == 7, "unexpected output: \(output)")
            #expect(lines[0] == "served-by-first")
            #expect(lines[1] == "it-podhost")
            #expect(lines[2] == "first-shm")
            #expect(lines[3] == h.namespace("net", of: serverPID))
            #expect(lines[4] == h.namespace("ipc", of: serverPID))
            #expect(lines[5] == h.namespace("uts", of: serverPID))
            #expect(lines[6] != h.namespace("mnt", of: serverPID), "each container keeps its own mount namespace")
            #expect(lines[3] != h.namespace("net", of: getpid()), "the pod has its own network namespace")
            let pause = try await h.inspectSandbox(pod)["sandbox"] as? [String: Any]
            let pausePID = Int32(pause?["pausePid"] as? Int ?? 0)
            #expect(h.namespace("net", of: pausePID) == lines[3], "pause holds the pod's network namespace")
            try await h.podrunSucceeds(["sandbox", "rm", "--force", pod])
            #expect(h.sandboxRemains(pod).isEmpty, "\(h.sandboxRemains(pod))")
        }
    }

    @Test func podHasOnlyLoopbackUpWithNetworkNone() async throws {
        try await withHarness { h in
            let pod = try await h.createSandbox()
            let output = try await h.outputInSandbox(pod, inSandbox("ls /sys/class/net; cat /sys/class/net/lo/flags; "
                + "echo loopback-ok > /dev/shm/probe; httpd -p 127.0.0.1:8081 -h /dev/shm; "
                + "for i in 1 2 3 4 5 6 7 8 9 10; do wget -q -O - http://127.0.0.1:8081/probe 2>/dev/null && break; sleep 0.2; done"))
            // 0x9: IFF_UP | IFF_LOOPBACK.
            #expect(output == "lo\n0x9\nloopback-ok")
            try await h.podrunSucceeds(["sandbox", "rm", pod])
        }
    }

    @Test(arguments: [[], ["--share-pid"]])
    func sandboxCreatesOutputCanBeCapturedInAShellVariable(options: [String]) async throws {
        try await withHarness { h in
            // `id=$(podrun sandbox create ...)` returns once create does: the pause it leaves running holds
            // none of its stdio (a copy of the pipe would keep the shell waiting for the pod's whole life).
            let id = h.newSandboxID()
            let command = ["\"$0\"", "--root", h.stateDirectory, "--store", h.imageStore, "sandbox", "create",
                           "--name", id, "--network", "none"] + options
            let result = try await runCommand("/bin/sh", ["-c", "id=$(" + command.joined(separator: " ")
                                                                 + " 2>&1) && echo \"captured:$id\"", h.binary],
                                              outputDirectory: h.tempDirectory + "/out", timeout: .seconds(20))
            #expect(result.status == 0 && result.output == "captured:\(id)", "\(result)")
            let record = try await h.inspectSandbox(id)
            let pausePID = Int32((record["sandbox"] as? [String: Any])?["pausePid"] as? Int ?? 0)
            try #require(pausePID > 0)
            for fd in 0...2 {
                let target = try FileManager.default.destinationOfSymbolicLink(atPath: "/proc/\(pausePID)/fd/\(fd)")
                #expect(target == "/dev/null", "pause's fd \(fd) is \(target)")
            }
            try await h.podrunSucceeds(["sandbox", "rm", "--force", id])
            #expect(h.sandboxRemains(id).isEmpty, "\(h.sandboxRemains(id))")
        }
    }

    @Test func containersCgroupIsAChildOfTheSandboxCgroup() async throws {
        try await withHarness { h in
            let pod = try await h.createSandbox()
            let id = try await h.startInSandbox(pod, inSandbox("exec sleep 1000"))
            let pid = try await h.pid(id)
            let cgroups = try String(contentsOfFile: "/proc/\(pid)/cgroup", encoding: .utf8)
            let outside = cgroups.split(separator: "\n").filter { !$0.hasSuffix("/podrun-sandbox-\(pod)/\(id)") }
            #expect(outside.isEmpty, "container outside its cgroup below the pod's: \(cgroups)")
            // pause enters the pod's cgroup itself, in every hierarchy (v2 too, by CLONE_INTO_CGROUP).
            let record = try await h.inspectSandbox(pod)
            let pausePID = Int32((record["sandbox"] as? [String: Any])?["pausePid"] as? Int ?? 0)
            try #require(pausePID > 0)
            let pauseCgroups = try String(contentsOfFile: "/proc/\(pausePID)/cgroup", encoding: .utf8)
            #expect(pauseCgroups.split(separator: "\n").count >= 2)
            #expect(pauseCgroups.split(separator: "\n").allSatisfy { $0.hasSuffix("/podrun-sandbox-\(pod)") },
                    "pause outside the pod's cgroup: \(pauseCgroups)")
            try await h.podrunSucceeds(["sandbox", "rm", "--force", pod])
            #expect(h.sandboxRemains(pod).isEmpty, "\(h.sandboxRemains(pod))")
            #expect(try await h.runtime(["state", id]).status != 0, "the container went with its sandbox")
        }
    }

    @Test func sharedPidNamespaceShowsPauseAsPIDOneAndLeavesNoZombies() async throws {
        try await withHarness { h in
            let pod = try await h.createSandbox(["--share-pid"])
            // The orphan `sleep 1` is re-parented to pause, which must reap it.
            let leaver = try await h.startInSandbox(pod, inSandbox("(sleep 1 &); exec sleep 1000"), label: "orphans")
            _ = leaver
            try await Task.sleep(for: .seconds(2))
            let output = try await h.outputInSandbox(pod, inSandbox("ps -o pid,stat,comm"))
            let rows = output.split(separator: "\n").dropFirst().map { $0.split(separator: " ", omittingEmptySubsequences: true) }
            #expect(rows.first?.first == "1" && rows.first?.last == "podrun-pause", "\(output)")
            #expect(!rows.contains { $0.count > 1 && $0[1].hasPrefix("Z") }, "a zombie is left: \(output)")
            #expect(rows.contains { $0.last == "sleep" }, "the other container's process is visible: \(output)")
            try await h.podrunSucceeds(["sandbox", "rm", "--force", pod])
            #expect(h.sandboxRemains(pod).isEmpty, "\(h.sandboxRemains(pod))")
        }
    }

    @Test func fileWrittenToAVolumeByOneContainerIsReadByAnother() async throws {
        try await withHarness { h in
            let pod = try await h.createSandbox(["--volume", "shared", "--volume", "other"])
            _ = try await h.outputInSandbox(pod, inSandbox("echo from-writer > /data/note"), mounts: ["shared:/data"])
            let read = try await h.outputInSandbox(pod, inSandbox("cat /in/note; touch /in/x 2>/dev/null || echo read-only"),
                                                   mounts: ["shared:/in:ro"])
            #expect(read == "from-writer\nread-only")
            let inspect = try await h.inspectSandbox(pod)
            let volumes = (inspect["sandbox"] as? [String: Any])?["volumes"] as? [String: String] ?? [:]
            #expect(Set(volumes.keys) == ["shared", "other"])
            let bad = try await h.podrun(["run", "--sandbox", pod, "--mount", "missing:/x", "--bundle",
                                          try h.makeBundle(inSandbox("true")).path, h.newID("bad")])
            #expect(bad.status != 0)
            #expect(bad.stderr.contains("no volume missing"), "\(bad.stderr)")
            try await h.podrunSucceeds(["sandbox", "rm", pod])
            #expect(h.sandboxRemains(pod).isEmpty, "\(h.sandboxRemains(pod))")
            #expect(volumes.values.allSatisfy { !FileManager.default.fileExists(atPath: $0) }, "volumes go with the sandbox")
        }
    }

    @Test func killedPauseMakesTheSandboxNotReadyAndStopEndsItsContainers() async throws {
        try await withHarness { h in
            let pod = try await h.createSandbox()
            let id = try await h.startInSandbox(pod, sleeper)
            let record = try await h.inspectSandbox(pod)
            #expect(record["state"] as? String == "Ready")
            let pausePID = Int32((record["sandbox"] as? [String: Any])?["pausePid"] as? Int ?? 0)
            try #require(pausePID > 0)
            kill(pausePID, SIGKILL)
            #expect(try await waitUntil { (try await h.inspectSandbox(pod)["state"] as? String) == "NotReady" })
            try await h.podrunSucceeds(["sandbox", "stop", pod])
            try await h.waitForStatus(id, "stopped")
            let listed = try await h.podrunSucceeds(["sandbox", "ls", "--format", "json"])
            let entries = try JSONSerialization.jsonObject(with: Data(listed.stdout.utf8)) as? [[String: Any]] ?? []
            #expect(entries.first { $0["id"] as? String == pod }?["state"] as? String == "NotReady", "\(listed.stdout)")
            try await h.podrunSucceeds(["sandbox", "rm", pod])
            #expect(h.sandboxRemains(pod).isEmpty, "\(h.sandboxRemains(pod))")
        }
    }

    @Test func removingASandboxWithRunningContainersLeavesNothing() async throws {
        try await withHarness { h in
            let pod = try await h.createSandbox(["--share-pid", "--volume", "v"])
            let first = try await h.startInSandbox(pod, sleeper, mounts: ["v:/v"])
            let second = try await h.startInSandbox(pod, sleeper)
            let refused = try await h.podrun(["sandbox", "rm", pod])
            #expect(refused.status != 0 && refused.stderr.contains("--force"), "\(refused)")
            #expect(try await h.status(first) == "running")
            try await h.podrunSucceeds(["sandbox", "rm", "--force", pod])
            for id in [first, second] {
                #expect(try await h.runtime(["state", id]).status != 0, "container \(id) outlived its sandbox")
            }
            #expect(h.sandboxRemains(pod).isEmpty, "\(h.sandboxRemains(pod))")
            let again = try await h.podrun(["sandbox", "rm", pod])
            #expect(again.status == 0, "a second rm of a gone sandbox exits 0: \(again)")
        }
    }

    @Test(arguments: ["sandbox-recorded", "sandbox-volumes", "sandbox-cgroup", "sandbox-pause", "sandbox-namespaces",
                      "sandbox-network"])
    func podrunKilledMidCreateLeavesNothingAfterGC(step: String) async throws {
        try await withHarness { h in
            let id = h.newSandboxID("crash")
            let killed = try await h.runtime(["sandbox", "create", "--name", id, "--network", "none", "--share-pid",
                                              "--volume", "v"],
                                             globalFlags: ["--store", h.imageStore], environment: ["PODRUN_FAILPOINT": step])
            #expect(killed.status == 128 + SIGKILL, "the fail point kills podrun: \(killed)")
            let listed = try await h.podrunSucceeds(["sandbox", "ls", "--format", "json"])
            #expect(listed.stdout.contains(id), "the half-made sandbox is listed: \(listed.stdout)")
            try await h.podrunSucceeds(["gc"])
            #expect(h.sandboxRemains(id).isEmpty, "\(step): \(h.sandboxRemains(id))")
            let after = try await h.podrunSucceeds(["sandbox", "ls", "--format", "json"])
            #expect(!after.stdout.contains(id))
        }
    }

    @Test func sandboxRmAlsoCleansAKilledCreate() async throws {
        try await withHarness { h in
            let id = h.newSandboxID("crash")
            let killed = try await h.runtime(["sandbox", "create", "--name", id, "--network", "none"],
                                             globalFlags: ["--store", h.imageStore],
                                             environment: ["PODRUN_FAILPOINT": "sandbox-namespaces"])
            #expect(killed.status == 128 + SIGKILL)
            try await h.podrunSucceeds(["sandbox", "rm", id])
            #expect(h.sandboxRemains(id).isEmpty, "\(h.sandboxRemains(id))")
        }
    }

    @Test func createTakesLabelsAndACgroupParentAndPrintsJSON() async throws {
        try await withHarness { h in
            let id = h.newSandboxID("json")
            let parent = "podrun-sandbox-" + id  // named so the harness's cgroup leak check covers it
            let result = try await h.podrunSucceeds(["sandbox", "create", "--name", id, "--network", "none",
                                                     "--label", "app=web", "--label", "tier=front",
                                                     "--cgroup-parent", "/" + parent, "--format", "json"])
            let printed = try JSONSerialization.jsonObject(with: Data(result.stdout.utf8)) as? [String: Any]
            let sandbox = printed?["sandbox"] as? [String: Any]
            #expect(printed?["state"] as? String == "Ready", "\(result.stdout)")
            #expect(sandbox?["labels"] as? [String: String] == ["app": "web", "tier": "front"])
            let pausePID = Int32(sandbox?["pausePid"] as? Int ?? 0)
            let cgroups = try String(contentsOfFile: "/proc/\(pausePID)/cgroup", encoding: .utf8)
            let pids = cgroups.split(separator: "\n").first { $0.split(separator: ":")[1] == "pids" }
            #expect(pids?.hasSuffix(":/" + parent) == true, "pause is in the parent given: \(pids ?? "")")
            let listed = try await h.podrunSucceeds(["sandbox", "ls", "--format", "json"])
            let rows = try JSONSerialization.jsonObject(with: Data(listed.stdout.utf8)) as? [[String: Any]] ?? []
            #expect(rows.first?["labels"] as? [String: String] == ["app": "web", "tier": "front"], "\(listed.stdout)")
            try await h.podrunSucceeds(["sandbox", "rm", id])
            #expect(h.sandboxRemains(id).isEmpty, "\(h.sandboxRemains(id))")
        }
    }

    @Test func sandboxUnderARelativeRootIsRemovedCompletely() async throws {
        try await withHarness { h in
            // `--root state` from the test's folder is the harness's state folder; its pinned namespaces are
            // mounted at absolute paths, which rm must find.
            let id = h.newSandboxID("rel")
            let podrun = "\(TestEnvironment.binary) --root state --store store"
            let result = try await h.host("/bin/sh", ["-c", "cd \(h.tempDirectory) && \(podrun) sandbox create --name \(id) "
                                                      + "--network none --volume v && \(podrun) sandbox rm \(id)"])
            #expect(result.succeeded, "\(result)")
            #expect(h.sandboxRemains(id).isEmpty, "\(h.sandboxRemains(id))")
        }
    }

    @Test func badSandboxInputIsRefusedAndChangesNothing() async throws {
        try await withHarness { h in
            let pod = try await h.createSandbox()
            let duplicate = try await h.podrun(["sandbox", "create", "--name", pod, "--network", "none"])
            #expect(duplicate.status != 0 && duplicate.stderr.contains("already exists"), "\(duplicate)")
            #expect(try await h.inspectSandbox(pod)["state"] as? String == "Ready", "the first one is untouched")
            for arguments in [["--name", "bad/name"], ["--network", "carrier-pigeon"], ["--volume", "../up"]] {
                let result = try await h.podrun(["sandbox", "create"] + arguments)
                #expect(result.status != 0, "\(arguments) was accepted")
            }
            let unknown = try await h.podrun(["run", "--sandbox", "it-no-such-pod", "--bundle",
                                              try h.makeBundle(inSandbox("true")).path, h.newID("x")])
            #expect(unknown.status != 0 && unknown.stderr.contains("it-no-such-pod"), "\(unknown)")
            let listed = try await h.podrunSucceeds(["sandbox", "ls", "--format", "json"])
            let entries = try JSONSerialization.jsonObject(with: Data(listed.stdout.utf8)) as? [[String: Any]] ?? []
            #expect(entries.compactMap { $0["id"] as? String } == [pod])
            try await h.podrunSucceeds(["sandbox", "rm", "--force", pod])
        }
    }
}
