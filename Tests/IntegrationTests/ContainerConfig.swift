import Foundation

/// A test container's config.json as a Swift value: runc's default spec (`runc spec`), with
/// `terminal: false`, plus the fields tests change. `json(...)` renders the runtime-spec dictionary;
/// `customize` edits it last, for anything not modelled here.
struct ContainerConfig {
    /// process.args
    var args: [String]
    /// process.env
    var env: [String] = ["PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin", "TERM=xterm"]
    /// process.cwd
    var cwd: String = "/"
    /// process.terminal
    var terminal: Bool = false
    /// process.user
    var uid: UInt32 = 0
    var gid: UInt32 = 0
    var additionalGids: [UInt32]? = nil
    var umask: UInt32? = nil
    /// hostname (nil: no hostname key)
    var hostname: String? = "podrun-test"
    /// root.readonly; nil means true for the shared fixture rootfs and false for a private copy.
    var readonlyRoot: Bool? = nil
    /// Mounts after runc's default ones (/proc, /dev, /dev/pts, /dev/shm, /dev/mqueue, /sys, /sys/fs/cgroup).
    var extraMounts: [[String: Any]] = []
    /// linux.namespaces (runc's default: pid, network, ipc, uts, mount).
    var namespaces: [[String: Any]] = ContainerConfig.defaultNamespaces
    /// linux.uidMappings / linux.gidMappings
    var uidMappings: [[String: Any]]? = nil
    var gidMappings: [[String: Any]]? = nil
    /// linux.sysctl
    var sysctl: [String: String]? = nil
    /// linux.devices
    var devices: [[String: Any]]? = nil
    /// linux.cgroupsPath (nil: the runtime's default, which for runc is the container id)
    var cgroupsPath: String? = nil
    /// Last edits to the rendered dictionary.
    var customize: ((inout [String: Any]) -> Void)? = nil

    init(args: [String]) {
        self.args = args
    }

    /// A config whose process is `sh -c SCRIPT`.
    static func shell(_ script: String) -> ContainerConfig {
        ContainerConfig(args: ["sh", "-c", script])
    }

    static var defaultNamespaces: [[String: Any]] { ["pid", "network", "ipc", "uts", "mount"].map { ["type": $0] } }

    /// A namespace entry, optionally joining an existing one by path.
    static func namespace(_ type: String, path: String? = nil) -> [String: Any] {
        var entry: [String: Any] = ["type": type]
        if let path { entry["path"] = path }
        return entry
    }

    /// Joins the namespace of `type` of process `pid` (by its /proc path) instead of making a new one.
    mutating func join(_ type: String, of pid: Int32) {
        let procName = ["network": "net", "mount": "mnt"][type] ?? type
        namespaces = namespaces.filter { $0["type"] as? String != type }
            + [ContainerConfig.namespace(type, path: "/proc/\(pid)/ns/\(procName)")]
    }

    /// A tmpfs mount.
    static func tmpfs(at destination: String, options: [String]) -> [String: Any] {
        ["destination": destination, "type": "tmpfs", "source": "tmpfs", "options": options]
    }

    /// A bind mount of a host path (recursive, as runc's "rbind").
    static func bind(_ source: String, at destination: String, readonly: Bool = false) -> [String: Any] {
        ["destination": destination, "type": "bind", "source": source,
         "options": readonly ? ["rbind", "ro"] : ["rbind", "rw"]]
    }

    /// A uid or gid mapping entry.
    static func idMapping(container: UInt32, host: UInt32, size: UInt32) -> [String: Any] {
        ["containerID": container, "hostID": host, "size": size]
    }

    /// The runtime-spec dictionary for a bundle whose root.path is `rootfsPath`.
    func json(rootfsPath: String, sharedRootfs: Bool) -> [String: Any] {
        let capabilities = ["CAP_AUDIT_WRITE", "CAP_KILL", "CAP_NET_BIND_SERVICE"]
        var user: [String: Any] = ["uid": uid, "gid": gid]
        if let additionalGids { user["additionalGids"] = additionalGids }
        if let umask { user["umask"] = umask }
        let process: [String: Any] = [
            "terminal": terminal,
            "user": user,
            "args": args,
            "env": env,
            "cwd": cwd,
            "capabilities": [
                "bounding": capabilities, "effective": capabilities, "permitted": capabilities,
                "ambient": capabilities,
            ],
            "rlimits": [["type": "RLIMIT_NOFILE", "hard": 1024, "soft": 1024]],
            "noNewPrivileges": true,
        ]
        let defaultMounts: [[String: Any]] = [
            ["destination": "/proc", "type": "proc", "source": "proc"],
            ["destination": "/dev", "type": "tmpfs", "source": "tmpfs",
             "options": ["nosuid", "strictatime", "mode=755", "size=65536k"]],
            ["destination": "/dev/pts", "type": "devpts", "source": "devpts",
             "options": ["nosuid", "noexec", "newinstance", "ptmxmode=0666", "mode=0620", "gid=5"]],
            ["destination": "/dev/shm", "type": "tmpfs", "source": "shm",
             "options": ["nosuid", "noexec", "nodev", "mode=1777", "size=65536k"]],
            ["destination": "/dev/mqueue", "type": "mqueue", "source": "mqueue",
             "options": ["nosuid", "noexec", "nodev"]],
            ["destination": "/sys", "type": "sysfs", "source": "sysfs",
             "options": ["nosuid", "noexec", "nodev", "ro"]],
            ["destination": "/sys/fs/cgroup", "type": "cgroup", "source": "cgroup",
             "options": ["nosuid", "noexec", "nodev", "relatime", "ro"]],
        ]
        var linux: [String: Any] = [
            "resources": ["devices": [["allow": false, "access": "rwm"]]],
            "namespaces": namespaces,
            "maskedPaths": [
                "/proc/acpi", "/proc/asound", "/proc/kcore", "/proc/keys", "/proc/latency_stats",
                "/proc/timer_list", "/proc/timer_stats", "/proc/sched_debug", "/sys/firmware", "/proc/scsi",
            ],
            "readonlyPaths": ["/proc/bus", "/proc/fs", "/proc/irq", "/proc/sys", "/proc/sysrq-trigger"],
        ]
        if let uidMappings { linux["uidMappings"] = uidMappings }
        if let gidMappings { linux["gidMappings"] = gidMappings }
        if let sysctl { linux["sysctl"] = sysctl }
        if let devices { linux["devices"] = devices }
        if let cgroupsPath { linux["cgroupsPath"] = cgroupsPath }
        var spec: [String: Any] = [
            "ociVersion": "1.0.2-dev",
            "process": process,
            "root": ["path": rootfsPath, "readonly": readonlyRoot ?? sharedRootfs],
            "mounts": defaultMounts + extraMounts,
            "linux": linux,
        ]
        if let hostname { spec["hostname"] = hostname }
        return spec
    }
}
