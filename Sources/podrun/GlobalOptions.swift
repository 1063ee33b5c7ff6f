import Glibc
import PodrunCore
import ImageStore
import Sandbox

/// runc's global flags, which come before the command (`podrun --root /run/x --log f.json --log-format json create ...`).
struct GlobalOptions {
    var root = "/run/podrun"
    var logPath: String? = nil
    var logFormat = LogFormat.text
    var debug = false
    /// The image store (`--store`, else `$PODRUN_STORE`, else /var/lib/podrun).
    var store = GlobalOptions.environmentStore ?? ContentStore.defaultRoot

    /// `$PODRUN_STORE` when set and not empty.
    static var environmentStore: String? {
        guard let value = getenv("PODRUN_STORE").map({ String(cString: $0) }), !value.isEmpty else { return nil }
        return value
    }

    /// The options, as parsed from the process' arguments before `Podrun` parses the rest.
    nonisolated(unsafe) static var current = GlobalOptions()

    /// Splits the global flags off the front of `arguments`; returns the options and the remaining arguments.
    static func parse(_ arguments: [String]) throws -> (GlobalOptions, [String]) {
        var options = GlobalOptions()
        var rest = arguments[...]
        func value(_ flag: String, _ inline: String?) throws -> String {
            if let inline { return inline }
            guard let next = rest.popFirst() else {
                throw PodrunError(.invalidArgument, "flag needs an argument: \(flag)")
            }
            return next
        }
        while let argument = rest.first, argument.hasPrefix("-"), argument != "-", argument != "--" {
            rest.removeFirst()
            // runc (urfave/cli) accepts -flag and --flag, and --flag=value.
            let trimmed = argument.drop { $0 == "-" }
            let parts = trimmed.split(separator: "=", maxSplits: 1).map(String.init)
            let name = parts[0]
            let inline = parts.count > 1 ? parts[1] : nil
            switch name {
            case "root": options.root = try value(argument, inline)
            case "log": options.logPath = try value(argument, inline)
            case "log-format":
                let text = try value(argument, inline)
                guard let format = LogFormat(rawValue: text) else {
                    throw PodrunError(.invalidArgument, "invalid log-format: \(text)")
                }
                options.logFormat = format
            case "debug": options.debug = true
            case "store": options.store = try value(argument, inline)
            case "systemd-cgroup":
                if inline != "false" {
                    throw PodrunError(.invalidArgument, "the systemd cgroup driver is not supported; use cgroupfs paths")
                }
            case "rootless", "criu":
                _ = try value(argument, inline)  // accepted for compatibility; podrun runs as root
            case "help", "h":
                rest.insert("--help", at: rest.startIndex)
                return (options, Array(rest))
            case "version", "v":
                rest.insert("--version", at: rest.startIndex)
                return (options, Array(rest))
            default:
                throw PodrunError(.invalidArgument, "flag provided but not defined: \(argument)")
            }
        }
        return (options, Array(rest))
    }

    /// The log writer for these options: the --log file (appended) or stderr.
    func makeLog() -> LogWriter {
        var fd: Int32 = 2
        if let logPath {
            let opened = open(logPath, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0o644)
            if opened >= 0 { fd = opened }
        }
        return LogWriter(fd: fd, format: logFormat, minimumLevel: debug ? .debug : .info)
    }

    /// The image commands over the store these options name.
    func makeImageService() -> ImageService {
        ImageService(store: ContentStore(root: store))
    }

    /// The runtime for these options.
    func makeRuntime() -> Runtime {
        Runtime(root: root, log: makeLog())
    }
}
