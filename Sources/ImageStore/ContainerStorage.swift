import FoundationEssentials
import Glibc
import LinuxSys
import PodrunCore

/// The writable storage of containers made from images: `containers/<id>/` in the store holds the
/// container's bundle (`config.json`), its overlay mount point (`rootfs`), the overlay's `upper` and `work`
/// folders and `image.json`, which names the image and snapshots it uses (so `image prune` keeps them).
public struct ContainerStorage: Sendable {
    /// What a container's storage records about its image.
    public struct Lease: Codable, Sendable, Equatable {
        /// The image name the container was made from.
        public var image: String
        /// The image's manifest digest.
        public var manifestDigest: String
        /// The snapshots the rootfs stacks, bottom first.
        public var chainIDs: [String]
        /// Where the overlay is mounted: `rootfs` in the storage folder, or an outside bundle's rootfs.
        public var rootfs: String
    }

    /// The store the snapshots are in.
    public let store: ContentStore

    /// The container storage of `store`.
    public init(store: ContentStore) {
        self.store = store
    }

    /// The folder of all containers' storage.
    public var directory: String { store.root + "/containers" }

    /// The storage folder (and bundle) of container `id`.
    public func path(_ id: String) -> String { directory + "/" + id }

    /// Makes container `id`'s storage and mounts its rootfs: an overlay of `image`'s snapshots (read-only,
    /// top first) under a fresh upper folder, at `rootfs` (an empty or missing folder; default: `rootfs` in
    /// the storage folder). Returns the storage folder. On failure nothing is left.
    public func provision(id: String, image: ImageRecord, rootfs: String? = nil) throws -> String {
        let snapshots = SnapshotStore(store: store)
        let (chains, _) = try snapshots.unpack(image)
        guard !chains.isEmpty else { throw PodrunError(.invalidSpec, "image \(image.name) has no layers") }
        try FileIO.makeDirectories(directory, mode: 0o711)
        let folder = path(id)
        guard mkdir(folder, 0o711) == 0 else {
            if errno == EEXIST {
                throw PodrunError(.alreadyExists, "container storage for \(id) already exists", path: folder)
            }
            throw PodrunError.system("mkdir", path: folder)
        }
        do {
            for name in ["upper", "work"] where mkdir(folder + "/" + name, 0o755) != 0 {
                throw PodrunError.system("mkdir", path: folder + "/" + name)
            }
            let target = rootfs ?? folder + "/rootfs"
            guard mkdir(target, 0o755) == 0 || (errno == EEXIST && rootfs != nil && FileIO.isDirectory(target)) else {
                throw PodrunError.system("mkdir", path: target)
            }
            let lease = Lease(image: image.name, manifestDigest: image.manifestDigest, chainIDs: chains.map(\.description),
                              rootfs: target)
            try FileIO.writeAtomically(folder + "/image.json", try JSONCoding.encode(lease, pretty: true, what: "image lease"),
                                       mode: 0o600)
            try mountOverlay(lowers: chains.reversed().map { $0.hex + "/fs" }, relativeTo: snapshots.directory,
                             upper: folder + "/upper", work: folder + "/work", target: target)
        } catch {
            try? Self.release(folder: folder)
            throw error
        }
        return folder
    }

    /// Unmounts container `id`'s rootfs and removes its storage; a missing one is not an error.
    public func release(id: String) throws {
        try Self.release(folder: path(id))
    }

    /// Unmounts the rootfs of the storage `folder` and removes `folder` (an outside rootfs folder is left
    /// empty). A missing folder is not an error.
    public static func release(folder: String) throws {
        var rootfs = folder + "/rootfs"
        if let bytes = try? FileIO.readBytes(folder + "/image.json"),
           let lease = try? JSONCoding.decode(Lease.self, from: bytes, what: "image lease") {
            rootfs = lease.rootfs
        }
        do {
            try Sys.unmount(rootfs, flags: Sys.MNT_DETACH)
        } catch let error as PodrunError where error.errno == EINVAL || error.errno == ENOENT {
            // Not mounted (a create that failed before the mount, or a second release).
        }
        try FileIO.removeTree(folder)
    }

    /// The ids of every container's storage.
    public func ids() throws -> [String] {
        try SnapshotStore.names(in: directory)
    }

    /// The leases of every container's storage, by container id.
    public func leases() throws -> [String: Lease] {
        var result: [String: Lease] = [:]
        for name in try SnapshotStore.names(in: directory) {
            let file = path(name) + "/image.json"
            guard FileIO.exists(file) else { continue }
            result[name] = try JSONCoding.decode(Lease.self, from: try FileIO.readBytes(file), what: "image lease \(file)")
        }
        return result
    }

    /// Mounts an overlay of `lowers` (paths relative to `base`, top first) at `target`. The lower paths are
    /// given whole when they fit in the one page mount options may take; when they do not (many layers),
    /// relative to `base`, which mount(2) resolves from the working folder: the process changes into `base`
    /// for the call (a process-wide change, so only then).
    private func mountOverlay(lowers: [String], relativeTo base: String, upper: String, work: String,
                              target: String) throws {
        let whole = "lowerdir=" + lowers.map { base + "/" + $0 }.joined(separator: ":") + ",upperdir=" + upper
            + ",workdir=" + work
        if whole.utf8.count < 4000 {
            try Sys.mount("overlay", target, "overlay", 0, whole, describe: "mount the overlay rootfs on")
            return
        }
        let options = "lowerdir=" + lowers.joined(separator: ":") + ",upperdir=" + upper + ",workdir=" + work
        guard options.utf8.count < 4000 else {
            throw PodrunError(.invalidSpec, "the image has too many layers (\(lowers.count)) for one overlay mount")
        }
        let saved = open(".", O_RDONLY | O_DIRECTORY | O_CLOEXEC)
        guard chdir(base) == 0 else {
            if saved >= 0 { close(saved) }
            throw PodrunError.system("chdir", path: base)
        }
        defer {
            if saved >= 0 {
                _ = fchdir(saved)
                close(saved)
            } else {
                _ = chdir("/")
            }
        }
        try Sys.mount("overlay", target, "overlay", 0, options, describe: "mount the overlay rootfs on")
    }
}
