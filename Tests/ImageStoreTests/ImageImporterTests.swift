import Foundation
import PodrunCore
import Testing

@testable import ImageStore

@Test func ociLayoutImportsWithTwoLayers() throws {
    let fixture = try Fixture()
    defer { fixture.remove() }
    let records = try ImageImporter(store: fixture.store).importArchive(path: fixture.ociTar)
    #expect(records.map(\.name) == ["latest"])
    let record = try fixture.store.record(named: "latest")
    #expect(record.layerDigests == (try fixture.layerDigests()))
    #expect(record.layerDigests.count == 2)
    #expect(record.diffIDs == (try fixture.diffIDs()))
    for digest in record.layerDigests + [record.configDigest, record.manifestDigest] {
        #expect(fixture.store.has(try Digest(digest)))
    }
    let config = try JSONDecoder().decode(ImageConfig.self, from: Data(try fixture.store.read(try Digest(record.configDigest))))
    #expect(config.rootfs.diff_ids == record.diffIDs)
    #expect(fixture.storeListing().filter { $0.hasPrefix("staging/") }.isEmpty)
}

@Test func dockerArchiveImportsWithTwoLayers() throws {
    let fixture = try Fixture(docker: true)
    defer { fixture.remove() }
    let records = try ImageImporter(store: fixture.store).importArchive(path: fixture.dockerTar)
    // skopeo writes the normalized name.
    #expect(records.map(\.name) == ["docker.io/library/img:latest"])
    let record = try fixture.store.record(named: "docker.io/library/img:latest")
    #expect(record.layerDigests.count == 2)
    #expect(record.diffIDs == (try fixture.diffIDs()))
    // docker-archive layers are uncompressed: their digests are the diff_ids.
    #expect(record.layerDigests == record.diffIDs)
    let manifest = try JSONDecoder().decode(ImageManifest.self, from: Data(try fixture.store.read(try Digest(record.manifestDigest))))
    #expect(manifest.layers.map(\.digest) == record.layerDigests)
    #expect(manifest.config.digest == record.configDigest)
}

@Test func importFromDescriptorReadsTheStream() throws {
    let fixture = try Fixture()
    defer { fixture.remove() }
    let fd = open(fixture.ociTar, O_RDONLY)
    #expect(fd >= 0)
    defer { close(fd) }
    let records = try ImageImporter(store: fixture.store).importArchive(fd: fd)
    #expect(records.first?.layerDigests.count == 2)
}

@Test func gzipCompressedArchiveImports() throws {
    let fixture = try Fixture()
    defer { fixture.remove() }
    let gz = fixture.directory + "/oci.tar.gz"
    try Fixture.run(["sh", "-c", "gzip -c '\(fixture.ociTar)' > '\(gz)'"])
    let records = try ImageImporter(store: fixture.store).importArchive(path: gz)
    #expect(records.first?.layerDigests.count == 2)
}

@Test func zstdCompressedArchiveImports() throws {
    let fixture = try Fixture()
    defer { fixture.remove() }
    let zst = fixture.directory + "/oci.tar.zst"
    try Fixture.run(["zstd", "-q", fixture.ociTar, "-o", zst])
    let records = try ImageImporter(store: fixture.store).importArchive(path: zst)
    #expect(records.first?.layerDigests.count == 2)
}

@Test func wrongDiffIDIsRefused() throws {
    let fixture = try Fixture(docker: true)
    defer { fixture.remove() }
    let bad = fixture.directory + "/diffid.tar"
    try fixture.rewriteDiffIDs(fixture.dockerTar, bad, short: false)
    do {
        try ImageImporter(store: fixture.store).importArchive(path: bad)
        Issue.record("a wrong diff_id was accepted")
    } catch let error as PodrunError {
        #expect(error.path == "rootfs.diff_ids[1]")
        #expect(error.message.contains("diff_id"))
    }
    #expect(fixture.storeListing().filter { !$0.hasSuffix("staging") } == [])
}

@Test func layerCountOtherThanDiffIDsIsRefused() throws {
    let fixture = try Fixture(docker: true)
    defer { fixture.remove() }
    let bad = fixture.directory + "/short.tar"
    try fixture.rewriteDiffIDs(fixture.dockerTar, bad, short: true)
    do {
        try ImageImporter(store: fixture.store).importArchive(path: bad)
        Issue.record("a config with too few diff_ids was accepted")
    } catch let error as PodrunError {
        #expect(error.message.contains("2 layers"))
    }
}

