import LinuxSys
import PodrunCore

/// A port to publish from the host into the container, as the `portMappings` capability carries it
/// (the portmap plugin's `runtimeConfig.portMappings`).
public struct PortMapping: Sendable, Equatable, Codable {
    /// The port on the host.
    public var hostPort: Int
    /// The port in the container.
    public var containerPort: Int
    /// `tcp`, `udp` or `sctp`.
    public var `protocol`: String
    /// The host address to bind, when not every address.
    public var hostIP: String?

    /// A mapping from its parts.
    public init(hostPort: Int, containerPort: Int, protocol: String = "tcp", hostIP: String? = nil) {
        self.hostPort = hostPort
        self.containerPort = containerPort
        self.protocol = `protocol`
        self.hostIP = hostIP
    }
}

/// One CNI network: runs its plugins for a container as libcni does. `ADD` runs them in order, each given
/// the previous one's result as `prevResult`; `DEL` runs them in reverse order and `CHECK` in order, each
/// given the result `ADD` returned (which the caller stores).
public struct CNINetwork: Sendable {
    /// The network's configuration.
    public var config: NetworkConfigList
    /// Finds and runs the plugins.
    public var runner: CNIPluginRunner

    /// A network over `config`, running plugins with `runner`.
    public init(config: NetworkConfigList, runner: CNIPluginRunner = CNIPluginRunner()) {
        self.config = config
        self.runner = runner
    }

    /// Attaches the container's network namespace to the network and returns the final plugin's result;
    /// store it, `delete` and `check` need it.
    ///
    /// When a plugin fails, every plugin of the list is asked to `DEL` (in reverse order, errors ignored)
    /// before the error is thrown, so a failed `add` leaves nothing behind.
    ///
    /// - Parameters:
    ///   - portMappings: given as `runtimeConfig.portMappings` to plugins declaring that capability.
    ///   - capabilityArguments: other capabilities' values (`bandwidth`, `ipRanges`, `mac`, ...).
    ///   - arguments: `CNI_ARGS` pairs (`K8S_POD_NAME`, `IgnoreUnknown`, ...).
    public func add(containerID: String, netnsPath: String, ifName: String = "eth0",
                    portMappings: [PortMapping] = [], capabilityArguments: [String: JSONValue] = [:],
                    arguments: [String: String] = [:]) throws -> CNIResult {
        try Self.validate(containerID: containerID, ifName: ifName)
        guard !netnsPath.isEmpty else { throw PodrunError(.invalidArgument, "CNI ADD needs a network namespace path") }
        let invocation = CNIInvocation(containerID: containerID, netnsPath: netnsPath, ifName: ifName, arguments: arguments)
        let capabilities = try Self.capabilities(portMappings, capabilityArguments)
        var previous: JSONValue?
        for plugin in config.plugins {
            do {
                let stdin = try pluginConfig(plugin, prevResult: previous, capabilities: capabilities)
                let output = try runner.run(plugin.type, .add, invocation, config: stdin)
                let what = "result of CNI plugin \(plugin.type) ADD"
                let value = try CNIJSON.decode(JSONValue.self, from: output, what: what)
                guard value.objectValue != nil else {
                    throw PodrunError(.invalidSpec, "a CNI result must be a JSON object", path: what)
                }
                previous = value
            } catch let error as PodrunError {
                let partial = previous.flatMap { try? CNIJSON.decode(CNIResult.self, from: CNIJSON.encode($0), what: "result") }
                try? deleteAll(invocation, prevResult: partial, capabilities: capabilities)
                throw error.context("network \(config.name)")
            }
        }
        guard let previous else { throw PodrunError(.internalError, "CNI network \(config.name) has no plugins") }
        return try CNIJSON.decode(CNIResult.self, from: CNIJSON.encode(previous), what: "result of network \(config.name)")
    }

    /// Detaches the container from the network: every plugin in reverse order, each given `prevResult`
    /// (the result `add` returned, when the caller still has it).
    ///
    /// `netnsPath` may be nil or name a namespace that is gone (the container died); plugins are then run with
    /// an empty `CNI_NETNS` and release what they hold on the host (addresses, iptables rules). Every plugin
    /// runs even when one fails; the first error is thrown after the last.
    public func delete(containerID: String, netnsPath: String?, ifName: String = "eth0", prevResult: CNIResult?,
                       portMappings: [PortMapping] = [], capabilityArguments: [String: JSONValue] = [:],
                       arguments: [String: String] = [:]) throws {
        try Self.validate(containerID: containerID, ifName: ifName)
        var netns = netnsPath ?? ""
        if !netns.isEmpty && !FileIO.exists(netns) { netns = "" }
        let invocation = CNIInvocation(containerID: containerID, netnsPath: netns, ifName: ifName, arguments: arguments)
        try deleteAll(invocation, prevResult: prevResult,
                      capabilities: Self.capabilities(portMappings, capabilityArguments))
    }

