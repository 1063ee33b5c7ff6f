import ArgumentParser
import Glibc
import PodrunCore
import Sandbox

// `podrun init` is the runtime's own helper: it must start fast and stay single-threaded, so it is dispatched
// before any argument parsing.
// The arguments are read from argv here rather than through `CommandLine.arguments`, whose lazy set-up in the
// standard library looks `[String]`'s type up by name at run time (see PodrunCore's `joinedText`).
let arguments = (0..<Int(CommandLine.argc)).dropFirst().compactMap { CommandLine.unsafeArgv[$0].map { String(cString: $0) } }
if arguments.first == "init" {
    ContainerInit.main()
}

do {
    let (globals, rest) = try GlobalOptions.parse(arguments)
    GlobalOptions.current = globals
    // The hot verbs skip ArgumentParser (and its start-up cost) when their arguments are plain.
    if let command = FastPath.command(rest) { exit(try command.run()) }
    var command = try Podrun.parseAsRoot(rest)
    try command.run()
    exit(0)
} catch let error as PodrunError {
    Podrun.report(error)
    exit(1)
} catch let exit as ExitCode {
    Glibc.exit(exit.rawValue)
} catch {
    let code = Podrun.exitCode(for: error)
    if code == .success {
        print(Podrun.fullMessage(for: error))
        exit(0)
    }
    Podrun.report(PodrunError(.invalidArgument, Podrun.message(for: error)))
    exit(1)
}
