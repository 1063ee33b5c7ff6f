import FoundationEssentials
import Glibc
import LinuxSys
import PodrunCore

/// IPv4 address management for one network, kept in a folder: one file per allocated address (named by
/// the address, holding its owner's id) created with O_CREAT|O_EXCL, a cursor file with the last address
/// handed out, and a lock file whose `flock` serialises every change, across threads and processes.
/// `owners/` indexes the addresses by a hash of their owner, so that an allocation and a release read one
/// file, not one per live pod: an allocation writes the index before it reserves the address, so an owner never
/// holds an address its index does not name. The address files stay the truth: an index counts only when the
/// address file it names holds its owner, release reads them all for an owner without one (an address allocated
/// before the index existed), and reconcile reads them all.
/// The network address, the gateway and the broadcast address are never handed out.
public struct IPAM: Sendable {
    /// The folder holding the allocations.
    public let directory: String
    /// The subnet addresses come from.
    public let subnet: IPv4Subnet
    /// The gateway (reserved).
    public let gateway: IPv4Address

    static let cursorFile = "last_reserved_ip"
    static let lockFile = "lock"
    static let ownersFolder = "owners"

    /// An allocator over `subnet` (prefix at most /30) with `gateway` reserved, storing into `directory`
    /// (created when missing).
    public init(directory: String, subnet: IPv4Subnet, gateway: IPv4Address) throws {
        guard subnet.prefixLength <= 30 else {
            throw PodrunError(.invalidArgument, "subnet \(subnet) is too small (at most /30)")
        }
        guard subnet.contains(gateway), gateway != subnet.network, gateway != subnet.broadcast else {
            throw PodrunError(.invalidArgument, "gateway \(gateway) is not a host address of \(subnet)")
        }
        self.directory = directory
        self.subnet = subnet
        self.gateway = gateway
        try FileIO.makeDirectories(directory, mode: 0o700)
    }

    /// An address for `owner`: the one it has already, else the next free one after the last handed out.
    /// Throws `.invalidState` when the pool is exhausted.
    public func allocate(owner: String) throws -> IPv4Address {
        try IPAM.validate(owner: owner)
        return try withLock {
            if let existing = indexedLocked(owner) { return existing }
            let first = subnet.firstHost.value, last = subnet.lastHost.value
            var candidate = cursorLocked().map { $0.value &+ 1 } ?? first
            if candidate < first || candidate > last { candidate = first }
            for _ in 0...(last - first) {
                let address = IPv4Address(candidate)
                candidate = candidate >= last ? first : candidate + 1
                // Taken addresses are skipped before the index is written (every change holds the lock).
                if address == gateway || FileIO.exists(path(address.description)) { continue }
                // The index first: an owner never holds an address its index does not name, even when this is
                // cut short, so that release can read the index alone. Index and cursor are written in place (no
                // temporary file: on a journal-less ext4 each inode freed in the last 30 s costs every later
                // allocation in its group a read): the index counts only when the address file names the owner,
                // and a cursor that does not parse starts from the first host.
                try FileIO.makeDirectories(path(IPAM.ownersFolder), mode: 0o700)
                try FileIO.writeInPlace(IPAM.indexFile(owner, in: directory), Array(address.description.utf8),
                                        mode: 0o600)
                if try reserveLocked(address, owner: owner) {
                    try FileIO.writeInPlace(path(IPAM.cursorFile), Array(address.description.utf8), mode: 0o600)
                    return address
                }
            }
            throw PodrunError(.invalidState, "no free address left in \(subnet)", path: directory)
        }
    }

    /// Frees the address `owner` holds (nothing to do when it holds none): the one its index names, else every
    /// address file that names it.
    public func release(owner: String) throws {
        try withLock {
            if let address = indexedLocked(owner) {
                try removeLocked(address)
            } else {
                for (address, holder) in try allocationsLocked() where holder == owner {
                    try removeLocked(address)
                }
            }
            IPAM.removeIndex(owner, in: directory)
        }
    }

    /// Whether any address of the subnet is allocated; reads the folder's names, not its files.
    public func hasAllocations() throws -> Bool {
        try withLock {
            try FileIO.entries(of: directory).contains { name in
                (try? IPv4Address(parsing: name)).map { subnet.contains($0) } ?? false
            }
        }
    }

