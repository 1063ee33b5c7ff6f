import OCISpec
import PodrunCore

extension ContainerRecord {
    /// The record in `state` (a parsed state.json) with only what `start`, `kill`, `delete`, `state` and `ps`
    /// read of the spec: its annotations and namespaces. Nil when the spec has hooks (those commands run them:
    /// the full record is needed) or anything is not as `save` writes it.
    ///
    /// Reading these few fields by hand skips the Codable decoding of the whole spec, whose first use in a
    /// process costs milliseconds of type-metadata look-ups (see bench/README.md).
    static func summary(from state: JSONTree) -> ContainerRecord? {
        guard let id = state["id"]?.string, let bundle = state["bundle"]?.string, let rootfs = state["rootfs"]?.string,
              let pid = state["pid"]?.integer(Int32.self), let startTime = state["pidStartTime"]?.integer(UInt64.self),
              let created = state["created"]?.string, let cgroupPath = state["cgroupPath"]?.string,
              let directories = state["cgroupDirectories"]?.stringMap, let spec = state["spec"] else { return nil }
        if let hooks = spec["hooks"], !hooks.isNull { return nil }
        var storage: String? = nil
        if let value = state["storage"], !value.isNull {
            guard let text = value.string else { return nil }
            storage = text
        }
        var summary = Spec()
        if let value = spec["annotations"], !value.isNull {
            guard let annotations = value.stringMap else { return nil }
            summary.annotations = annotations
        }
        if let value = spec["linux"]?["namespaces"], !value.isNull {
            guard let items = value.array else { return nil }
            var namespaces: [LinuxNamespace] = []
            for item in items {
                guard let text = item["type"]?.string, let type = LinuxNamespaceType(rawValue: text) else { return nil }
                var path: String? = nil
                if let value = item["path"], !value.isNull {
                    guard let text = value.string else { return nil }
                    path = text
                }
                namespaces.append(LinuxNamespace(type: type, path: path))
            }
            summary.linux = Linux(namespaces: namespaces)
        }
        return ContainerRecord(id: id, bundle: bundle, rootfs: rootfs, pid: pid, pidStartTime: startTime,
                               created: created, spec: summary, cgroupPath: cgroupPath,
                               cgroupDirectories: directories, storage: storage)
    }
}
