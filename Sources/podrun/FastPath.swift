import LinuxSys
import PodrunCore
import Sandbox

/// The hot verbs (`create`, `run`, `start`, `exec`, `kill`, `delete`, `state`) parsed by hand, without
/// ArgumentParser: its reflection over property wrappers and its dynamic casts cost milliseconds of start-up
/// in every call (see bench/README.md).
///
/// It takes only the plain forms containerd and scripts use (`--flag value`, `--flag=value`, `-f value`, known
/// flags at most once, the id and then a command for exec). Anything else (help, an unknown or repeated flag, a
/// value that looks like a flag, `--`, image flags, a missing or extra argument) makes it return nil, and
/// ArgumentParser parses the arguments as before, with its own errors.
enum FastPath {
    /// A parsed hot command.
    enum Command {
        case create(id: String, options: Runtime.CreateOptions)
        case run(id: String, options: Runtime.CreateOptions, detach: Bool, keep: Bool)
        case start(id: String)
        case state(id: String)
        case delete(id: String, force: Bool)
        case kill(id: String, signal: String, all: Bool)
        case exec(ExecRequest)

        /// Runs the command; returns the exit code.
        func run() throws -> Int32 {
            switch self {
            case .create(let id, let options):
                try GlobalOptions.current.makeRuntime().create(id: id, options: options)
                return 0
            case .run(let id, let options, let detach, let keep):
                return try Run.execute(id: id, options: options, detach: detach, keep: keep, printID: false,
                                       runtime: GlobalOptions.current.makeRuntime())
            case .start(let id):
                try GlobalOptions.current.makeRuntime().start(id: id)
                return 0
            case .state(let id):
                try JSONOutput.print(GlobalOptions.current.makeRuntime().state(id: id))
                return 0
            case .delete(let id, let force):
                try GlobalOptions.current.makeRuntime().delete(id: id, force: force)
                return 0
            case .kill(let id, let signal, let all):
                let number = try Signals.parse(signal)
                try GlobalOptions.current.makeRuntime().kill(id: id, signal: number, all: all)
                return 0
            case .exec(let request):
                return try request.run()
            }
        }
    }

    /// One flag a verb knows: its names (`--bundle`, `-b`) and whether it takes a value.
    struct Flag {
        var long: String
        var short: Character? = nil
        var takesValue: Bool
        var repeatable = false
    }

    /// What a scan found: values by long name (a flag without value maps to ["true"]), and the positionals.
    struct Scan {
        var values: [String: [String]] = [:]
        var positionals: [String] = []
        /// For exec: the arguments after the id, taken as they are.
        var rest: [String] = []

        func flag(_ name: String) -> Bool { values[name] != nil }
        func value(_ name: String) -> String? { values[name]?.last }
        func all(_ name: String) -> [String] { values[name] ?? [] }
    }

    /// Scans `arguments` against `flags`; nil on anything not plainly known. With `restAfterFirstPositional`,
    /// the arguments after the first positional are the `rest` (the first of which must not look like a flag).
    static func scan(_ arguments: ArraySlice<String>, _ flags: [Flag], restAfterFirstPositional: Bool = false) -> Scan? {
        var scan = Scan()
        var rest = arguments
        while let argument = rest.popFirst() {
            if argument == "--" || argument == "-" { return nil }
            if !argument.hasPrefix("-") {
                guard !argument.isEmpty else { return nil }
                scan.positionals.append(argument)
                if restAfterFirstPositional {
                    if let next = rest.first, next.hasPrefix("-") { return nil }
                    scan.rest = Array(rest)
                    return scan
                }
                continue
            }
            let flag: Flag
            var inline: String? = nil
            if argument.hasPrefix("--") {
                let body = argument.dropFirst(2)
                let name: Substring
                if let equals = body.firstIndex(of: "=") {
                    name = body[..<equals]
                    inline = String(body[body.index(after: equals)...])
                } else {
                    name = body
                }
                guard let known = flags.first(where: { $0.long == name }) else { return nil }
                flag = known
            } else {
                guard argument.count == 2, let letter = argument.last,
                      let known = flags.first(where: { $0.short == letter }) else { return nil }
                flag = known
            }
            guard scan.values[flag.long] == nil || flag.repeatable else { return nil }
            if flag.takesValue {
                let value: String
                if let inline {
                    value = inline
                } else {
                    guard let next = rest.popFirst() else { return nil }
                    value = next
                }
                guard !value.isEmpty, !value.hasPrefix("-") else { return nil }
                scan.values[flag.long, default: []].append(value)
            } else {
                guard inline == nil else { return nil }
                scan.values[flag.long] = ["true"]
            }
        }
        return scan
    }

