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

    @Test func aMissingFolderIsMadeInTheDeepestFolderThatExists() throws {
        let box = Sandbox()
        mkdir(box.root + "/dev", 0o755)
        let dir = try RootedDirectory(opening: box.root)
        let fd = try dir.makeDirectories("/dev/pts")
        defer { close(fd) }
        var made = stat(), opened = stat()
        #expect(stat(box.root + "/dev/pts", &made) == 0)
        #expect(fstat(fd, &opened) == 0)
        #expect(made.st_ino == opened.st_ino, "the descriptor is not of the folder made")
        let deep = try dir.makeDirectories("/a/b/c")
        close(deep)
        #expect(FileIO.isDirectory(box.root + "/a/b/c"))
    }

    @Test func aDanglingSymlinkOnTheWayIsFollowedInsideTheRoot() throws {
        let box = Sandbox()
        mkdir(box.root + "/x", 0o755)
        #expect(Glibc.symlink(box.host + "/target", box.root + "/x/link") == 0)
        let dir = try RootedDirectory(opening: box.root)
        let fd = try dir.makeDirectories("/x/link/inner")
        close(fd)
        #expect(FileIO.isDirectory(box.root + box.host + "/target/inner"))
        #expect(!FileIO.exists(box.host + "/target"))
    }

    @Test func aFileOnTheWayIsNotAFolderAndNothingIsMade() throws {
        let box = Sandbox()
        let created = open(box.root + "/plain", O_CREAT | O_WRONLY, 0o644)
        close(created)
        let dir = try RootedDirectory(opening: box.root)
        #expect(throws: PodrunError.self) { _ = try dir.makeDirectories("/plain/sub/deeper") }
        #expect(!FileIO.exists(box.root + "/sub"))
        #expect(!FileIO.exists(box.root + "/deeper"))
    }

    @Test func relativeDropsLeadingSlashesEmptyAndDotPartsLikeSplitting() {
        let reference = { (path: String) in path.split(separator: "/").filter { $0 != "." }.joinedText("/") }
        let paths = ["", "/", "//", ".", "/.", "./", "/./", "a", "/a", "//a", "/dev/pts", "a/", "a//b", "a/./b",
                     "./a", "a/.", "/a/.", ".a", "a/.b", "/.hidden/x", "..", "/../a", "a/..", "...", "/a/../b",
                     "/é/ü", "/./a//b/"]
        for path in paths {
            #expect(RootedDirectory.relative(path) == reference(path), "\(path)")
        }
    }

    @Test func splitGivesParentAndName() {
        #expect(RootedDirectory.split("/a/b/c") == ("/a/b", "c"))
        #expect(RootedDirectory.split("c") == ("/", "c"))
        #expect(RootedDirectory.relative("/./a//b/") == "a/b")
    }
}

