import Glibc
import LinuxSys
import PodrunCore

/// One plugin's entry in a network config list, kept as the raw JSON object so that every key the plugin
/// understands (and podrun does not) reaches it untouched.
public struct PluginConfig: Sendable, Equatable, Codable {
    /// The plugin's whole config object, as read.
    public var raw: [String: JSONValue]

    /// A plugin config from its JSON object; throws `.invalidSpec` when `type` is missing or not a string.
    public init(_ raw: [String: JSONValue]) throws {
        guard raw["type"]?.stringValue?.isEmpty == false else {
            throw PodrunError.invalidSpec("type", "a CNI plugin config needs a non-empty string \"type\"")
        }
        self.raw = raw
    }

    /// The plugin's executable name (the `type` key).
    public var type: String { raw["type"]?.stringValue ?? "" }

    /// The capabilities the plugin declares (`"capabilities": {"portMappings": true}`); only these get
    /// `runtimeConfig` entries.
    public var capabilities: Set<String> {
        guard let declared = raw["capabilities"]?.objectValue else { return [] }
        return Set(declared.compactMap { $0.value.boolValue == true ? $0.key : nil })
    }

    /// Decodes from JSON; see the type's description for what is accepted.
    public init(from decoder: any Decoder) throws {
        let members = try decoder.singleValueContainer().decode([String: JSONValue].self)
        try self.init(members)
    }

    /// Encodes to JSON.
    public func encode(to encoder: any Encoder) throws {
        var container = encoder.singleValueContainer()
        try container.encode(raw)
    }
}

/// A CNI network configuration list (a `.conflist`): a named network whose plugins run in order.
///
/// See the CNI specification 1.0.0, section "Configuration format".
public struct NetworkConfigList: Sendable, Equatable, Codable {
    /// The CNI version of the list; injected into each plugin's config and the version results come in.
    public var cniVersion: String
    /// The network's name, unique on the host; injected into each plugin's config.
    public var name: String
    /// When true, `CHECK` is not run for this network.
    public var disableCheck: Bool
    /// The plugins, in the order `ADD` runs them.
    public var plugins: [PluginConfig]

    /// A list from its parts; throws `.invalidSpec` when the name is empty or there is no plugin.
    public init(cniVersion: String, name: String, disableCheck: Bool = false, plugins: [PluginConfig]) throws {
        guard !cniVersion.isEmpty else { throw PodrunError.invalidSpec("cniVersion", "a CNI network needs a cniVersion") }
        guard !name.isEmpty else { throw PodrunError.invalidSpec("name", "a CNI network needs a name") }
        guard !plugins.isEmpty else { throw PodrunError.invalidSpec("plugins", "a CNI network needs at least one plugin") }
        self.cniVersion = cniVersion
        self.name = name
        self.disableCheck = disableCheck
        self.plugins = plugins
    }

    private enum CodingKeys: String, CodingKey {
        case cniVersion, name, disableCheck, plugins
    }

    /// Decodes from JSON; see the type's description for what is accepted.
    public init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        let version = try container.decodeIfPresent(String.self, forKey: .cniVersion) ?? ""
        let name = try container.decodeIfPresent(String.self, forKey: .name) ?? ""
        // Some tools write `"disableCheck": "true"`; libcni accepts both forms.
        var disable = false
        if let flag = try? container.decodeIfPresent(Bool.self, forKey: .disableCheck) {
            disable = flag
        } else if let text = try? container.decodeIfPresent(String.self, forKey: .disableCheck) {
            disable = text.lowercased() == "true"
        }
        let plugins = try container.decodeIfPresent([PluginConfig].self, forKey: .plugins) ?? []
        try self.init(cniVersion: version, name: name, disableCheck: disable, plugins: plugins)
    }

    /// A list from the bytes of a `.conflist`, or of a single-plugin `.conf` (an object with `type` and no
    /// `plugins`), which becomes a list of that one plugin with the conf's name and version.
    public static func parse(_ bytes: [UInt8], path: String = "network config") throws -> NetworkConfigList {
        let value = try CNIJSON.decode(JSONValue.self, from: bytes, what: path)
        guard let object = value.objectValue else {
            throw PodrunError(.invalidSpec, "a CNI network config must be a JSON object", path: path)
        }
        do {
            if object["plugins"] == nil, object["type"] != nil {
                let plugin = try PluginConfig(object)
                return try NetworkConfigList(cniVersion: object["cniVersion"]?.stringValue ?? "",
                                             name: object["name"]?.stringValue ?? "", plugins: [plugin])
            }
            return try CNIJSON.decode(NetworkConfigList.self, from: bytes, what: path)
        } catch let error as PodrunError where error.code == .invalidSpec && error.path != path {
            throw PodrunError(.invalidSpec, error.message, path: path + ": " + (error.path ?? ""), cause: error.cause)
        }
    }

    /// The list in the file at `path` (a `.conflist`, or a `.conf`/`.json` holding one plugin).
    public static func load(file path: String) throws -> NetworkConfigList {
        try parse(FileIO.readBytes(path), path: path)
    }

    /// The network in `directory`: the one named `name`, or without a name the lexically first
    /// `.conflist`, `.conf` or `.json` file (as containerd and CRI-O choose their default network).
    public static func load(directory: String, name: String? = nil) throws -> NetworkConfigList {
        let files = try configFiles(in: directory)
        guard !files.isEmpty else {
            throw PodrunError(.notFound, "no CNI network config (.conflist, .conf, .json)", path: directory)
        }
        guard let name else { return try load(file: files[0]) }
        for file in files {
            let list = try load(file: file)
            if list.name == name { return list }
        }
        throw PodrunError(.notFound, "no CNI network named \"\(name)\"", path: directory)
    }

    /// The config files in `directory`, sorted by name.
    public static func configFiles(in directory: String) throws -> [String] {
        guard let dir = opendir(directory) else {
            let e = errno
            throw PodrunError(e == ENOENT ? .notFound : .system, "open CNI config directory", path: directory, errno: e)
        }
        defer { closedir(dir) }
        var names: [String] = []
        while let entry = readdir(dir) {
            let name = withUnsafeBytes(of: entry.pointee.d_name) { raw in
                String(decoding: raw.prefix(while: { $0 != 0 }), as: UTF8.self)
            }
            guard !name.hasPrefix("."),
                  name.hasSuffix(".conflist") || name.hasSuffix(".conf") || name.hasSuffix(".json") else { continue }
            let path = directory.hasSuffix("/") ? directory + name : directory + "/" + name
            if FileIO.isDirectory(path) { continue }
            names.append(path)
        }
        return names.sorted()
    }
}
