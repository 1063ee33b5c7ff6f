import PodrunCore

// The spec's types read by hand from a parsed document (`JSONTreeReadable`): what `create`, `run` and `exec` use
// instead of the `Decodable` conformances, which decode the same (the tests hold the two together) but pay for the
// generic containers on first use in every process (about 0.4 ms of a create). A property that is not optional is
// `required`, an optional one `optional`, as the synthesized `Decodable` reads them.

extension Spec: JSONTreeReadable {
    public init(json field: JSONField) throws {
        let o = try field.members()
        self.init(ociVersion: try o.required("ociVersion"), process: try o.optional("process"),
                  root: try o.optional("root"), hostname: try o.optional("hostname"),
                  domainname: try o.optional("domainname"), mounts: try o.optional("mounts"),
                  hooks: try o.optional("hooks"), annotations: try o.optional("annotations"),
                  linux: try o.optional("linux"))
    }
}

extension Process: JSONTreeReadable {
    /// As `init(from:)`: a missing `user` is root and a missing `cwd` is empty.
    public init(json field: JSONField) throws {
        let o = try field.members()
        self.init(terminal: try o.optional("terminal"), consoleSize: try o.optional("consoleSize"),
                  user: try o.optional("user") ?? User(), args: try o.optional("args"),
                  commandLine: try o.optional("commandLine"), env: try o.optional("env"),
                  cwd: try o.optional("cwd") ?? "", capabilities: try o.optional("capabilities"),
                  rlimits: try o.optional("rlimits"), noNewPrivileges: try o.optional("noNewPrivileges"),
                  apparmorProfile: try o.optional("apparmorProfile"), oomScoreAdj: try o.optional("oomScoreAdj"),
                  selinuxLabel: try o.optional("selinuxLabel"), scheduler: try o.optional("scheduler"),
                  ioPriority: try o.optional("ioPriority"), execCPUAffinity: try o.optional("execCPUAffinity"))
    }
}

extension Scheduler: JSONTreeReadable {
    public init(json field: JSONField) throws {
        let o = try field.members()
        self.init(policy: try o.required("policy"), nice: try o.optional("nice"), priority: try o.optional("priority"),
                  flags: try o.optional("flags"), runtime: try o.optional("runtime"),
                  deadline: try o.optional("deadline"), period: try o.optional("period"))
    }
}

extension LinuxIOPriority: JSONTreeReadable {
    public init(json field: JSONField) throws {
        let o = try field.members()
        self.init(class: try o.required("class"), priority: try o.required("priority"))
    }
}

extension CPUAffinity: JSONTreeReadable {
    public init(json field: JSONField) throws {
        let o = try field.members()
        self.init(initial: try o.optional("initial"), final: try o.optional("final"))
    }
}

extension Box: JSONTreeReadable {
    public init(json field: JSONField) throws {
        let o = try field.members()
        self.init(height: try o.required("height"), width: try o.required("width"))
    }
}

extension User: JSONTreeReadable {
    public init(json field: JSONField) throws {
        let o = try field.members()
        self.init(uid: try o.required("uid"), gid: try o.required("gid"), umask: try o.optional("umask"),
                  additionalGids: try o.optional("additionalGids"), username: try o.optional("username"))
    }
}

extension LinuxCapabilities: JSONTreeReadable {
    public init(json field: JSONField) throws {
        let o = try field.members()
        self.init(bounding: try o.optional("bounding"), effective: try o.optional("effective"),
                  inheritable: try o.optional("inheritable"), permitted: try o.optional("permitted"),
                  ambient: try o.optional("ambient"))
    }
}

extension POSIXRlimit: JSONTreeReadable {
    public init(json field: JSONField) throws {
        let o = try field.members()
        self.init(type: try o.required("type"), hard: try o.required("hard"), soft: try o.required("soft"))
    }
}

extension Root: JSONTreeReadable {
    public init(json field: JSONField) throws {
        let o = try field.members()
        self.init(path: try o.required("path"), readonly: try o.optional("readonly"))
    }
}

