import Glibc
import PodrunCore
import Testing
@testable import LinuxSys

/// Paths resolved through a RootedDirectory stay inside it, whatever symlinks the rootfs holds.
@Suite struct RootedDirectoryTests {
    /// A temporary folder holding a `root` folder and a `host` sibling that must stay untouched.
    final class Sandbox {
        let base: String
        var root: String { base + "/root" }
        var host: String { base + "/host" }

        init() {
            var template = Array("/tmp/podrun-rooted-XXXXXX".utf8CString)
            base = template.withUnsafeMutableBufferPointer { String(cString: mkdtemp($0.baseAddress!)!) }
            mkdir(root, 0o755)
            mkdir(host, 0o755)
        }

        deinit { try? FileIO.removeTree(base) }

        func symlink(_ target: String, _ name: String) {
            #expect(Glibc.symlink(target, root + "/" + name) == 0)
        }
    }

    @Test func absoluteSymlinkToSlashResolvesInsideTheRoot() throws {
        let box = Sandbox()
        box.symlink("/", "escape")
        let dir = try RootedDirectory(opening: box.root)
        let fd = try dir.makeDirectories("/escape\(box.host)/made")
        close(fd)
        #expect(FileIO.isDirectory(box.root + box.host + "/made"))
        #expect(!FileIO.exists(box.host + "/made"))
    }

    @Test func dotDotSymlinkCannotClimbOutOfTheRoot() throws {
        let box = Sandbox()
        box.symlink("../../../../host", "up")
        let dir = try RootedDirectory(opening: box.root)
        let fd = try dir.makeFile("/up/file")
        close(fd)
        #expect(!FileIO.exists(box.host + "/file"))
        #expect(FileIO.exists(box.root + "/host/file"))
    }

    @Test func dotDotInThePathStopsAtTheRoot() throws {
        let box = Sandbox()
        let dir = try RootedDirectory(opening: box.root)
        let fd = try dir.makeDirectories("../../../../host/x")
        close(fd)
        #expect(!FileIO.exists(box.host + "/x"))
        #expect(FileIO.isDirectory(box.root + "/host/x"))
    }

    @Test func openOfAMissingPathIsNotFound() throws {
        let box = Sandbox()
        let dir = try RootedDirectory(opening: box.root)
        let error = #expect(throws: PodrunError.self) { _ = try dir.openPath("/nope") }
        #expect(error?.code == .notFound)
    }

    @Test func splitGivesParentAndName() {
        #expect(RootedDirectory.split("/a/b/c") == ("/a/b", "c"))
        #expect(RootedDirectory.split("c") == ("/", "c"))
        #expect(RootedDirectory.relative("/./a//b/") == "a/b")
    }
}

