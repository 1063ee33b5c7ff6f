// `struct stat` and its members belong, for the compiler, to the module whose headers it met first: libarchive's
// here (MemberImportVisibility).
import CLibarchive
import Glibc
import LinuxSys
import OCISpec
import PodrunCore

/// Makes an OCI bundle from an image: storage with an overlay rootfs of the image's snapshots, and a
/// `config.json` built from the image's config on podrun's defaults.
public enum ImageBundle {
    /// The annotation that names, in a bundle made by `podrun bundle`, the storage folder to release.
    public static let storageAnnotation = "org.podrun.storage"

    /// A bundle for container `id` from the image `reference` names: the storage folder in the store
    /// (also the bundle folder, holding `config.json` and `rootfs`), with the spec it wrote. When the spec
    /// is refused, nothing is left.
    public static func make(_ service: ImageService, reference: String, id: String,
                            options: ImageRunOptions) throws -> (bundle: String, spec: Spec) {
        let record = try service.resolve(reference)
        let config = try service.config(of: record)
        let storage = ContainerStorage(store: service.store)
        let folder = try storage.provision(id: id, image: record)
        do {
            var spec = try ImageSpecBuilder.spec(image: config, options: withHostname(options, id),
                                                 users: try userDatabase(rootfs: folder + "/rootfs"))
            spec.root = Root(path: "rootfs", readonly: false)
            try FileIO.writeAtomically(folder + "/config.json", try JSONCoding.encode(spec, pretty: true, what: "config.json"))
            return (folder, spec)
        } catch {
            try? ContainerStorage.release(folder: folder)
            throw error
        }
    }

    /// Writes a bundle into `directory` (made when missing; it must not hold a `config.json` or a non-empty
    /// `rootfs`) for another runtime: `config.json` and an overlay-mounted `rootfs`, whose writable layer is
    /// kept in the store as storage named `name`. `remove(directory:)` undoes it.
    public static func write(_ service: ImageService, reference: String, name: String, into directory: String,
                             options: ImageRunOptions) throws -> Spec {
        try FileIO.makeDirectories(directory)
        guard !FileIO.exists(directory + "/config.json") else {
            throw PodrunError(.alreadyExists, "\(directory) already holds a config.json", path: directory + "/config.json")
        }
        let record = try service.resolve(reference)
        let config = try service.config(of: record)
        let rootfs = directory + "/rootfs"
        let storage = ContainerStorage(store: service.store)
        let folder = try storage.provision(id: name, image: record, rootfs: rootfs)
        do {
            var spec = try ImageSpecBuilder.spec(image: config, options: withHostname(options, name),
                                                 users: try userDatabase(rootfs: rootfs))
            spec.root = Root(path: "rootfs", readonly: false)
            var annotations = spec.annotations ?? [:]
            annotations[storageAnnotation] = folder
            spec.annotations = annotations
            try FileIO.writeAtomically(directory + "/config.json", try JSONCoding.encode(spec, pretty: true, what: "config.json"))
            return spec
        } catch {
            try? ContainerStorage.release(folder: folder)
            rmdir(rootfs)
            throw error
        }
    }

    /// Undoes `write`: unmounts the bundle's rootfs, releases its storage and removes `config.json` and the
    /// empty `rootfs`. A bundle podrun did not write is refused.
    public static func remove(directory: String) throws {
        let spec = try Spec.decode(from: try FileIO.readBytes(directory + "/config.json"))
        guard let folder = spec.annotations?[storageAnnotation] else {
            throw PodrunError(.invalidArgument, "\(directory) is not a bundle podrun wrote (no \(storageAnnotation) annotation)",
                              path: directory + "/config.json")
        }
        try ContainerStorage.release(folder: folder)
        if rmdir(directory + "/rootfs") != 0 && errno != ENOENT { throw PodrunError.system("rmdir", path: directory + "/rootfs") }
        if unlink(directory + "/config.json") != 0 && errno != ENOENT {
            throw PodrunError.system("unlink", path: directory + "/config.json")
        }
    }

    /// The hostname is the container's name unless the options give one.
    private static func withHostname(_ options: ImageRunOptions, _ name: String) -> ImageRunOptions {
        var options = options
        if options.hostname == nil { options.hostname = String(name.prefix(63)) }
        return options
    }

    /// The image's `/etc/passwd` and `/etc/group`, read inside `rootfs` (symlinks resolved within it);
    /// missing files, and anything but a regular file of under 16 MiB (a hostile image's fifo or
    /// `/dev/zero`), are empty.
    static func userDatabase(rootfs: String) throws -> UserDatabase {
        let root = try RootedDirectory(opening: rootfs)
        func read(_ path: String) -> String {
            guard let fd = try? root.open(path, flags: O_RDONLY | O_NONBLOCK | O_NOCTTY) else { return "" }
            defer { close(fd) }
            var st = stat()
            guard fstat(fd, &st) == 0, st.st_mode & S_IFMT == S_IFREG, st.st_size < 16 << 20 else { return "" }
            guard let bytes = try? FileIO.readAll(fd: fd, path: path), bytes.count < 16 << 20 else { return "" }
            return String(decoding: bytes, as: UTF8.self)
        }
        return UserDatabase(passwd: read("/etc/passwd"), group: read("/etc/group"))
    }
}
