import Foundation
import Testing

/// The image tarballs of scripts/make-test-images.sh, built once per run under a file lock.
enum ImageFixture {
    private static let built: Result<String, HarnessError> = build()

    /// The folder holding oci.tar and docker.tar.
    static func directory() throws -> String { try built.get() }

    private static func build() -> Result<String, HarnessError> {
        let fixtures = TestEnvironment.packageRoot + "/fixtures"
        let directory = fixtures + "/images"
        try? FileManager.default.createDirectory(atPath: fixtures, withIntermediateDirectories: true)
        let lockFD = open(fixtures + "/.images.lock", O_CREAT | O_RDWR | O_CLOEXEC, 0o644)
        guard lockFD >= 0 else { return .failure(HarnessError("cannot open the image fixture lock")) }
        defer { close(lockFD) }
        flock(lockFD, LOCK_EX)
        let script = TestEnvironment.packageRoot + "/scripts/make-test-images.sh"
        if FileManager.default.fileExists(atPath: directory + "/docker.tar") { return .success(directory) }
        guard (try? runCommandSync("/bin/bash", [script, directory])) == 0 else {
            return .failure(HarnessError("\(script) \(directory) failed"))
        }
        return .success(directory)
    }
}

extension Harness {
    /// The test's own image store.
    var imageStore: String { tempDirectory + "/store" }

    /// Runs the runtime with `--store` pointing at the test's store.
    @discardableResult
    func podrun(_ arguments: [String], stdin: String? = nil) async throws -> CommandResult {
        try await runtime(arguments, globalFlags: ["--store", imageStore], stdin: stdin)
    }

    /// Like `podrun`, recording an issue (and throwing) unless it exits 0.
    @discardableResult
    func podrunSucceeds(_ arguments: [String], sourceLocation: SourceLocation = #_sourceLocation) async throws -> CommandResult {
        let result = try await podrun(arguments)
        guard result.succeeded else {
            Issue.record("expected success: \(result)", sourceLocation: sourceLocation)
            throw HarnessError("command failed: \(result.command.joined(separator: " "))")
        }
        return result
    }

    /// Every path in the test's store (relative), sorted, lock files left out.
    func storeListing() -> [String] {
        let walker = FileManager.default.enumerator(atPath: imageStore)
        return (walker?.allObjects as? [String] ?? []).filter { !$0.hasSuffix(".lock") && $0 != "lock" }.sorted()
    }

    /// The names in a folder of the store.
    func storeEntries(_ folder: String) -> [String] {
        ((try? FileManager.default.contentsOfDirectory(atPath: imageStore + "/" + folder)) ?? []).sorted()
    }
}

@Suite("images: import, store, overlay rootfs, run from an image",
       .enabled(if: !TestEnvironment.isRunc, "podrun's image commands"))
