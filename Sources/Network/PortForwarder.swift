import Glibc
import LinuxSys
import PodrunCore

/// Published ports through iptables' nat table, in podrun's own chains:
///
/// - `PODRUN-DNAT`, jumped to from PREROUTING and OUTPUT for traffic to a local address, holds one DNAT
///   rule per mapping;
/// - `PODRUN-POSTROUTING`, jumped to from POSTROUTING, masquerades what reaches a pod from 127.0.0.0/8
///   (with `route_localnet` on the bridge, `127.0.0.1:HOST` works, as the CNI portmap plugin does it) and
///   what a pod sends out of the host.
///
/// Every rule carries a comment `podrun:<owner>` so that removal takes exactly the owner's rules.
public struct PortForwarder: Sendable {
    /// The iptables program.
    public var iptables: String
    static let dnatChain = "PODRUN-DNAT"
    static let postroutingChain = "PODRUN-POSTROUTING"

    /// A forwarder calling `iptables` (found on PATH when it has no slash).
    public init(iptables: String = "iptables") {
        self.iptables = iptables
    }

    /// The comment tag of `owner`'s rules.
    static func tag(_ owner: String) -> String { "podrun:" + owner }

    /// The lock serialising the check-then-append of the shared chains and jumps across processes (without
    /// it, two first `--publish`es at once both append the jump from PREROUTING).
    static let chainLock = "/run/podrun-iptables.lock"

    /// Creates the chains and the jumps to them when missing.
    public func ensureChains() throws {
        try NetworkFileLock.withLock(PortForwarder.chainLock) { try ensureChainsLocked() }
    }

    private func ensureChainsLocked() throws {
        for chain in [PortForwarder.dnatChain, PortForwarder.postroutingChain] {
            if try !succeeds(["-t", "nat", "-S", chain]) {
                do {
                    try run(["-t", "nat", "-N", chain])
                } catch {
                    // Another process may have made it in between.
                    guard try succeeds(["-t", "nat", "-S", chain]) else { throw error }
                }
            }
        }
        let local = ["-m", "addrtype", "--dst-type", "LOCAL", "-j", PortForwarder.dnatChain]
        try ensureRule(["-t", "nat"], "PREROUTING", local)
        try ensureRule(["-t", "nat"], "OUTPUT", local)
        try ensureRule(["-t", "nat"], "POSTROUTING", ["-j", PortForwarder.postroutingChain])
    }

    /// Masquerades traffic from `subnet` leaving the host through another interface than `bridge` (making
    /// the chains first: on a fresh host PODRUN-POSTROUTING does not exist yet).
    public func ensureOutboundMasquerade(subnet: IPv4Subnet, bridge: String, network: String) throws {
        try ensureChains()
        try NetworkFileLock.withLock(PortForwarder.chainLock) {
            try ensureRule(["-t", "nat"], PortForwarder.postroutingChain,
                           ["-s", subnet.description, "!", "-o", bridge, "-m", "comment", "--comment",
                            "podrun-network:" + network, "-j", "MASQUERADE"])
        }
    }

    /// Removes the outbound masquerade rule of `network` (nothing to do when there is none).
    public func removeOutboundMasquerade(network: String) throws {
        for rule in try rules(PortForwarder.postroutingChain) {
            guard let at = rule.arguments.firstIndex(of: "--comment"), at + 1 < rule.arguments.count,
                  rule.arguments[at + 1] == "podrun-network:" + network else { continue }
            try delete(rule.arguments)
        }
    }

    /// Adds the rules publishing `mappings` to `podAddress` for `owner`.
    public func add(_ mappings: [PortMapping], podAddress: IPv4Address, owner: String) throws {
        guard !mappings.isEmpty else { return }
        try ensureChains()
        let comment = ["-m", "comment", "--comment", PortForwarder.tag(owner)]
        for mapping in mappings {
            try run(["-t", "nat", "-A", PortForwarder.dnatChain, "-p", mapping.proto, "--dport", String(mapping.hostPort)]
                    + comment + ["-j", "DNAT", "--to-destination", "\(podAddress):\(mapping.podPort)"])
            try run(["-t", "nat", "-A", PortForwarder.postroutingChain, "-s", "127.0.0.0/8", "-d", podAddress.description,
                     "-p", mapping.proto, "--dport", String(mapping.podPort)] + comment + ["-j", "MASQUERADE"])
        }
    }

