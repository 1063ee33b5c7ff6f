import CPodrunShim
import Glibc
import LinuxSys
import OCISpec
import PodrunCore

/// Builds a container's root filesystem inside its new mount namespace, in runc's order: propagation, the rootfs
/// bind, the spec's mounts, /dev, then pivot_root. Every destination is resolved inside the rootfs and mounted
/// through its descriptor.
struct RootfsBuilder: ~Copyable {
    let config: InitConfig
    let rootfs: RootedDirectory
    /// Entered before a cgroup mount (it binds the container's own cgroup folders) and before device nodes are
    /// made (the devices cgroup decides which mknod is allowed).
    let cgroupEntry: CgroupEntry?

    /// Makes the mount namespace private (or as `rootfsPropagation` asks) and binds the rootfs onto itself.
    init(config: InitConfig, cgroupEntry: CgroupEntry? = nil) throws {
        self.config = config
        self.cgroupEntry = cgroupEntry
        let propagation = config.spec.linux?.rootfsPropagation.flatMap { MountOptions.propagationFlags($0) }
            ?? (Sys.MS_SLAVE | Sys.MS_REC)
        try Sys.mount(nil, "/", nil, propagation, describe: "make / \(propagation) in the container's mount namespace")
        try Sys.mount(config.rootfs, config.rootfs, "bind", Sys.MS_BIND | Sys.MS_REC, describe: "bind rootfs")
        self.rootfs = try RootedDirectory(opening: config.rootfs)
    }

    /// Mounts everything in the spec, sets up /dev and the cwd.
    func mountAll() throws {
        let mounts = config.spec.mounts ?? []
        for (index, mount) in mounts.enumerated() {
            do {
                try self.mount(mount)
            } catch let e as PodrunError {
                throw e.context("mounts[\(index)] (\(mount.destination))")
            }
        }
        let devIsPrivate = mounts.contains { RootedDirectory.relative($0.destination) == "dev" && !isBind($0) }
        try cgroupEntry?.enter()
        if devIsPrivate {
            try makeDevices()
        } else if let devices = config.spec.linux?.devices, !devices.isEmpty {
            try makeDevices(only: devices)
        }
        // The cwd must exist (runc creates it).
        let cwd = config.process.cwd
        if !cwd.isEmpty, let fd = try? rootfs.makeDirectories(cwd) { close(fd) }
    }

    private func isBind(_ mount: Mount) -> Bool {
        mount.type == "bind" || (mount.options ?? []).contains { $0 == "bind" || $0 == "rbind" }
    }

    /// One mount from the spec.
    private func mount(_ m: Mount) throws {
        let options = MountOptions.parse(m.options ?? [])
        let bind = isBind(m)
        if m.type == "cgroup" || m.type == "cgroup2" {
            try cgroupEntry?.enter()
            return try mountCgroups(m, options)
        }
        let target: Int32
        var source = m.source
        if bind {
            var src = m.source ?? ""
            if !src.hasPrefix("/") { src = bundlePath(src) }
            source = src
            var st = stat()
            guard stat(src, &st) == 0 else { throw PodrunError.system("stat bind source", path: src) }
            target = (st.st_mode & S_IFMT) == S_IFDIR
                ? try rootfs.makeDirectories(m.destination) : try rootfs.makeFile(m.destination)
        } else {
            target = try rootfs.makeDirectories(m.destination)
        }
        defer { close(target) }
        let path = RootedDirectory.procPath(target)
        if bind {
            try Sys.mount(source, path, nil, Sys.MS_BIND | (options.isRecursiveBind ? Sys.MS_REC : 0),
                          describe: "bind \(source ?? "")")
            let extra = options.flags & ~(Sys.MS_BIND | Sys.MS_REC)
            if extra != 0 {
                try remount(m.destination, flags: extra | Sys.MS_BIND | (options.isRecursiveBind ? Sys.MS_REC : 0))
            }
        } else {
            try Sys.mount(source ?? m.type, path, m.type, options.flags, options.data.isEmpty ? nil : options.data,
                          describe: "mount \(m.type ?? "")")
        }
        try applyPropagation(m.destination, options.propagation)
        if options.recursiveSet != 0 || options.recursiveClear != 0 {
            let fd = try rootfs.openPath(m.destination)
            defer { close(fd) }
            guard podrun_mount_setattr_recursive(fd, options.recursiveSet, options.recursiveClear) == 0 else {
                throw PodrunError.system("mount_setattr", path: m.destination)
            }
        }
    }

