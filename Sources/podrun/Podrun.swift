import ArgumentParser
import Glibc
import PodrunCore
import Sandbox

/// The podrun command: runc's verbs over podrun's runtime.
struct Podrun: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "podrun",
        abstract: "An OCI container runtime and pod sandbox manager, runc-compatible.",
        discussion: """
            Global flags come before the command, as runc's: --root DIR (default /run/podrun), --log FILE,
            --log-format text|json, --debug, --store DIR (the image store; default $PODRUN_STORE or
            /var/lib/podrun).
            """,
        version: "podrun version 0.1.0\nspec: 1.2.0",
        subcommands: [
            Create.self, Start.self, Run.self, Exec.self, StateCommand.self, Kill.self, Delete.self, List.self,
            Ps.self, SpecCommand.self, Features.self, Pause.self, Resume.self, Update.self, Events.self,
            ImageCommand.self, BundleCommand.self, SandboxCommand.self, NetworkCommand.self, GarbageCollect.self,
        ]
    )

    /// Reports an error as runc does: a log line to --log (or stderr), and the bare message on stderr when
    /// the log goes to a file.
    static func report(_ error: PodrunError) {
        let globals = GlobalOptions.current
        let log = globals.makeLog()
        log.log(.error, error.description)
        if globals.logPath != nil {
            let line = error.description + "\n"
            _ = line.withCString { write(2, $0, strlen($0)) }
        }
    }
}
