import Foundation
import Testing

extension ContainerConfig {
    /// The same capability list in the bounding, effective and permitted sets (and optionally others).
    mutating func capabilities(_ caps: [String], inheritable: [String] = [], ambient: [String] = []) {
        let previous = customize
        customize = { spec in
            previous?(&spec)
            var process = spec["process"] as? [String: Any] ?? [:]
            process["capabilities"] = ["bounding": caps, "effective": caps, "permitted": caps,
                                       "inheritable": inheritable, "ambient": ambient]
            spec["process"] = process
        }
    }

    /// Sets `process.key` to `value`.
    mutating func process(_ key: String, _ value: Any) {
        let previous = customize
        customize = { spec in
            previous?(&spec)
            var process = spec["process"] as? [String: Any] ?? [:]
            process[key] = value
            spec["process"] = process
        }
    }

    /// Sets `linux.key` to `value`.
    mutating func linux(_ key: String, _ value: Any) {
        let previous = customize
        customize = { spec in
            previous?(&spec)
            var linux = spec["linux"] as? [String: Any] ?? [:]
            linux[key] = value
            spec["linux"] = linux
        }
    }
}

/// The value of a `Key:\tvalue` line of /proc/self/status output.
func statusField(_ status: String, _ key: String) -> String? {
    status.split(separator: "\n").first { $0.hasPrefix(key + ":") }
        .map { $0.dropFirst(key.count + 1).trimmingCharacters(in: .whitespaces) }
}

/// Capabilities, no_new_privs, seccomp, devices, masked and read-only paths, limits: checked from inside.
@Suite("isolation: what the process may do")
struct IsolationTests {
    @Test func capabilitySetsAreExactlyTheConfiguredOnes() async throws {
        try await withHarness { h in
            var config = ContainerConfig(args: ["cat", "/proc/self/status"])
            config.capabilities(["CAP_KILL", "CAP_NET_BIND_SERVICE"])
            let status = try await h.output(of: config)
            for key in ["CapBnd", "CapEff", "CapPrm"] {
                #expect(statusField(status, key) == "0000000000000420", "\(key)")
            }
            #expect(statusField(status, "CapInh") == "0000000000000000")
            #expect(statusField(status, "CapAmb") == "0000000000000000")
        }
    }

    @Test func ambientCapabilitiesSurviveTheSwitchToANonRootUser() async throws {
        try await withHarness { h in
            var config = ContainerConfig(args: ["cat", "/proc/self/status"])
            config.uid = 1000
            config.gid = 1000
            config.capabilities(["CAP_NET_BIND_SERVICE"], inheritable: ["CAP_NET_BIND_SERVICE"],
                                ambient: ["CAP_NET_BIND_SERVICE"])
            let status = try await h.output(of: config)
            #expect(statusField(status, "Uid")?.hasPrefix("1000") == true)
            #expect(statusField(status, "CapEff") == "0000000000000400")
            #expect(statusField(status, "CapAmb") == "0000000000000400")
        }
    }

    @Test func noNewPrivilegesIsSetWhenAsked() async throws {
        try await withHarness { h in
            var config = ContainerConfig(args: ["cat", "/proc/self/status"])
            config.process("noNewPrivileges", true)
            let with = try await h.output(of: config)
            #expect(statusField(with, "NoNewPrivs") == "1")
            var without = ContainerConfig(args: ["cat", "/proc/self/status"])
            without.process("noNewPrivileges", false)
            let withoutStatus = try await h.output(of: without)
            #expect(statusField(withoutStatus, "NoNewPrivs") == "0")
        }
    }

    @Test func seccompRuleReturnsTheConfiguredErrno() async throws {
        try await withHarness { h in
            var config = ContainerConfig.shell("grep Seccomp: /proc/self/status; mkdir /tmp/x 2>&1; echo rc=$?")
            config.extraMounts = [ContainerConfig.tmpfs(at: "/tmp", options: ["nosuid"])]
            config.linux("seccomp", [
                "defaultAction": "SCMP_ACT_ALLOW", "architectures": ["SCMP_ARCH_X86_64"],
                "syscalls": [["names": ["mkdir", "mkdirat"], "action": "SCMP_ACT_ERRNO", "errnoRet": 18]],
            ])
            let out = try await h.output(of: config)
            #expect(out.contains("Seccomp:\t2"))
            #expect(out.contains("cross-device link"), "\(out)")
            #expect(out.hasSuffix("rc=1"))
        }
    }

