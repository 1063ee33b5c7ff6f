// `struct stat` and its members belong, for the compiler, to the module whose headers it met first: libarchive's
// here (MemberImportVisibility).
import CLibarchive
import FoundationEssentials
import Glibc
import LinuxSys
import PodrunCore

/// The image commands over one store: import (and unpack), list, inspect, tag, remove, prune and export.
public struct ImageService: Sendable {
    /// One line of `image ls`.
    public struct Summary: Codable, Sendable, Equatable {
        /// The image's name.
        public var name: String
        /// The manifest digest (the image's identity).
        public var digest: String
        /// The config digest (docker's image id).
        public var id: String
        /// The size of the image's blobs (compressed layers, config and manifest).
        public var size: Int64
        /// When the image was made, when its config says.
        public var created: String?
    }

    /// What `image inspect` shows.
    public struct Details: Codable, Sendable {
        /// The image's record.
        public var record: ImageRecord
        /// The image's manifest.
        public var manifest: ImageManifest
        /// The image's config.
        public var config: ImageConfig
        /// The snapshots of its layers, bottom first.
        public var chainIDs: [String]
        /// Whether every layer is unpacked.
        public var unpacked: Bool
        /// The size of the image's blobs.
        public var size: Int64
    }

    /// What `image prune` removed.
    public struct PruneReport: Codable, Sendable, Equatable {
        /// The blobs removed.
        public var blobs: [String] = []
        /// The snapshots removed (ChainIDs).
        public var snapshots: [String] = []
        /// Leftovers of killed imports removed from the staging folder.
        public var staging: Int = 0
        /// The bytes freed (blobs only).
        public var bytes: Int64 = 0
    }

    /// The store.
    public let store: ContentStore

    /// The image commands over `store`.
    public init(store: ContentStore) {
        self.store = store
    }

    // MARK: import

    /// Imports the tarball at `path` (or standard input when `path` is `-`), unpacks every image's layers,
    /// and returns the records written. With `name`, an archive holding exactly one image is stored under
    /// that name instead. Nothing is tagged unless every blob checks out.
    @discardableResult
    public func importArchive(path: String, name: String? = nil, limits: UnpackLimits = .init(),
                              progress: ImportProgress? = nil) throws -> [ImageRecord] {
        var importer = ImageImporter(store: store)
        importer.progress = progress
        importer.unpackLimits = limits
        importer.name = name
        return path == "-" ? try importer.importArchive(fd: 0) : try importer.importArchive(path: path)
    }

    // MARK: queries

    /// The record `reference` names: an exact name, a normalized name (`busybox` for
    /// `docker.io/library/busybox:latest`), or a unique prefix (12 hex digits or more) of an image's
    /// manifest or config digest.
    public func resolve(_ reference: String) throws -> ImageRecord {
        let records = try store.records()
        if let exact = records.first(where: { $0.name == reference }) { return exact }
        let normalized = ImageReference.normalized(reference)
        if let match = records.first(where: { $0.name == normalized }) { return match }
        let hex = reference.hasPrefix("sha256:") ? String(reference.dropFirst(7)) : reference
        if hex.utf8.count >= 12, hex.utf8.allSatisfy({ ($0 >= 0x30 && $0 <= 0x39) || ($0 >= 0x61 && $0 <= 0x66) }) {
            let matches = records.filter {
                $0.manifestDigest.dropFirst(7).hasPrefix(hex) || $0.configDigest.dropFirst(7).hasPrefix(hex)
            }
            if Set(matches.map(\.manifestDigest)).count == 1, let first = matches.first { return first }
            if !matches.isEmpty {
                throw PodrunError(.invalidArgument, "image id \(reference) is ambiguous", path: reference)
            }
        }
        throw PodrunError(.notFound, "image \(reference) not found", path: reference)
    }

    /// Every image, sorted by name.
    public func list() throws -> [Summary] {
        try store.records().map { record in
            let manifest = try self.manifest(of: record)
            let config = try? self.config(of: record)
            return Summary(name: record.name, digest: record.manifestDigest, id: record.configDigest,
                           size: Self.size(manifest), created: config?.created)
        }
    }

    /// The details of the image `reference` names.
    public func inspect(_ reference: String) throws -> Details {
        let record = try resolve(reference)
        let manifest = try self.manifest(of: record)
        let chains = try SnapshotStore.chainIDs(diffIDs: record.diffIDs)
        let snapshots = SnapshotStore(store: store)
        return Details(record: record, manifest: manifest, config: try config(of: record),
                       chainIDs: chains.map(\.description), unpacked: chains.allSatisfy { snapshots.has($0) },
                       size: Self.size(manifest))
    }

    /// The config of `record`'s image.
    public func config(of record: ImageRecord) throws -> ImageConfig {
        try JSONCoding.decode(ImageConfig.self, from: try store.read(try Digest(record.configDigest)),
                              what: "image config \(record.configDigest)")
    }

    /// The manifest of `record`'s image.
    public func manifest(of record: ImageRecord) throws -> ImageManifest {
        try JSONCoding.decode(ImageManifest.self, from: try store.read(try Digest(record.manifestDigest)),
                              what: "image manifest \(record.manifestDigest)")
    }

    private static func size(_ manifest: ImageManifest) -> Int64 {
        manifest.layers.reduce(manifest.config.size) { $0 + $1.size }
    }

    // MARK: changes

    /// Gives the image `source` names the further name `target`; returns the new record.
    @discardableResult
    public func tag(_ source: String, as target: String) throws -> ImageRecord {
        var record = try resolve(source)
        record.name = try ImageReference(parsing: target).description
        let tagged = record
        try store.withLock { try store.writeRecordLocked(tagged) }
        return tagged
    }

