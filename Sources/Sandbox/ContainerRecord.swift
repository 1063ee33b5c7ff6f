import Cgroups
import OCISpec
import PodrunCore

/// What podrun keeps on disk about one container (`<root>/<id>/state.json`).
public struct ContainerRecord: Codable, Sendable, Equatable {
    /// The container's id.
    public var id: String
    /// The bundle folder (absolute).
    public var bundle: String
    /// The root filesystem (absolute).
    public var rootfs: String
    /// The container's first process, as seen from the host.
    public var pid: Int32
    /// The start time of `pid` (clock ticks since boot), to tell it from a later process with the same pid.
    public var pidStartTime: UInt64
    /// When the container was created, RFC 3339 with nanoseconds.
    public var created: String
    /// The container's configuration as it was at create.
    public var spec: Spec
    /// The cgroup path of the container as configured.
    public var cgroupPath: String
    /// The container's cgroup folder in each hierarchy, by mount point.
    public var cgroupDirectories: [String: String]
    /// The image storage podrun made for the container (`run --image`): its overlay rootfs is unmounted and
    /// the folder removed with the container.
    public var storage: String?

    public init(id: String, bundle: String, rootfs: String, pid: Int32, pidStartTime: UInt64, created: String,
                spec: Spec, cgroupPath: String, cgroupDirectories: [String: String], storage: String? = nil) {
        self.storage = storage
        self.id = id
        self.bundle = bundle
        self.rootfs = rootfs
        self.pid = pid
        self.pidStartTime = pidStartTime
        self.created = created
        self.spec = spec
        self.cgroupPath = cgroupPath
        self.cgroupDirectories = cgroupDirectories
    }

    /// The container's cgroup.
    public func cgroup() throws -> any CgroupManager {
        try Cgroups.manager(path: cgroupPath, directories: cgroupDirectories)
    }

    /// Whether the container has a pid namespace of its own (killing its first process then ends all of it).
    public var hasPrivatePidNamespace: Bool {
        spec.linux?.namespaces?.contains { $0.type == .pid && $0.path == nil } ?? false
    }
}

extension ContainerRecord {
    /// The record as `save` writes it (the document `JSONCoding.encode` makes: members sorted by key, no `storage`
    /// when nil), with `spec` as the document given: the config.json the spec was decoded from.
    func stateDocument(spec: JSONTree) -> JSONTree {
        let directories = cgroupDirectories.sorted { $0.key.utf8Precedes($1.key) }
            .map { ($0.key, JSONTree.string($0.value)) }
        var members: [(String, JSONTree)] = [
            ("bundle", .string(bundle)),
            ("cgroupDirectories", .object(directories)),
            ("cgroupPath", .string(cgroupPath)),
            ("created", .string(created)),
            ("id", .string(id)),
            ("pid", .number(String(pid))),
            ("pidStartTime", .number(String(pidStartTime))),
            ("rootfs", .string(rootfs)),
            ("spec", spec),
        ]
        if let storage { members.append(("storage", .string(storage))) }
        return .object(members)
    }
}

extension ContainerRecord: JSONTreeReadable {
    /// Reads a state.json (what `exec` and `update` load) without `Decodable`'s first-use cost.
    public init(json field: JSONField) throws {
        try self.init(json: field, readingSpec: Spec.init(json:))
    }

    /// Reads a state.json with the spec read by `readingSpec` (the summary reads only part of it).
    init(json field: JSONField, readingSpec: (JSONField) throws -> Spec) throws {
        let o = try field.members()
        self.init(id: try o.required("id"), bundle: try o.required("bundle"), rootfs: try o.required("rootfs"),
                  pid: try o.required("pid"), pidStartTime: try o.required("pidStartTime"),
                  created: try o.required("created"), spec: try readingSpec(o.required("spec")),
                  cgroupPath: try o.required("cgroupPath"), cgroupDirectories: try o.required("cgroupDirectories"),
                  storage: try o.optional("storage"))
    }
}
