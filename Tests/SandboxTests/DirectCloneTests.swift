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
}
