import ImageStore
import PodrunCore
import Testing

@Suite struct ImageReferenceTests {
    @Test func shortNameGetsDockerHubLibraryAndLatest() throws {
        #expect(try ImageReference(parsing: "busybox").description == "docker.io/library/busybox:latest")
        #expect(try ImageReference(parsing: "busybox:1.36").description == "docker.io/library/busybox:1.36")
    }

    @Test func userRepositoryKeepsItsPath() throws {
        #expect(try ImageReference(parsing: "me/app:v1").description == "docker.io/me/app:v1")
    }

    @Test func registryWithPortIsKeptAndTagIsNotMistakenForPort() throws {
        let reference = try ImageReference(parsing: "localhost:5000/team/app")
        #expect(reference.domain == "localhost:5000")
        #expect(reference.path == "team/app")
        #expect(reference.tag == "latest")
        #expect(reference.familiar == "localhost:5000/team/app:latest")
    }

    @Test func digestReferenceHasNoDefaultTag() throws {
        let digest = "sha256:" + String(repeating: "a", count: 64)
        let reference = try ImageReference(parsing: "quay.io/x/y@" + digest)
        #expect(reference.tag == nil)
        #expect(reference.description == "quay.io/x/y@" + digest)
    }

    @Test func familiarFormDropsDockerHubPrefixes() throws {
        #expect(try ImageReference(parsing: "docker.io/library/busybox:latest").familiar == "busybox:latest")
        #expect(try ImageReference(parsing: "index.docker.io/me/app").description == "docker.io/me/app:latest")
    }

    @Test(arguments: ["", "UPPER/case", "a//b", "bad:tag!", "x@sha256:short", "-lead"])
    func malformedReferenceIsRefusedNamingIt(_ text: String) {
        #expect(throws: PodrunError.self) { try ImageReference(parsing: text) }
    }

    @Test func normalizedLeavesNonReferencesAlone() {
        #expect(ImageReference.normalized("Not A Ref") == "Not A Ref")
        #expect(ImageReference.normalized("alpine") == "docker.io/library/alpine:latest")
    }
}

@Suite struct ChainIDTests {
    @Test func chainIDOfFirstLayerIsItsDiffIDAndNextOnesHashThePair() throws {
        let a = "sha256:" + String(repeating: "a", count: 64)
        let b = "sha256:" + String(repeating: "b", count: 64)
        let chains = try SnapshotStore.chainIDs(diffIDs: [a, b])
        #expect(chains.map(\.description) == [a, "sha256:ccd722928bd92476ba1745586fed6e45a102504185ad88cd89e01ff116fd146c"])
    }

    @Test func badDiffIDIsRefused() {
        #expect(throws: PodrunError.self) { try SnapshotStore.chainIDs(diffIDs: ["md5:abc"]) }
    }
}
