extension Spec {
    /// The configuration `runc spec` writes (and `runc spec --rootless`), with podrun's ociVersion.
    public static func runcDefault(rootless: Bool = false, uid: UInt32 = 0, gid: UInt32 = 0) -> Spec {
        let caps = ["CAP_AUDIT_WRITE", "CAP_KILL", "CAP_NET_BIND_SERVICE"]
        let process = Process(
            terminal: true, user: User(uid: 0, gid: 0), args: ["sh"],
            env: ["PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin", "TERM=xterm"], cwd: "/",
            capabilities: LinuxCapabilities(bounding: caps, effective: caps, permitted: caps, ambient: caps),
            rlimits: [POSIXRlimit(type: "RLIMIT_NOFILE", hard: 1024, soft: 1024)], noNewPrivileges: true)
        var mounts = [
            Mount(destination: "/proc", type: "proc", source: "proc"),
            Mount(destination: "/dev", type: "tmpfs", source: "tmpfs",
                  options: ["nosuid", "strictatime", "mode=755", "size=65536k"]),
            Mount(destination: "/dev/pts", type: "devpts", source: "devpts",
                  options: ["nosuid", "noexec", "newinstance", "ptmxmode=0666", "mode=0620", "gid=5"]),
            Mount(destination: "/dev/shm", type: "tmpfs", source: "shm",
                  options: ["nosuid", "noexec", "nodev", "mode=1777", "size=65536k"]),
            Mount(destination: "/dev/mqueue", type: "mqueue", source: "mqueue", options: ["nosuid", "noexec", "nodev"]),
            Mount(destination: "/sys", type: "sysfs", source: "sysfs", options: ["nosuid", "noexec", "nodev", "ro"]),
            Mount(destination: "/sys/fs/cgroup", type: "cgroup", source: "cgroup",
                  options: ["nosuid", "noexec", "nodev", "relatime", "ro"]),
        ]
        var namespaces: [LinuxNamespace] = [.init(type: .pid), .init(type: .network), .init(type: .ipc),
                                            .init(type: .uts), .init(type: .mount)]
        var linux = Linux(
            resources: LinuxResources(devices: [LinuxDeviceCgroup(allow: false, access: "rwm")]),
            namespaces: namespaces,
            maskedPaths: ["/proc/acpi", "/proc/asound", "/proc/kcore", "/proc/keys", "/proc/latency_stats",
                          "/proc/timer_list", "/proc/timer_stats", "/proc/sched_debug", "/sys/firmware", "/proc/scsi"],
            readonlyPaths: ["/proc/bus", "/proc/fs", "/proc/irq", "/proc/sys", "/proc/sysrq-trigger"])
        if rootless {
            // runc's ToRootless: no network namespace, a user namespace mapping the caller, no gid=5 on devpts,
            // /sys bound from the host.
            namespaces.removeAll { $0.type == .network }
            namespaces.append(.init(type: .user))
            linux.namespaces = namespaces
            linux.resources = nil
            linux.uidMappings = [LinuxIDMapping(containerID: 0, hostID: uid, size: 1)]
            linux.gidMappings = [LinuxIDMapping(containerID: 0, hostID: gid, size: 1)]
            mounts[2].options = ["nosuid", "noexec", "newinstance", "ptmxmode=0666", "mode=0620"]
            mounts[5] = Mount(destination: "/sys", type: "none", source: "/sys",
                              options: ["rbind", "nosuid", "noexec", "nodev", "ro"])
        }
        return Spec(process: process, root: Root(path: "rootfs", readonly: true), hostname: "runc", mounts: mounts,
                    linux: linux)
    }

    /// What `podrun spec` writes: runc's defaults plus the seccomp profile Docker and containerd apply.
    public static func podrunDefault(rootless: Bool = false, uid: UInt32 = 0, gid: UInt32 = 0) -> Spec {
        var spec = runcDefault(rootless: rootless, uid: uid, gid: gid)
        spec.hostname = "podrun"
        let caps = spec.process?.capabilities?.bounding ?? []
        spec.linux?.seccomp = LinuxSeccomp.dockerDefault(capabilities: caps)
        return spec
    }
}