@Test func missingArchiveFileIsNotFound() throws {
    let store = ContentStore(root: NSTemporaryDirectory() + "absent-" + UUID().uuidString)
    do {
        try ImageImporter(store: store).importArchive(path: store.root + "/nothing.tar")
        Issue.record("a missing file was imported")
    } catch let error as PodrunError {
        #expect(error.code == .notFound)
    }
}

@Test func importingTwiceIsIdempotent() throws {
    let fixture = try Fixture(docker: true)
    defer { fixture.remove() }
    let importer = ImageImporter(store: fixture.store)
    let first = try importer.importArchive(path: fixture.ociTar) + importer.importArchive(path: fixture.dockerTar)
    let listing = fixture.storeListing()
    let second = try importer.importArchive(path: fixture.ociTar) + importer.importArchive(path: fixture.dockerTar)
    #expect(first == second)
    #expect(fixture.storeListing() == listing)
    #expect(try fixture.store.records().map(\.name) == ["docker.io/library/img:latest", "latest"])
}

@Test func corruptedOCILayerIsRefusedAndStoreUnchanged() throws {
    let fixture = try Fixture()
    defer { fixture.remove() }
    let importer = ImageImporter(store: fixture.store)
    try importer.importArchive(path: fixture.ociTar)
    let listing = fixture.storeListing()

    let layer = try fixture.layerDigests()[1]
    let bad = fixture.directory + "/bad.tar"
    try fixture.rewrite(fixture.ociTar, bad, member: "blobs/sha256/" + layer.dropFirst("sha256:".count), "flip")
    // A fresh store: nothing of the bad image may be left behind.
    let fresh = ContentStore(root: fixture.directory + "/fresh")
    do {
        try ImageImporter(store: fresh).importArchive(path: bad)
        Issue.record("a corrupted layer was accepted")
    } catch let error as PodrunError {
        #expect(error.message.contains("layer 1"))
        #expect(error.message.contains(layer))
    }
    #expect((try? FileManager.default.contentsOfDirectory(atPath: fresh.root + "/staging")) ?? [] == [])
    #expect(!FileManager.default.fileExists(atPath: fresh.blobsDirectory))
    #expect(!FileManager.default.fileExists(atPath: fresh.imagesDirectory))

    #expect(throws: PodrunError.self) { try importer.importArchive(path: bad) }
    #expect(fixture.storeListing() == listing)
}

@Test func corruptedDockerLayerIsRefusedAndStoreUnchanged() throws {
    let fixture = try Fixture(docker: true)
    defer { fixture.remove() }
    let importer = ImageImporter(store: fixture.store)
    try importer.importArchive(path: fixture.ociTar)
    let listing = fixture.storeListing()
    let bad = fixture.directory + "/bad.tar"
    try fixture.rewrite(fixture.dockerTar, bad, member: "*.tar", "flip")
    do {
        try importer.importArchive(path: bad)
        Issue.record("a corrupted layer was accepted")
    } catch let error as PodrunError {
        #expect(error.message.contains("layer"))
        #expect(error.message.contains("digest"))
    }
    #expect(fixture.storeListing() == listing)
}

@Test func missingBlobIsRefused() throws {
    let fixture = try Fixture()
    defer { fixture.remove() }
    let layer = try fixture.layerDigests()[0]
    let bad = fixture.directory + "/missing.tar"
    try fixture.rewrite(fixture.ociTar, bad, member: "blobs/sha256/" + layer.dropFirst("sha256:".count), "drop")
    do {
        try ImageImporter(store: fixture.store).importArchive(path: bad)
        Issue.record("an archive with a missing blob was accepted")
    } catch let error as PodrunError {
        #expect(error.code == .notFound)
        #expect(error.message.contains("missing"))
        #expect(error.message.contains(layer))
    }
    #expect(fixture.storeListing().filter { !$0.hasSuffix("staging") } == [])
}

@Test func garbageIsRefusedAsNotAnArchive() throws {
    let fixture = try Fixture()
    defer { fixture.remove() }
    let garbage = fixture.directory + "/garbage"
    try Data((0..<4096).map { UInt8(truncatingIfNeeded: $0 &* 7919) }).write(to: URL(fileURLWithPath: garbage))
    do {
        try ImageImporter(store: fixture.store).importArchive(path: garbage)
        Issue.record("garbage was accepted")
    } catch let error as PodrunError {
        #expect(error.message.contains("not a recognised image archive"))
    }
}

