import Foundation
import Glibc
import Testing

/// Mounts from config.json, the read-only root, /dev, device nodes and symlink-safe destinations.
@Suite("mounts and the root filesystem")
struct MountTests {
    @Test func tmpfsMountAppearsWithItsOptions() async throws {
        try await withHarness { h in
            var config = ContainerConfig(args: ["cat", "/proc/self/mountinfo"])
            config.extraMounts = [ContainerConfig.tmpfs(at: "/scratch", options: ["nosuid", "nodev", "size=1m", "mode=750"])]
            let entries = MountTable.parse(try await h.output(of: config))
            let scratch = try #require(entries.last { $0.mountPoint == "/scratch" }, "no /scratch in \(entries.map(\.mountPoint))")
            #expect(scratch.fileSystemType == "tmpfs")
            #expect(scratch.mountOptions.contains("nosuid"))
            #expect(scratch.mountOptions.contains("nodev"))
            #expect(scratch.superOptions.contains("size=1024k"), "\(scratch.superOptions)")
            #expect(scratch.superOptions.contains("mode=750"), "\(scratch.superOptions)")
        }
    }

    @Test func bindMountOfHostFolderIsVisibleAndWritable() async throws {
        try await withHarness { h in
            let host = try h.makeHostDirectory("shared")
            try "from-host\n".write(toFile: host + "/in.txt", atomically: false, encoding: .utf8)
            var config = ContainerConfig.shell("cat /data/in.txt; echo from-container > /data/out.txt; grep ' /data ' /proc/self/mountinfo")
            config.extraMounts = [ContainerConfig.bind(host, at: "/data")]
            let output = try await h.output(of: config)
            #expect(output.hasPrefix("from-host"), "output: \(output)")
            #expect(output.contains(" /data "), "/data is not a mount point: \(output)")
            #expect(readText(host + "/out.txt") == "from-container\n")
        }
    }

    @Test func readonlyBindMountRefusesWrites() async throws {
        try await withHarness { h in
            let host = try h.makeHostDirectory("ro")
            try "kept\n".write(toFile: host + "/file", atomically: false, encoding: .utf8)
            var config = ContainerConfig.shell(
                "cat /ro/file; if touch /ro/new 2>/dev/null; then echo WROTE; else echo refused; fi; "
                    + "if echo x > /ro/file; then echo WROTE; fi; grep ' /ro ' /proc/self/mountinfo")
            config.extraMounts = [ContainerConfig.bind(host, at: "/ro", readonly: true)]
            let output = try await h.output(of: config)
            #expect(output.contains("kept"))
            #expect(output.contains("refused"))
            #expect(!output.contains("WROTE"), "output: \(output)")
            let entry = try #require(MountTable.parse(output).first { $0.mountPoint == "/ro" })
            #expect(entry.mountOptions.contains("ro"))
            #expect(!FileManager.default.fileExists(atPath: host + "/new"))
            #expect(readText(host + "/file") == "kept\n")
        }
    }

    @Test func readonlyBindInAUserNamespaceKeepsTheLockedFlagsOfItsSource() async throws {
        try await withHarness { h in
            // A source whose nosuid, nodev, noexec and noatime the container's user namespace may not clear: the
            // read-only remount is refused without them and must be retried with them (as runc does).
            let host = try h.makeHostDirectory("locked")
            guard mount("tmpfs", host, "tmpfs", UInt(MS_NOSUID | MS_NODEV | MS_NOEXEC | MS_NOATIME), "mode=0777") == 0 else {
                throw HarnessError("mount tmpfs on \(host): errno \(errno)")
            }
            defer { umount2(host, Int32(MNT_DETACH)) }
            // At /tmp, which the shared fixture has: root in the user namespace may not make a folder there.
            var config = ContainerConfig.shell(
                "if touch /tmp/new 2>/dev/null; then echo WROTE; else echo refused; fi; grep ' /tmp ' /proc/self/mountinfo")
            config.namespaces += [ContainerConfig.namespace("user")]
            config.uidMappings = [ContainerConfig.idMapping(container: 0, host: 100_000, size: 65536)]
            config.gidMappings = [ContainerConfig.idMapping(container: 0, host: 100_000, size: 65536)]
            config.extraMounts = [ContainerConfig.bind(host, at: "/tmp", readonly: true)]
            let output = try await h.output(of: config)
            #expect(output.hasPrefix("refused"), "output: \(output)")
            let entry = try #require(MountTable.parse(output).first { $0.mountPoint == "/tmp" }, "output: \(output)")
            for option in ["ro", "nosuid", "nodev", "noexec", "noatime"] {
                #expect(entry.mountOptions.contains(option), "\(option) missing from \(entry.mountOptions)")
            }
        }
    }

