/// An OCI image config: the platform, how to run the image, and the uncompressed layer digests.
public struct ImageConfig: Codable, Hashable, Sendable {
    /// The CPU architecture (`amd64`).
    public var architecture: String
    /// The operating system (`linux`).
    public var os: String
    /// The defaults for a container of this image.
    public var config: ExecutionConfig?
    /// The uncompressed layers' digests.
    public var rootfs: RootFS
    /// When the image was made (RFC 3339), when the config says.
    public var created: String?

    /// A value with the given fields.
    public init(architecture: String, os: String, config: ExecutionConfig? = nil, rootfs: RootFS, created: String? = nil) {
        self.created = created
        self.architecture = architecture
        self.os = os
        self.config = config
        self.rootfs = rootfs
    }

    /// The defaults for a container of an image; property names are the JSON keys.
    public struct ExecutionConfig: Codable, Hashable, Sendable {
        /// `NAME=value` environment entries.
        public var Env: [String]?
        /// The entrypoint argv.
        public var Entrypoint: [String]?
        /// The default arguments (or argv when there is no entrypoint).
        public var Cmd: [String]?
        /// The working directory.
        public var WorkingDir: String?
        /// The user, `name`, `uid`, `uid:gid` or `name:group`.
        public var User: String?
        /// Free-form labels.
        public var Labels: [String: String]?

        /// A value with the given fields.
        public init(Env: [String]? = nil, Entrypoint: [String]? = nil, Cmd: [String]? = nil,
                    WorkingDir: String? = nil, User: String? = nil, Labels: [String: String]? = nil) {
            self.Env = Env
            self.Entrypoint = Entrypoint
            self.Cmd = Cmd
            self.WorkingDir = WorkingDir
            self.User = User
            self.Labels = Labels
        }
    }

    /// The layers of the root filesystem, as uncompressed digests.
    public struct RootFS: Codable, Hashable, Sendable {
        /// Always `layers`.
        public var type: String
        /// The sha256 of each uncompressed layer tar, bottom first.
        public var diff_ids: [String]

        /// A value with the given fields.
        public init(type: String = "layers", diff_ids: [String]) {
            self.type = type
            self.diff_ids = diff_ids
        }
    }
}