    @Test(.enabled(if: !TestEnvironment.isRunc, "runc spec has no seccomp profile"))
    func defaultSpecProfileRefusesNewNamespacesAndAllowsOrdinaryWork() async throws {
        try await withHarness { h in
            let specDir = try h.makeHostDirectory("spec")
            try await h.runtimeSucceeds(["spec", "--bundle", specDir])
            let spec = try #require(parseJSON(readText(specDir + "/config.json")) as? [String: Any])
            let seccomp = try #require((spec["linux"] as? [String: Any])?["seccomp"])
            var config = ContainerConfig.shell("unshare -u true 2>&1; echo rc=$?; echo ordinary")
            config.linux("seccomp", seccomp)
            config.capabilities(["CAP_KILL"])
            let out = try await h.output(of: config)
            #expect(out.contains("Operation not permitted"), "\(out)")
            #expect(out.contains("ordinary"))
        }
    }

    @Test func mknodNeedsCapMknodAndADeniedDeviceCannotBeOpened() async throws {
        try await withHarness { h in
            var noCap = ContainerConfig.shell("mknod /tmp/sda b 8 0 2>&1; echo rc=$?")
            noCap.extraMounts = [ContainerConfig.tmpfs(at: "/tmp", options: ["nosuid"])]
            noCap.capabilities(["CAP_KILL"])
            let refused = try await h.output(of: noCap)
            #expect(refused.contains("Operation not permitted"), "\(refused)")

            var withCap = ContainerConfig.shell("mknod /tmp/sda b 8 0 && head -c1 /tmp/sda 2>&1; echo; head -c1 /dev/null && echo null-ok")
            withCap.extraMounts = [ContainerConfig.tmpfs(at: "/tmp", options: ["nosuid"])]
            withCap.capabilities(["CAP_MKNOD", "CAP_DAC_OVERRIDE"])
            let out = try await h.output(of: withCap)
            #expect(out.contains("Operation not permitted"), "\(out)")
            #expect(out.contains("null-ok"))
        }
    }

    @Test func maskedPathsStayEmptyAndCannotBeUnmasked() async throws {
        try await withHarness { h in
            // A masked file is /dev/null bound over it (as runc): writes vanish, reads stay empty, and without
            // CAP_SYS_ADMIN the mask cannot be unmounted. A masked folder is an empty read-only tmpfs.
            var config = ContainerConfig.shell(
                "echo x > /proc/keys; echo keys=$(cat /proc/keys | wc -c); umount /proc/keys 2>&1; echo u=$?; "
                    + "echo acpi=$(ls /proc/acpi | wc -l); touch /proc/acpi/x 2>&1; echo t=$?")
            config.capabilities(["CAP_KILL"])
            let out = try await h.output(of: config)
            #expect(out.contains("keys=0"))
            #expect(out.contains("u=1"), "\(out)")
            #expect(out.contains("acpi=0"))
            #expect(out.contains("t=1"))
            #expect(out.contains("Read-only file system"), "\(out)")
        }
    }

    @Test func readonlyPathsRefuseWrites() async throws {
        try await withHarness { h in
            let out = try await h.output(of: .shell("(echo 1 > /proc/sys/kernel/domainname) 2>&1; echo rc=$?"))
            #expect(out.contains("Read-only file system"), "\(out)")
            #expect(out.hasSuffix("rc=1"))
        }
    }

    @Test func rlimitsAreWhatUlimitSees() async throws {
        try await withHarness { h in
            var config = ContainerConfig.shell("ulimit -n; ulimit -Hn")
            config.process("rlimits", [["type": "RLIMIT_NOFILE", "soft": 512, "hard": 1024]])
            let limits = try await h.output(of: config)
            #expect(limits == "512\n1024")
        }
    }

