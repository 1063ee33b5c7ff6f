import ArgumentParser
import OCISpec
import Sandbox

/// Output formats of the listing commands.
enum ListFormat: String, ExpressibleByArgument {
    case table, json
}

/// `podrun list`: the containers under --root.
struct List: ParsableCommand {
    static let configuration = CommandConfiguration(abstract: "List containers.", aliases: ["ls"])

    @Option(name: [.short, .long], help: "table or json.") var format: ListFormat = .table
    @Flag(name: [.short, .long], help: "Print only the ids.") var quiet = false

    func run() throws {
        let states = try GlobalOptions.current.makeRuntime().list()
        if quiet {
            for state in states { print(state.id) }
            return
        }
        switch format {
        case .json:
            try JSONOutput.print(states)
        case .table:
            let rows = [["ID", "PID", "STATUS", "BUNDLE", "CREATED", "OWNER"]] + states.map {
                [$0.id, String($0.pid ?? 0), $0.status.rawValue, $0.bundle, $0.created ?? "", $0.owner ?? ""]
            }
            print(TextTable.render(rows), terminator: "")
        }
    }
}

/// Columns aligned as Go's tabwriter with runc's settings (minimum width 12, padding 3): every cell but the
/// last of a row is padded.
enum TextTable {
    static func render(_ rows: [[String]]) -> String {
        let columns = rows.map(\.count).max() ?? 0
        var widths = [Int](repeating: 0, count: columns)
        for row in rows {
            for (i, cell) in row.enumerated() where i < row.count - 1 {
                widths[i] = max(widths[i], max(12, cell.count + 3))
            }
        }
        var out = ""
        for row in rows {
            for (i, cell) in row.enumerated() {
                out += cell
                if i < row.count - 1 { out += String(repeating: " ", count: widths[i] - cell.count) }
            }
            out += "\n"
        }
        return out
    }
}