    /// Frees the addresses of owners not in `liveOwners`; returns the owners released.
    @discardableResult
    public func reconcile(liveOwners: Set<String>) throws -> Set<String> {
        try IPAM.reconcile(directory: directory, liveOwners: liveOwners)
    }

    /// Frees the addresses of owners not in `liveOwners` in the pool stored at `directory` (whatever its
    /// subnet); returns the owners released. Nothing to do when the folder does not exist.
    @discardableResult
    public static func reconcile(directory: String, liveOwners: Set<String>) throws -> Set<String> {
        try reconcile(directory: directory, isLive: { liveOwners.contains($0) })
    }

    /// Frees the addresses of owners for which `isLive` is false in the pool stored at `directory`; returns
    /// the owners released. Nothing to do when the folder does not exist.
    @discardableResult
    public static func reconcile(directory: String, isLive: (String) -> Bool) throws -> Set<String> {
        guard FileIO.isDirectory(directory) else { return [] }
        return try NetworkFileLock.withLock(directory + "/" + lockFile) {
            var released: Set<String> = []
            for (address, holder) in try allocations(in: directory) where !isLive(holder) {
                let file = directory + "/" + address.description
                guard unlink(file) == 0 || errno == ENOENT else { throw PodrunError.system("release address", path: file) }
                released.insert(holder)
            }
            for owner in released { removeIndex(owner, in: directory) }
            return released
        }
    }

    /// Allocated addresses and their owners.
    public func allocations() throws -> [IPv4Address: String] {
        try withLock { try allocationsLocked() }
    }

    /// Runs `body` holding the pool's lock.
    func withLock<T>(_ body: () throws -> T) throws -> T {
        try NetworkFileLock.withLock(path(IPAM.lockFile), body)
    }

    private func path(_ name: String) -> String { directory + "/" + name }

    private func cursorLocked() -> IPv4Address? {
        guard let text = try? FileIO.readString(path(IPAM.cursorFile)) else { return nil }
        return try? IPv4Address(parsing: text.trimmed(of: " \n"))
    }

    /// Creates the address's file with O_EXCL; false when it exists.
    private func reserveLocked(_ address: IPv4Address, owner: String) throws -> Bool {
        let file = path(address.description)
        let fd = open(file, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0o600)
        if fd < 0 {
            if errno == EEXIST { return false }
            throw PodrunError.system("reserve address", path: file)
        }
        defer { close(fd) }
        do {
            try FileIO.writeAll(fd: fd, Array(owner.utf8), path: file)
        } catch {
            unlink(file)
            throw error
        }
        return true
    }

    /// The address the index gives `owner`, if its address file still names that owner.
    private func indexedLocked(_ owner: String) -> IPv4Address? {
        guard let text = try? FileIO.readString(IPAM.indexFile(owner, in: directory)),
              let address = try? IPv4Address(parsing: text.trimmed(of: " \n")), subnet.contains(address),
              let holder = try? FileIO.readString(path(address.description)), holder.trimmed(of: " \n") == owner
        else { return nil }
        return address
    }

    static func indexFile(_ owner: String, in directory: String) -> String {
        directory + "/" + ownersFolder + "/" + StableHash.hex(owner)
    }

    static func removeIndex(_ owner: String, in directory: String) {
        _ = unlink(indexFile(owner, in: directory))
    }

    private func removeLocked(_ address: IPv4Address) throws {
        let file = path(address.description)
        guard unlink(file) == 0 || errno == ENOENT else { throw PodrunError.system("release address", path: file) }
    }

    private func allocationsLocked() throws -> [IPv4Address: String] {
        try IPAM.allocations(in: directory).filter { subnet.contains($0.key) }
    }

    static func allocations(in directory: String) throws -> [IPv4Address: String] {
        let names: [String]
        do {
            names = try FileManager.default.contentsOfDirectory(atPath: directory)
        } catch {
            throw PodrunError(.system, "list address allocations", path: directory, cause: "\(error)")
        }
        var result: [IPv4Address: String] = [:]
        for name in names {
            guard let address = try? IPv4Address(parsing: name),
                  let owner = try? FileIO.readString(directory + "/" + name) else { continue }
            result[address] = owner.trimmed(of: " \n")
        }
        return result
    }

    private static func validate(owner: String) throws {
        guard !owner.isEmpty, !owner.contains(where: { $0.isNewline || $0 == " " }) else {
            throw PodrunError(.invalidArgument, "invalid address owner \"\(owner)\"")
        }
    }
}
