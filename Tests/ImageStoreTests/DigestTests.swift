import PodrunCore
import Testing

@testable import ImageStore

@Test func digestRefusesPathTraversal() {
    #expect(throws: PodrunError.self) { try Digest("sha256:../../x") }
}

@Test func digestRefusesUppercaseAndShortHex() {
    #expect(throws: PodrunError.self) { try Digest("sha256:" + String(repeating: "A", count: 64)) }
    #expect(throws: PodrunError.self) { try Digest("sha256:abc") }
    #expect(throws: PodrunError.self) { try Digest("sha512:" + String(repeating: "a", count: 64)) }
}

@Test func digestAcceptsCanonicalForm() throws {
    let text = "sha256:" + String(repeating: "0123456789abcdef", count: 4)
    let digest = try Digest(text)
    #expect(digest.description == text)
    #expect(ContentStore(root: "/s").path(digest) == "/s/blobs/sha256/" + String(repeating: "0123456789abcdef", count: 4))
}