    @Test func oomScoreAdjIsApplied() async throws {
        try await withHarness { h in
            var config = ContainerConfig(args: ["cat", "/proc/self/oom_score_adj"])
            config.process("oomScoreAdj", 321)
            let adj = try await h.output(of: config)
            #expect(adj == "321")
        }
    }

    @Test(.enabled(if: !TestEnvironment.isRunc, "runc 1.1.5 implements runtime-spec 1.0.2, without these fields"))
    func personalitySchedulerIOPriorityAffinityAndTimeOffsetsApply() async throws {
        try await withHarness { h in
            var config = ContainerConfig.shell(
                "uname -m; grep Cpus_allowed_list /proc/self/status; ionice -p $$; cut -d. -f1 /proc/uptime")
            config.namespaces += [ContainerConfig.namespace("time")]
            config.linux("personality", ["domain": "LINUX32"])
            config.linux("timeOffsets", ["boottime": ["secs": 10_000_000]])
            config.process("execCPUAffinity", ["final": "0"])
            config.process("ioPriority", ["class": "IOPRIO_CLASS_IDLE", "priority": 0])
            config.process("scheduler", ["policy": "SCHED_BATCH", "nice": 3])
            let lines = try await h.output(of: config).split(separator: "\n").map(String.init)
            #expect(lines.count == 4, "\(lines)")
            guard lines.count == 4 else { return }
            #expect(lines[0] == "i686")
            #expect(lines[1].hasSuffix("\t0"))
            #expect(lines[2] == "idle")
            #expect((Int(lines[3]) ?? 0) >= 10_000_000, "boottime offset missing: \(lines[3])")
        }
    }

    @Test func anAllocationBeyondTheMemoryLimitIsKilled() async throws {
        try await withHarness { h in
            // The shell must outlive the kill to report it. The allocating `tail` and the `head` feeding it get the
            // highest OOM score (raising it needs no privilege): `head` may fill the pipe before the killed `tail`'s
            // memory is uncharged, and a second kill then picked the shell, the container's PID 1.
            let victim = "echo 1000 > /proc/self/oom_score_adj; exec"
            var config = ContainerConfig.shell(
                "sh -c '\(victim) head -c 100m /dev/zero' | sh -c '\(victim) tail' > /dev/null; echo rc=$?")
            config.linux("resources", ["memory": ["limit": 32 << 20, "swap": 32 << 20]])
            let killed = try await h.output(of: config)
            #expect(killed == "rc=137")
            var roomy = ContainerConfig.shell("head -c 10m /dev/zero | tail > /dev/null; echo rc=$?")
            roomy.linux("resources", ["memory": ["limit": 64 << 20, "swap": 64 << 20]])
            let fits = try await h.output(of: roomy)
            #expect(fits == "rc=0")
        }
    }

    @Test func aForkBombStopsAtThePidsLimit() async throws {
        try await withHarness { h in
            var config = ContainerConfig.shell(
                // The inner shell dies when fork fails; the outer one reads the count with builtins only.
                "sh -c 'i=0; while [ $i -lt 30 ]; do sleep 5 & i=$((i+1)); done' 2>/dev/null; "
                    + "read n < /sys/fs/cgroup/pids/pids.current; echo $n")
            config.linux("resources", ["pids": ["limit": 10]])
            let text = try await h.output(of: config)
            let current = try #require(Int(text))
            #expect(current <= 10 && current >= 5, "pids.current \(current)")
        }
    }
}

/// pause, resume, update and events on a running container.
@Suite("resources: pause, update, events")
struct ResourceCommandTests {
    @Test func pauseFreezesAndResumeThaws() async throws {
        try await withHarness { h in
            let bundle = try h.makeBundle(ContainerConfig(args: ["sleep", "1000"]))
            let id = h.newID("pause")
            try await h.runtimeSucceeds(["run", "--detach", "--bundle", bundle.path, id])
            try await h.runtimeSucceeds(["pause", id])
            let paused = try await h.status(id)
            #expect(paused == "paused")
            let pid = try await h.pid(id)
            #expect(readText("/proc/\(pid)/status").contains("State:\tD"))
            let exec = try await h.runtime(["exec", id, "true"])
            #expect(exec.status != 0)
            try await h.runtimeSucceeds(["resume", id])
            let running = try await h.status(id)
            #expect(running == "running")
            try await h.runtimeSucceeds(["delete", "--force", id])
        }
    }

