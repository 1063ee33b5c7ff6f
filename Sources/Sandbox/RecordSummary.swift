import OCISpec
import PodrunCore

extension ContainerRecord {
    /// The record in `state` (a parsed state.json) with only what `start`, `kill`, `delete`, `state` and `ps`
    /// read of the spec: its annotations and namespaces. Nil when the spec has hooks (those commands run them:
    /// the full record is needed) or anything is not as `save` writes it (the full decoding then says what).
    ///
    /// The record's own fields go through its reader; of the spec only these two are read, the rest of it (the
    /// mounts, the process, the seccomp profile) is skipped.
    static func summary(from state: JSONTree) -> ContainerRecord? {
        try? ContainerRecord(json: JSONField(root: state), readingSpec: summarySpec)
    }

    /// Thrown for a spec whose hooks mean the full record is needed.
    private struct HooksNeedTheFullRecord: Error {}

    /// The spec's annotations and namespaces.
    private static func summarySpec(_ field: JSONField) throws -> Spec {
        let spec = try field.members()
        if let hooks = spec.field("hooks"), !hooks.value.isNull { throw HooksNeedTheFullRecord() }
        var summary = Spec(annotations: try spec.optional("annotations"))
        if let linux = spec.field("linux"), !linux.value.isNull,
           let namespaces = try linux.members().optional("namespaces", as: [LinuxNamespace].self) {
            summary.linux = Linux(namespaces: namespaces)
        }
        return summary
    }
}
