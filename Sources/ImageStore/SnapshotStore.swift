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

    /// A layer unpacked into the staging folder, not yet in place.
    public struct StagedSnapshot: Sendable {
        /// The snapshot's ChainID.
        public var chainID: Digest
        /// The staging folder (holding `fs`).
        public var directory: String
        /// The layer blob unpacked into it (its uncompressed digest was checked against the diff_id).
        public var blob: Digest
    }

    /// Unpacks every layer of `record` that has no snapshot yet and puts the snapshots in place; returns the
    /// ChainIDs, bottom first, and how many layers were unpacked now.
    @discardableResult
    public func unpack(_ record: ImageRecord, limits: UnpackLimits = .init()) throws -> (chainIDs: [Digest], unpacked: Int) {
        let staged = try stageMissing([record], limits: limits) { store.has($0) ? store.path($0) : nil }
        do {
            try store.withLock { try commitLocked(staged) }
        } catch {
            discard(staged)
            throw error
        }
        return (try Self.chainIDs(diffIDs: record.diffIDs), staged.count)
    }

    /// Unpacks, into the staging folder, the layers of `records` that have no snapshot yet (each chain once);
    /// `blobPath` tells where a layer blob is (staged by an import, or in the store). Layers are independent
    /// (each goes into its own folder), so several are unpacked at once, one per CPU. On failure nothing
    /// stays staged, and the error is that of the lowest layer that failed.
    public func stageMissing(_ records: [ImageRecord], limits: UnpackLimits,
                             blobPath: (Digest) -> String?) throws -> [StagedSnapshot] {
        var jobs: [LayerJob] = []
        for record in records {
            let chains = try Self.chainIDs(diffIDs: record.diffIDs)
            guard chains.count == record.layerDigests.count else {
                throw PodrunError(.invalidSpec,
                                  "image \(record.name) has \(record.layerDigests.count) layers and \(chains.count) diff_ids")
            }
            for ((chain, layer), diffID) in zip(zip(chains, record.layerDigests), record.diffIDs)
            where !has(chain) && !jobs.contains(where: { $0.chain == chain }) {
                let blob = try Digest(layer)
                guard let path = blobPath(blob) else {
                    throw PodrunError(.notFound, "layer blob \(blob) is not in the store", path: store.path(blob))
                }
                jobs.append(LayerJob(chain: chain, blob: blob, diffID: try Digest(diffID), path: path))
            }
        }
        guard !jobs.isEmpty else { return [] }
        try FileIO.makeDirectories(store.stagingDirectory, mode: 0o700)
        let results = LayerResults(count: jobs.count)
        defer { results.deallocate() }
        let pending = jobs
        ParallelLoop.forEach(pending.count) { number in
            let job = pending[number]
            results.run(number) { try stageLayer(job, limits: limits) }
        }
        var staged: [StagedSnapshot] = []
        var failure: (any Error)?
        for number in 0..<jobs.count {
            switch results.slots[number] {
            case .success(let snapshot)?: staged.append(snapshot)
            case .failure(let error)?: failure = failure ?? error
            case nil: failure = failure ?? PodrunError(.internalError, "layer \(jobs[number].blob) was not unpacked")
            }
        }
        if let failure {
            discard(staged)
            throw failure
        }
        return staged
    }

    /// One layer to unpack: its snapshot's ChainID, its blob, the diff_id its image lists and where the blob is.
    private struct LayerJob: Sendable {
        var chain: Digest
        var blob: Digest
        var diffID: Digest
        var path: String
    }

    /// The outcome of each layer job, one slot per job; each job writes only its own slot, and the slots are
    /// read after all jobs have ended.
    private final class LayerResults: @unchecked Sendable {
        let slots: UnsafeMutableBufferPointer<Result<StagedSnapshot, any Error>?>

        init(count: Int) {
            slots = .allocate(capacity: count)
            slots.initialize(repeating: nil)
        }

        func run(_ number: Int, _ body: () throws -> StagedSnapshot) {
            do {
                slots[number] = .success(try body())
            } catch {
                slots[number] = .failure(error)
            }
        }

        func deallocate() {
            _ = slots.deinitialize()
            slots.deallocate()
        }
    }

    /// Renames staged snapshots into place (one already there wins and the staged copy is removed). The
    /// caller holds the store lock.
    public func commitLocked(_ staged: [StagedSnapshot]) throws {
        try FileIO.makeDirectories(directory, mode: 0o700)
        for snapshot in staged {
            if has(snapshot.chainID) {
                try FileIO.removeTree(snapshot.directory)
            } else if rename(snapshot.directory, path(snapshot.chainID)) != 0 {
                throw PodrunError.system("rename", path: path(snapshot.chainID))
            }
        }
    }

    /// Removes staged snapshots that were not committed.
    public func discard(_ staged: [StagedSnapshot]) {
        for snapshot in staged { try? FileIO.removeTree(snapshot.directory) }
    }

    /// Unpacks `job`'s layer into a new staging folder, checking its uncompressed digest against its diff_id.
    private func stageLayer(_ job: LayerJob, limits: UnpackLimits) throws -> StagedSnapshot {
        let blob = job.blob
        let staging = store.stagingDirectory + "/snap-\(getpid())-" + String(UInt64.random(in: 0...UInt64.max), radix: 16)
        guard mkdir(staging, 0o700) == 0, mkdir(staging + "/fs", 0o755) == 0 else {
            throw PodrunError.system("mkdir", path: staging)
        }
        do {
            let summary = try LayerUnpacker(limits: limits).unpack(layerAt: job.path, into: staging + "/fs")
            guard let diffID = summary.diffID, diffID == job.diffID else {
                throw PodrunError(.invalidSpec,
                                  "uncompresses to \(summary.diffID?.description ?? "nothing"), but its diff_id is \(job.diffID)",
                                  path: "rootfs.diff_ids")
            }
            try FileIO.writeAtomically(staging + "/layer", Array((blob.description + "\n").utf8), mode: 0o600)
        } catch let error as PodrunError {
            try? FileIO.removeTree(staging)
            throw error.context("layer \(blob)")
        }
        return StagedSnapshot(chainID: job.chain, directory: staging, blob: blob)
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
        try FileIO.entries(of: path).sorted()
    }
}
