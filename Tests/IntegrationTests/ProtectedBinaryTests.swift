import Foundation
import Testing

/// podrun installed where nothing can write it (here a read-only bind mount; `chattr +i` is the other way) forks
/// its init instead of exec'ing a sealed copy of itself: the fast path the benchmarks measure. A create that needs
/// no two steps goes further: the container's process is cloned straight into its namespaces and cgroup. These
/// tests run that path (the rest of the suite runs the writable debug binary, which execs its init).
@Suite("a protected podrun binary forks its init", .enabled(if: !TestEnvironment.isRunc, "podrun's init launch"))
struct ProtectedBinaryTests {
    @Test func runCreateStartAndExecWorkThroughTheForkedInit() async throws {
        try await withHarness(protectedBinary: true) { h in
            // Only the standard streams reach the process (the forked init closed its copies of the rest).
            let run = try await h.runContainer(.shell("ls /proc/self/fd"), label: "fork")
            #expect(run.status == 0, "\(run)")
            #expect(run.output.split(separator: "\n") == ["0", "1", "2", "3"], "\(run.output)")

            let id = try await h.startSleeper(label: "fork")
            let exec = try await h.runtimeSucceeds(["exec", id, "echo", "exec-ok"])
            #expect(exec.output == "exec-ok", "\(exec)")
            try await h.runtimeSucceeds(["delete", "--force", id])
        }
    }

    /// `scripts/install.sh --immutable` installs podrun the way it should be: the same bytes, executable and
    /// immutable, so it clones its containers' processes directly; installing again replaces the immutable file.
    @Test func theInstallScriptInstallsAnImmutablePodrunThatClonesItsContainersAndCanReplaceIt() async throws {
        try await withHarness { h in
            let folder = h.tempDirectory + "/installed"
            let source = URL(fileURLWithPath: TestEnvironment.binary)
            let pause = source.deletingLastPathComponent().appendingPathComponent("podrun-pause").path
            let installed = [folder + "/" + source.lastPathComponent, folder + "/podrun-pause"]
            // Mutable again at the end, so that the harness can remove the test's folder.
            defer { _ = try? runCommandSync("/usr/bin/chattr", ["-i"] + installed) }
            let script = TestEnvironment.packageRoot + "/scripts/install.sh"
            for round in 1...2 {
                let install = try await runCommand(
                    "/bin/bash", [script, "--immutable", "--to", folder, source.path, pause],
                    outputDirectory: h.tempDirectory + "/out")
                #expect(install.status == 0, "install \(round): \(install)")
                #expect(install.stdout.split(separator: "\n").map(String.init) == installed, "\(install)")
            }
            for (copy, original) in zip(installed, [source.path, pause]) {
                #expect(FileManager.default.contentsEqual(atPath: copy, andPath: original), "\(copy) differs")
                let mode = try FileManager.default.attributesOfItem(atPath: copy)[.posixPermissions] as? Int
                #expect(mode == 0o755, "\(copy): mode \(String(mode ?? 0, radix: 8))")
                let attributes = try await runCommand("/usr/bin/lsattr", [copy], outputDirectory: h.tempDirectory + "/out")
                #expect(attributes.stdout.split(separator: " ").first?.contains("i") == true, "\(attributes)")
            }
            // No temporary file is left beside the installed ones.
            #expect(try FileManager.default.contentsOfDirectory(atPath: folder).sorted() == ["podrun", "podrun-pause"])

            var config = ContainerConfig.shell("hostname")
            config.hostname = "it-installed"
            let bundle = try h.makeBundle(config)
            let run = try await runCommand(
                installed[0], ["--root", h.stateDirectory, "--debug", "run", "--bundle", bundle.path, h.newID("inst")],
                outputDirectory: h.tempDirectory + "/out")
            #expect(run.status == 0 && run.output == "it-installed", "\(run)")
            #expect(run.stderr.contains("cloned into its namespaces and cgroup"), "not cloned directly: \(run.stderr)")
        }
    }