    /// Re-mounts the mount at `destination` with `flags`, keeping the locked flags (nosuid, nodev, noexec, ...)
    /// it has, which an unprivileged remount may not clear.
    private func remount(_ destination: String, flags: UInt) throws {
        let fd = try rootfs.openPath(destination)
        defer { close(fd) }
        try Self.remount(RootedDirectory.procPath(fd), flags: flags)
    }

    /// Re-mounts `path` (already resolved) with `flags`; when the kernel refuses (`EPERM`: the mount came from a
    /// more privileged mount namespace, which locks its nosuid, nodev, noexec and atime flags), once more with
    /// the locked flags it has added, as runc does.
    static func remount(_ path: String, flags: UInt) throws {
        if podrun_mount(nil, path, nil, Sys.MS_REMOUNT | flags, nil) == 0 { return }
        let refused = errno
        var fs = statvfs()
        guard refused == EPERM, statvfs(path, &fs) == 0 else {
            throw PodrunError.system("remount", path: path, errno: refused)
        }
        try Sys.mount(nil, path, nil, Sys.MS_REMOUNT | flags | lockedFlags(statvfsFlags: UInt(fs.f_flag)),
                      describe: "remount")
    }

    /// The mount flags that a remount in a user namespace must keep, from statvfs's `f_flag`: nosuid, nodev,
    /// noexec and the atime mode (ST_NOSUID 2, ST_NODEV 4, ST_NOEXEC 8, ST_NOATIME 1024, ST_NODIRATIME 2048 and
    /// ST_RELATIME 4096 have the values of their MS_ flags). Read-only is the caller's to choose.
    static func lockedFlags(statvfsFlags: UInt) -> UInt {
        statvfsFlags & (2 | 4 | 8 | 1024 | 2048 | 4096)
    }

    private func applyPropagation(_ destination: String, _ flags: [UInt]) throws {
        guard !flags.isEmpty else { return }
        let fd = try rootfs.openPath(destination)
        defer { close(fd) }
        for flag in flags {
            try Sys.mount(nil, RootedDirectory.procPath(fd), nil, flag, describe: "set propagation of")
        }
    }

