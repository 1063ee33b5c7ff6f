import Foundation
import PodrunCore
import Testing

@testable import ImageStore

private func temporaryStore() -> ContentStore {
    ContentStore(root: NSTemporaryDirectory() + "contentstore-" + UUID().uuidString)
}

@Test func ingestStoresVerifiedBytes() throws {
    let store = temporaryStore()
    defer { try? FileManager.default.removeItem(atPath: store.root) }
    let bytes = Array("hello\n".utf8)
    let hex = "5891b5b522d5df086d0ff0b110fbd9d21bb4fc7163af34d08286a2e846f6be03"
    let digest = try store.ingest(Descriptor(mediaType: "text/plain", digest: "sha256:" + hex, size: 6), bytes: bytes)
    #expect(store.has(digest))
    #expect(try store.read(digest) == bytes)
    // A second ingest of the same content keeps the blob.
    try store.ingest(Descriptor(mediaType: "text/plain", digest: "sha256:" + hex, size: 6), bytes: bytes)
    #expect(try FileManager.default.contentsOfDirectory(atPath: store.stagingDirectory) == [])
}

@Test func ingestRefusesWrongDigestOrSize() throws {
    let store = temporaryStore()
    defer { try? FileManager.default.removeItem(atPath: store.root) }
    let bytes = Array("hello\n".utf8)
    let wrong = "sha256:" + String(repeating: "0", count: 64)
    #expect(throws: PodrunError.self) {
        try store.ingest(Descriptor(mediaType: "text/plain", digest: wrong, size: 6), bytes: bytes)
    }
    let right = "sha256:5891b5b522d5df086d0ff0b110fbd9d21bb4fc7163af34d08286a2e846f6be03"
    #expect(throws: PodrunError.self) {
        try store.ingest(Descriptor(mediaType: "text/plain", digest: right, size: 7), bytes: bytes)
    }
    #expect(!store.has(try Digest(right)))
    #expect(try FileManager.default.contentsOfDirectory(atPath: store.stagingDirectory) == [])
}

@Test func ingestRefusesTraversalDigest() throws {
    let store = temporaryStore()
    defer { try? FileManager.default.removeItem(atPath: store.root) }
    #expect(throws: PodrunError.self) {
        try store.ingest(Descriptor(mediaType: "text/plain", digest: "sha256:../../x", size: 1), bytes: [1])
    }
}

@Test func readOfMissingBlobIsNotFound() throws {
    let store = temporaryStore()
    do {
        _ = try store.read(try Digest("sha256:" + String(repeating: "a", count: 64)))
        Issue.record("read of a missing blob succeeded")
    } catch let error as PodrunError {
        #expect(error.code == .notFound)
    }
}

@Test func recordNamesEscapeSlashesAndColons() {
    #expect(ImageRecord.escapedName("docker.io/library/img:latest") == "docker.io%2Flibrary%2Fimg%3Alatest")
    #expect(ImageRecord.escapedName("..") == "%2E.")
}
