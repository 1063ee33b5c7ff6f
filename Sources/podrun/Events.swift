import ArgumentParser
import Cgroups
import Glibc
import Sandbox

/// `podrun events`: a container's resource statistics as JSON events, once (`--stats`) or every interval.
struct Events: ParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Print a container's statistics as JSON events.")

    @Flag(name: .long, help: "Print the statistics once and exit.") var stats = false
    @Option(name: .long, help: "Seconds between events.") var interval: UInt32 = 5
    @Argument(help: "The container id.") var id: String

    /// One event, as runc's `events` prints it.
    struct Event: Encodable {
        var type: String
        var id: String
        var data: CgroupStats
    }

    func run() throws {
        let runtime = GlobalOptions.current.makeRuntime()
        repeat {
            try JSONOutput.print(Event(type: "stats", id: id, data: runtime.stats(id: id)), pretty: false)
            fflush(nil)
            if stats { return }
            sleep(max(1, interval))
        } while true
    }
}
