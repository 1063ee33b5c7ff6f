import OCISpec
import PodrunCore

/// Turns a container's spec into one of a pod: it joins the sandbox's pinned namespaces and mounts its
/// volumes, and is marked with the sandbox's id.
public enum SandboxJoin {
    /// The annotation naming a container's sandbox.
    public static let annotation = "org.podrun.sandbox"

    /// `spec` joined to `sandbox`: net, ipc and uts (and pid when the pod shares it) by the pinned paths; no
    /// hostname of its own (the pod's is kept); the pod's `/dev/shm`; `mounts` (`VOLUME:/path[:ro]`) bound from the volumes.
    public static func apply(_ spec: Spec, sandbox: SandboxRecord, mounts: [String]) throws -> Spec {
        var spec = spec
        var linux = spec.linux ?? Linux()
        var namespaces = linux.namespaces ?? []
        for (kind, type) in [("net", LinuxNamespaceType.network), ("ipc", .ipc), ("uts", .uts), ("pid", .pid)] {
            guard let path = sandbox.namespaces[kind] else { continue }
            namespaces.removeAll { $0.type == type }
            namespaces.append(LinuxNamespace(type: type, path: path))
        }
        linux.namespaces = namespaces
        spec.linux = linux
        spec.hostname = nil
        if let shm = sandbox.shm {
            spec.mounts = (spec.mounts ?? []).filter { $0.destination != "/dev/shm" }
                + [Mount(destination: "/dev/shm", type: "bind", source: shm, options: ["rbind", "nosuid", "nodev", "noexec"])]
        }
        for mount in mounts {
            let parts = mount.split(separator: ":", omittingEmptySubsequences: false).map(String.init)
            guard parts.count == 2 || (parts.count == 3 && (parts[2] == "ro" || parts[2] == "rw")) else {
                throw PodrunError(.invalidArgument, "a mount is VOLUME:/path[:ro], not \(mount)", path: "--mount")
            }
            guard let source = sandbox.volumes[parts[0]] else {
                throw PodrunError(.notFound, "sandbox \(sandbox.id) has no volume \(parts[0])", path: "--mount")
            }
            guard parts[1].hasPrefix("/") else {
                throw PodrunError(.invalidArgument, "the mount destination \(parts[1]) is not absolute", path: "--mount")
            }
            var options = ["rbind", "rprivate"]
            if parts.count == 3 && parts[2] == "ro" { options.append("ro") }
            spec.mounts = (spec.mounts ?? []) + [Mount(destination: parts[1], type: "bind", source: source, options: options)]
        }
        var annotations = spec.annotations ?? [:]
        annotations[annotation] = sandbox.id
        spec.annotations = annotations
        return spec
    }
}
