import ArgumentParser
import Glibc
import LinuxSys
import OCISpec
import PodrunCore
import Sandbox

/// `podrun run`: create and start; without --detach, wait and exit with the container's exit code.
struct Run: ParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Create and start a container, and wait for it.")

    @OptionGroup var options: CreateFlags
    @Flag(name: [.short, .long], help: "Do not wait for the container; leave it running.") var detach = false
    @Flag(name: .long, help: "Keep the container's state after it exits.") var keep = false
    @OptionGroup(title: "Image") var image: ImageFlags
    @Argument(help: "The container id.") var id: String?
    @Argument(parsing: .postTerminator, help: "With --image: the command (default: the image's).") var command: [String] = []

    func run() throws {
        let runtime = GlobalOptions.current.makeRuntime()
        let (id, createOptions) = try image.prepare(id: id, command: command, base: options.runtimeOptions(),
                                                    runtime: runtime)
        let printID = image.image != nil && image.name == nil && self.id == nil
        let code = try Self.execute(id: id, options: createOptions, detach: detach, keep: keep, printID: printID,
                                    runtime: runtime)
        if !detach { throw ExitCode(code) }
    }

    /// Creates and starts container `id`; with `detach` leaves it running (printing the id with `printID`) and
    /// returns 0, else waits for it, deletes it unless `keep`, and returns its exit code.
    static func execute(id: String, options: Runtime.CreateOptions, detach: Bool, keep: Bool,
                        printID: Bool, runtime: Runtime) throws -> Int32 {
        // The process starts as soon as it is set up (no exec fifo), unless poststart hooks need `start`.
        var createOptions = options
        createOptions.startAtOnce = true
        func start(_ record: ContainerRecord) throws {
            guard !Runtime.canStartAtOnce(record.spec) else { return }
            do {
                try runtime.start(record)
            } catch {
                try? runtime.delete(record, force: true)
                throw error
            }
        }
        if detach {
            let record = try runtime.create(id: id, options: createOptions)
            try start(record)
            if printID { print(id) }
            return 0
        }
        let supervisor = try Supervisor()
        var master: Int32? = nil
        let record: ContainerRecord
        if createOptions.consoleSocket == nil {
            // Offer a console receiver; create uses it only when the spec asks for a terminal.
            let (mine, theirs) = try SyncChannel<InitMessage>.pair()
            defer { close(mine) }
            do {
                record = try runtime.create(id: id, options: createOptions, consoleReceiver: theirs)
                close(theirs)
            } catch {
                close(theirs)
                throw error
            }
            if record.spec.process?.terminal == true {
                master = try SyncChannel<InitMessage>(fd: mine).receiveDescriptor()
            }
        } else {
            record = try runtime.create(id: id, options: createOptions)
        }
        try start(record)
        let code = supervisor.wait(for: record.pid, master: master)
        if !keep { try? runtime.delete(record, force: true) }
        return code
    }
}