    static let createFlags: [Flag] = [
        Flag(long: "bundle", short: "b", takesValue: true), Flag(long: "pid-file", takesValue: true),
        Flag(long: "console-socket", takesValue: true), Flag(long: "no-pivot", takesValue: false),
        Flag(long: "no-new-keyring", takesValue: false), Flag(long: "preserve-fds", takesValue: true),
    ]

    static let execFlags: [Flag] = [
        Flag(long: "process", short: "p", takesValue: true), Flag(long: "tty", short: "t", takesValue: false),
        Flag(long: "detach", short: "d", takesValue: false), Flag(long: "pid-file", takesValue: true),
        Flag(long: "console-socket", takesValue: true),
        Flag(long: "env", short: "e", takesValue: true, repeatable: true), Flag(long: "cwd", takesValue: true),
        Flag(long: "user", short: "u", takesValue: true),
        Flag(long: "additional-gids", short: "g", takesValue: true, repeatable: true),
        Flag(long: "cap", short: "c", takesValue: true, repeatable: true),
        Flag(long: "no-new-privs", takesValue: false), Flag(long: "preserve-fds", takesValue: true),
        Flag(long: "ignore-paused", takesValue: false), Flag(long: "process-label", takesValue: true),
        Flag(long: "apparmor", takesValue: true),
    ]

    /// The create options from a scan with `createFlags`; nil when a value does not parse.
    static func createOptions(_ scan: Scan) -> Runtime.CreateOptions? {
        var preserveFds = 0
        if let text = scan.value("preserve-fds") {
            guard let number = Int(text) else { return nil }
            preserveFds = number
        }
        return Runtime.CreateOptions(bundle: scan.value("bundle") ?? ".", pidFile: scan.value("pid-file"),
                                     consoleSocket: scan.value("console-socket"), noPivot: scan.flag("no-pivot"),
                                     preserveFds: preserveFds)
    }

    /// The hot command `arguments` (after the global flags) name, or nil to let ArgumentParser parse them.
    static func command(_ arguments: [String]) -> Command? {
        guard let verb = arguments.first else { return nil }
        let tail = arguments.dropFirst()
        switch verb {
        case "create":
            guard let scan = scan(tail, createFlags), scan.positionals.count == 1,
                  let options = createOptions(scan) else { return nil }
            return .create(id: scan.positionals[0], options: options)
        case "run":
            let flags = createFlags + [Flag(long: "detach", short: "d", takesValue: false),
                                       Flag(long: "keep", takesValue: false)]
            guard let scan = scan(tail, flags), scan.positionals.count == 1,
                  let options = createOptions(scan) else { return nil }
            return .run(id: scan.positionals[0], options: options, detach: scan.flag("detach"), keep: scan.flag("keep"))
        case "start", "state":
            guard let scan = scan(tail, []), scan.positionals.count == 1 else { return nil }
            return verb == "start" ? .start(id: scan.positionals[0]) : .state(id: scan.positionals[0])
        case "delete":
            guard let scan = scan(tail, [Flag(long: "force", short: "f", takesValue: false)]),
                  scan.positionals.count == 1 else { return nil }
            return .delete(id: scan.positionals[0], force: scan.flag("force"))
        case "kill":
            guard let scan = scan(tail, [Flag(long: "all", short: "a", takesValue: false)]),
                  scan.positionals.count == 1 || scan.positionals.count == 2 else { return nil }
            return .kill(id: scan.positionals[0], signal: scan.positionals.count == 2 ? scan.positionals[1] : "SIGTERM",
                         all: scan.flag("all"))
        case "exec":
            guard let scan = scan(tail, execFlags, restAfterFirstPositional: true), scan.positionals.count == 1 else {
                return nil
            }
            guard !scan.rest.isEmpty || scan.value("process") != nil else { return nil }
            var gids: [UInt32] = []
            for text in scan.all("additional-gids") {
                guard let gid = UInt32(text) else { return nil }
                gids.append(gid)
            }
            var preserveFds = 0
            if let text = scan.value("preserve-fds") {
                guard let number = Int(text) else { return nil }
                preserveFds = number
            }
            return .exec(ExecRequest(process: scan.value("process"), tty: scan.flag("tty"), detach: scan.flag("detach"),
                                     pidFile: scan.value("pid-file"), consoleSocket: scan.value("console-socket"),
                                     env: scan.all("env"), cwd: scan.value("cwd"), user: scan.value("user"),
                                     additionalGids: gids, cap: scan.all("cap"), noNewPrivs: scan.flag("no-new-privs"),
                                     preserveFds: preserveFds, id: scan.positionals[0], command: scan.rest))
        default:
            return nil
        }
    }
}
