import ArgumentParser
import Sandbox

/// `podrun create`: makes a container whose process waits for `start`.
struct Create: ParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Create a container; its process waits for 'start'.")

    @OptionGroup var options: CreateFlags
    @OptionGroup(title: "Image") var image: ImageFlags
    @Argument(help: "The container id.") var id: String?
    @Argument(parsing: .postTerminator, help: "With --image: the command (default: the image's).") var command: [String] = []

    func run() throws {
        let runtime = GlobalOptions.current.makeRuntime()
        let (id, createOptions) = try image.prepare(id: id, command: command, base: options.runtimeOptions(),
                                                    runtime: runtime)
        try runtime.create(id: id, options: createOptions)
        if image.image != nil && image.name == nil && self.id == nil { print(id) }
    }
}

/// The flags `create` and `run` share.
struct CreateFlags: ParsableArguments {
    @Option(name: [.short, .long], help: "The bundle folder (holding config.json).") var bundle: String = "."
    @Option(name: .long, help: "Write the container process' pid to this file.") var pidFile: String?
    @Option(name: .long, help: "A unix socket that receives the pty master when the process has a terminal.")
    var consoleSocket: String?
    @Flag(name: .long, help: "Move the root with MS_MOVE and chroot instead of pivot_root.") var noPivot = false
    @Flag(name: .long, help: "Accepted for runc compatibility; podrun makes no session keyring.") var noNewKeyring = false
    @Option(name: .long, help: "Pass this many fds from 3 on to the process.") var preserveFds: Int = 0

    func runtimeOptions() -> Runtime.CreateOptions {
        Runtime.CreateOptions(bundle: bundle, pidFile: pidFile, consoleSocket: consoleSocket, noPivot: noPivot,
                              preserveFds: preserveFds)
    }
}