    /// Removes every rule of `owner` (nothing to do when there is none or the chains are missing).
    public func remove(owner: String) throws {
        try removeRules { $0 == owner }
    }

    /// Removes the rules of owners not in `liveOwners`.
    public func reconcile(liveOwners: Set<String>) throws {
        try removeRules { !liveOwners.contains($0) }
    }

    /// Removes the rules of owners for which `isLive` is false.
    public func reconcile(isLive: (String) -> Bool) throws {
        try removeRules { !isLive($0) }
    }

    /// The owners with rules now.
    public func owners() throws -> Set<String> {
        var owners: Set<String> = []
        for chain in [PortForwarder.dnatChain, PortForwarder.postroutingChain] {
            for rule in try rules(chain) { if let owner = rule.owner { owners.insert(owner) } }
        }
        return owners
    }

    private func removeRules(where matches: (String) -> Bool) throws {
        for chain in [PortForwarder.dnatChain, PortForwarder.postroutingChain] {
            for rule in try rules(chain) {
                guard let owner = rule.owner, matches(owner) else { continue }
                try delete(rule.arguments)
            }
        }
    }

    /// Deletes the rule `iptables -S` printed as `arguments`; one another process deleted in between (two
    /// `gc`s freeing the same stale owner) is not an error.
    private func delete(_ arguments: [String]) throws {
        var deletion = arguments
        deletion[0] = "-D"
        do {
            try run(["-t", "nat"] + deletion)
        } catch {
            var check = arguments
            check[0] = "-C"
            if try succeeds(["-t", "nat"] + check) { throw error }
        }
    }

    /// The rules of `chain` as `iptables -S` prints them (`-A CHAIN ...`), split into arguments; none when
    /// the chain does not exist.
    private func rules(_ chain: String) throws -> [(arguments: [String], owner: String?)] {
        guard let output = try? run(["-t", "nat", "-S", chain]) else { return [] }
        return output.split(separator: "\n").compactMap { line in
            let arguments = PortForwarder.splitArguments(String(line))
            guard arguments.first == "-A" else { return nil }
            var owner: String?
            if let at = arguments.firstIndex(of: "--comment"), at + 1 < arguments.count,
               arguments[at + 1].hasPrefix("podrun:") {
                owner = String(arguments[at + 1].dropFirst("podrun:".count))
            }
            return (arguments, owner)
        }
    }

    /// Splits an `iptables -S` line into arguments, honouring double quotes.
    static func splitArguments(_ line: String) -> [String] {
        var arguments: [String] = [], current = "", quoted = false, started = false
        for character in line {
            if character == "\"" { quoted.toggle(); started = true; continue }
            if character == " " && !quoted {
                if started { arguments.append(current) }
                current = ""; started = false
                continue
            }
            current.append(character); started = true
        }
        if started { arguments.append(current) }
        return arguments
    }

    private func ensureRule(_ table: [String], _ chain: String, _ rule: [String]) throws {
        if try succeeds(table + ["-C", chain] + rule) { return }
        try run(table + ["-A", chain] + rule)
    }

    private func succeeds(_ arguments: [String]) throws -> Bool {
        do {
            _ = try run(arguments)
            return true
        } catch let error as PodrunError where error.code == .system && error.errno == nil {
            return false
        }
    }

    /// Runs iptables (with `-w`, waiting for its lock) and returns its standard output.
    @discardableResult
    private func run(_ arguments: [String]) throws -> String {
        guard let path = ProgramRunner.find(iptables) else {
            throw PodrunError(.execFailed, "run iptables: not found on PATH", path: iptables)
        }
        let environment = ["PATH=" + (getenv("PATH").map { String(cString: $0) } ?? "/usr/sbin:/usr/bin:/sbin:/bin")]
        let output = try ProgramRunner.run(path, [iptables, "-w"] + arguments, environment: environment,
                                           timeoutSeconds: 60, what: "iptables")
        guard output.status == 0 else {
            let text = String(decoding: output.stderr, as: UTF8.self).trimmed(of: " \n")
            throw PodrunError(.system, "iptables \(arguments.joined(separator: " ")) failed", cause: text)
        }
        return String(decoding: output.stdout, as: UTF8.self)
    }
}