    @Test func aClonedContainerProcessIsPidOneWithItsHostnameAndItsExitStatus() async throws {
        try await withHarness(protectedBinary: true) { h in
            var config = ContainerConfig.shell("echo pid=$$; hostname; exit 7")
            config.hostname = "it-cloned"
            let bundle = try h.makeBundle(config)
            let run = try await h.runtime(["run", "--bundle", bundle.path, h.newID("clone")], globalFlags: ["--debug"])
            #expect(run.status == 7, "\(run)")
            #expect(run.output.split(separator: "\n") == ["pid=1", "it-cloned"], "\(run.output)")
            #expect(run.stderr.contains("cloned into its namespaces and cgroup"), "not cloned directly: \(run.stderr)")
        }
    }

    @Test func aClonedContainerHasItsOwnNamespacesAReadOnlyRootAndMaskedPaths() async throws {
        try await withHarness(protectedBinary: true) { h in
            let id = try await h.startSleeper(label: "clonens")
            let pid = try await h.pid(id)
            for kind in ["mnt", "net", "ipc", "uts", "pid"] {
                let theirs = try FileManager.default.destinationOfSymbolicLink(atPath: "/proc/\(pid)/ns/\(kind)")
                let ours = try FileManager.default.destinationOfSymbolicLink(atPath: "/proc/self/ns/\(kind)")
                #expect(theirs != ours, "the container shares the host's \(kind) namespace")
            }
            let root = try await h.runtime(["exec", id, "touch", "/written"])
            #expect(root.status != 0, "the read-only root took a write: \(root)")
            let timers = try await h.runtimeSucceeds(["exec", id, "wc", "-c", "/proc/timer_list"])
            #expect(timers.output.hasPrefix("0 "), "/proc/timer_list is not masked: \(timers.output)")
            try await h.stopAndDelete(id)
        }
    }

    @Test func aClonedContainerProcessIsInItsCgroupInEveryHierarchy() async throws {
        try await withHarness(protectedBinary: true) { h in
            let id = try await h.startSleeper(label: "clonecg")
            try await CgroupMembershipTests.expectContainerAndExecInTheirCgroup(h, id)
            try await h.stopAndDelete(id)
        }
    }

    /// The v1 folders are made while the cloned process sets up; it joins them before its devices and its exec.
    @Test func aClonedContainerIsHeldByItsLimitsAndDeviceRules() async throws {
        try await withHarness(protectedBinary: true) { h in
            var config = ContainerConfig.shell(
                "cat /sys/fs/cgroup/pids/pids.max; head -c1 /dev/memx >/dev/null 2>&1 && echo read || echo denied")
            config.devices = [["path": "/dev/memx", "type": "c", "major": 1, "minor": 1, "fileMode": 438,
                               "uid": 0, "gid": 0]]
            config.linux("resources", ["pids": ["limit": 42], "devices": [["allow": false, "access": "rwm"]]])
            let run = try await h.runContainer(config, label: "clonelimits")
            #expect(run.status == 0, "\(run)")
            #expect(run.output.split(separator: "\n") == ["42", "denied"], "\(run.output)")
        }
    }

    /// Without hooks the limits are written while the process goes on setting up (it waits for them before its
    /// exec); with hooks they are written before it joins, so that a prestart or createRuntime hook finds them.
    @Test func aClonedContainersHookFindsItsLimitsWritten() async throws {
        try await withHarness(protectedBinary: true) { h in
            let dir = try h.makeHostDirectory("clonehook")
            var config = ContainerConfig.shell("cat /sys/fs/cgroup/pids/pids.max")
            config.customize = { spec in
                // The hook runs in the runtime's namespaces with the state on stdin: it reads the container's pid
                // and the pids limit of that process' cgroup.
                let script = "read -r state; pid=$(echo \"$state\" | sed 's/.*\"pid\":\\([0-9]*\\).*/\\1/'); "
                    + "cat /sys/fs/cgroup/pids$(grep ':pids:' /proc/$pid/cgroup | cut -d: -f3)/pids.max > \(dir)/limit"
                spec["hooks"] = ["createRuntime": [["path": "/bin/sh", "args": ["sh", "-c", script]]]]
            }
            config.linux("resources", ["pids": ["limit": 43]])
            let bundle = try h.makeBundle(config)
            let run = try await h.runtime(["run", "--bundle", bundle.path, h.newID("clonehook")], globalFlags: ["--debug"])
            #expect(run.status == 0, "\(run)")
            #expect(run.output == "43", "\(run.output)")
            #expect(run.stderr.contains("cloned into its namespaces and cgroup"), "not cloned directly: \(run.stderr)")
            #expect(readText(dir + "/limit").trimmingCharacters(in: .whitespacesAndNewlines) == "43")
        }
    }

