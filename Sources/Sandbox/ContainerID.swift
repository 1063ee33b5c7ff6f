import PodrunCore

/// Container ids, with runc's rule: letters, digits, `_`, `+`, `-` and `.`, not `.` or `..`.
public enum ContainerID {
    /// Throws `.invalidArgument` unless `id` is a valid container id.
    public static func validate(_ id: String) throws {
        guard !id.isEmpty else { throw PodrunError(.invalidArgument, "container id cannot be empty") }
        let allowed = id.unicodeScalars.allSatisfy { s in
            (s >= "a" && s <= "z") || (s >= "A" && s <= "Z") || (s >= "0" && s <= "9") || "_+-.".unicodeScalars.contains(s)
        }
        guard allowed, id != ".", id != "..", id.utf8.count <= 1024 else {
            throw PodrunError(.invalidArgument, "invalid container id format: \(id)")
        }
    }
}
