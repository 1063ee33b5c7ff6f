import CNI
import Glibc
import LinuxSys
import PodrunCore

/// What undoing a pod's CNI attachment needs, kept outside the sandbox's state folder (which a reboot that
/// wipes `/run`, or a removed `--root`, takes away) from before `ADD` until after `DEL`: the plugins' leases
/// (host-local's address files under /var/lib/cni) outlive the pod otherwise. `podrun gc` runs `DEL` for every
/// entry whose sandbox folder is gone, as the native network returns such addresses to its pool.
public struct CNIAttachmentLedger: Sendable {
    /// One attachment.
    public struct Entry: Codable, Sendable, Equatable {
        /// The sandbox's state folder: the attachment lives while it exists.
        public var owner: String
        /// The `CNI_CONTAINERID` the plugins were given.
        public var containerID: String
        /// The interface name in the pod.
        public var ifName: String
        /// The network config list the plugins ran with.
        public var config: NetworkConfigList
        /// Where the plugins are.
        public var binDirectories: [String]
        /// The published ports (`HOST:POD[/proto]`).
        public var ports: [String]
        /// The result of `ADD`, once it returned.
        public var result: CNIResult?
    }

    /// The ledger's folder.
    public let directory: String

    /// The ledger under `stateRoot` (the native networks' state root, `/var/lib/podrun/networks`).
    public init(stateRoot: String) {
        directory = stateRoot + "/cni-attachments"
    }

    /// Writes (or replaces) the entry of `entry.owner`.
    public func record(_ entry: Entry) throws {
        try FileIO.makeDirectories(directory, mode: 0o700)
        try FileIO.writeAtomically(file(of: entry.owner), JSONCoding.encode(entry, what: "CNI attachment"), mode: 0o600)
    }

    /// Removes the entry of `owner`; a missing one is fine.
    public func remove(owner: String) throws {
        let path = file(of: owner)
        if unlink(path) != 0 && errno != ENOENT { throw PodrunError.system("unlink", path: path) }
    }

    /// Every entry (unreadable files are skipped: a write is atomic, so they are not podrun's).
    public func entries() throws -> [Entry] {
        try FileIO.entries(of: directory).filter { $0.hasSuffix(".json") }.compactMap { name in
            guard let bytes = try? FileIO.readBytes(directory + "/" + name) else { return nil }
            return try? JSONCoding.decode(Entry.self, from: bytes, what: "CNI attachment")
        }
    }

    /// Runs `DEL` for, and forgets, every attachment whose owner folder is gone; returns their container ids.
    /// A `DEL` that fails keeps its entry for the next run.
    public func reconcile() throws -> [String] {
        var released: [String] = []
        for entry in try entries() where entry.owner.hasPrefix("/") && access(entry.owner, F_OK) != 0 && errno == ENOENT {
            let network = CNINetwork(config: entry.config, runner: CNIPluginRunner(binDirectories: entry.binDirectories))
            guard (try? network.delete(containerID: entry.containerID, netnsPath: nil, ifName: entry.ifName,
                                       prevResult: entry.result,
                                       portMappings: (try? entry.ports.map(CNISandboxNetwork.mapping)) ?? [])) != nil
            else { continue }
            try remove(owner: entry.owner)
            released.append(entry.containerID)
        }
        return released
    }

    /// The entry's file: the owner path with `/` as `_` could clash (`a_b` and `a/b`), so a hash of it names it.
    func file(of owner: String) -> String { directory + "/" + StableHash.hex(owner) + ".json" }
}