    @Test func aClonedContainerJoinsAnotherContainersNetworkNamespaceByPath() async throws {
        try await withHarness(protectedBinary: true) { h in
            let first = try await h.startSleeper(label: "clonenet")
            let pid = try await h.pid(first)
            var config = ContainerConfig.shell("echo pid=$$; readlink /proc/self/ns/net")
            config.join("network", of: pid)
            let run = try await h.runContainer(config, label: "clonenet")
            let net = try FileManager.default.destinationOfSymbolicLink(atPath: "/proc/\(pid)/ns/net")
            #expect(run.status == 0, "\(run)")
            #expect(run.output.split(separator: "\n") == ["pid=1", Substring(net)], "\(run.output)")
            try await h.stopAndDelete(first)
        }
    }

    /// A user namespace (id maps written between unshare and fork) and a joined pid namespace (setns applies to
    /// children only) still take the two-step init.
    @Test func aUserNamespaceOrAJoinedPidNamespaceStillWorksThroughTheTwoStepInit() async throws {
        try await withHarness(protectedBinary: true) { h in
            var user = ContainerConfig.shell("cat /proc/self/uid_map; echo pid=$$")
            user.namespaces += [ContainerConfig.namespace("user")]
            user.uidMappings = [ContainerConfig.idMapping(container: 0, host: 100_000, size: 65536)]
            user.gidMappings = [ContainerConfig.idMapping(container: 0, host: 100_000, size: 65536)]
            let bundle = try h.makeBundle(user)
            let mapped = try await h.runtime(["run", "--bundle", bundle.path, h.newID("twouser")], globalFlags: ["--debug"])
            #expect(mapped.status == 0, "\(mapped)")
            #expect(mapped.stderr.contains("init ") && mapped.stderr.contains("started (create)"), "\(mapped.stderr)")
            let words = mapped.output.split(whereSeparator: { $0 == " " || $0 == "\n" })
            #expect(words == ["0", "100000", "65536", "pid=1"], "\(mapped.output)")

            let first = try await h.startSleeper(label: "twopid")
            let pid = try await h.pid(first)
            var joined = ContainerConfig.shell("echo pid=$$; ps -o pid,comm | grep -c sleep")
            joined.join("pid", of: pid)
            let run = try await h.runContainer(joined, label: "twopid")
            #expect(run.status == 0, "\(run)")
            let lines = run.output.split(separator: "\n")
            #expect(lines.count == 2 && lines.first != "pid=1" && lines.last == "1", "\(run.output)")
            try await h.stopAndDelete(first)
        }
    }

    @Test func aFailedCloneCreateLeavesNoStateCgroupOrProcess() async throws {
        try await withHarness(protectedBinary: true) { h in
            var config = ContainerConfig(args: ["true"])
            config.extraMounts = [ContainerConfig.bind("/no/such/source", at: "/mnt")]
            let bundle = try h.makeBundle(config)
            let id = h.newID("clonefail")
            let result = try await h.runtime(["create", "--bundle", bundle.path, id])
            #expect(result.status == 1, "\(result)")
            #expect(result.stderr.contains("/no/such/source"), "the error should name the source: \(result)")
            // The harness's leak check finds any state, cgroup or process left.
        }
    }
}
