import Foundation
import Testing

/// Containers on a cgroup v2 only (unified) host, faked on a hybrid one: a script under `unshare -m` replaces
/// /sys/fs/cgroup by the v2 hierarchy alone (the hybrid host's /sys/fs/cgroup/unified) in a private mount
/// namespace and drives the runtime there, so it sees a unified host. The kernel still has the v1 hierarchies, so
/// /proc/PID/cgroup keeps their lines; the `0::` line is the container's v2 cgroup.
@Suite("cgroup v2 only host", .enabled(if: FileManager.default.fileExists(atPath: "/sys/fs/cgroup/unified/cgroup.procs")))
struct UnifiedHostTests {
    /// The script's start: a private mount namespace whose /sys/fs/cgroup is the cgroup2 mount alone; then the
    /// container is force-deleted in that view however the script ends. Arguments: BIN STATE BUNDLE ID.
    static let prologue = """
        set -u
        BIN=$1 STATE=$2 BUNDLE=$3 ID=$4
        mount --make-rprivate / || exit 90
        # The tmpfs holding the v1 hierarchies, and anything under it, goes; the v2 hierarchy comes in its place.
        while grep -q ' /sys/fs/cgroup ' /proc/self/mountinfo; do umount -l /sys/fs/cgroup || exit 91; done
        mount -t cgroup2 none /sys/fs/cgroup || exit 92
        echo "cgroup-mounts=$(grep -c ' - cgroup' /proc/self/mountinfo) $(grep -c ' /sys/fs/cgroup .* - cgroup2 ' /proc/self/mountinfo)"
        trap '"$BIN" --root "$STATE" delete --force "$ID" >/dev/null 2>&1' EXIT
        rt() { "$BIN" --root "$STATE" "$@"; }

        """

    /// Runs `body` (shell, after the prologue) under `unshare -m` for container `id` with `bundle`.
    static func runOnUnifiedHost(_ h: Harness, id: String, bundle: Bundle, _ body: String) async throws -> CommandResult {
        let script = h.tempDirectory + "/unified-host.sh"
        try Data((prologue + body).utf8).write(to: URL(fileURLWithPath: script))
        let result = try await h.host("/usr/bin/unshare", ["-m", "/bin/sh", script, TestEnvironment.binary,
                                                          h.stateDirectory, bundle.path, id], timeout: .seconds(60))
        // The view was made: one cgroup mount, the cgroup2 one at /sys/fs/cgroup.
        #expect(result.stdout.contains("cgroup-mounts=1 1"), "\(result)")
        return result
    }

    /// The value of `key=` on a line of `text`.
    static func value(_ key: String, in text: String) -> String? {
        text.split(separator: "\n").first { $0.hasPrefix(key + "=") }.map { String($0.dropFirst(key.count + 1)) }
    }

    @Test func runcsDefaultSpecRunsWithItsDeviceRulesAndLeavesNoCgroup() async throws {
        try await withHarness { h in
            let id = h.newID("v2run")
            // runc's default spec: deny every device, then runc's own allow list (the device program).
            let config = ContainerConfig.shell("""
                echo "v2=$(grep '^0::' /proc/self/cgroup)"; echo "host=$(hostname)"
                echo "mount=$(grep -c ' /sys/fs/cgroup .* - cgroup2 ' /proc/self/mountinfo)"
                echo x > /dev/null && echo null=ok; exit 3
                """)
            let bundle = try h.makeBundle(config)
            let result = try await Self.runOnUnifiedHost(h, id: id, bundle: bundle, """
                rt run --bundle "$BUNDLE" "$ID"
                echo "status=$?"
                if [ -d "/sys/fs/cgroup/$ID" ]; then echo cgroup=left; else echo cgroup=gone; fi

                """)
            #expect(Self.value("status", in: result.stdout) == "3", "\(result)")
            #expect(Self.value("v2", in: result.stdout) == "0::/\(id)", "\(result)")
            #expect(Self.value("host", in: result.stdout) == "podrun-test", "\(result)")
            #expect(Self.value("mount", in: result.stdout) == "1", "the container's /sys/fs/cgroup is not cgroup2: \(result)")
            #expect(Self.value("null", in: result.stdout) == "ok", "\(result)")
            #expect(Self.value("cgroup", in: result.stdout) == "gone", "\(result)")
            #expect(!isDirectory("/sys/fs/cgroup/unified/\(id)"))
        }
    }

    @Test func createStartExecPauseAndDeleteUseTheContainersV2Cgroup() async throws {
        try await withHarness { h in
            let id = h.newID("v2life")
            let bundle = try h.makeBundle(ContainerConfig(args: ["sleep", "1000"]))
            let result = try await Self.runOnUnifiedHost(h, id: id, bundle: bundle, """
                rt create --bundle "$BUNDLE" "$ID" || exit 93
                rt start "$ID" || exit 94
                echo "exec=$(rt exec "$ID" grep '^0::' /proc/self/cgroup)"
                rt pause "$ID" && echo "frozen=$(cat "/sys/fs/cgroup/$ID/cgroup.freeze")" && rt resume "$ID"
                echo "pids=$(wc -l < "/sys/fs/cgroup/$ID/cgroup.procs")"
                rt kill "$ID" KILL
                i=0; while [ $i -lt 100 ] && ! rt state "$ID" | grep -q '"stopped"'; do sleep 0.1; i=$((i + 1)); done
                rt delete "$ID"; echo "delete=$?"
                if [ -d "/sys/fs/cgroup/$ID" ]; then echo cgroup=left; else echo cgroup=gone; fi

                """)
            #expect(Self.value("exec", in: result.stdout) == "0::/\(id)", "\(result)")
            #expect(Self.value("frozen", in: result.stdout) == "1", "\(result)")
            #expect(Self.value("pids", in: result.stdout) == "1", "\(result)")
            #expect(Self.value("delete", in: result.stdout) == "0", "\(result)")
            #expect(Self.value("cgroup", in: result.stdout) == "gone", "\(result)")
            #expect(!isDirectory("/sys/fs/cgroup/unified/\(id)"))
        }
    }
}