    /// A `cgroup` mount: a tmpfs with one folder per v1 hierarchy, each the container's own cgroup (bound from
    /// the host, or mounted fresh when the container has a cgroup namespace); on v2 the cgroup2 filesystem.
    private func mountCgroups(_ m: Mount, _ options: MountOptions) throws {
        let target = try rootfs.makeDirectories(m.destination)
        defer { close(target) }
        let path = RootedDirectory.procPath(target)
        let hasCgroupNS = config.spec.linux?.namespaces?.contains { $0.type == .cgroup } ?? false
        let baseFlags = options.flags & ~Sys.MS_RDONLY
        if let unified = config.cgroupMounts.first(where: { $0.fsType == "cgroup2" && $0.name.isEmpty }) {
            if hasCgroupNS {
                try Sys.mount("cgroup2", path, "cgroup2", options.flags, nil, describe: "mount cgroup2")
            } else {
                try Sys.mount(unified.hostPath, path, nil, Sys.MS_BIND, describe: "bind cgroup2")
                try remount(m.destination, flags: options.flags | Sys.MS_BIND)
            }
            return
        }
        try Sys.mount("tmpfs", path, "tmpfs", baseFlags, "mode=755", describe: "mount cgroup tmpfs")
        let tmpfs = try rootfs.openPath(m.destination)
        defer { close(tmpfs) }
        // The mount points are reached by name through the new tmpfs's descriptor: it is this process's own
        // filesystem, made a moment ago, where nothing else can put a symlink.
        let tmpfsPath = RootedDirectory.procPath(tmpfs)
        let readOnly = options.flags & Sys.MS_RDONLY
        for index in config.cgroupMounts.indices {
            let hierarchy = config.cgroupMounts[index]
            guard mkdirat(tmpfs, hierarchy.name, 0o755) == 0 || errno == EEXIST else {
                throw PodrunError.system("mkdir cgroup mount point", path: hierarchy.name)
            }
            let mountPoint = tmpfsPath + "/" + hierarchy.name
            if !hasCgroupNS, let copy = cgroupEntry?.takeMountCopy(index) {
                // The runtime's copy of the folder's mount, read-only as the remount below would make it.
                let moved = podrun_move_mount(copy, tmpfs, hierarchy.name)
                let e = errno
                close(copy)
                guard moved == 0 else { throw PodrunError.system("move cgroup mount", path: hierarchy.name, errno: e) }
            } else if hasCgroupNS {
                try Sys.mount("cgroup", mountPoint, hierarchy.fsType, baseFlags | readOnly, hierarchy.options,
                              describe: "mount cgroup \(hierarchy.name)")
            } else {
                try Sys.mount(hierarchy.hostPath, mountPoint, nil, Sys.MS_BIND, describe: "bind cgroup \(hierarchy.name)")
                // The path now leads to the new mount, which the remount changes (not the folder beneath it).
                try Self.remount(mountPoint, flags: baseFlags | readOnly | Sys.MS_BIND)
            }
        }
        if readOnly != 0 {
            try Self.remount(tmpfsPath, flags: options.flags | Sys.MS_BIND)
        }
    }

    /// The default devices and symlinks of runc, and `linux.devices`, in a private /dev.
    private func makeDevices() throws {
        let extra = config.spec.linux?.devices ?? []
        var nodes = DeviceNodes(inUserNamespace: inUserNamespace)
        defer { nodes.close() }
        // runc's defaults, each unless the spec has a device at its path; one at a time (an array of them would
        // make its storage type at run time, in the container's process).
        for index in 0..<Self.defaultDeviceCount {
            let device = Self.defaultDevice(index)
            if !extra.contains(where: { $0.path == device.path }) { try makeDevice(device, field: nil, &nodes) }
        }
        for index in extra.indices { try makeDevice(extra[index], field: index, &nodes) }
        nodes.close()
        let links = [("/proc/self/fd", "/dev/fd"), ("/proc/self/fd/0", "/dev/stdin"),
                     ("/proc/self/fd/1", "/dev/stdout"), ("/proc/self/fd/2", "/dev/stderr"),
                     ("pts/ptmx", "/dev/ptmx")]
        let dev = try rootfs.makeDirectories("/dev")
        defer { close(dev) }
        if FileIO.exists("/proc/kcore") {
            if symlinkat("/proc/kcore", dev, "core") != 0 && errno != EEXIST {
                throw PodrunError.system("symlink", path: "/dev/core")
            }
        }
        for (target, link) in links {
            let name = RootedDirectory.split(link).name
            if name == "ptmx" { unlinkat(dev, name, 0) }
            if symlinkat(target, dev, name) != 0 && errno != EEXIST {
                throw PodrunError.system("symlink", path: link)
            }
        }
    }

    /// How many devices runc makes in every private /dev.
    static let defaultDeviceCount = 6

    /// runc's default device number `index`: null, zero, full, random, urandom and tty, each 0666 and root's.
    static func defaultDevice(_ index: Int) -> LinuxDevice {
        let (path, major, minor): (String, Int64, Int64) = switch index {
        case 0: ("/dev/null", 1, 3)
        case 1: ("/dev/zero", 1, 5)
        case 2: ("/dev/full", 1, 7)
        case 3: ("/dev/random", 1, 8)
        case 4: ("/dev/urandom", 1, 9)
        default: ("/dev/tty", 5, 0)
        }
        return LinuxDevice(path: path, type: "c", major: major, minor: minor, fileMode: 0o666, uid: 0, gid: 0)
    }

