import LinuxSys
import OCISpec
import Testing
@testable import Sandbox

/// Which creates the runtime may clone straight into the container's namespaces (no intermediate init), and with
/// which namespace flags.
@Suite struct DirectCloneTests {
    static func config(_ namespaces: [LinuxNamespace], mode: InitConfig.Mode = .create) -> InitConfig {
        var spec = Spec()
        spec.linux = Linux(namespaces: namespaces)
        return InitConfig(mode: mode, containerID: "c", process: Process(), spec: spec, rootfs: "/r", bundle: "/b",
                          stateDirectory: "/s", capabilities: CapabilitySets(), seccomp: nil, noPivot: false,
                          preserveFds: 0)
    }

    static let runcDefault: [LinuxNamespace] = [.pid, .network, .ipc, .uts, .mount].map { LinuxNamespace(type: $0) }

    @Test func aCreateWithNewOrJoinedNetworkNamespacesIsClonedDirectly() {
        #expect(ContainerInit.canBeClonedDirectly(Self.config(Self.runcDefault)))
        let pod = [LinuxNamespace(type: .pid), LinuxNamespace(type: .mount), LinuxNamespace(type: .cgroup),
                   LinuxNamespace(type: .network, path: "/run/netns/pod"), LinuxNamespace(type: .ipc, path: "/proc/9/ns/ipc"),
                   LinuxNamespace(type: .uts, path: "/proc/9/ns/uts")]
        #expect(ContainerInit.canBeClonedDirectly(Self.config(pod)))
    }

    @Test func aUserOrTimeNamespaceAJoinedPidOrCgroupNamespaceOrAnExecTakesTheTwoStepInit() {
        #expect(!ContainerInit.canBeClonedDirectly(Self.config(Self.runcDefault + [LinuxNamespace(type: .user)])))
        #expect(!ContainerInit.canBeClonedDirectly(Self.config(Self.runcDefault + [LinuxNamespace(type: .time)])))
        let joinedPid = [LinuxNamespace(type: .pid, path: "/proc/9/ns/pid"), LinuxNamespace(type: .mount)]
        #expect(!ContainerInit.canBeClonedDirectly(Self.config(joinedPid)))
        let joinedCgroup = Self.runcDefault + [LinuxNamespace(type: .cgroup, path: "/proc/9/ns/cgroup")]
        #expect(!ContainerInit.canBeClonedDirectly(Self.config(joinedCgroup)))
        #expect(!ContainerInit.canBeClonedDirectly(Self.config(Self.runcDefault, mode: .exec)))
    }

    @Test func theCloneFlagsAreTheNewNamespacesButUserAndCgroup() {
        var spec = Spec()
        spec.linux = Linux(namespaces: Self.runcDefault.filter { $0.type != .network && $0.type != .ipc }
            + [LinuxNamespace(type: .network, path: "/run/netns/pod"), LinuxNamespace(type: .cgroup),
               LinuxNamespace(type: .user), LinuxNamespace(type: .ipc, path: "")])
        let expected = LinuxNamespaceType.pid.cloneFlag | LinuxNamespaceType.ipc.cloneFlag
            | LinuxNamespaceType.uts.cloneFlag | LinuxNamespaceType.mount.cloneFlag
        #expect(ContainerInit.newNamespaceFlags(spec) == expected)
    }

    @Test func theCgroupBindsAreCopiedWithTheRemountOfTheFirstCgroupMountOnlyWhenTheyAreV1Folders() {
        let options = ["nosuid", "noexec", "nodev", "relatime", "ro"]
        var spec = Spec()
        spec.mounts = [Mount(destination: "/proc", type: "proc", source: "proc"),
                       Mount(destination: "/sys/fs/cgroup", type: "cgroup", source: "cgroup", options: options),
                       Mount(destination: "/other", type: "cgroup", source: "cgroup", options: ["rw"])]
        spec.linux = Linux(namespaces: Self.runcDefault)
        let v1 = [CgroupBind(name: "memory", fsType: "cgroup", options: "memory", hostPath: "/sys/fs/cgroup/memory/c"),
                  CgroupBind(name: "pids", fsType: "cgroup", options: "pids", hostPath: "/sys/fs/cgroup/pids/c")]
        #expect(Runtime.cgroupMountAttributes(spec, binds: v1)
                == MountAttributes(remountFlags: MountOptions.parse(options).flags))
        // The v2 hierarchy bound whole (a unified host), no bind at all, or a cgroup namespace (mounted fresh): none.
        let unified = [CgroupBind(name: "", fsType: "cgroup2", options: "", hostPath: "/sys/fs/cgroup/c")]
        #expect(Runtime.cgroupMountAttributes(spec, binds: unified) == nil)
        #expect(Runtime.cgroupMountAttributes(spec, binds: []) == nil)
        var withNamespace = spec
        withNamespace.linux = Linux(namespaces: Self.runcDefault + [LinuxNamespace(type: .cgroup)])
        #expect(Runtime.cgroupMountAttributes(withNamespace, binds: v1) == nil)
        var withoutMount = spec
        withoutMount.mounts = [Mount(destination: "/proc", type: "proc", source: "proc")]
        #expect(Runtime.cgroupMountAttributes(withoutMount, binds: v1) == nil)
    }
}
