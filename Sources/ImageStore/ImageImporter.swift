import FoundationEssentials
import Glibc
import LinuxSys
import PodrunCore

/// Told the number of archive bytes read so far.
public typealias ImportProgress = (Int64) -> Void

/// Imports image tarballs into a `ContentStore`: a docker-archive (`docker save`, `skopeo copy
/// docker-archive:`) or an OCI image layout, each uncompressed, gzip or zstd.
///
/// The tarball is read in one streaming pass, every regular file going into the store's staging folder and
/// hashed on the way (at most `UnpackLimits.maxArchiveBytes` in all). Then the manifests are resolved and
/// every blob they reference is checked (digest, size, and each layer's uncompressed digest against the
/// config's `rootfs.diff_ids`: hashed while the layer is unpacked, or read for it when its snapshot is
/// already stored). Only when all is well are the blobs committed and the image records written; on any
/// failure the store is left as it was.
public struct ImageImporter {
    /// The store images go into.
    public let store: ContentStore
    /// The platform whose manifest is picked from an index.
    public let platform: Platform
    /// Called with the number of archive bytes read so far, as the import goes.
    public var progress: ImportProgress?
    /// When set, every image's layers are unpacked into snapshots (with these limits) before anything is
    /// committed, so a layer that cannot be unpacked fails the import and leaves the store as it was. Its
    /// `maxArchiveBytes` (the default's when nil) bounds what the import stages from the archive.
    public var unpackLimits: UnpackLimits?
    /// When set, the archive must hold exactly one image, which is stored under this name only.
    public var name: String?

    /// An importer into `store`, picking `platform`'s manifests (default: linux on this machine's CPU).
    public init(store: ContentStore, platform: Platform = ImageImporter.hostPlatform) {
        self.store = store
        self.platform = platform
    }

    /// linux on this machine's CPU architecture.
    public static var hostPlatform: Platform {
        #if arch(x86_64)
        return Platform(architecture: "amd64", os: "linux")
        #elseif arch(arm64)
        return Platform(architecture: "arm64", os: "linux")
        #else
        return Platform(architecture: "unknown", os: "linux")
        #endif
    }