struct ImageTests {
    @Test func ociLayoutImportRunsWithWhiteoutsAndOpaqueFoldersApplied() async throws {
        try await withHarness { h in
            let tar = try ImageFixture.directory() + "/oci.tar"
            let imported = try await h.podrunSucceeds(["image", "import", tar])
            #expect(imported.output.contains("imported latest"))
            #expect(imported.output.contains("imported v2"))
            let script = "cat /data/keep.txt /data/link /data/hard; ls /data; ls /opaque; ls /opaque2; stat -c %a /bin/suid-test"
            let run = try await h.podrunSucceeds(["run", "--image", "latest", "--name", h.newID("img"),
                                                  "--", "sh", "-c", script])
            #expect(run.output.split(separator: "\n") == ["keep", "keep", "keep", "hard", "keep.txt", "link",
                                                          "new.txt", "fresh.txt", "4755"])
            // Deleted and hidden lower files are absent to every lookup, not just to ls.
            let hidden = try await h.podrunSucceeds(["run", "--image", "latest", "--name", h.newID("img"), "--", "sh", "-c",
                                                     "for f in /data/gone.txt /opaque/old.txt /opaque2/stale.txt; do "
                                                         + "test -e $f && echo present $f; cat $f 2>/dev/null; done; echo done"])
            #expect(hidden.output == "done")
            // The snapshots hold the layers in overlayfs form: a 0:0 character device and an opaque xattr.
            let script2 = """
            import os, stat, sys
            for snapshot in sorted(os.listdir(sys.argv[1])):
                fs = sys.argv[1] + '/' + snapshot + '/fs'
                if os.path.lexists(fs + '/data/gone.txt'):
                    st = os.lstat(fs + '/data/gone.txt')
                    if not stat.S_ISREG(st.st_mode):
                        print('whiteout', stat.S_ISCHR(st.st_mode), st.st_rdev, st.st_uid, st.st_gid)
                if os.path.isdir(fs + '/opaque2') and 'trusted.overlay.opaque' in os.listxattr(fs + '/opaque2'):
                    print('opaque', os.getxattr(fs + '/opaque2', 'trusted.overlay.opaque').decode())
            """
            let layers = try await h.host("/usr/bin/env", ["python3", "-c", script2, h.imageStore + "/snapshots"])
            #expect(layers.output.split(separator: "\n").sorted() == ["opaque y", "whiteout True 0 0 0"], "\(layers)")
        }
    }

    @Test func dockerArchiveRunsImageCmdAsImageUserInImageWorkdir() async throws {
        try await withHarness { h in
            try await h.podrunSucceeds(["image", "import", try ImageFixture.directory() + "/docker.tar"])
            let list = try await h.podrunSucceeds(["image", "ls", "--quiet"])
            #expect(list.output == "docker.io/podrun-test/app:latest")
            let run = try await h.podrunSucceeds(["run", "--image", "podrun-test/app", "--name", h.newID("img")])
            #expect(run.output == "user=1000 cwd=/data greeting=hello")
            let overridden = try await h.podrunSucceeds([
                "run", "--image", "podrun-test/app", "--name", h.newID("img"), "--user", "0", "--workdir", "/",
                "--env", "GREETING=bye", "--hostname", "imghost",
                "--", "sh", "-c", "echo $(id -u) $(pwd) $GREETING $(hostname)"])
            #expect(overridden.output == "0 / bye imghost")
        }
    }

    @Test func containerWritesStayInItsUpperLayerAndGoWithIt() async throws {
        try await withHarness { h in
            try await h.podrunSucceeds(["image", "import", "--name", "app", try ImageFixture.directory() + "/docker.tar"])
            let first = h.newID("img")
            try await h.podrunSucceeds(["run", "-d", "--image", "app", "--name", first, "--", "sleep", "1000"])
            // The image's user (1000) may not write the root-owned /data, as with docker exec; root may.
            try await h.podrunSucceeds(["exec", "--user", "0", first, "sh", "-c", "echo mine > /data/keep.txt; rm /data/link"])
            let storage = h.imageStore + "/containers/" + first
            #expect((try? String(contentsOfFile: storage + "/upper/data/keep.txt", encoding: .utf8)) == "mine\n")
            let second = try await h.podrunSucceeds(["run", "--image", "app", "--name", h.newID("img"),
                                                     "--", "sh", "-c", "cat /data/keep.txt; ls /data"])
            #expect(second.output == "keep\nhard\nkeep.txt\nlink")
            try await h.podrunSucceeds(["delete", "--force", first])
            #expect(!FileManager.default.fileExists(atPath: storage))
            #expect(h.storeEntries("containers").isEmpty)
        }
    }

    @Test func sharedLayersAreUnpackedOnce() async throws {
        try await withHarness { h in
            let images = try ImageFixture.directory()
            try await h.podrunSucceeds(["image", "import", images + "/oci.tar"])
            // latest has 3 layers, v2 the same 3 and one more: 4 snapshots, not 7.
            #expect(h.storeEntries("snapshots").count == 4)
            let before = try FileManager.default.attributesOfItem(atPath: h.imageStore + "/snapshots/" + h.storeEntries("snapshots")[0])
            try await h.podrunSucceeds(["image", "import", images + "/docker.tar"])
            #expect(h.storeEntries("snapshots").count == 4, "the docker-archive has the same layers")
            let after = try FileManager.default.attributesOfItem(atPath: h.imageStore + "/snapshots/" + h.storeEntries("snapshots")[0])
            #expect(before[.systemFileNumber] as? Int == after[.systemFileNumber] as? Int, "a snapshot was unpacked again")
        }
    }

    @Test func reimportChangesNothing() async throws {
        try await withHarness { h in
            let tar = try ImageFixture.directory() + "/oci.tar"
            try await h.podrunSucceeds(["image", "import", tar])
            let listing = h.storeListing()
            try await h.podrunSucceeds(["image", "import", tar])
            #expect(h.storeListing() == listing)
        }
    }

    @Test func tagRemoveAndPruneLeaveAnEmptyStore() async throws {
        try await withHarness { h in
            try await h.podrunSucceeds(["image", "import", try ImageFixture.directory() + "/oci.tar"])
            let tagged = try await h.podrunSucceeds(["image", "tag", "latest", "example.com/team/app:1"])
            #expect(tagged.output == "example.com/team/app:1")
            let json = try await h.podrunSucceeds(["image", "ls", "--format", "json"])
            let list = try JSONSerialization.jsonObject(with: Data(json.stdout.utf8)) as? [[String: Any]] ?? []
            #expect(list.compactMap { $0["name"] as? String } == ["example.com/team/app:1", "latest", "v2"])
            #expect(Set(list.compactMap { $0["digest"] as? String }).count == 2)

            // Nothing is unused yet.
            let first = try await h.podrunSucceeds(["image", "prune", "--format", "json"])
            let report = try JSONSerialization.jsonObject(with: Data(first.stdout.utf8)) as? [String: Any]
            #expect((report?["blobs"] as? [String])?.isEmpty == true)
            #expect(h.storeEntries("snapshots").count == 4)

            try await h.podrunSucceeds(["image", "rm", "v2"])
            let afterV2 = try await h.podrunSucceeds(["image", "prune"])
            #expect(afterV2.output.contains("1 snapshots"))
            #expect(h.storeEntries("snapshots").count == 3)
            try await h.podrunSucceeds(["image", "rm", "latest", "example.com/team/app:1"])
            try await h.podrunSucceeds(["image", "prune"])
            #expect(h.storeEntries("snapshots").isEmpty)
            #expect(h.storeEntries("blobs/sha256").isEmpty)
            #expect(h.storeEntries("images").isEmpty)
            let missing = try await h.podrun(["image", "inspect", "latest"])
            #expect(missing.status == 1)
            #expect(missing.stderr.contains("image latest not found"))
        }
    }

    @Test func pruneKeepsSnapshotsOfARunningContainer() async throws {
        try await withHarness { h in
            try await h.podrunSucceeds(["image", "import", try ImageFixture.directory() + "/docker.tar"])
            let id = h.newID("img")
            try await h.podrunSucceeds(["run", "-d", "--image", "podrun-test/app", "--name", id, "--", "sleep", "1000"])
            try await h.podrunSucceeds(["image", "rm", "podrun-test/app"])
            try await h.podrunSucceeds(["image", "prune"])
            #expect(h.storeEntries("snapshots").count == 3, "the container's layers were pruned")
            let ls = try await h.podrunSucceeds(["exec", id, "cat", "/data/keep.txt"])
            #expect(ls.output == "keep")
            try await h.podrunSucceeds(["delete", "--force", id])
            #expect(h.storeEntries("containers").isEmpty)
            try await h.podrunSucceeds(["image", "prune"])
            #expect(h.storeEntries("snapshots").isEmpty)
        }
    }

    @Test func exportIsAnOCIArchiveThatSkopeoReadsAndPodrunReimports() async throws {
        try await withHarness { h in
            try await h.podrunSucceeds(["image", "import", try ImageFixture.directory() + "/docker.tar"])
            let out = h.tempDirectory + "/export.tar"
            try await h.podrunSucceeds(["image", "export", "podrun-test/app", "-o", out])
            let inspect = try await h.host("/usr/bin/skopeo", ["inspect", "--raw", "oci-archive:" + out + ":latest"])
            #expect(inspect.succeeded, "\(inspect)")
            let copy = try await h.host("/usr/bin/skopeo", ["--insecure-policy", "copy", "-q", "oci-archive:" + out + ":latest",
                                                            "oci:" + h.tempDirectory + "/copy:latest"])
            #expect(copy.succeeded, "\(copy)")
            let other = h.tempDirectory + "/store2"
            let reimport = try await h.runtime(["image", "import", out], globalFlags: ["--store", other])
            #expect(reimport.succeeded, "\(reimport)")
            #expect(reimport.output.contains("docker.io/podrun-test/app:latest"))
            try? FileManager.default.removeItem(atPath: other)
        }
    }

    @Test func bundleCommandWritesABundleRuncRuns() async throws {
        try await withHarness { h in
            try await h.podrunSucceeds(["image", "import", try ImageFixture.directory() + "/docker.tar"])
            let bundle = h.tempDirectory + "/bundle"
            try await h.podrunSucceeds(["bundle", "--image", "podrun-test/app", bundle, "--", "cat", "/data/keep.txt"])
            let config = try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: bundle + "/config.json")))
                as? [String: Any]
            let process = config?["process"] as? [String: Any]
            #expect(process?["args"] as? [String] == ["cat", "/data/keep.txt"])
            if let runc = TestEnvironment.referenceRunc {
                let id = h.newID("runc")
                let run = try await h.host(runc, ["--root", h.stateDirectory + "-runc", "run", "--bundle", bundle, id])
                #expect(run.output == "keep", "\(run)")
                _ = try await h.host(runc, ["--root", h.stateDirectory + "-runc", "delete", "--force", id])
                try? FileManager.default.removeItem(atPath: h.stateDirectory + "-runc")
            }
            try await h.podrunSucceeds(["bundle", "--remove", bundle])
            #expect(!FileManager.default.fileExists(atPath: bundle + "/config.json"))
            #expect(h.storeEntries("containers").isEmpty)
        }
    }

    @Test func failedCreateFromImageLeavesNoStorageOrMount() async throws {
        try await withHarness { h in
            try await h.podrunSucceeds(["image", "import", try ImageFixture.directory() + "/docker.tar"])
            let result = try await h.podrun(["run", "--image", "podrun-test/app", "--name", h.newID("img"),
                                             "--", "/no/such/program"])
            #expect(result.status != 0)
            #expect(h.storeEntries("containers").isEmpty)
            let unknownUser = try await h.podrun(["run", "--image", "podrun-test/app", "--name", h.newID("img"),
                                                  "--user", "nosuchuser"])
            #expect(unknownUser.status == 1)
            #expect(unknownUser.stderr.contains("unable to find user nosuchuser"))
            #expect(h.storeEntries("containers").isEmpty)
        }
    }

    @Test func layerOverTheSizeLimitFailsTheImportAndLeavesTheStoreEmpty() async throws {
        try await withHarness { h in
            let result = try await h.podrun(["image", "import", "--max-layer-size", "1000",
                                             try ImageFixture.directory() + "/oci.tar"])
            #expect(result.status == 1)
            #expect(result.stderr.contains("layer unpacks to more than 1000 bytes"), "\(result)")
            #expect(h.storeEntries("snapshots").isEmpty)
            #expect(h.storeEntries("blobs/sha256").isEmpty)
            #expect(h.storeEntries("staging").isEmpty)
            let list = try await h.podrunSucceeds(["image", "ls", "--quiet"])
            #expect(list.output.isEmpty)
        }
    }

    @Test func layerEscapingThroughASymlinkFailsTheImportAndWritesNothingOutside() async throws {
        try await withHarness { h in
            let layout = h.tempDirectory + "/layout"
            let outside = h.tempDirectory + "/outside"
            try FileManager.default.createDirectory(atPath: layout, withIntermediateDirectories: true)
            try FileManager.default.createDirectory(atPath: outside, withIntermediateDirectories: true)
            #expect(try await h.host("/bin/tar", ["-C", layout, "-xf", try ImageFixture.directory() + "/oci.tar"]).status == 0)
            let script = """
            import io, sys, tarfile
            with tarfile.open(sys.argv[1], 'w', format=tarfile.PAX_FORMAT) as t:
                link = tarfile.TarInfo('escape'); link.type, link.linkname = tarfile.SYMTYPE, sys.argv[2]
                t.addfile(link)
                data = tarfile.TarInfo('escape/pwned'); data.size = 3
                t.addfile(data, io.BytesIO(b'bad'))
            """
            let hostile = h.tempDirectory + "/hostile.tar"
            #expect(try await h.host("/usr/bin/env", ["python3", "-c", script, hostile, outside]).status == 0)
            #expect(try await h.host("/usr/bin/env", ["umoci", "raw", "add-layer", "--image", layout + ":latest",
                                                      "--tag", "hostile", hostile]).status == 0)
            let archive = h.tempDirectory + "/hostile-image.tar"
            #expect(try await h.host("/bin/tar", ["-C", layout, "-cf", archive, "."]).status == 0)
            let result = try await h.podrun(["image", "import", archive])
            #expect(result.status == 1)
            #expect(result.stderr.contains("layer entry escape/pwned escapes the layer folder"), "\(result)")
            #expect(try FileManager.default.contentsOfDirectory(atPath: outside).isEmpty)
            #expect(h.storeEntries("snapshots").isEmpty)
            let list = try await h.podrunSucceeds(["image", "ls", "--quiet"])
            #expect(list.output.isEmpty)
        }
    }

    @Test func containerFromAnImageJoinsAPodsNamespaces() async throws {
        try await withHarness { h in
            try await h.podrunSucceeds(["image", "import", try ImageFixture.directory() + "/docker.tar"])
            let pod = try await h.createSandbox(["--hostname", "it-imagepod"])
            let sleeper = h.newID("img")
            try await h.podrunSucceeds(["run", "--detach", "--sandbox", pod, "--image", "podrun-test/app", "--name", sleeper,
                                        "--", "sleep", "1000"])
            let sleeperPID = try await h.pid(sleeper)
            let run = try await h.podrunSucceeds(["run", "--sandbox", pod, "--image", "podrun-test/app", "--name", h.newID("img"),
                                                  "--", "sh", "-c", "hostname; readlink /proc/self/ns/net; cat /data/keep.txt"])
            let lines = run.output.split(separator: "\n").map(String.init)
            #expect(lines.count == 3, "\(run)")
            #expect(lines.first == "it-imagepod")
            #expect(lines.dropFirst().first == h.namespace("net", of: sleeperPID))
            #expect(h.namespace("net", of: sleeperPID) != h.namespace("net", of: getpid()), "the pod has its own network")
            let pause = try await h.inspectSandbox(pod)["sandbox"] as? [String: Any]
            #expect(h.namespace("net", of: Int32(pause?["pausePid"] as? Int ?? 0)) == h.namespace("net", of: sleeperPID))
            #expect(lines.last == "keep", "the rootfs is the image's")
            try await h.podrunSucceeds(["sandbox", "rm", "--force", pod])
            #expect(h.sandboxRemains(pod).isEmpty, "\(h.sandboxRemains(pod))")
            #expect(h.storeEntries("containers").isEmpty, "the containers' storage went with the pod")
        }
    }

    @Test func unknownImageIsAClearError() async throws {
        try await withHarness { h in
            let result = try await h.podrun(["run", "--image", "nothere", "--name", h.newID("img")])
            #expect(result.status == 1)
            #expect(result.stderr.contains("image nothere not found"))
        }
    }
}