    @Test func updateChangesLimitsOfARunningContainer() async throws {
        try await withHarness { h in
            let bundle = try h.makeBundle(ContainerConfig(args: ["sleep", "1000"]))
            let id = h.newID("update")
            try await h.runtimeSucceeds(["run", "--detach", "--bundle", bundle.path, id])
            try await h.runtimeSucceeds(["update", "--pids-limit", "7", "--memory", "64m", id])
            let out = try await h.runtimeSucceeds(["exec", id, "cat", "/sys/fs/cgroup/pids/pids.max",
                                                   "/sys/fs/cgroup/memory/memory.limit_in_bytes"]).output
            #expect(out == "7\n67108864")
            try await h.runtimeSucceeds(["update", "--resources", "-", id], stdin: #"{"pids":{"limit":9}}"#)
            let nine = try await h.runtimeSucceeds(["exec", id, "cat", "/sys/fs/cgroup/pids/pids.max"]).output
            #expect(nine == "9")
            // A malformed resources document is refused, names its field, and changes nothing.
            let bad = try await h.runtime(["update", "--resources", "-", "--memory", "32m", id],
                                          stdin: #"{"pids":{"limit":"ten"}}"#)
            #expect(bad.status == 1, "\(bad)")
            if !TestEnvironment.isRunc { #expect(bad.stderr.contains("pids.limit"), "\(bad)") }
            let unchanged = try await h.runtimeSucceeds(["exec", id, "cat", "/sys/fs/cgroup/pids/pids.max",
                                                         "/sys/fs/cgroup/memory/memory.limit_in_bytes"]).output
            #expect(unchanged == "9\n67108864")
            try await h.runtimeSucceeds(["delete", "--force", id])
        }
    }

    @Test func eventsStatsPrintsOneStatsEvent() async throws {
        try await withHarness { h in
            let bundle = try h.makeBundle(ContainerConfig(args: ["sleep", "1000"]))
            let id = h.newID("events")
            try await h.runtimeSucceeds(["run", "--detach", "--bundle", bundle.path, id])
            let out = try await h.runtimeSucceeds(["events", "--stats", id]).output
            let event = try #require(parseJSON(out) as? [String: Any], "\(out)")
            #expect(event["type"] as? String == "stats")
            let pids = (event["data"] as? [String: Any])?["pids"] as? [String: Any]
            #expect((pids?["current"] as? Int ?? 0) >= 1)
            try await h.runtimeSucceeds(["delete", "--force", id])
        }
    }

    @Test(.enabled(if: !TestEnvironment.isRunc, "checks podrun's own init"))
    func theInitWaitingForStartIsNotTheWritableHostBinary() async throws {
        try await withHarness { h in
            let bundle = try h.makeBundle(ContainerConfig(args: ["true"]))
            let id = h.newID("exe")
            try await h.runtimeSucceeds(["create", "--bundle", bundle.path, id])
            let pid = try await h.pid(id)
            let exe = (try? FileManager.default.destinationOfSymbolicLink(atPath: "/proc/\(pid)/exe")) ?? ""
            // Either a sealed memfd copy, or the binary itself when nothing can write it.
            let fd = open("/proc/\(pid)/exe", O_WRONLY)
            let writeErrno = errno
            if fd >= 0 { close(fd) }
            #expect(fd < 0, "the init's executable could be opened for writing (\(exe))")
            // Protected: a sealed memfd, an immutable file (EPERM), or a file on a read-only mount (which the
            // kernel may report as EROFS or, for a running executable, ETXTBSY: so the mount itself is checked).
            var fs = statvfs()
            let onReadOnlyMount = statvfs("/proc/\(pid)/exe", &fs) == 0 && fs.f_flag & 1 != 0  // ST_RDONLY
            #expect(exe.hasPrefix("/memfd:") || writeErrno == EPERM || onReadOnlyMount, "\(exe) errno \(writeErrno)")
            try await h.runtimeSucceeds(["delete", id])
        }
    }
}
