import ArgumentParser
import Glibc
import ImageStore
import Pod
import PodrunCore
import Sandbox

/// `podrun sandbox`: pod sandboxes, a pause process holding the pod's namespaces.
struct SandboxCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "sandbox", abstract: "Create, list, inspect, stop and remove pod sandboxes.",
        subcommands: [SandboxCreate.self, SandboxList.self, SandboxInspect.self, SandboxStop.self, SandboxRemove.self])
}

/// The network flags of the sandbox commands.
struct NetworkFlags: ParsableArguments {
    @Option(name: .long, help: "none, bridge or cni.") var network: String = "bridge"
    @Option(name: .long, help: "CNI config folder (--network cni).") var cniConfDir: String = "/etc/cni/net.d"
    @Option(name: .long, help: "CNI plugin folders, colon-separated (--network cni).")
    var cniBinDir: String = "/usr/lib/cni:/opt/cni/bin"
    @Option(name: .long, help: "The CNI network name, or the native network's config file.") var networkName: String?

    /// The choice these flags make.
    var choice: NetworkChoice {
        NetworkChoice(mode: network, name: networkName, cniConfDirectory: cniConfDir,
                      cniBinDirectories: cniBinDir.split(separator: ":").map(String.init))
    }
}

extension GlobalOptions {
    /// The sandbox manager over the runtime root and the store these options name.
    func makeSandboxManager() -> SandboxManager {
        SandboxManager(runtime: makeRuntime(), dataRoot: store + "/sandboxes")
    }
}

/// `podrun sandbox create`.
struct SandboxCreate: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "create", abstract: "Start a pod sandbox; print its id.")

    @Option(name: .long, help: "The sandbox id (default: random).") var name: String?
    @Option(name: .long, help: "The pod's hostname (default: the id).") var hostname: String?
    @Flag(name: .long, help: "One pid namespace for the pod, with pause as PID 1.") var sharePid = false
    @OptionGroup var networkFlags: NetworkFlags
    @Option(name: .long, help: "The pod's cgroup, absolute or relative to podrun's own as runc's cgroupsPath (default: podrun-sandbox-ID); pause and the containers go under it.") var cgroupParent: String?
    @Option(name: .long, help: "A label K=V.") var label: [String] = []
    @Option(name: .long, help: "An empty-folder volume the pod's containers can mount.") var volume: [String] = []
    @Option(name: [.short, .long], help: "Publish HOSTPORT:PODPORT[/tcp|udp].") var publish: [String] = []
    @Option(name: [.short, .long], help: "table or json.") var format: ListFormat = .table

    func run() throws {
        var labels: [String: String] = [:]
        for entry in label {
            guard let equals = entry.firstIndex(of: "=") else {
                throw PodrunError(.invalidArgument, "a label is K=V, not \(entry)", path: "--label")
            }
            labels[String(entry[..<equals])] = String(entry[entry.index(after: equals)...])
        }
        if networkFlags.network == "none" && !publish.isEmpty {
            throw PodrunError(.invalidArgument, "--publish needs a network (bridge or cni)")
        }
        let options = SandboxManager.CreateOptions(id: name ?? ImageFlags.randomID(), hostname: hostname,
                                                   sharePid: sharePid, cgroupParent: cgroupParent, labels: labels,
                                                   volumes: volume, ports: publish)
        let record = try GlobalOptions.current.makeSandboxManager().create(options, network: networkFlags.choice)
        switch format {
        case .json: try JSONOutput.print(try GlobalOptions.current.makeSandboxManager().inspect(record.id))
        case .table: print(record.id)
        }
    }
}

/// `podrun sandbox ls`.
struct SandboxList: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "ls", abstract: "List pod sandboxes.", aliases: ["list"])

    @Option(name: [.short, .long], help: "table or json.") var format: ListFormat = .table
    @Flag(name: [.short, .long], help: "Print only the ids.") var quiet = false

    func run() throws {
        let sandboxes = try GlobalOptions.current.makeSandboxManager().list()
        if quiet {
            for sandbox in sandboxes { print(sandbox.sandbox.id) }
            return
        }
        switch format {
        case .json: try JSONOutput.print(sandboxes.map(SandboxSummary.init))
        case .table:
            let rows = [["ID", "STATE", "HOSTNAME", "IP", "CONTAINERS", "CREATED"]] + sandboxes.map {
                [$0.sandbox.id, $0.state, $0.sandbox.hostname, $0.sandbox.network?.ip ?? "", String($0.containers.count),
                 $0.sandbox.created]
            }
            print(TextTable.render(rows), terminator: "")
        }
    }
}

/// `podrun sandbox inspect ID`.
struct SandboxInspect: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "inspect", abstract: "Show a sandbox as JSON.")

    @Argument(help: "The sandbox id.") var id: String

    func run() throws {
        try JSONOutput.print(try GlobalOptions.current.makeSandboxManager().inspect(id))
    }
}

/// `podrun sandbox stop ID`.
struct SandboxStop: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "stop", abstract: "Stop a sandbox's containers (SIGTERM, then SIGKILL), its pause and its network.")

    @Option(name: [.short, .long], help: "Seconds between SIGTERM and SIGKILL.") var timeout: Int = 10
    @Argument(help: "The sandbox id.") var id: String

    func run() throws {
        try GlobalOptions.current.makeSandboxManager().stop(id, grace: timeout)
    }
}

/// `podrun sandbox rm ID`.
struct SandboxRemove: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "rm", abstract: "Remove a sandbox, its containers, pause, namespaces, cgroup, network and volumes.",
        aliases: ["remove"])

    @Flag(name: [.short, .long], help: "Kill running containers of the sandbox first.") var force = false
    @Argument(help: "The sandbox ids.") var ids: [String]

    func run() throws {
        let manager = GlobalOptions.current.makeSandboxManager()
        for id in ids { try manager.remove(id, force: force) }
    }
}

/// `podrun gc`: removes what killed commands left.
struct GarbageCollect: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "gc", abstract: "Remove what killed creates left: half-made sandboxes, orphaned image storage, IP leases.")

    func run() throws {
        let globals = GlobalOptions.current
        let manager = globals.makeSandboxManager()
        for removed in try manager.collectGarbage() { print("removed sandbox \(removed)") }
        for removed in try GarbageCollect.orphanedStorage(globals) { print("removed container storage \(removed)") }
        try NativeBridgeNetwork.reconcile()
        for released in try CNIAttachmentLedger(stateRoot: NativeBridgeNetwork.stateRoot).reconcile() {
            print("released the CNI attachment of vanished sandbox \(released)")
        }
    }

    /// Releases image storage whose container has no state (a `run --image` killed before create finished).
    static func orphanedStorage(_ globals: GlobalOptions) throws -> [String] {
        let runtime = globals.makeRuntime()
        let storage = ContainerStorage(store: ContentStore(root: globals.store))
        var removed: [String] = []
        for id in try storage.ids() where (try? runtime.state(id: id)) == nil && !id.hasPrefix("bundle-") {
            try storage.release(id: id)
            removed.append(id)
        }
        return removed
    }
}
