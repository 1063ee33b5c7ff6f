import OCISpec
import PodrunCore

/// What a user can set when running an image (`podrun run --image REF --env ... -- ARGS`).
public struct ImageRunOptions: Sendable, Equatable {
    /// Replaces the image's Cmd (kept after its Entrypoint) when non-empty.
    public var arguments: [String]
    /// Replaces the image's Entrypoint when set (an empty array clears it).
    public var entrypoint: [String]?
    /// `K=V` values added to (or replacing those of) the image's Env.
    public var environment: [String]
    /// Replaces the image's WorkingDir.
    public var workingDirectory: String?
    /// Replaces the image's User (`name`, `uid`, `name:group`, `uid:gid`).
    public var user: String?
    /// The container's hostname.
    public var hostname: String?
    /// Whether the process gets a terminal.
    public var terminal: Bool

    /// Options with the given values (all optional).
    public init(arguments: [String] = [], entrypoint: [String]? = nil, environment: [String] = [],
                workingDirectory: String? = nil, user: String? = nil, hostname: String? = nil, terminal: Bool = false) {
        self.arguments = arguments
        self.entrypoint = entrypoint
        self.environment = environment
        self.workingDirectory = workingDirectory
        self.user = user
        self.hostname = hostname
        self.terminal = terminal
    }
}

/// Builds a container's OCI configuration from an image's config, on podrun's secure defaults (those of
/// `podrun spec`: few capabilities, masked and read-only /proc paths, Docker's seccomp profile,
/// no_new_privs), as containerd's `WithImageConfig` does.
public enum ImageSpecBuilder {
    /// The PATH a container gets when its image sets none.
    public static let defaultPath = "PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"

    /// The configuration for running `image` with `options`; `users` is the image's user database, used to
    /// resolve the user and its groups and home. Throws `.invalidSpec` when there is nothing to run.
    public static func spec(image: ImageConfig, options: ImageRunOptions, users: UserDatabase) throws -> Spec {
        let config = image.config ?? ImageConfig.ExecutionConfig()
        let entrypoint = options.entrypoint ?? config.Entrypoint ?? []
        let command = options.arguments.isEmpty ? (options.entrypoint != nil ? [] : config.Cmd ?? []) : options.arguments
        let arguments = entrypoint + command
        guard !arguments.isEmpty else {
            throw PodrunError(.invalidSpec, "the image has no Entrypoint or Cmd; give a command after --", path: "config.Cmd")
        }
        for entry in options.environment where !entry.contains("=" as Character) {
            throw PodrunError(.invalidArgument, "environment value \"\(entry)\" is not KEY=VALUE", path: "--env")
        }
        let user = try users.resolve(options.user ?? config.User ?? "")

        var environment = config.Env ?? []
        if !environment.contains(where: { $0.hasPrefix("PATH=") }) { environment.insert(defaultPath, at: 0) }
        for entry in options.environment { set(entry, in: &environment) }
        if !environment.contains(where: { $0.hasPrefix("HOME=") }) { environment.append("HOME=" + user.home) }
        if options.terminal, !environment.contains(where: { $0.hasPrefix("TERM=") }) { environment.append("TERM=xterm") }

        var spec = Spec.podrunDefault()
        spec.root = Root(path: "rootfs", readonly: false)
        if let hostname = options.hostname { spec.hostname = hostname }
        var process = spec.process ?? Process()
        process.terminal = options.terminal
        process.args = arguments
        process.env = environment
        var cwd = options.workingDirectory ?? config.WorkingDir ?? "/"
        if cwd.isEmpty { cwd = "/" }
        guard cwd.hasPrefix("/") else {
            throw PodrunError(.invalidSpec, "the working directory \(cwd) is not absolute", path: "config.WorkingDir")
        }
        process.cwd = cwd
        process.user = OCISpec.User(uid: user.uid, gid: user.gid,
                                    additionalGids: user.additionalGids.isEmpty ? nil : user.additionalGids)
        spec.process = process
        return spec
    }

    /// Sets `entry` (`K=V`) in `environment`, replacing an entry of the same key.
    static func set(_ entry: String, in environment: inout [String]) {
        let key = entry.prefix { $0 != "=" } + "="
        if let index = environment.firstIndex(where: { $0.hasPrefix(key) }) {
            environment[index] = entry
        } else {
            environment.append(entry)
        }
    }
}
