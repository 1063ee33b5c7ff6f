import ArgumentParser
import Pod
import PodrunCore

/// `podrun network`: the pod networks this host has.
struct NetworkCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "network", abstract: "List and inspect pod networks (native bridge networks and CNI config lists).",
        subcommands: [NetworkList.self, NetworkInspect.self])
}

/// `podrun network ls`.
struct NetworkList: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "ls", abstract: "List the native networks with state and the CNI config lists.", aliases: ["list"])

    @Option(name: .long, help: "CNI config folder.") var cniConfDir: String = "/etc/cni/net.d"
    @Option(name: [.short, .long], help: "table or json.") var format: ListFormat = .table

    func run() throws {
        let networks = try NetworkInventory.list(cniConfDirectory: cniConfDir)
        switch format {
        case .json: try JSONOutput.print(networks)
        case .table:
            let rows = [["NAME", "DRIVER", "BRIDGE", "SUBNET", "GATEWAY", "IN USE", "PLUGINS"]] + networks.map {
                [$0.name, $0.driver, $0.bridge ?? "", $0.subnet ?? "", $0.gateway ?? "",
                 $0.addressesInUse.map(String.init) ?? "", ($0.plugins ?? []).joined(separator: ",")]
            }
            print(TextTable.render(rows), terminator: "")
        }
    }
}

/// `podrun network inspect NAME`.
struct NetworkInspect: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "inspect", abstract: "Show a network's config and its addresses' owners as JSON.")

    @Option(name: .long, help: "CNI config folder.") var cniConfDir: String = "/etc/cni/net.d"
    @Argument(help: "The network's name.") var name: String

    func run() throws {
        try JSONOutput.print(try NetworkInventory.inspect(name, cniConfDirectory: cniConfDir))
    }
}
