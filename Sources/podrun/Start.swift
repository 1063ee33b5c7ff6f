import ArgumentParser
import Sandbox

/// `podrun start`: lets a created container run its program.
struct Start: ParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Start a created container.")

    @Argument(help: "The container id.") var id: String

    func run() throws {
        try GlobalOptions.current.makeRuntime().start(id: id)
    }
}