extension Mount: JSONTreeReadable {
    public init(json field: JSONField) throws {
        let o = try field.members()
        self.init(destination: try o.required("destination"), type: try o.optional("type"),
                  source: try o.optional("source"), options: try o.optional("options"),
                  uidMappings: try o.optional("uidMappings"), gidMappings: try o.optional("gidMappings"))
    }
}

extension Hooks: JSONTreeReadable {
    public init(json field: JSONField) throws {
        let o = try field.members()
        self.init(prestart: try o.optional("prestart"), createRuntime: try o.optional("createRuntime"),
                  createContainer: try o.optional("createContainer"), startContainer: try o.optional("startContainer"),
                  poststart: try o.optional("poststart"), poststop: try o.optional("poststop"))
    }
}

extension Hook: JSONTreeReadable {
    public init(json field: JSONField) throws {
        let o = try field.members()
        self.init(path: try o.required("path"), args: try o.optional("args"), env: try o.optional("env"),
                  timeout: try o.optional("timeout"))
    }
}

extension Linux: JSONTreeReadable {
    public init(json field: JSONField) throws {
        let o = try field.members()
        self.init(uidMappings: try o.optional("uidMappings"), gidMappings: try o.optional("gidMappings"),
                  sysctl: try o.optional("sysctl"), resources: try o.optional("resources"),
                  cgroupsPath: try o.optional("cgroupsPath"), namespaces: try o.optional("namespaces"),
                  devices: try o.optional("devices"), seccomp: try o.optional("seccomp"),
                  rootfsPropagation: try o.optional("rootfsPropagation"), maskedPaths: try o.optional("maskedPaths"),
                  readonlyPaths: try o.optional("readonlyPaths"), mountLabel: try o.optional("mountLabel"),
                  personality: try o.optional("personality"), timeOffsets: try o.optional("timeOffsets"))
    }
}

extension LinuxNamespaceType: JSONTreeReadable {
    /// As `init(from:)`: an unknown type is named in the error.
    public init(json field: JSONField) throws {
        let text = try String(json: field)
        guard let value = LinuxNamespaceType(rawValue: text) else {
            throw DecodingError.dataCorrupted(.init(codingPath: field.codingPath,
                                                    debugDescription: "unknown namespace type \"\(text)\""))
        }
        self = value
    }
}

extension LinuxNamespace: JSONTreeReadable {
    public init(json field: JSONField) throws {
        let o = try field.members()
        self.init(type: try o.required("type"), path: try o.optional("path"))
    }
}

extension LinuxIDMapping: JSONTreeReadable {
    public init(json field: JSONField) throws {
        let o = try field.members()
        self.init(containerID: try o.required("containerID"), hostID: try o.required("hostID"),
                  size: try o.required("size"))
    }
}

extension LinuxDevice: JSONTreeReadable {
    public init(json field: JSONField) throws {
        let o = try field.members()
        self.init(path: try o.required("path"), type: try o.required("type"), major: try o.optional("major"),
                  minor: try o.optional("minor"), fileMode: try o.optional("fileMode"), uid: try o.optional("uid"),
                  gid: try o.optional("gid"))
    }
}

extension LinuxTimeOffset: JSONTreeReadable {
    public init(json field: JSONField) throws {
        let o = try field.members()
        self.init(secs: try o.optional("secs"), nanosecs: try o.optional("nanosecs"))
    }
}

extension LinuxPersonality: JSONTreeReadable {
    public init(json field: JSONField) throws {
        let o = try field.members()
        self.init(domain: try o.required("domain"), flags: try o.optional("flags"))
    }
}

extension LinuxSeccomp: JSONTreeReadable {
    public init(json field: JSONField) throws {
        let o = try field.members()
        self.init(defaultAction: try o.required("defaultAction"), defaultErrnoRet: try o.optional("defaultErrnoRet"),
                  architectures: try o.optional("architectures"), flags: try o.optional("flags"),
                  listenerPath: try o.optional("listenerPath"), listenerMetadata: try o.optional("listenerMetadata"),
                  syscalls: try o.optional("syscalls"))
    }
}

extension LinuxSyscall: JSONTreeReadable {
    public init(json field: JSONField) throws {
        let o = try field.members()
        self.init(names: try o.required("names"), action: try o.required("action"),
                  errnoRet: try o.optional("errnoRet"), args: try o.optional("args"))
    }
}

