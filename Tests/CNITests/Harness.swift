import Foundation
import Testing
@testable import CNI
import PodrunCore

/// Runs a program and returns its exit status and output (stdout and stderr together).
@discardableResult
func sh(_ arguments: String...) -> (status: Int32, output: String) {
    run(arguments)
}

/// Runs a program and returns its exit status and output (stdout and stderr together).
@discardableResult
func run(_ arguments: [String]) -> (status: Int32, output: String) {
    let process = Process()
    process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
    process.arguments = arguments
    let pipe = Pipe()
    process.standardOutput = pipe
    process.standardError = pipe
    process.standardInput = FileHandle.nullDevice
    do { try process.run() } catch { return (127, "\(error)") }
    let data = pipe.fileHandleForReading.readDataToEndOfFile()
    process.waitUntilExit()
    return (process.terminationStatus, String(decoding: data, as: UTF8.self))
}

/// A short random hex tag, for names that must not collide with parallel tests.
func uniqueTag(_ length: Int = 8) -> String {
    String((0..<length).map { _ in "0123456789abcdef".randomElement() ?? "0" })
}

/// A temporary directory, removed by `remove()`.
struct TempDirectory {
    let path: String

    init() throws {
        path = NSTemporaryDirectory() + "cnitest-" + uniqueTag(12)
        try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
    }

    func file(_ name: String) -> String { path + "/" + name }

    /// Writes `text` to `name`. An executable is copied into place by `install` in a child process, so this
    /// process never holds it open for writing: a program that another test thread forks meanwhile would inherit
    /// that descriptor until its exec, and running the file then fails with ETXTBSY ("text file busy").
    func write(_ name: String, _ text: String, executable: Bool = false) throws {
        guard executable else {
            try text.write(toFile: file(name), atomically: false, encoding: .utf8)
            return
        }
        let draft = file(name + ".draft")
        try text.write(toFile: draft, atomically: false, encoding: .utf8)
        let installed = run(["install", "-m", "0755", draft, file(name)])
        try? FileManager.default.removeItem(atPath: draft)
        guard installed.status == 0 else {
            throw PodrunError(.system, "install \(name): \(installed.output)")
        }
    }

    func read(_ name: String) -> String? {
        try? String(contentsOfFile: file(name), encoding: .utf8)
    }

    func remove() {
        try? FileManager.default.removeItem(atPath: path)
    }
}

/// Decodes JSON text into Foundation objects, for assertions on what plugins were given.
func jsonObject(_ text: String?) -> [String: Any]? {
    guard let text, let data = text.data(using: .utf8) else { return nil }
    return (try? JSONSerialization.jsonObject(with: data)) as? [String: Any]
}

/// `KEY=VALUE` lines of an `env` dump as a dictionary.
func environment(_ text: String?) -> [String: String] {
    var result: [String: String] = [:]
    for line in (text ?? "").split(separator: "\n") {
        guard let equals = line.firstIndex(of: "=") else { continue }
        result[String(line[..<equals])] = String(line[line.index(after: equals)...])
    }
    return result
}

/// Writes a fake plugin script `name` into `dir`: it saves its stdin and environment as
/// `NAME.COMMAND.stdin` / `NAME.COMMAND.env`, appends `NAME COMMAND` to `calls.log`, then runs `body`.
func writeFakePlugin(_ name: String, in dir: TempDirectory, body: String) throws {
    let script = """
    #!/bin/sh
    cat > "\(dir.path)/\(name).$CNI_COMMAND.stdin"
    env > "\(dir.path)/\(name).$CNI_COMMAND.env"
    echo "\(name) $CNI_COMMAND" >> "\(dir.path)/calls.log"
    \(body)

    """
    try dir.write(name, script, executable: true)
}

/// A plugin body that prints `result` for ADD and nothing for the other commands.
func printingOnAdd(_ result: String) -> String {
    """
    if [ "$CNI_COMMAND" = ADD ]; then printf '%s' '\(result)'; fi
    exit 0
    """
}

/// A real bridge network for one test: a unique bridge name, subnet 10.202.OCTET.0/24, host-local state in
/// the test's temp dir, and network namespaces; `cleanup()` removes all of it.
final class BridgeLab {
    let dir: TempDirectory
    let bridge: String
    let octet: Int
    let networkName: String
    private(set) var namespaces: [String] = []
    private(set) var attached: [(network: CNINetwork, containerID: String, netns: String, ifName: String)] = []

    init(octet: Int) throws {
        dir = try TempDirectory()
        bridge = "cnit" + uniqueTag(8)
        self.octet = octet
        networkName = "podrun-test-" + uniqueTag(8)
    }

    var ipamDirectory: String { dir.file("ipam") }

    /// Creates a network namespace and returns its name and path.
    func makeNamespace() throws -> (name: String, path: String) {
        let name = "cnit-" + uniqueTag(10)
        let result = sh("ip", "netns", "add", name)
        guard result.status == 0 else { throw PodrunError(.system, "ip netns add \(name): \(result.output)") }
        namespaces.append(name)
        return (name, "/var/run/netns/" + name)
    }

    /// The bridge network's conflist (bridge + host-local, and portmap when asked), written to the temp dir.
    func writeConflist(portmap: Bool = false, cniVersion: String = "1.0.0") throws -> String {
        var plugins = ["""
        {"type": "bridge", "bridge": "\(bridge)", "isGateway": true, "ipMasq": false, "x-unknown": {"kept": [1, 2.5]},
         "ipam": {"type": "host-local", "ranges": [[{"subnet": "10.202.\(octet).0/24"}]],
                  "routes": [{"dst": "0.0.0.0/0"}], "dataDir": "\(ipamDirectory)"}}
        """]
        if portmap {
            plugins.append(#"{"type": "portmap", "capabilities": {"portMappings": true}, "snat": true}"#)
        }
        let text = """
        {"cniVersion": "\(cniVersion)", "name": "\(networkName)", "plugins": [\(plugins.joined(separator: ",\n"))]}
        """
        try dir.write("net.conflist", text)
        return dir.file("net.conflist")
    }

    /// A loopback network (`ifName` lo), as runtimes attach it next to the pod network.
    func loopbackNetwork() throws -> CNINetwork {
        try dir.write("lo.conf", #"{"cniVersion": "1.0.0", "name": "cni-loopback", "type": "loopback"}"#)
        return CNINetwork(config: try NetworkConfigList.load(file: dir.file("lo.conf")))
    }

    /// Runs ADD and remembers the attachment so that `cleanup()` deletes it even when the test fails.
    func add(_ network: CNINetwork, containerID: String, netns: String, ifName: String = "eth0",
             portMappings: [PortMapping] = []) throws -> CNIResult {
        attached.append((network, containerID, netns, ifName))
        return try network.add(containerID: containerID, netnsPath: netns, ifName: ifName, portMappings: portMappings)
    }

    /// Deletes every attachment (DEL is idempotent), the namespaces, the bridge and the temp dir.
    func cleanup() {
        for item in attached.reversed() {
            try? item.network.delete(containerID: item.containerID, netnsPath: item.netns, ifName: item.ifName,
                                     prevResult: nil)
        }
        for name in namespaces { sh("ip", "netns", "del", name) }
        sh("ip", "link", "del", bridge)
        dir.remove()
    }
}

/// Whether iptables' nat table can be listed here (portmap needs it).
let iptablesWorks: Bool = sh("iptables", "-t", "nat", "-L", "-n").status == 0

/// Whether the tests run as root (the real-plugin tests need it).
let runningAsRoot: Bool = getuid() == 0