    /// The cgroup mount binds the container's own folder of each v1 hierarchy, read-only as the spec's options say.
    /// Run in a mount namespace whose pids hierarchy is shared, as on a systemd host: the container's folder there
    /// is a slave of the host's mount (as a bind in its rslave mount namespace is), never a peer that would carry
    /// mounts made in the container out to the host.
    @Test(.enabled(if: isDirectory("/sys/fs/cgroup/pids") && !FileManager.default.fileExists(atPath: "/sys/fs/cgroup/cgroup.controllers")))
    func cgroupMountBindsTheContainersOwnFoldersReadOnlyAsSlavesOfTheHostsMounts() async throws {
        try await withHarness { h in
            let config = ContainerConfig.shell(
                "cat /proc/self/mountinfo; if echo 1 > /sys/fs/cgroup/pids/pids.max 2>/dev/null; then echo WROTE; else echo refused; fi")
            let bundle = try h.makeBundle(config)
            let id = h.newID("cgmount")
            let script = "mount --make-shared /sys/fs/cgroup/pids && exec \"$0\" --root \"$1\" run --bundle \"$2\" \"$3\""
            let result = try await h.host("/usr/bin/unshare", ["--mount", "--propagation", "private", "--", "/bin/sh", "-c",
                                                               script, h.binary, h.stateDirectory, bundle.path, id])
            #expect(result.status == 0, "\(result)")
            #expect(result.stdout.hasSuffix("refused\n") || result.stdout.hasSuffix("refused"), "\(result)")
            let lines = result.stdout.split(separator: "\n").map(String.init)
            let binds = MountTable.parse(result.stdout).filter { $0.mountPoint.hasPrefix("/sys/fs/cgroup/") }
            #expect(binds.count >= 2, "\(result.stdout)")
            for bind in binds {
                #expect(bind.fileSystemType == "cgroup", "\(bind)")
                #expect(bind.root.hasSuffix("/" + id), "\(bind.mountPoint) shows \(bind.root)")
                for option in ["ro", "nosuid", "nodev", "noexec"] {
                    #expect(bind.mountOptions.contains(option), "\(option) missing from \(bind.mountPoint): \(bind.mountOptions)")
                }
            }
            // The optional fields (between the options and the dash) of the pids bind.
            let pids = try #require(lines.first { $0.split(separator: " ").count > 4 && $0.split(separator: " ")[4] == "/sys/fs/cgroup/pids" })
            let fields = pids.split(separator: " ")
            let optional = fields[6..<(fields.firstIndex(of: "-") ?? fields.endIndex)]
            #expect(optional.contains { $0.hasPrefix("master:") }, "\(pids)")
            #expect(!optional.contains { $0.hasPrefix("shared:") }, "\(pids)")
        }
    }

    @Test func readonlyRootMakesSlashReadOnly() async throws {
        try await withHarness { h in
            var config = ContainerConfig.shell("if touch /written 2>/dev/null; then echo WROTE; else echo refused; fi; cat /proc/self/mountinfo")
            config.readonlyRoot = true
            let bundle = try h.makeBundle(config, rootfs: .privateCopy)
            let result = try await h.runtime(["run", "--bundle", bundle.path, h.newID("ro")])
            #expect(result.status == 0, "\(result)")
            #expect(result.output.hasPrefix("refused"), "\(result)")
            let root = try #require(MountTable.parse(result.stdout).first { $0.mountPoint == "/" })
            #expect(root.mountOptions.contains("ro"))
            #expect(!FileManager.default.fileExists(atPath: bundle.rootfs + "/written"))

            // The same rootfs with readonly false is writable: the check above can fail.
            config.readonlyRoot = false
            config.args = ["sh", "-c", "touch /written && echo wrote"]
            let writable = try h.makeBundle(config, rootfs: .privateCopy)
            let wrote = try await h.runtime(["run", "--bundle", writable.path, h.newID("rw")])
            #expect(wrote.output == "wrote", "\(wrote)")
            #expect(FileManager.default.fileExists(atPath: writable.rootfs + "/written"))
        }
    }

    @Test func devHasTheStandardNodesAndLinks() async throws {
        try await withHarness { h in
            let script = """
                for n in null zero full random urandom tty; do [ -c /dev/$n ] && echo "char $n"; done
                [ -c /dev/ptmx ] || [ -L /dev/ptmx ] && echo "ptmx"
                for l in fd stdin stdout stderr; do [ -L /dev/$l ] && echo "link $l $(readlink /dev/$l)"; done
                [ -d /dev/shm ] && echo "dir shm"; [ -d /dev/pts ] && echo "dir pts"
                head -c 4 /dev/zero | od -An -tx1
                """
            let output = try await h.output(of: .shell(script))
            for node in ["null", "zero", "full", "random", "urandom", "tty"] {
                #expect(output.contains("char \(node)"), "/dev/\(node) missing: \(output)")
            }
            #expect(output.contains("ptmx"))
            #expect(output.contains("link fd /proc/self/fd"), "\(output)")
            #expect(output.contains("link stdin /proc/self/fd/0"), "\(output)")
            #expect(output.contains("link stdout /proc/self/fd/1"), "\(output)")
            #expect(output.contains("link stderr /proc/self/fd/2"), "\(output)")
            #expect(output.contains("dir shm"))
            #expect(output.contains("dir pts"))
            #expect(output.contains("00 00 00 00"), "/dev/zero does not read zeros: \(output)")
        }
    }