extension LinuxSeccompArg: JSONTreeReadable {
    public init(json field: JSONField) throws {
        let o = try field.members()
        self.init(index: try o.required("index"), value: try o.required("value"), valueTwo: try o.optional("valueTwo"),
                  op: try o.required("op"))
    }
}

extension LinuxResources: JSONTreeReadable {
    public init(json field: JSONField) throws {
        let o = try field.members()
        self.init(devices: try o.optional("devices"), memory: try o.optional("memory"), cpu: try o.optional("cpu"),
                  pids: try o.optional("pids"), blockIO: try o.optional("blockIO"),
                  hugepageLimits: try o.optional("hugepageLimits"), network: try o.optional("network"),
                  unified: try o.optional("unified"))
    }
}

extension LinuxDeviceCgroup: JSONTreeReadable {
    public init(json field: JSONField) throws {
        let o = try field.members()
        self.init(allow: try o.required("allow"), type: try o.optional("type"), major: try o.optional("major"),
                  minor: try o.optional("minor"), access: try o.optional("access"))
    }
}

extension LinuxMemory: JSONTreeReadable {
    public init(json field: JSONField) throws {
        let o = try field.members()
        self.init(limit: try o.optional("limit"), reservation: try o.optional("reservation"),
                  swap: try o.optional("swap"), kernel: try o.optional("kernel"), kernelTCP: try o.optional("kernelTCP"),
                  swappiness: try o.optional("swappiness"), disableOOMKiller: try o.optional("disableOOMKiller"),
                  useHierarchy: try o.optional("useHierarchy"), checkBeforeUpdate: try o.optional("checkBeforeUpdate"))
    }
}

extension LinuxCPU: JSONTreeReadable {
    public init(json field: JSONField) throws {
        let o = try field.members()
        self.init(shares: try o.optional("shares"), quota: try o.optional("quota"), burst: try o.optional("burst"),
                  period: try o.optional("period"), realtimeRuntime: try o.optional("realtimeRuntime"),
                  realtimePeriod: try o.optional("realtimePeriod"), cpus: try o.optional("cpus"),
                  mems: try o.optional("mems"), idle: try o.optional("idle"))
    }
}

extension LinuxPids: JSONTreeReadable {
    public init(json field: JSONField) throws {
        let o = try field.members()
        self.init(limit: try o.required("limit"))
    }
}

extension LinuxBlockIO: JSONTreeReadable {
    public init(json field: JSONField) throws {
        let o = try field.members()
        self.init(weight: try o.optional("weight"), leafWeight: try o.optional("leafWeight"),
                  weightDevice: try o.optional("weightDevice"),
                  throttleReadBpsDevice: try o.optional("throttleReadBpsDevice"),
                  throttleWriteBpsDevice: try o.optional("throttleWriteBpsDevice"),
                  throttleReadIOPSDevice: try o.optional("throttleReadIOPSDevice"),
                  throttleWriteIOPSDevice: try o.optional("throttleWriteIOPSDevice"))
    }
}

extension LinuxWeightDevice: JSONTreeReadable {
    public init(json field: JSONField) throws {
        let o = try field.members()
        self.init(major: try o.required("major"), minor: try o.required("minor"), weight: try o.optional("weight"),
                  leafWeight: try o.optional("leafWeight"))
    }
}

extension LinuxThrottleDevice: JSONTreeReadable {
    public init(json field: JSONField) throws {
        let o = try field.members()
        self.init(major: try o.required("major"), minor: try o.required("minor"), rate: try o.required("rate"))
    }
}

extension LinuxHugepageLimit: JSONTreeReadable {
    public init(json field: JSONField) throws {
        let o = try field.members()
        self.init(pageSize: try o.required("pageSize"), limit: try o.required("limit"))
    }
}

extension LinuxNetwork: JSONTreeReadable {
    public init(json field: JSONField) throws {
        let o = try field.members()
        self.init(classID: try o.optional("classID"), priorities: try o.optional("priorities"))
    }
}

extension LinuxInterfacePriority: JSONTreeReadable {
    public init(json field: JSONField) throws {
        let o = try field.members()
        self.init(name: try o.required("name"), priority: try o.required("priority"))
    }
}