    /// Checks that the container's networking is as `add` left it: every plugin in order, each given
    /// `prevResult`. Does nothing when the list sets `disableCheck`; throws `.invalidArgument` for a list
    /// older than CNI 0.4.0, which has no `CHECK`.
    public func check(containerID: String, netnsPath: String, ifName: String = "eth0", prevResult: CNIResult,
                      portMappings: [PortMapping] = [], capabilityArguments: [String: JSONValue] = [:],
                      arguments: [String: String] = [:]) throws {
        guard !config.disableCheck else { return }
        try Self.validate(containerID: containerID, ifName: ifName)
        guard Self.versionAtLeast(config.cniVersion, [0, 4, 0]) else {
            throw PodrunError(.invalidArgument,
                              "CNI version \(config.cniVersion) of network \(config.name) has no CHECK")
        }
        let invocation = CNIInvocation(containerID: containerID, netnsPath: netnsPath, ifName: ifName, arguments: arguments)
        let capabilities = try Self.capabilities(portMappings, capabilityArguments)
        let previous = try JSONValue(encoding: prevResult)
        for plugin in config.plugins {
            do {
                let stdin = try pluginConfig(plugin, prevResult: previous, capabilities: capabilities)
                _ = try runner.run(plugin.type, .check, invocation, config: stdin)
            } catch let error as PodrunError {
                throw error.context("network \(config.name)")
            }
        }
    }

    /// The CNI versions plugin `type` supports (`VERSION`), asked in the list's version.
    public func versions(ofPlugin type: String) throws -> CNIVersionInfo {
        let stdin = try CNIJSON.encode(["cniVersion": config.cniVersion], what: "VERSION request")
        let output = try runner.run(type, .version, CNIInvocation(containerID: "", netnsPath: "", ifName: ""), config: stdin)
        return try CNIJSON.decode(CNIVersionInfo.self, from: output, what: "result of CNI plugin \(type) VERSION")
    }

    /// The pod's address: the first IPv4 address of an interface in the sandbox, without its prefix length.
    public static func podIP(of result: CNIResult, ifName: String? = nil) -> String? {
        result.firstIPv4InSandbox(ifName: ifName)
    }

    /// The config JSON a plugin reads on stdin: its own object with the list's `name` and `cniVersion`,
    /// `prevResult` when there is one, and `runtimeConfig` holding the capabilities it declares and the
    /// caller supplied (replacing any `runtimeConfig` in the file, as libcni does).
    public func pluginConfig(_ plugin: PluginConfig, prevResult: JSONValue?,
                             capabilities: [String: JSONValue]) throws -> [UInt8] {
        var object = plugin.raw
        object["name"] = .string(config.name)
        object["cniVersion"] = .string(config.cniVersion)
        if let prevResult { object["prevResult"] = prevResult }
        var runtime: [String: JSONValue] = [:]
        for name in plugin.capabilities {
            if let value = capabilities[name] { runtime[name] = value }
        }
        if !runtime.isEmpty { object["runtimeConfig"] = .object(runtime) }
        return try CNIJSON.encode(object, what: "config of CNI plugin \(plugin.type)")
    }

    /// Runs `DEL` for every plugin in reverse order; throws the first failure after trying them all.
    private func deleteAll(_ invocation: CNIInvocation, prevResult: CNIResult?, capabilities: [String: JSONValue]) throws {
        let previous = try prevResult.map { try JSONValue(encoding: $0) }
        var firstError: PodrunError?
        for plugin in config.plugins.reversed() {
            do {
                let stdin = try pluginConfig(plugin, prevResult: previous, capabilities: capabilities)
                _ = try runner.run(plugin.type, .delete, invocation, config: stdin)
            } catch let error as PodrunError {
                if firstError == nil { firstError = error.context("network \(config.name)") }
            }
        }
        if let firstError { throw firstError }
    }

    /// The capability arguments, with `portMappings` when there are any.
    private static func capabilities(_ portMappings: [PortMapping],
                                     _ others: [String: JSONValue]) throws -> [String: JSONValue] {
        var all = others
        if !portMappings.isEmpty { all["portMappings"] = try JSONValue(encoding: portMappings) }
        return all
    }

    /// Checks the container id and interface name as the CNI spec restricts them.
    static func validate(containerID: String, ifName: String) throws {
        let idCharacters = containerID.unicodeScalars.allSatisfy {
            ($0.isASCII && ($0.properties.isAlphabetic || ("0"..."9").contains($0))) || $0 == "_" || $0 == "." || $0 == "-"
        }
        guard let first = containerID.unicodeScalars.first, idCharacters, first != "_", first != ".", first != "-" else {
            throw PodrunError(.invalidArgument, "invalid CNI container id \"\(containerID)\": letters, digits, _ . - only, starting with a letter or digit")
        }
        guard !ifName.isEmpty, ifName.utf8.count <= 15, ifName != ".", ifName != "..",
              !ifName.contains(where: { $0 == "/" || $0 == ":" || $0.isWhitespace }) else {
            throw PodrunError(.invalidArgument, "invalid interface name \"\(ifName)\"")
        }
    }

    /// Whether dotted version `version` is at least `minimum`.
    static func versionAtLeast(_ version: String, _ minimum: [Int]) -> Bool {
        let parts = version.split(separator: ".").map { Int($0) ?? 0 }
        for (index, least) in minimum.enumerated() {
            let part = index < parts.count ? parts[index] : 0
            if part != least { return part > least }
        }
        return true
    }
}