    private var inUserNamespace: Bool {
        config.spec.linux?.namespaces?.contains { $0.type == .user } ?? false
    }

    /// Makes device nodes: mknod, or (in a user namespace, where mknod is not allowed) a bind of the host's node.
    private func makeDevices(only devices: [LinuxDevice]) throws {
        var nodes = DeviceNodes(inUserNamespace: inUserNamespace)
        defer { nodes.close() }
        for index in devices.indices { try makeDevice(devices[index], field: index, &nodes) }
    }

    /// What device nodes are made with: the folder of the previous node, kept open (a spec's nodes are usually
    /// all in /dev), and no umask in the way (the nodes get their modes from mknod, as runc makes them).
    private struct DeviceNodes: ~Copyable {
        let inUserNamespace: Bool
        var folderPath = ""
        var folder: DeviceFolder? = nil
        private var umaskBefore: mode_t? = nil

        init(inUserNamespace: Bool) {
            self.inUserNamespace = inUserNamespace
            umaskBefore = umask(0)
        }

        /// Closes the folder and puts the umask back (again is harmless).
        mutating func close() {
            if let folder { Glibc.close(folder.fd) }
            folder = nil
            if let umaskBefore { umask(umaskBefore) }
            umaskBefore = nil
        }
    }

    /// Makes one device node; `field` is its index in `linux.devices` (nil for runc's defaults), for errors.
    private func makeDevice(_ device: LinuxDevice, field: Int?, _ nodes: inout DeviceNodes) throws {
        let (parent, name) = RootedDirectory.split(device.path)
        let folder: DeviceFolder
        if let open = nodes.folder, parent == nodes.folderPath {
            folder = open
        } else {
            if let previous = nodes.folder { close(previous.fd) }
            nodes.folder = nil
            folder = try DeviceFolder(fd: rootfs.makeDirectories(parent))
            nodes.folder = folder
            nodes.folderPath = parent
        }
        let dir = folder.fd
        if nodes.inUserNamespace {
            let node = try rootfs.makeFile(device.path)
            defer { close(node) }
            try Sys.mount(device.path, RootedDirectory.procPath(node), nil, Sys.MS_BIND,
                          describe: "bind device \(device.path)")
            return
        }
        let kind: mode_t
        switch device.type {
        case "c", "u": kind = S_IFCHR
        case "b": kind = S_IFBLK
        case "p": kind = S_IFIFO
        default:
            throw PodrunError.invalidSpec("linux.devices[\(field ?? 0)].type", "unknown device type \"\(device.type)\"")
        }
        // Whatever the image has at the path is replaced.
        let mode = kind | mode_t(device.fileMode ?? 0o666) & 0o7777
        let major = UInt32(device.major ?? 0), minor = UInt32(device.minor ?? 0)
        var made = podrun_mknodat(dir, name, mode, major, minor) == 0
        if !made && errno == EEXIST && unlinkat(dir, name, 0) == 0 {
            made = podrun_mknodat(dir, name, mode, major, minor) == 0
        }
        guard made else { throw PodrunError.system("mknod", path: device.path) }
        let uid = device.uid ?? 0, gid = device.gid ?? 0
        if !folder.newNodesBelongTo(uid: uid, gid: gid) {
            guard fchownat(dir, name, uid, gid, AT_SYMLINK_NOFOLLOW) == 0 else {
                throw PodrunError.system("chown", path: device.path)
            }
        }
    }

    /// A folder device nodes are made in, and who owns what is made there.
    private struct DeviceFolder {
        let fd: Int32
        /// The owner of a node this process makes here.
        let newNodeUser: uid_t
        /// Its group: the folder's when it is set-group-ID, else this process's.
        let newNodeGroup: gid_t

