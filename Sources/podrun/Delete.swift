import ArgumentParser
import Sandbox

/// `podrun delete`: removes a container and what it holds.
struct Delete: ParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Delete a stopped (or, with --force, any) container.")

    @Flag(name: [.short, .long], help: "Kill the container first if it runs.") var force = false
    @Argument(help: "The container id.") var id: String

    func run() throws {
        try GlobalOptions.current.makeRuntime().delete(id: id, force: force)
    }
}
