import ArgumentParser
import Sandbox

/// `podrun pause`: freezes a container's processes (cgroup freezer).
struct Pause: ParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Pause every process of a container.")

    @Argument(help: "The container id.") var id: String

    func run() throws {
        try GlobalOptions.current.makeRuntime().pause(id: id)
    }
}

/// `podrun resume`: thaws a paused container.
struct Resume: ParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Resume a paused container.")

    @Argument(help: "The container id.") var id: String

    func run() throws {
        try GlobalOptions.current.makeRuntime().resume(id: id)
    }
}