        init(fd: Int32) throws {
            var st = stat()
            guard fstat(fd, &st) == 0 else {
                close(fd)
                throw PodrunError.system("stat device folder")
            }
            self.fd = fd
            self.newNodeUser = geteuid()
            self.newNodeGroup = st.st_mode & S_ISGID != 0 ? st.st_gid : getegid()
        }

        /// Whether a node made here by this process is owned by `uid` and `gid` already (no chown needed).
        func newNodesBelongTo(uid: uid_t, gid: gid_t) -> Bool {
            uid == newNodeUser && gid == newNodeGroup
        }
    }

    /// Makes the rootfs the process' root: pivot_root and detach the old root, or MS_MOVE and chroot.
    func enterRoot() throws {
        if config.noPivot {
            try Sys.chdir(config.rootfs)
            try Sys.mount(config.rootfs, "/", nil, Sys.MS_MOVE, describe: "move rootfs to /")
            guard chroot(".") == 0 else { throw PodrunError.system("chroot", path: config.rootfs) }
            try Sys.chdir("/")
            return
        }
        let oldRoot = open("/", O_DIRECTORY | O_RDONLY | O_CLOEXEC)
        guard oldRoot >= 0 else { throw PodrunError.system("open /") }
        defer { close(oldRoot) }
        let newRoot = open(config.rootfs, O_DIRECTORY | O_RDONLY | O_CLOEXEC)
        guard newRoot >= 0 else { throw PodrunError.system("open", path: config.rootfs) }
        defer { close(newRoot) }
        guard fchdir(newRoot) == 0 else { throw PodrunError.system("chdir", path: config.rootfs) }
        try Sys.pivotRoot(".", ".")
        guard fchdir(oldRoot) == 0 else { throw PodrunError.system("chdir to old root") }
        // Keep the unmount of the old root from propagating to the host.
        try Sys.mount(nil, ".", nil, Sys.MS_SLAVE | Sys.MS_REC, describe: "make old root a slave")
        try Sys.unmount(".", flags: Sys.MNT_DETACH)
        try Sys.chdir("/")
    }

    /// After the root is entered: the read-only root.
    static func makeRootReadOnly(_ spec: Spec) throws {
        if spec.root?.readonly == true {
            try remount("/", flags: Sys.MS_BIND | Sys.MS_RDONLY)
        }
    }

    /// Last of the filesystem work (after hostname and sysctl, as runc): read-only paths and masked paths.
    static func protectPaths(_ spec: Spec) throws {
        // As runc does: the mount says whether the path is there (ENOENT) and, for a mask, whether it is a folder
        // (ENOTDIR from the bind of /dev/null), with no stat before each.
        for path in spec.linux?.readonlyPaths ?? [] {
            guard podrun_mount(path, path, nil, Sys.MS_BIND | Sys.MS_REC, nil) == 0 else {
                let e = errno
                if e == ENOENT { continue }
                throw PodrunError.system("bind readonly path", path: path, errno: e)
            }
            try remount(path, flags: Sys.MS_BIND | Sys.MS_REC | Sys.MS_RDONLY)
        }
        for path in spec.linux?.maskedPaths ?? [] where podrun_mount("/dev/null", path, nil, Sys.MS_BIND, nil) != 0 {
            let e = errno
            if e == ENOENT { continue }
            guard e == ENOTDIR else { throw PodrunError.system("mask", path: path, errno: e) }
            try Sys.mount("tmpfs", path, "tmpfs", Sys.MS_RDONLY, describe: "mask")
        }
    }

    private func bundlePath(_ relative: String) -> String {
        // Relative bind sources are relative to the bundle, which is the runtime's cwd.
        var buffer = [CChar](repeating: 0, count: 4096)
        let cwd = getcwd(&buffer, buffer.count).map { String(cString: $0) } ?? "."
        return cwd + "/" + relative
    }
}