    /// Removes the name `reference`; a digest removes every name of that image. Blobs and snapshots stay
    /// until `prune`. Returns the names removed.
    @discardableResult
    public func remove(_ reference: String) throws -> [String] {
        let record = try resolve(reference)
        let byName = record.name == reference || record.name == ImageReference.normalized(reference)
        let names = byName ? [record.name] : try store.records().filter { $0.manifestDigest == record.manifestDigest }.map(\.name)
        try store.withLock {
            for name in names { try removeRecordLocked(name) }
        }
        return names
    }

    /// Removes every blob and snapshot that no image record and no container uses, and what killed imports
    /// left in the staging folder.
    public func prune() throws -> PruneReport {
        try store.withLock {
            var report = PruneReport()
            let records = try store.records()
            var blobsInUse = Set<String>()
            var chainsInUse = Set<String>()
            for record in records {
                blobsInUse.insert(record.manifestDigest)
                blobsInUse.insert(record.configDigest)
                blobsInUse.formUnion(record.layerDigests)
                chainsInUse.formUnion(try SnapshotStore.chainIDs(diffIDs: record.diffIDs).map(\.description))
            }
            for lease in try ContainerStorage(store: store).leases().values {
                chainsInUse.formUnion(lease.chainIDs)
            }
            for hex in try SnapshotStore.names(in: store.blobsDirectory) {
                guard let digest = Digest(hex: hex), !blobsInUse.contains(digest.description) else { continue }
                var st = stat()
                if stat(store.path(digest), &st) == 0 { report.bytes += Int64(st.st_size) }
                guard unlink(store.path(digest)) == 0 else { throw PodrunError.system("unlink", path: store.path(digest)) }
                report.blobs.append(digest.description)
            }
            let snapshots = SnapshotStore(store: store)
            for chain in try snapshots.all() where !chainsInUse.contains(chain.description) {
                try snapshots.remove(chain)
                report.snapshots.append(chain.description)
            }
            for name in try SnapshotStore.names(in: store.stagingDirectory) {
                // blob-PID-…, snap-PID-…: garbage once PID is gone. Lock files stay (they are tiny and shared).
                let fields = name.split(separator: "-")
                guard fields.count >= 3, let pid = Int32(fields[1]), !FileLock.isAlive(pid) else { continue }
                try FileIO.removeTree(store.stagingDirectory + "/" + name)
                report.staging += 1
            }
            return report
        }
    }

    /// Removes the record file of `name`. The caller holds the store lock.
    func removeRecordLocked(_ name: String) throws {
        let path = store.recordPath(name)
        guard unlink(path) == 0 || errno == ENOENT else { throw PodrunError.system("unlink", path: path) }
    }

    // MARK: export

    /// Writes the images `references` name as one OCI image layout tarball to `path` (`-` for standard
    /// output): `oci-layout`, `index.json` (one entry per name, with containerd's and OCI's name
    /// annotations) and `blobs/sha256/`.
    public func export(_ references: [String], to path: String) throws {
        guard !references.isEmpty else { throw PodrunError(.invalidArgument, "name at least one image to export") }
        let records = try references.map { try resolve($0) }
        var descriptors: [Descriptor] = []
        var blobs: [Digest] = []
        func add(_ digest: String) throws {
            let parsed = try Digest(digest)
            if !blobs.contains(parsed) { blobs.append(parsed) }
        }
        for record in records {
            let manifestDigest = try Digest(record.manifestDigest)
            var st = stat()
            guard stat(store.path(manifestDigest), &st) == 0 else {
                throw PodrunError(.notFound, "manifest blob of \(record.name) is missing", path: store.path(manifestDigest))
            }
            var annotations = ["io.containerd.image.name": record.name]
            if let reference = try? ImageReference(parsing: record.name), let tag = reference.tag {
                annotations["org.opencontainers.image.ref.name"] = tag
            }
            descriptors.append(Descriptor(mediaType: MediaType.ociManifest, digest: record.manifestDigest,
                                          size: Int64(st.st_size), platform: ImageImporter.hostPlatform,
                                          annotations: annotations))
            try add(record.manifestDigest)
            try add(record.configDigest)
            for layer in record.layerDigests { try add(layer) }
        }
        for blob in blobs where !store.has(blob) {
            throw PodrunError(.notFound, "blob \(blob) is missing from the store", path: store.path(blob))
        }
        let toStandardOutput = path == "-"
        let temporary = path + ".podrun-tmp-\(getpid())"
        let fd = toStandardOutput ? 1 : open(temporary, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0o644)
        guard fd >= 0 else { throw PodrunError.system("create", path: temporary) }
        do {
            let writer = try ArchiveWriter(fd: fd, destination: path)
            try writer.addFile("oci-layout", bytes: Array(#"{"imageLayoutVersion":"1.0.0"}"#.utf8))
            try writer.addFile("index.json", bytes: try JSONCoding.encode(ImageIndex(manifests: descriptors), what: "index.json"))
            try writer.addDirectory("blobs")
            try writer.addDirectory("blobs/sha256")
            for blob in blobs { try writer.addFile("blobs/sha256/" + blob.hex, copying: store.path(blob)) }
            try writer.finish()
            if !toStandardOutput {
                guard fsync(fd) == 0 else { throw PodrunError.system("fsync", path: temporary) }
                guard rename(temporary, path) == 0 else { throw PodrunError.system("rename", path: path) }
                close(fd)
            }
        } catch {
            if !toStandardOutput {
                close(fd)
                unlink(temporary)
            }
            throw error
        }
    }
}
