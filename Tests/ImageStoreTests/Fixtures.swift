import Foundation
import ImageStore

/// Image tarballs made with the real tools (umoci, tar, skopeo) in a temp folder, and a store beside them.
struct Fixture {
    let directory: String
    var store: ContentStore { ContentStore(root: directory + "/store") }
    var layout: String { directory + "/oci" }
    var ociTar: String { directory + "/oci.tar" }
    var dockerTar: String { directory + "/docker.tar" }

    /// A temp folder with an OCI layout of two layers (`oci.tar`) and, when asked, its docker-archive
    /// (`docker.tar`, named `img:latest`).
    init(docker: Bool = false) throws {
        directory = NSTemporaryDirectory() + "imagestore-" + UUID().uuidString
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        let bundle = directory + "/bundle"
        try Fixture.run(["umoci", "init", "--layout", layout])
        try Fixture.run(["umoci", "new", "--image", layout + ":latest"])
        try Fixture.run(["umoci", "unpack", "--image", layout + ":latest", bundle])
        try "hello\n".write(toFile: bundle + "/rootfs/a.txt", atomically: false, encoding: .utf8)
        try Fixture.run(["umoci", "repack", "--image", layout + ":latest", bundle])
        try FileManager.default.removeItem(atPath: bundle)
        try Fixture.run(["umoci", "unpack", "--image", layout + ":latest", bundle])
        try FileManager.default.createDirectory(atPath: bundle + "/rootfs/etc", withIntermediateDirectories: true)
        try "second layer\n".write(toFile: bundle + "/rootfs/etc/b.conf", atomically: false, encoding: .utf8)
        try Fixture.run(["umoci", "repack", "--image", layout + ":latest", bundle])
        try FileManager.default.removeItem(atPath: bundle)
        try Fixture.run(["tar", "-C", layout, "-cf", ociTar, "."])
        if docker {
            try Fixture.run(["skopeo", "copy", "oci:" + layout + ":latest", "docker-archive:" + dockerTar + ":img:latest"])
        }
    }

    func remove() {
        try? FileManager.default.removeItem(atPath: directory)
    }

    /// The layout's manifest, read with plain JSON.
    func manifest() throws -> [String: Any] {
        let index = try json(layout + "/index.json")
        let manifests = index["manifests"] as? [[String: Any]] ?? []
        let digest = manifests.first?["digest"] as? String ?? ""
        return try json(layout + "/blobs/sha256/" + digest.dropFirst("sha256:".count))
    }

    /// The layout's layer digests, bottom first.
    func layerDigests() throws -> [String] {
        (try manifest()["layers"] as? [[String: Any]] ?? []).compactMap { $0["digest"] as? String }
    }

    /// The layout config's diff_ids.
    func diffIDs() throws -> [String] {
        let config = try manifest()["config"] as? [String: Any] ?? [:]
        let digest = config["digest"] as? String ?? ""
        let rootfs = try json(layout + "/blobs/sha256/" + digest.dropFirst("sha256:".count))["rootfs"] as? [String: Any]
        return rootfs?["diff_ids"] as? [String] ?? []
    }

    /// Rewrites tarball `source` into `destination` with the member `name` (or the first regular member
    /// ending in `name` when it starts with `*`) changed: `flip` inverts its middle byte, `drop` leaves it out.
    func rewrite(_ source: String, _ destination: String, member name: String, _ action: String) throws {
        let script = """
        import io, sys, tarfile
        src, dst, name, action = sys.argv[1:]
        done = False
        with tarfile.open(src) as t, tarfile.open(dst, 'w') as out:
            for m in t.getmembers():
                n = m.name[2:] if m.name.startswith('./') else m.name
                hit = not done and m.isreg() and (n.endswith(name[1:]) if name.startswith('*') else n == name)
                if not hit:
                    out.addfile(m, t.extractfile(m) if m.isreg() else None)
                    continue
                done = True
                if action == 'drop':
                    continue
                data = bytearray(t.extractfile(m).read())
                data[len(data) // 2] ^= 0xff
                out.addfile(m, io.BytesIO(bytes(data)))
        sys.exit(0 if done else 3)
        """
        try Fixture.run(["python3", "-c", script, source, destination, name, action])
    }

    /// Rewrites the docker-archive `source` into `destination` with a config (consistently named by its new
    /// digest) whose diff_ids are wrong: `short` drops the last one, otherwise the last one is all zeros.
    func rewriteDiffIDs(_ source: String, _ destination: String, short: Bool) throws {
        let script = """
        import hashlib, io, json, sys, tarfile
        src, dst, mode = sys.argv[1:]
        with tarfile.open(src) as t, tarfile.open(dst, 'w') as out:
            manifest = json.load(t.extractfile('manifest.json'))
            old = manifest[0]['Config']
            config = json.load(t.extractfile(old))
            if mode == 'short':
                config['rootfs']['diff_ids'].pop()
            else:
                config['rootfs']['diff_ids'][-1] = 'sha256:' + '0' * 64
            data = json.dumps(config).encode()
            manifest[0]['Config'] = hashlib.sha256(data).hexdigest() + '.json'
            mdata = json.dumps(manifest).encode()
            for m in t.getmembers():
                if m.name == old:
                    m.name, m.size = manifest[0]['Config'], len(data)
                    out.addfile(m, io.BytesIO(data))
                elif m.name == 'manifest.json':
                    m.size = len(mdata)
                    out.addfile(m, io.BytesIO(mdata))
                else:
                    out.addfile(m, t.extractfile(m) if m.isreg() else None)
        """
        try Fixture.run(["python3", "-c", script, source, destination, short ? "short" : "wrong"])
    }

    /// Every path under the store root, sorted.
    func storeListing() -> [String] {
        let root = store.root
        guard let walker = FileManager.default.enumerator(atPath: root) else { return [] }
        return walker.compactMap { $0 as? String }.sorted()
    }

    private func json(_ path: String) throws -> [String: Any] {
        let data = try Data(contentsOf: URL(fileURLWithPath: path))
        return try JSONSerialization.jsonObject(with: data) as? [String: Any] ?? [:]
    }

    static func run(_ arguments: [String]) throws {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = arguments
        let output = Pipe()
        process.standardOutput = output
        process.standardError = output
        try process.run()
        let text = String(decoding: output.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        process.waitUntilExit()
        guard process.terminationStatus == 0 else {
            throw FixtureError(message: "\(arguments.joined(separator: " ")) failed: \(text)")
        }
    }
}

struct FixtureError: Error, CustomStringConvertible {
    var message: String
    var description: String { message }
}
