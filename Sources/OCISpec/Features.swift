/// What a runtime implements, as runtime-spec's features document (`podrun features`, like `runc features`).
public struct Features: Codable, Sendable, Equatable {
    public var ociVersionMin: String
    public var ociVersionMax: String
    public var hooks: [String]
    public var mountOptions: [String]
    public var linux: LinuxFeatures
    public var annotations: [String: String]

    /// The Linux part of the features document.
    public struct LinuxFeatures: Codable, Sendable, Equatable {
        public var namespaces: [String]
        public var capabilities: [String]
        public var cgroup: CgroupFeatures
        public var seccomp: SeccompFeatures
        public var apparmor: Enabled
        public var selinux: Enabled
    }

    /// Which cgroup drivers and versions are supported.
    public struct CgroupFeatures: Codable, Sendable, Equatable {
        public var v1: Bool
        public var v2: Bool
        public var systemd: Bool
        public var systemdUser: Bool
    }

    /// What of seccomp is supported.
    public struct SeccompFeatures: Codable, Sendable, Equatable {
        public var enabled: Bool
        public var actions: [String]
        public var operators: [String]
        public var archs: [String]
    }

    /// An on/off feature.
    public struct Enabled: Codable, Sendable, Equatable {
        public var enabled: Bool
    }

    /// podrun's features.
    public static func podrun(libseccompVersion: String?, capabilities: [String]) -> Features {
        var annotations = ["org.opencontainers.podrun.version": "0.1.0"]
        if let libseccompVersion { annotations["io.github.seccomp.libseccomp.version"] = libseccompVersion }
        return Features(
            ociVersionMin: "1.0.0", ociVersionMax: Spec.currentVersion,
            hooks: ["prestart", "createRuntime", "createContainer", "startContainer", "poststart", "poststop"],
            mountOptions: MountOptions.knownOptions,
            linux: LinuxFeatures(
                namespaces: LinuxNamespaceType.allCases.map(\.rawValue).sorted(),
                capabilities: capabilities,
                cgroup: CgroupFeatures(v1: true, v2: true, systemd: false, systemdUser: false),
                seccomp: SeccompFeatures(
                    enabled: true,
                    actions: ["SCMP_ACT_ALLOW", "SCMP_ACT_ERRNO", "SCMP_ACT_KILL", "SCMP_ACT_KILL_PROCESS",
                              "SCMP_ACT_KILL_THREAD", "SCMP_ACT_LOG", "SCMP_ACT_TRACE", "SCMP_ACT_TRAP"],
                    operators: ["SCMP_CMP_EQ", "SCMP_CMP_GE", "SCMP_CMP_GT", "SCMP_CMP_LE", "SCMP_CMP_LT",
                                "SCMP_CMP_MASKED_EQ", "SCMP_CMP_NE"],
                    archs: ["SCMP_ARCH_X86", "SCMP_ARCH_X86_64", "SCMP_ARCH_X32", "SCMP_ARCH_AARCH64", "SCMP_ARCH_ARM"]),
                apparmor: Enabled(enabled: false), selinux: Enabled(enabled: false)),
            annotations: annotations)
    }
}