    @Test func linuxDevicesAddsADeviceNode() async throws {
        try await withHarness { h in
            var config = ContainerConfig(args: ["stat", "-c", "%F %t:%T %a %u:%g", "/dev/it-kmsg"])
            // 1:11 is /dev/kmsg, not among the default devices.
            config.devices = [["path": "/dev/it-kmsg", "type": "c", "major": 1, "minor": 11, "fileMode": 0o640, "uid": 0, "gid": 5]]
            let node = try await h.output(of: config)
            #expect(node == "character special file 1:b 640 0:5")
        }
    }

    @Test func deviceNodesTakeTheirModeWhateverTheUmaskAndReplaceWhatTheImageHas() async throws {
        try await withHarness { h in
            var config = ContainerConfig(args: ["stat", "-c", "%F %t:%T %a %u:%g", "/dev/it-zero", "/etc/it-node"])
            config.readonlyRoot = false
            config.devices = [["path": "/dev/it-zero", "type": "c", "major": 1, "minor": 5, "fileMode": 0o666,
                               "uid": 0, "gid": 0],
                              ["path": "/etc/it-node", "type": "c", "major": 1, "minor": 3, "fileMode": 0o606,
                               "uid": 0, "gid": 0]]
            let bundle = try h.makeBundle(config, rootfs: .privateCopy)
            try "a file of the image\n".write(toFile: bundle.rootfs + "/etc/it-node", atomically: false, encoding: .utf8)
            // A usual umask (022), which the runtime inherits and mknod would apply: runc makes nodes with umask 0.
            let umaskBefore = umask(0o022)
            let result = try await h.runtime(["run", "--bundle", bundle.path, h.newID("dev")])
            umask(umaskBefore)
            #expect(result.status == 0, "\(result)")
            #expect(result.output == "character special file 1:5 666 0:0\ncharacter special file 1:3 606 0:0",
                    "\(result)")
        }
    }

    @Test func symlinkMountDestinationsStayInsideTheRootfs() async throws {
        try await withHarness { h in
            // Host folders that a runtime following the symlinks on the host would mount over.
            let absoluteTarget = try h.makeHostDirectory("abs-target")
            let relativeTarget = try h.makeHostDirectory("rel-target")
            try "host\n".write(toFile: absoluteTarget + "/marker", atomically: false, encoding: .utf8)
            try "host\n".write(toFile: relativeTarget + "/marker", atomically: false, encoding: .utf8)

            var config = ContainerConfig.shell(
                "touch /abs/written /rel/written /slash/it-escape-probe/written && echo touched")
            config.readonlyRoot = false
            config.extraMounts = [
                ContainerConfig.tmpfs(at: "/abs", options: ["size=1m"]),
                ContainerConfig.tmpfs(at: "/rel", options: ["size=1m"]),
                ContainerConfig.tmpfs(at: "/slash/it-escape-probe", options: ["size=1m"]),
            ]
            let bundle = try h.makeBundle(config, rootfs: .privateCopy)
            // bundle/rootfs/../.. is the test folder, which holds rel-target.
            for (link, target) in [("abs", absoluteTarget), ("rel", "../../rel-target"), ("slash", "/")] {
                try FileManager.default.createSymbolicLink(atPath: bundle.rootfs + "/" + link, withDestinationPath: target)
            }
            let result = try await h.runtime(["run", "--bundle", bundle.path, h.newID("esc")])
            // runc resolves each destination inside the rootfs (as if the rootfs were /) and runs.
            #expect(result.status == 0, "\(result)")
            #expect(result.output == "touched", "\(result)")
            for target in [absoluteTarget, relativeTarget] {
                let entries = try FileManager.default.contentsOfDirectory(atPath: target)
                #expect(entries == ["marker"], "host folder \(target) was written through a symlink: \(entries)")
                #expect(!MountTable.current().contains { $0.mountPoint == target }, "\(target) was mounted over")
            }
            #expect(!FileManager.default.fileExists(atPath: "/it-escape-probe"), "a folder was made in the host's /")
            #expect(!MountTable.current().contains { $0.mountPoint == "/it-escape-probe" })
        }
    }
}
