import Foundation
import Testing

/// One hostile archive: what `HostileArchive.make` builds, the import flags, and the error it must give.
struct HostileCase: CustomTestStringConvertible, Sendable {
    var kind: String
    var flags: [String] = []
    var error: String
    var testDescription: String { kind }
}

/// Crafts OCI image layout tarballs, well-formed or hostile, with python3's tarfile: one layer (gzip) holding
/// `hello.txt` and, by kind, an entry that attacks the folder `outside`, or a broken digest, diff_id or tar.
enum HostileArchive {
    static let script = #"""
    import gzip, hashlib, io, json, platform, sys, tarfile
    kind, out, outside, stored = sys.argv[1], sys.argv[2], sys.argv[3], sys.argv[4]
    arch = {'x86_64': 'amd64', 'aarch64': 'arm64'}.get(platform.machine(), platform.machine())
    def sha(b): return 'sha256:' + hashlib.sha256(b).hexdigest()
    def tar(entries):
        raw = io.BytesIO()
        with tarfile.open(fileobj=raw, mode='w', format=tarfile.PAX_FORMAT) as t:
            for name, type_, data, link in entries:
                info = tarfile.TarInfo(name)
                info.type, info.linkname, info.mode, info.size = type_, link, 0o644, len(data)
                t.addfile(info, io.BytesIO(data) if data else None)
        return raw.getvalue()
    R, S, L = tarfile.REGTYPE, tarfile.SYMTYPE, tarfile.LNKTYPE
    hostile = {
        'traversal': [('../' * 12 + outside.lstrip('/') + '/pwned', R, b'bad', '')],
        'absolute': [(outside + '/pwned', R, b'bad', '')],
        'symlink': [('escape', S, b'', outside), ('escape/pwned', R, b'bad', '')],
        'hardlink': [('victim', L, b'', outside + '/victim'), ('victim', R, b'bad', '')],
        'long-name': [('/'.join(['n' * 250] * 20), R, b'bad', '')],
        'gzip-bomb': [('zeros', R, bytes(64 << 20), '')],
    }
    blobs = {}
    def blob(data):
        blobs[sha(data)] = data
        return {'digest': sha(data), 'size': len(data)}
    def image(text, ref, bad_diff_id=False):
        plain = tar([('hello.txt', R, text, '')] + hostile.get(kind, []))
        layer = gzip.compress(plain, mtime=0)
        diff_ids = [sha(b'not this layer') if bad_diff_id else stored if kind == 'stored-diff-id' else sha(plain)]
        layers = [dict(mediaType='application/vnd.oci.image.layer.v1.tar+gzip', **blob(layer))]
        for n in range(int(kind[7:]) if kind.startswith('layers-') else 0):  # more layers, file<n> in each
            more = tar([('file%d' % n, R, b'%d\n' % n, '')])
            diff_ids.append(sha(more))
            layers.append(dict(mediaType='application/vnd.oci.image.layer.v1.tar+gzip', **blob(gzip.compress(more, mtime=0))))
        config = json.dumps({'architecture': arch, 'os': 'linux', 'config': {'Cmd': ['sh']},
                             'rootfs': {'type': 'layers', 'diff_ids': diff_ids}}).encode()
        manifest = json.dumps({'schemaVersion': 2, 'mediaType': 'application/vnd.oci.image.manifest.v1+json',
            'config': dict(mediaType='application/vnd.oci.image.config.v1+json', **blob(config)),
            'layers': layers}).encode()
        if kind == 'bad-digest':
            blobs[sha(layer)] = gzip.compress(plain + bytes(1024), mtime=0)
        return dict(mediaType='application/vnd.oci.image.manifest.v1+json', annotations={
            'org.opencontainers.image.ref.name': ref}, **blob(manifest))
    manifests = [image(b'hello\n', 'good', bad_diff_id=kind == 'bad-diff-id')]
    if kind == 'second-image-bad':
        manifests.append(image(b'other\n', 'bad', bad_diff_id=True))
    index = json.dumps({'schemaVersion': 2, 'manifests': manifests}).encode()
    outer = io.BytesIO()
    with tarfile.open(fileobj=outer, mode='w') as t:
        files = [('oci-layout', b'{"imageLayoutVersion": "1.0.0"}'), ('index.json', index)]
        for name, data in files + [('blobs/sha256/' + d[7:], b) for d, b in blobs.items()]:
            info = tarfile.TarInfo(name)
            info.size = len(data)
            t.addfile(info, io.BytesIO(data))
    data = outer.getvalue()
    if kind == 'truncated':  # cut in the middle of the biggest blob's data
        last = max(tarfile.open(fileobj=io.BytesIO(data)).getmembers(), key=lambda m: m.size)
        data = data[:last.offset_data + last.size // 2]
    open(out, 'wb').write(data)
    """#

    /// Writes the archive of `kind` to `path`, attacking `outside`; kind `stored-diff-id` claims `storedDiffID`
    /// (a layer the store already has unpacked) as its layer's diff_id.
    static func make(_ h: Harness, kind: String, at path: String, outside: String,
                     storedDiffID: String = "") async throws {
        let result = try await h.host("/usr/bin/env", ["python3", "-c", script, kind, path, outside, storedDiffID])
        guard result.succeeded else { throw HarnessError("crafting \(kind) failed: \(result)") }
    }
}

extension Harness {
    /// Every path in the test's store with its type, size, mode, owner and (regular files) content, for
    /// before-and-after comparisons.
    func storeSnapshot() throws -> [String: String] {
        var result: [String: String] = [:]
        for path in FileManager.default.enumerator(atPath: imageStore)?.allObjects as? [String] ?? [] {
            let full = imageStore + "/" + path
            let attributes = try FileManager.default.attributesOfItem(atPath: full)
            let type = attributes[.type] as? FileAttributeType
            var line = "\(type?.rawValue ?? "?") \(attributes[.size] ?? "?") \(attributes[.posixPermissions] ?? "?") "
                + "\(attributes[.ownerAccountID] ?? "?")"
            if type == .typeRegular {
                line += " " + (try Data(contentsOf: URL(fileURLWithPath: full))).base64EncodedString()
            }
            result[path] = line
        }
        return result
    }
}

@Suite("images: crafted archives through the CLI (hostile ones refused)", .enabled(if: !TestEnvironment.isRunc, "podrun's image commands"))
struct HostileImageTests {
    static let cases: [HostileCase] = [
        HostileCase(kind: "bad-digest", error: "has digest sha256:"),
        HostileCase(kind: "bad-diff-id", error: "but its diff_id is sha256:"),
        HostileCase(kind: "traversal", error: "escapes the layer folder (.. component)"),
        HostileCase(kind: "absolute", error: "escapes the layer folder (absolute name)"),
        HostileCase(kind: "symlink", error: "layer entry escape/pwned escapes the layer folder"),
        HostileCase(kind: "hardlink", error: "escapes the layer folder (absolute name)"),
        HostileCase(kind: "long-name", error: "is 5019 bytes long, more than the limit of 4096"),
        HostileCase(kind: "gzip-bomb", flags: ["--max-layer-size", "1048576"],
                    error: "layer unpacks to more than 1048576 bytes"),
        HostileCase(kind: "truncated", error: "runcated"),
        HostileCase(kind: "second-image-bad", error: "but its diff_id is sha256:"),
        // Its layer's diff_id names a snapshot the store has, so the check is not made by unpacking it.
        HostileCase(kind: "stored-diff-id", error: "but its diff_id is sha256:"),
        HostileCase(kind: "well-formed", flags: ["--max-archive-size", "300"],
                    error: "holds more than 300 bytes of files (the archive size limit)"),
    ]

    @Test(arguments: cases)
    func hostileArchiveIsRefusedAndChangesNothing(_ hostile: HostileCase) async throws {
        try await withHarness { h in
            let outside = try h.makeHostDirectory("outside")
            try "victim\n".write(toFile: outside + "/victim", atomically: false, encoding: .utf8)
            try await h.podrunSucceeds(["image", "import", try ImageFixture.directory() + "/docker.tar"])
            let inspect = try await h.podrunSucceeds(["image", "inspect", "podrun-test/app"])
            let config = (try JSONSerialization.jsonObject(with: Data(inspect.stdout.utf8)) as? [String: Any])?["config"]
            let diffIDs = ((config as? [String: Any])?["rootfs"] as? [String: Any])?["diff_ids"] as? [String] ?? []
            let archive = h.tempDirectory + "/hostile.tar"
            try await HostileArchive.make(h, kind: hostile.kind, at: archive, outside: outside,
                                          storedDiffID: diffIDs.first ?? "")
            let before = try h.storeSnapshot()

            let result = try await h.podrun(["image", "import"] + hostile.flags + [archive])
            #expect(result.status == 1, "\(result)")
            #expect(result.stderr.contains(hostile.error), "\(result)")
            #expect(try FileManager.default.contentsOfDirectory(atPath: outside) == ["victim"])
            #expect(try String(contentsOfFile: outside + "/victim", encoding: .utf8) == "victim\n")
            #expect(try h.storeSnapshot() == before, "the store changed")
            let list = try await h.podrunSucceeds(["image", "ls", "--quiet"])
            #expect(list.output == "docker.io/podrun-test/app:latest", "nothing of the archive is tagged")
        }
    }

    @Test func wellFormedCraftedArchiveImports() async throws {
        // The crafting helper's base case is a valid image, so each hostile case differs from it only by its attack.
        try await withHarness { h in
            let archive = h.tempDirectory + "/good.tar"
            try await HostileArchive.make(h, kind: "well-formed", at: archive, outside: h.tempDirectory)
            try await h.podrunSucceeds(["image", "import", archive])
            let list = try await h.podrunSucceeds(["image", "ls", "--quiet"])
            #expect(list.output == "good")
            let snapshots = h.storeEntries("snapshots")
            #expect(snapshots.count == 1)
            let hello = try String(contentsOfFile: h.imageStore + "/snapshots/" + (snapshots.first ?? "") + "/fs/hello.txt",
                                   encoding: .utf8)
            #expect(hello == "hello\n")
        }
    }

    @Test func imageWithManyLayersMountsThroughRelativeLowerPaths() async throws {
        // 45 layers: their whole snapshot paths (over 100 bytes each) pass the page mount options may
        // take, their paths relative to the snapshots folder (68 bytes) do not.
        try await withHarness { h in
            let archive = h.tempDirectory + "/layers.tar"
            try await HostileArchive.make(h, kind: "layers-44", at: archive, outside: h.tempDirectory)
            try await h.podrunSucceeds(["image", "import", archive])
            #expect(h.storeEntries("snapshots").count == 45)
            let bundle = h.tempDirectory + "/bundle"
            try await h.podrunSucceeds(["bundle", "--image", "good", bundle])
            #expect((try? String(contentsOfFile: bundle + "/rootfs/hello.txt", encoding: .utf8)) == "hello\n")
            #expect((try? String(contentsOfFile: bundle + "/rootfs/file0", encoding: .utf8)) == "0\n")
            #expect((try? String(contentsOfFile: bundle + "/rootfs/file43", encoding: .utf8)) == "43\n")
            try await h.podrunSucceeds(["bundle", "--remove", bundle])
            #expect(h.storeEntries("containers").isEmpty)
        }
    }
}