    /// Imports the tarball at `path`; returns the records written (one per image name).
    @discardableResult
    public func importArchive(path: String) throws -> [ImageRecord] {
        let fd = open(path, O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else {
            let code = errno
            throw PodrunError(code == ENOENT ? .notFound : .system, "cannot open image archive", path: path, errno: code)
        }
        defer { close(fd) }
        return try importArchive(try Self.opened(path) { try ArchiveReader.tar(fd: fd, source: path) }, source: path)
    }

    /// Imports the tarball read from `fd` (from its current offset; `fd` is not closed).
    @discardableResult
    public func importArchive(fd: Int32) throws -> [ImageRecord] {
        try importArchive(try Self.opened("fd \(fd)") { try ArchiveReader.tar(fd: fd, source: "fd \(fd)") }, source: "fd \(fd)")
    }

    /// The reader `open` makes; an archive libarchive cannot open is "not a recognised image archive".
    private static func opened(_ source: String, _ open: () throws -> ArchiveReader) throws -> ArchiveReader {
        do {
            return try open()
        } catch let error as PodrunError where error.code == .invalidArgument {
            throw Self.notAnArchive(source, error)
        }
    }

    private static func notAnArchive(_ source: String, _ error: PodrunError) -> PodrunError {
        PodrunError(.invalidArgument, "\(source) is not a recognised image archive (not a tar)", path: source,
                    cause: error.description)
    }

    private func importArchive(_ reader: ArchiveReader, source: String) throws -> [ImageRecord] {
        let entries = StagedEntries()
        defer { entries.discardAll() }
        var diffChecks: [DiffIDCheck] = []
        reader.progress = progress
        var entryCount = 0
        let maxStaged = (unpackLimits ?? UnpackLimits()).maxArchiveBytes
        var stagedBytes: Int64 = 0
        do {
            while let entry = try reader.next() {
                entryCount += 1
                if let target = entry.hardlink {
                    entries.links[entry.name] = target
                } else if entry.fileType == S_IFLNK, let target = entry.symlink {
                    entries.links[entry.name] = try StagedEntries.resolve(symlink: target, of: entry.name)
                } else if entry.fileType == S_IFREG {
                    let staged = try store.stage()
                    // As in tar, a later entry of the same name replaces an earlier one.
                    entries.files[entry.name]?.discard()
                    entries.files[entry.name] = staged
                    try reader.readData { bytes in
                        stagedBytes += Int64(bytes.count)
                        guard stagedBytes <= maxStaged else {
                            throw PodrunError(.invalidArgument,
                                              "\(source) holds more than \(maxStaged) bytes of files (the archive size limit)",
                                              path: source)
                        }
                        try staged.write(bytes)
                    }
                    try staged.finish()
                }
            }
        } catch let error as PodrunError where entryCount == 0 && error.code == .invalidArgument {
            throw Self.notAnArchive(source, error)
        }

        var pending: [Digest: StagedBlob] = [:]
        var records: [ImageRecord] = []
        if entries.blob(named: "oci-layout") != nil, entries.blob(named: "index.json") != nil {
            records = try resolveOCILayout(entries, pending: &pending, diffChecks: &diffChecks)
        } else if entries.blob(named: "manifest.json") != nil {
            records = try resolveDockerArchive(entries, pending: &pending, diffChecks: &diffChecks)
        } else {
            throw PodrunError(.invalidArgument,
                              "\(source) is not a recognised image archive (neither oci-layout + index.json nor manifest.json)",
                              path: source)
        }

        if let name {
            let distinct = Set(records.map(\.manifestDigest))
            guard distinct.count == 1, var only = records.first else {
                throw PodrunError(.invalidArgument, "a name can be given to an archive of one image; \(source) has \(distinct.count)")
            }
            only.name = ImageReference.normalized(name)
            records = [only]
        }
        let snapshots = SnapshotStore(store: store)
        var stagedSnapshots: [SnapshotStore.StagedSnapshot] = []
        if let unpackLimits {
            stagedSnapshots = try snapshots.stageMissing(records, limits: unpackLimits) { digest in
                pending[digest]?.path ?? (store.has(digest) ? store.path(digest) : nil)
            }
        }
        do {
            // Layers unpacked now had their diff_id checked on the way; the others are read for it here.
            let unpacked = Set(stagedSnapshots.map { UnpackedLayer(chainID: $0.chainID, blob: $0.blob) })
            for check in diffChecks where !unpacked.contains(UnpackedLayer(chainID: check.chainID, blob: check.blob)) {
                try check.run()
            }
        } catch {
            snapshots.discard(stagedSnapshots)
            throw error
        }
        do {
            try store.withLock {
                for staged in pending.values {
                    try store.commitLocked(staged)
                }
                try snapshots.commitLocked(stagedSnapshots)
                for record in records {
                    try store.writeRecordLocked(record)
                }
            }
        } catch {
            snapshots.discard(stagedSnapshots)
            throw error
        }
        return records
    }

    // MARK: OCI image layout

    private func resolveOCILayout(_ entries: StagedEntries, pending: inout [Digest: StagedBlob],
                                  diffChecks: inout [DiffIDCheck]) throws -> [ImageRecord] {
        let index = try decode(ImageIndex.self, entries.file("index.json"), what: "index.json")
        var records: [ImageRecord] = []
        try walk(index.manifests, names: [], depth: 0, entries, pending: &pending, records: &records,
                 diffChecks: &diffChecks)
        guard !records.isEmpty else {
            throw PodrunError(.notFound, "the archive has no image manifest for \(platform.os)/\(platform.architecture)",
                              path: "index.json")
        }
        return records
    }

    private func walk(_ descriptors: [Descriptor], names: [String], depth: Int, _ entries: StagedEntries,
                      pending: inout [Digest: StagedBlob], records: inout [ImageRecord],
                      diffChecks: inout [DiffIDCheck]) throws {
        guard depth < 8 else { throw PodrunError(.invalidSpec, "image indexes nested too deep", path: "index.json") }
        for descriptor in descriptors {
            let ownNames = Self.refNames(descriptor.annotations)
            let imageNames = ownNames.isEmpty ? names : ownNames
            if MediaType.isIndex(descriptor.mediaType) {
                let staged = try verifiedBlob(descriptor, entries, what: "image index")
                pending[try Digest(descriptor.digest)] = staged
                let nested = try decode(ImageIndex.self, staged, what: "image index \(descriptor.digest)")
                try walk(nested.manifests, names: imageNames, depth: depth + 1, entries, pending: &pending,
                         records: &records, diffChecks: &diffChecks)
                continue
            }
            if let wanted = descriptor.platform,
               wanted.os != platform.os || wanted.architecture != platform.architecture {
                continue
            }
            let staged = try verifiedBlob(descriptor, entries, what: "image manifest")
            let manifest = try decode(ImageManifest.self, staged, what: "image manifest \(descriptor.digest)")
            let manifestDigest = try Digest(descriptor.digest)
            let resolved = try resolveImage(manifest, entries, pending: &pending, diffChecks: &diffChecks)
            pending[manifestDigest] = staged
            for name in imageNames.isEmpty ? [manifestDigest.description] : imageNames.map(Self.imageName) {
                records.append(ImageRecord(name: name, manifestDigest: manifestDigest.description,
                                           configDigest: manifest.config.digest,
                                           layerDigests: manifest.layers.map(\.digest),
                                           diffIDs: resolved.rootfs.diff_ids))
            }
        }
    }

    /// The stored form of a name found in an archive: normalized when it is a reference with a repository
    /// (`busybox:latest` becomes `docker.io/library/busybox:latest`); a digest or a bare OCI ref name (a tag
    /// such as `latest`, as umoci writes) stays as it is.
    static func imageName(_ name: String) -> String {
        guard !name.hasPrefix("sha256:"), name.contains(where: { $0 == ":" || $0 == "/" }) else { return name }
        return ImageReference.normalized(name)
    }

    /// The names an index entry gives its image: containerd's full name, else the OCI ref name.
    private static func refNames(_ annotations: [String: String]?) -> [String] {
        if let name = annotations?["io.containerd.image.name"] { return [name] }
        if let name = annotations?["org.opencontainers.image.ref.name"] { return [name] }
        return []
    }

    /// Checks a manifest's config and layers (digests, sizes, diff_ids) and adds them to `pending`.
    private func resolveImage(_ manifest: ImageManifest, _ entries: StagedEntries,
                              pending: inout [Digest: StagedBlob], diffChecks: inout [DiffIDCheck]) throws -> ImageConfig {
        let configBlob = try verifiedBlob(manifest.config, entries, what: "image config")
        let config = try decode(ImageConfig.self, configBlob, what: "image config \(manifest.config.digest)")
        pending[try Digest(manifest.config.digest)] = configBlob
        guard config.os == platform.os, config.architecture == platform.architecture else {
            throw PodrunError(.invalidSpec,
                              "image config \(manifest.config.digest) is for \(config.os)/\(config.architecture), not \(platform.os)/\(platform.architecture)",
                              path: manifest.config.digest)
        }
        var layers: [StagedBlob] = []
        for (number, layer) in manifest.layers.enumerated() {
            let staged = try verifiedBlob(layer, entries, what: "layer \(number)")
            layers.append(staged)
        }
        diffChecks += try diffIDChecks(layers, layerNames: manifest.layers.map(\.digest), config: config,
                                       configName: manifest.config.digest)
        for (layer, staged) in zip(manifest.layers, layers) {
            pending[try Digest(layer.digest)] = staged
        }
        return config
    }

    /// The staged blob `blobs/sha256/<hex>` that `descriptor` names, checked against its digest and size.
    private func verifiedBlob(_ descriptor: Descriptor, _ entries: StagedEntries, what: String) throws -> StagedBlob {
        let digest = try Digest(descriptor.digest)
        guard let staged = entries.blob(named: "blobs/sha256/" + digest.hex) else {
            throw PodrunError(.notFound, "\(what) blob \(digest) is missing from the archive", path: descriptor.digest)
        }
        try staged.verify(descriptor, what: "\(what) blob \(digest)")
        return staged
    }

    // MARK: docker-archive

    private func resolveDockerArchive(_ entries: StagedEntries, pending: inout [Digest: StagedBlob],
                                      diffChecks: inout [DiffIDCheck]) throws -> [ImageRecord] {
        let images = try decode([DockerArchiveManifest].self, entries.file("manifest.json"), what: "manifest.json")
        guard !images.isEmpty else { throw PodrunError(.invalidSpec, "manifest.json lists no image", path: "manifest.json") }
        var records: [ImageRecord] = []
        for image in images {
            let configName = try ArchiveReader.normalize(image.Config)
            let configBlob = try dockerBlob(configName, entries, what: "image config")
            let config = try decode(ImageConfig.self, configBlob, what: "image config \(configName)")
            var layerBlobs: [StagedBlob] = []
            var layerDescriptors: [Descriptor] = []
            for (number, layerPath) in image.Layers.enumerated() {
                let name = try ArchiveReader.normalize(layerPath)
                let staged = try dockerBlob(name, entries, what: "layer \(number)")
                layerBlobs.append(staged)
                layerDescriptors.append(Descriptor(mediaType: try Self.layerMediaType(staged), digest: try staged.finish().description,
                                                   size: staged.size))
            }
            diffChecks += try diffIDChecks(layerBlobs, layerNames: image.Layers, config: config, configName: configName)

            // A docker-archive has no manifest blob: write the OCI manifest it stands for.
            let configDigest = try configBlob.finish()
            let manifest = ImageManifest(config: Descriptor(mediaType: MediaType.ociConfig,
                                                            digest: configDigest.description, size: configBlob.size),
                                         layers: layerDescriptors)
            let manifestBlob = try store.stage()
            try manifestBlob.write(try JSONCoding.encode(manifest, what: "image manifest"))
            let manifestDigest = try manifestBlob.finish()
            entries.extra.append(manifestBlob)

            pending[configDigest] = configBlob
            for staged in layerBlobs { pending[try staged.finish()] = staged }
            pending[manifestDigest] = manifestBlob
            for name in (image.RepoTags ?? []).isEmpty ? [manifestDigest.description] : (image.RepoTags ?? []).map(Self.imageName) {
                records.append(ImageRecord(name: name, manifestDigest: manifestDigest.description,
                                           configDigest: configDigest.description,
                                           layerDigests: layerDescriptors.map(\.digest),
                                           diffIDs: config.rootfs.diff_ids))
            }
        }
        return records
    }

    /// A docker-archive file; when its name carries a digest (`<hex>.json`, `<hex>.tar`, `blobs/sha256/<hex>`),
    /// the content must match it.
    private func dockerBlob(_ name: String, _ entries: StagedEntries, what: String) throws -> StagedBlob {
        guard let staged = entries.blob(named: name) else {
            throw PodrunError(.notFound, "\(what) \(name) is missing from the archive", path: name)
        }
        let actual = try staged.finish()
        if let named = Self.digestInName(name), named != actual {
            throw PodrunError(.invalidSpec, "\(what) \(name) has digest \(actual), expected \(named)", path: name)
        }
        return staged
    }

    private static func digestInName(_ name: String) -> Digest? {
        if name.hasPrefix("blobs/sha256/") { return Digest(hex: String(name.dropFirst("blobs/sha256/".count))) }
        guard !name.contains(where: { $0 == "/" }) else { return nil }
        for suffix in [".json", ".tar"] where name.hasSuffix(suffix) {
            return Digest(hex: String(name.dropLast(suffix.count)))
        }
        return nil
    }

    private static func layerMediaType(_ staged: StagedBlob) throws -> String {
        let fd = open(staged.path, O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else { throw PodrunError.system("open", path: staged.path) }
        defer { close(fd) }
        var magic = [UInt8](repeating: 0, count: 4)
        let n = magic.withUnsafeMutableBytes { Glibc.read(fd, $0.baseAddress, 4) }
        if n >= 2, magic[0] == 0x1f, magic[1] == 0x8b { return MediaType.ociLayerGzip }
        if n == 4, magic == [0x28, 0xb5, 0x2f, 0xfd] { return MediaType.ociLayerZstd }
        return MediaType.ociLayer
    }

    // MARK: shared checks

    /// Checks the layer count against `rootfs.diff_ids`; returns the checks of each layer's uncompressed
    /// sha256 against its diff_id, run after the unpack for the layers it did not read.
    private func diffIDChecks(_ layers: [StagedBlob], layerNames: [String], config: ImageConfig,
                              configName: String) throws -> [DiffIDCheck] {
        guard layers.count == config.rootfs.diff_ids.count else {
            throw PodrunError(.invalidSpec,
                              "the image has \(layers.count) layers but its config \(configName) lists \(config.rootfs.diff_ids.count) diff_ids",
                              path: "rootfs.diff_ids")
        }
        let chains = try SnapshotStore.chainIDs(diffIDs: config.rootfs.diff_ids)
        var checks: [DiffIDCheck] = []
        for (number, (staged, diffID)) in zip(layers, config.rootfs.diff_ids).enumerated() {
            checks.append(DiffIDCheck(staged: staged, blob: try staged.finish(), diffID: try Digest(diffID),
                                      chainID: chains[number], number: number, layerName: layerNames[number]))
        }
        return checks
    }

    private func decode<T: Decodable>(_ type: T.Type, _ staged: StagedBlob, what: String) throws -> T {
        let bytes = try FileIO.readBytes(staged.path)
        do {
            return try JSONDecoder().decode(type, from: Data(bytes))
        } catch {
            throw PodrunError(.invalidSpec, "\(what) is not valid JSON of its kind", path: what,
                              cause: String(describing: error))
        }
    }
}

/// A snapshot unpacked by an import: its ChainID and the blob it came from.
private struct UnpackedLayer: Hashable {
    var chainID: Digest
    var blob: Digest
}

/// One layer's uncompressed digest to check against the diff_id its image config lists.
private struct DiffIDCheck {
    var staged: StagedBlob
    var blob: Digest
    var diffID: Digest
    var chainID: Digest
    var number: Int
    var layerName: String

    /// Reads the layer through its decompressor and compares the digest.
    func run() throws {
        let reader = try ArchiveReader.raw(path: staged.path)
        guard try reader.next() != nil else {
            throw PodrunError(.invalidSpec, "layer \(layerName) is empty", path: staged.path)
        }
        var hasher = SHA256Hasher()
        try reader.readData { hasher.update($0) }
        let actual = hasher.finalize()
        guard actual == diffID else {
            throw PodrunError(.invalidSpec,
                              "layer \(number) (\(layerName)) uncompresses to \(actual), but its diff_id is \(diffID)",
                              path: "rootfs.diff_ids[\(number)]")
        }
    }
}

/// The regular files (and links) staged from an archive, by normalized entry name.
private final class StagedEntries {
    var files: [String: StagedBlob] = [:]
    var links: [String: String] = [:]
    /// Staged files that are not archive entries (written by the importer).
    var extra: [StagedBlob] = []

    /// The staged file named `name`, following links.
    func blob(named name: String) -> StagedBlob? {
        var current = name
        for _ in 0..<16 {
            if let staged = files[current] { return staged }
            guard let target = links[current] else { return nil }
            current = target
        }
        return nil
    }

    /// The staged file named `name`, or `.notFound`.
    func file(_ name: String) throws -> StagedBlob {
        guard let staged = blob(named: name) else {
            throw PodrunError(.notFound, "\(name) is missing from the archive", path: name)
        }
        return staged
    }

    func discardAll() {
        for staged in files.values { staged.discard() }
        for staged in extra { staged.discard() }
    }

    /// The archive name a symlink at `name` pointing to `target` stands for; links leaving the archive are refused.
    static func resolve(symlink target: String, of name: String) throws -> String {
        if target.hasPrefix("/") {
            throw PodrunError(.invalidArgument, "archive entry \(name) links to the absolute path \(target)", path: name)
        }
        var parts = name.split(separator: "/").dropLast().map(String.init)
        for part in target.split(separator: "/") {
            if part == "." { continue }
            if part == ".." {
                guard !parts.isEmpty else {
                    throw PodrunError(.invalidArgument, "archive entry \(name) links outside the archive (\(target))", path: name)
                }
                parts.removeLast()
            } else {
                parts.append(String(part))
            }
        }
        return parts.joined(separator: "/")
    }
}
