import Crypto
import Glibc
import LinuxSys
import PodrunCore

/// The unpacked layers of a `ContentStore`: one folder per layer chain, `snapshots/<chain id hex>/fs`, each
/// holding one layer in overlayfs form (whiteouts as 0:0 character devices, opaque folders by xattr).
///
/// A snapshot is named by its ChainID (image-spec: the chain of diff_ids below and including the layer), so
/// images that share their lower layers share those snapshots, and a layer is unpacked once per store.
/// A snapshot is unpacked into a staging folder and renamed into place, so it is either whole or absent.
public struct SnapshotStore: Sendable {
    /// The store whose blobs are unpacked.
    public let store: ContentStore

    /// The snapshots of `store`.
    public init(store: ContentStore) {
        self.store = store
    }

    /// The folder of all snapshots.
    public var directory: String { store.root + "/snapshots" }

    /// The folder of snapshot `chainID`.
    public func path(_ chainID: Digest) -> String { directory + "/" + chainID.hex }

    /// The unpacked layer of snapshot `chainID` (an overlay lower folder).
    public func filesystem(_ chainID: Digest) -> String { path(chainID) + "/fs" }

    /// Whether snapshot `chainID` is unpacked.
    public func has(_ chainID: Digest) -> Bool { FileIO.isDirectory(filesystem(chainID)) }

    /// The ChainIDs of the layers `diffIDs` lists, bottom first: the first is its diff_id, each next one is
    /// `sha256(previous + " " + diff_id)`.
    public static func chainIDs(diffIDs: [String]) throws -> [Digest] {
        var result: [Digest] = []
        for diffID in diffIDs {
            let digest = try Digest(diffID)
            guard let previous = result.last else {
                result.append(digest)
                continue
            }
            let hash = SHA256.hash(data: Array((previous.description + " " + digest.description).utf8))
            let hex = hash.map { byte in
                let text = String(byte, radix: 16)
                return byte < 16 ? "0" + text : text
            }.joined()
            guard let chain = Digest(hex: hex) else { throw PodrunError(.internalError, "bad chain id \(hex)") }
            result.append(chain)
        }
        return result
    }

    /// Unpacks every layer of `record` that has no snapshot yet; returns the ChainIDs, bottom first, and how
    /// many layers were unpacked now.
    @discardableResult
    public func unpack(_ record: ImageRecord, limits: UnpackLimits = .init()) throws -> (chainIDs: [Digest], unpacked: Int) {
        let chains = try Self.chainIDs(diffIDs: record.diffIDs)
        guard chains.count == record.layerDigests.count else {
            throw PodrunError(.invalidSpec, "image \(record.name) has \(record.layerDigests.count) layers and \(chains.count) diff_ids")
        }
        try FileIO.makeDirectories(directory, mode: 0o700)
        try FileIO.makeDirectories(store.stagingDirectory, mode: 0o700)
        var unpacked = 0
        for (chain, layer) in zip(chains, record.layerDigests) where !has(chain) {
            // One unpacker per layer: a second import of the same layer waits, then finds it done.
            try FileLock.withLock(store.stagingDirectory + "/unpack-" + chain.hex + ".lock") {
                guard !has(chain) else { return }
                try unpackLayer(try Digest(layer), as: chain, limits: limits)
                unpacked += 1
            }
        }
        return (chains, unpacked)
    }

    private func unpackLayer(_ blob: Digest, as chain: Digest, limits: UnpackLimits) throws {
        guard store.has(blob) else {
            throw PodrunError(.notFound, "layer blob \(blob) is not in the store", path: store.path(blob))
        }
        let staging = store.stagingDirectory + "/snap-\(getpid())-" + String(UInt64.random(in: 0...UInt64.max), radix: 16)
        guard mkdir(staging, 0o700) == 0, mkdir(staging + "/fs", 0o755) == 0 else {
            throw PodrunError.system("mkdir", path: staging)
        }
        do {
            _ = try LayerUnpacker(limits: limits).unpack(layerAt: store.path(blob), into: staging + "/fs")
            try FileIO.writeAtomically(staging + "/layer", Array((blob.description + "\n").utf8), mode: 0o600)
            guard rename(staging, path(chain)) == 0 else { throw PodrunError.system("rename", path: path(chain)) }
        } catch {
            try? FileIO.removeTree(staging)
            throw error
        }
    }

    /// The ChainIDs of every snapshot on disk.
    public func all() throws -> [Digest] {
        try Self.names(in: directory).compactMap { Digest(hex: $0) }
    }

    /// Removes snapshot `chainID` (a no-op when it is absent).
    public func remove(_ chainID: Digest) throws {
        try FileIO.removeTree(path(chainID))
    }

    /// The names in folder `path` (none when it does not exist), `.` and `..` left out.
    static func names(in path: String) throws -> [String] {
        guard let dir = opendir(path) else {
            if errno == ENOENT { return [] }
            throw PodrunError.system("opendir", path: path)
        }
        defer { closedir(dir) }
        var result: [String] = []
        while let entry = readdir(dir) {
            let name = withUnsafeBytes(of: entry.pointee.d_name) { raw in
                String(decoding: raw.prefix(while: { $0 != 0 }), as: UTF8.self)
            }
            if name != "." && name != ".." { result.append(name) }
        }
        return result.sorted()
    }
}