@Test func tarWithoutImageIsRefusedAsNotAnImage() throws {
    let fixture = try Fixture()
    defer { fixture.remove() }
    let plain = fixture.directory + "/plain.tar"
    try Fixture.run(["tar", "-C", fixture.layout + "/blobs", "-cf", plain, "."])
    do {
        try ImageImporter(store: fixture.store).importArchive(path: plain)
        Issue.record("a tar without an image was accepted")
    } catch let error as PodrunError {
        #expect(error.message.contains("not a recognised image archive"))
    }
}

@Test func entryWithDotDotIsRefused() throws {
    #expect(throws: PodrunError.self) { try ArchiveReader.normalize("blobs/../../etc/passwd") }
    #expect(throws: PodrunError.self) { try ArchiveReader.normalize("/etc/passwd") }
    #expect(try ArchiveReader.normalize("./blobs//sha256/x") == "blobs/sha256/x")
}

@Test func archiveOverTheStagingLimitIsRefusedWithNothingLeftStaged() throws {
    let fixture = try Fixture()
    defer { fixture.remove() }
    let size = try FileManager.default.attributesOfItem(atPath: fixture.ociTar)[.size] as? Int64 ?? 0
    var importer = ImageImporter(store: fixture.store)
    var limits = UnpackLimits()
    limits.maxArchiveBytes = 64
    importer.unpackLimits = limits
    #expect {
        try importer.importArchive(path: fixture.ociTar)
    } throws: { error in
        (error as? PodrunError)?.message.contains("holds more than 64 bytes of files") == true
    }
    #expect(fixture.storeListing().filter { !$0.hasSuffix("staging") && $0 != "lock" }.isEmpty, "\(fixture.storeListing())")
    // The same archive within the limit (its files hold less than the whole tarball) imports.
    limits.maxArchiveBytes = size
    importer.unpackLimits = limits
    #expect(try importer.importArchive(path: fixture.ociTar).map(\.name) == ["latest"])
}

@Test func nestedMultiPlatformIndexImportsTheLinuxAMD64Image() throws {
    let fixture = try Fixture()
    defer { fixture.remove() }
    // index.json -> a nested index of an arm64 manifest (whose blobs are absent, as in a one-platform export)
    // and the real amd64 one; the importer must walk into it and pick amd64.
    let script = """
    import hashlib, json, os, sys, tarfile
    layout, out = sys.argv[1:]
    index = json.load(open(os.path.join(layout, 'index.json')))
    real = dict(index['manifests'][0]); real.pop('annotations', None)
    real['platform'] = {'architecture': 'amd64', 'os': 'linux'}
    arm = {'mediaType': real['mediaType'], 'digest': 'sha256:' + 'ab' * 32, 'size': 1234,
           'platform': {'architecture': 'arm64', 'os': 'linux'}}
    nested = json.dumps({'schemaVersion': 2, 'mediaType': 'application/vnd.oci.image.index.v1+json',
                         'manifests': [arm, real]}).encode()
    digest = hashlib.sha256(nested).hexdigest()
    open(os.path.join(layout, 'blobs', 'sha256', digest), 'wb').write(nested)
    index['manifests'] = [{'mediaType': 'application/vnd.oci.image.index.v1+json', 'digest': 'sha256:' + digest,
                           'size': len(nested), 'annotations': {'org.opencontainers.image.ref.name': 'multi'}}]
    json.dump(index, open(os.path.join(layout, 'index.json'), 'w'))
    with tarfile.open(out, 'w') as t:
        t.add(layout, arcname='.')
    """
    let multi = fixture.directory + "/multi.tar"
    let layers = try fixture.layerDigests()
    try Fixture.run(["python3", "-c", script, fixture.layout, multi])
    let records = try ImageImporter(store: fixture.store).importArchive(path: multi)
    #expect(records.map(\.name) == ["multi"])
    #expect(records.first?.layerDigests == layers)

    let arm = ImageImporter(store: ContentStore(root: fixture.directory + "/store-arm"),
                                platform: Platform(architecture: "arm64", os: "linux"))
    #expect(throws: PodrunError.self, "the arm64 manifest's blob is missing") { try arm.importArchive(path: multi) }
}
