import CPodrunShim
import Glibc
import LinuxSys
import PodrunCore

/// The CNI operations a plugin runs (`CNI_COMMAND`).
public enum CNICommand: String, Sendable {
    /// Attach the container to the network.
    case add = "ADD"
    /// Detach the container from the network; must succeed when there is nothing left to remove.
    case delete = "DEL"
    /// Check that the container's networking is still as `ADD` left it.
    case check = "CHECK"
    /// Report the CNI versions the plugin supports.
    case version = "VERSION"
}

/// What one plugin call is about: the container, its network namespace and interface, and extra arguments.
public struct CNIInvocation: Sendable, Equatable {
    /// The container's id (`CNI_CONTAINERID`).
    public var containerID: String
    /// The path of the container's network namespace (`CNI_NETNS`); empty is allowed for `DEL`.
    public var netnsPath: String
    /// The interface name inside the namespace (`CNI_IFNAME`).
    public var ifName: String
    /// Extra `KEY=VALUE` arguments (`CNI_ARGS`, joined with `;` in key order).
    public var arguments: [String: String]

    /// An invocation from its parts.
    public init(containerID: String, netnsPath: String, ifName: String, arguments: [String: String] = [:]) {
        self.containerID = containerID
        self.netnsPath = netnsPath
        self.ifName = ifName
        self.arguments = arguments
    }

    /// The `CNI_ARGS` value.
    public var argumentsValue: String {
        arguments.sorted { $0.key < $1.key }.map { "\($0.key)=\($0.value)" }.joined(separator: ";")
    }
}

/// Finds CNI plugin executables and runs them as the CNI spec says: the operation in environment variables,
/// the network config on stdin, the result (or error) on stdout, killed when it takes too long.
public struct CNIPluginRunner: Sendable {
    /// Where Debian's containernetworking-plugins and the upstream tarballs put plugins.
    public static let defaultBinDirectories = ["/usr/lib/cni", "/opt/cni/bin"]

    /// The directories searched for plugins, in order; also given to plugins as `CNI_PATH`.
    public var binDirectories: [String]
    /// How long one plugin may run before it is killed.
    public var timeoutSeconds: Int

    /// A runner over `binDirectories`, killing plugins after `timeoutSeconds`.
    public init(binDirectories: [String] = CNIPluginRunner.defaultBinDirectories, timeoutSeconds: Int = 60) {
        self.binDirectories = binDirectories
        self.timeoutSeconds = timeoutSeconds
    }

    /// The path of the plugin executable `type`: the first executable regular file of that name in the bin
    /// directories. Throws `.invalidSpec` for a name that is empty or holds `/` or `..`, `.notFound` when
    /// no directory has it.
    public func find(_ type: String) throws -> String {
        guard !type.isEmpty, !type.contains("/"), !type.contains(".."), !type.contains("\0") else {
            throw PodrunError(.invalidSpec, "invalid CNI plugin type \"\(type)\": it must be a plain file name",
                              path: "type")
        }
        // Empty entries are left out (not the current folder, as on PATH).
        let directories = binDirectories.filter { !$0.isEmpty }
        if !directories.isEmpty, let path = ProgramRunner.find(type, path: directories.joined(separator: ":")) {
            return path
        }
        throw PodrunError(.notFound, "CNI plugin \"\(type)\" not found in \(binDirectories.joined(separator: ":"))")
    }

    /// Runs plugin `type` for `command` with `config` on stdin and returns what it wrote to stdout.
    ///
    /// A plugin that exits non-zero fails with the CNI error it printed (`{code, msg, details}`) turned into
    /// a `PodrunError` naming the plugin; one that runs longer than `timeoutSeconds` is killed (`.timeout`).
    public func run(_ type: String, _ command: CNICommand, _ invocation: CNIInvocation,
                    config: [UInt8]) throws -> [UInt8] {
        let path = try find(type)
        let environment = [
            "CNI_COMMAND=" + command.rawValue,
            "CNI_CONTAINERID=" + invocation.containerID,
            "CNI_NETNS=" + invocation.netnsPath,
            "CNI_IFNAME=" + invocation.ifName,
            "CNI_ARGS=" + invocation.argumentsValue,
            "CNI_PATH=" + binDirectories.joined(separator: ":"),
            "PATH=" + (getenv("PATH").map { String(cString: $0) } ?? "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"),
        ]
        let output = try ProgramRunner.run(path, [path], environment: environment, stdin: config,
                                           timeoutSeconds: timeoutSeconds, what: "CNI plugin")
        let what = "CNI plugin \(type) \(command.rawValue)"
        guard output.status != 0 else { return output.stdout }
        if let error = try? CNIJSON.decode(CNIErrorResult.self, from: output.stdout, what: what) {
            var cause = "CNI error code \(error.code)"
            if let details = error.details, !details.isEmpty { cause += ": " + details }
            throw PodrunError(.system, "\(what): \(error.msg)", cause: cause)
        }
        let stderr = String(decoding: output.stderr.suffix(2000), as: UTF8.self)
        let stdout = String(decoding: output.stdout.suffix(2000), as: UTF8.self)
        let text = [stderr, stdout].map { $0.trimmingWhitespace }.filter { !$0.isEmpty }.joined(separator: "; ")
        throw PodrunError(.system, "\(what): exit status \(output.status)", cause: text.isEmpty ? nil : text)
    }
}

extension String {
    /// The text without leading and trailing spaces, tabs and newlines.
    var trimmingWhitespace: String {
        let isSpace: (Character) -> Bool = { $0 == " " || $0 == "\n" || $0 == "\t" || $0 == "\r" }
        guard let first = firstIndex(where: { !isSpace($0) }), let last = lastIndex(where: { !isSpace($0) }) else {
            return ""
        }
        return String(self[first...last])
    }
}
