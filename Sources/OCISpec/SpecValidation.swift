import PodrunCore

extension Spec {
    /// The names of the rlimits runtime-spec allows.
    public static let rlimitNames: Set<String> = [
        "RLIMIT_CPU", "RLIMIT_FSIZE", "RLIMIT_DATA", "RLIMIT_STACK", "RLIMIT_CORE", "RLIMIT_RSS", "RLIMIT_NPROC",
        "RLIMIT_NOFILE", "RLIMIT_MEMLOCK", "RLIMIT_AS", "RLIMIT_LOCKS", "RLIMIT_SIGPENDING", "RLIMIT_MSGQUEUE",
        "RLIMIT_NICE", "RLIMIT_RTPRIO", "RLIMIT_RTTIME",
    ]

    /// Checks the spec as runc does before it creates anything; the error names the first field at fault.
    public func validate() throws {
        guard !ociVersion.isEmpty else { throw PodrunError.invalidSpec("ociVersion", "is required") }
        guard let root, !root.path.isEmpty else { throw PodrunError.invalidSpec("root.path", "is required") }
        guard let process else { throw PodrunError.invalidSpec("process", "is required") }
        try process.validate(field: "process")

        let namespaces = linux?.namespaces ?? []
        var seen = Set<LinuxNamespaceType>()
        for (i, ns) in namespaces.enumerated() {
            guard seen.insert(ns.type).inserted else {
                throw PodrunError.invalidSpec("linux.namespaces[\(i)].type", "duplicate namespace \"\(ns.type.rawValue)\"")
            }
            if let path = ns.path, !path.isEmpty, !path.hasPrefix("/") {
                throw PodrunError.invalidSpec("linux.namespaces[\(i)].path", "must be absolute")
            }
        }
        func isNew(_ type: LinuxNamespaceType) -> Bool {
            namespaces.contains { $0.type == type && ($0.path ?? "").isEmpty }
        }
        func has(_ type: LinuxNamespaceType) -> Bool { namespaces.contains { $0.type == type } }

        guard has(.mount) else {
            throw PodrunError.invalidSpec("linux.namespaces", "a mount namespace is required")
        }
        let hasMappings = !(linux?.uidMappings ?? []).isEmpty || !(linux?.gidMappings ?? []).isEmpty
        if hasMappings && !has(.user) {
            throw PodrunError.invalidSpec("linux.uidMappings", "user namespace mappings specified, but user namespace isn't enabled in the config")
        }
        if isNew(.user) && ((linux?.uidMappings ?? []).isEmpty || (linux?.gidMappings ?? []).isEmpty) {
            throw PodrunError.invalidSpec("linux.uidMappings", "a new user namespace needs uidMappings and gidMappings")
        }
        if let hostname, !hostname.isEmpty, !has(.uts) {
            throw PodrunError.invalidSpec("hostname", "unable to set hostname without a private UTS namespace")
        }
        if let domainname, !domainname.isEmpty, !has(.uts) {
            throw PodrunError.invalidSpec("domainname", "unable to set domainname without a private UTS namespace")
        }
        for key in (linux?.sysctl ?? [:]).keys.sorted() {
            try Self.validateSysctl(key, has: has)
        }
        for (i, mount) in (mounts ?? []).enumerated() where mount.destination.isEmpty {
            throw PodrunError.invalidSpec("mounts[\(i)].destination", "is required")
        }
        for (i, device) in (linux?.devices ?? []).enumerated() {
            let field = "linux.devices[\(i)]"
            guard ["c", "b", "u", "p"].contains(device.type) else {
                throw PodrunError.invalidSpec(field + ".type", "unknown device type \"\(device.type)\"")
            }
            guard device.path.hasPrefix("/dev/") || device.path.hasPrefix("/") else {
                throw PodrunError.invalidSpec(field + ".path", "must be absolute")
            }
            if device.type != "p" && (device.major == nil || device.minor == nil) {
                throw PodrunError.invalidSpec(field, "major and minor are required for a \(device.type) device")
            }
        }
        if let propagation = linux?.rootfsPropagation, !propagation.isEmpty,
           MountOptions.propagationFlags(propagation) == nil {
            throw PodrunError.invalidSpec("linux.rootfsPropagation", "unknown propagation \"\(propagation)\"")
        }
        if let path = linux?.cgroupsPath, path.contains(":") {
            throw PodrunError.invalidSpec("linux.cgroupsPath",
                                          "systemd cgroup paths (slice:prefix:name) are not supported; use a cgroupfs path")
        }
        for path in (linux?.maskedPaths ?? []) + (linux?.readonlyPaths ?? []) where !path.hasPrefix("/") {
            throw PodrunError.invalidSpec("linux.maskedPaths", "\"\(path)\" must be absolute")
        }
    }

    /// runc's sysctl rule: each key must belong to a namespace the container has.
    static func validateSysctl(_ key: String, has: (LinuxNamespaceType) -> Bool) throws {
        let field = "linux.sysctl.\(key)"
        let ipc = ["kernel.msgmax", "kernel.msgmnb", "kernel.msgmni", "kernel.sem", "kernel.shmall", "kernel.shmmax",
                   "kernel.shmmni", "kernel.shm_rmid_forced"]
        if ipc.contains(key) || key.hasPrefix("fs.mqueue.") {
            guard has(.ipc) else { throw PodrunError.invalidSpec(field, "sysctl \"\(key)\" is not allowed in the hosts ipc namespace") }
            return
        }
        if key.hasPrefix("net.") {
            guard has(.network) else { throw PodrunError.invalidSpec(field, "sysctl \"\(key)\" is not allowed in the hosts network namespace") }
            return
        }
        if key == "kernel.hostname" || key == "kernel.domainname" {
            guard has(.uts) else { throw PodrunError.invalidSpec(field, "sysctl \"\(key)\" is not allowed in the hosts uts namespace") }
            return
        }
        throw PodrunError.invalidSpec(field, "sysctl \"\(key)\" is not in a separate kernel namespace")
    }
}

extension Process {
    /// Checks args, cwd, rlimits and the console size of a process.
    public func validate(field: String) throws {
        guard let args, let first = args.first, !first.isEmpty else {
            throw PodrunError.invalidSpec(field + ".args", "must not be empty")
        }
        guard cwd.hasPrefix("/") else {
            throw PodrunError.invalidSpec(field + ".cwd", "must be an absolute path, got \"\(cwd)\"")
        }
        var seen = Set<String>()
        for (i, limit) in (rlimits ?? []).enumerated() {
            let f = "\(field).rlimits[\(i)]"
            guard Spec.rlimitNames.contains(limit.type) else {
                throw PodrunError.invalidSpec(f + ".type", "unknown rlimit \"\(limit.type)\"")
            }
            guard seen.insert(limit.type).inserted else {
                throw PodrunError.invalidSpec(f + ".type", "duplicate rlimit \"\(limit.type)\"")
            }
            guard limit.soft <= limit.hard else {
                throw PodrunError.invalidSpec(f, "soft limit \(limit.soft) is above hard limit \(limit.hard)")
            }
        }
        for (name, list) in [("bounding", capabilities?.bounding), ("effective", capabilities?.effective),
                             ("inheritable", capabilities?.inheritable), ("permitted", capabilities?.permitted),
                             ("ambient", capabilities?.ambient)] {
            for (i, cap) in (list ?? []).enumerated() where !cap.hasPrefix("CAP_") {
                throw PodrunError.invalidSpec("\(field).capabilities.\(name)[\(i)]", "\"\(cap)\" is not a capability name")
            }
        }
    }
}
