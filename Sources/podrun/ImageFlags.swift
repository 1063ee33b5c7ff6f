import ArgumentParser
import ImageStore
import Pod
import PodrunCore
import Sandbox

/// The flags of `create` and `run` that make the bundle from an image (`--image REF ... -- ARGS`).
struct ImageFlags: ParsableArguments {
    @Option(name: .long, help: "Make the bundle from this image (its overlay rootfs and config).") var image: String?
    @Option(name: .long, help: "The container id, instead of the id argument (with --image: default a random id).") var name: String?
    @Option(name: [.short, .long], help: "With --image: set an environment variable (K=V).") var env: [String] = []
    @Option(name: [.customShort("w"), .long], help: "With --image: the working directory.") var workdir: String?
    @Option(name: [.short, .long], help: "With --image: the user (name, uid, name:group or uid:gid).") var user: String?
    @Option(name: .long, help: "With --image: the hostname (default: the container id).") var hostname: String?
    @Option(name: .long, help: "With --image: replace the image's entrypoint (empty: none).") var entrypoint: String?
    @Flag(name: [.short, .long], help: "With --image: give the process a terminal.") var tty = false
    @Option(name: .long, help: "Join the container to this pod sandbox (its net, ipc, uts and shared pid namespaces).")
    var sandbox: String?
    @Option(name: .long, help: "With --sandbox: mount a sandbox volume, VOLUME:/path[:ro].") var mount: [String] = []

    /// The container id and create options: the id argument and `base` as they are without `--image`; with
    /// it, a bundle made in the image store (removed with the container, or here when create fails).
    func prepare(id: String?, command: [String], base: Runtime.CreateOptions,
                 runtime: Runtime) throws -> (id: String, options: Runtime.CreateOptions) {
        guard let sandbox else {
            guard mount.isEmpty else { throw PodrunError(.invalidArgument, "--mount needs --sandbox") }
            return try prepareSource(id: id, command: command, base: base, runtime: runtime)
        }
        let manager = GlobalOptions.current.makeSandboxManager()
        let record = try manager.readySandbox(sandbox)
        var (containerID, options) = try prepareSource(id: id, command: command, base: base, runtime: runtime)
        do {
            let spec = try options.spec ?? Runtime.loadSpec(bundle: try Runtime.absolutePath(options.bundle))
            options.spec = try SandboxJoin.apply(spec, sandbox: record, mounts: mount)
            options.cgroupParent = manager.cgroupParent(of: record)
        } catch {
            if let storage = options.storage { try? ContainerStorage.release(folder: storage) }
            throw error
        }
        return (containerID, options)
    }

    /// The id and options for the bundle or the image, before any sandbox is joined.
    private func prepareSource(id: String?, command: [String], base: Runtime.CreateOptions,
                               runtime: Runtime) throws -> (id: String, options: Runtime.CreateOptions) {
        guard let image else {
            if let name, let id, name != id {
                throw PodrunError(.invalidArgument, "--name \(name) and the id argument \(id) differ")
            }
            guard let id = name ?? id else { throw PodrunError(.invalidArgument, "container id cannot be empty") }
            guard command.isEmpty, env.isEmpty, workdir == nil, user == nil, hostname == nil,
                  entrypoint == nil, !tty else {
                throw PodrunError(.invalidArgument, "a command, --env, --workdir, --user, --hostname, --entrypoint and --tty need --image")
            }
            return (id, base)
        }
        guard base.bundle == "." else { throw PodrunError(.invalidArgument, "--image and --bundle cannot be used together") }
        let containerID = name ?? id ?? Self.randomID()
        try ContainerID.validate(containerID)
        if (try? runtime.state(id: containerID)) != nil {
            throw PodrunError(.alreadyExists, "container with id exists: \(containerID)")
        }
        let options = ImageRunOptions(arguments: command, entrypoint: entrypoint.map { $0.isEmpty ? [] : [$0] },
                                      environment: env, workingDirectory: workdir, user: user, hostname: hostname,
                                      terminal: tty)
        let (bundle, spec) = try ImageBundle.make(GlobalOptions.current.makeImageService(), reference: image,
                                                   id: containerID, options: options)
        var result = base
        result.bundle = bundle
        result.storage = bundle
        result.spec = spec
        return (containerID, result)
    }

    /// 12 random hex digits.
    static func randomID() -> String {
        let text = String(UInt64.random(in: 0...UInt64.max), radix: 16)
        return String((String(repeating: "0", count: 16 - text.count) + text).prefix(12))
    }
}

/// `podrun bundle --image REF DIR`: an OCI bundle from an image, for another runtime.
struct BundleCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "bundle",
        abstract: "Write an OCI bundle (config.json and an overlay-mounted rootfs) from an image; --remove undoes it.")

    @Option(name: .long, help: "The image.") var image: String?
    @Flag(name: .long, help: "Unmount and remove a bundle this command wrote.") var remove = false
    @Option(name: .long, help: "The name of the bundle's storage in the store (default: random).") var name: String?
    @Option(name: [.short, .long], help: "Set an environment variable (K=V).") var env: [String] = []
    @Option(name: [.customShort("w"), .long], help: "The working directory.") var workdir: String?
    @Option(name: [.short, .long], help: "The user (name, uid, name:group or uid:gid).") var user: String?
    @Flag(name: [.short, .long], help: "Give the process a terminal.") var tty = false
    @Argument(help: "The bundle folder.") var directory: String
    @Argument(parsing: .postTerminator, help: "The command (default: the image's).") var command: [String] = []

    func run() throws {
        if remove {
            try ImageBundle.remove(directory: directory)
            return
        }
        guard let image else { throw PodrunError(.invalidArgument, "bundle needs --image REF (or --remove)") }
        let storageName = name ?? "bundle-" + ImageFlags.randomID()
        try ContainerID.validate(storageName)
        // The folder may not exist yet (write makes it), so only a relative path is made absolute here.
        let absolute = directory.hasPrefix("/") ? directory : (try Runtime.absolutePath(".")) + "/" + directory
        _ = try ImageBundle.write(GlobalOptions.current.makeImageService(), reference: image, name: storageName,
                                  into: absolute,
                                  options: ImageRunOptions(arguments: command, environment: env,
                                                           workingDirectory: workdir, user: user, terminal: tty))
        print(directory)
    }
}
