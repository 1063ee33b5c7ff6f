import ArgumentParser
import Sandbox

/// `podrun state`: prints a container's runtime-spec state as JSON.
struct StateCommand: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "state", abstract: "Print a container's state as JSON.")

    @Argument(help: "The container id.") var id: String

    func run() throws {
        try JSONOutput.print(GlobalOptions.current.makeRuntime().state(id: id))
    }
}
