import ArgumentParser
import LinuxSys
import Sandbox

/// `podrun kill`: sends a signal to a container's process (or all its processes).
struct Kill: ParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Send a signal to a container (default SIGTERM).")

    @Flag(name: [.short, .long], help: "Signal every process of the container's cgroup.") var all = false
    @Argument(help: "The container id.") var id: String
    @Argument(help: "The signal, by name (KILL, SIGKILL) or number.") var signal: String = "SIGTERM"

    func run() throws {
        let number = try Signals.parse(signal)
        try GlobalOptions.current.makeRuntime().kill(id: id, signal: number, all: all)
    }
}
