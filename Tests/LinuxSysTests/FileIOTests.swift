import Glibc
import LinuxSys
import PodrunCore
import Testing

@Suite struct FileIOTests {
    /// Writes `bytes` to a new file in a new temporary folder, runs `body` with its path, removes both.
    func withFile(_ bytes: [UInt8], _ body: (String) throws -> Void) throws {
        var template = Array("/tmp/podrun-fileio-XXXXXX".utf8CString)
        let made = template.withUnsafeMutableBufferPointer { buffer in buffer.baseAddress.flatMap { mkdtemp($0) } }
        let folder = String(cString: try #require(made))
        let path = folder + "/file"
        defer {
            unlink(path)
            rmdir(folder)
        }
        try FileIO.writeAtomically(path, bytes)
        try body(path)
    }

    @Test(arguments: [0, 1, 16383, 16384, 16385, 40000])
    func readBytesReturnsTheWholeFileWhateverItsSize(_ size: Int) throws {
        let bytes = (0..<size).map { UInt8(truncatingIfNeeded: $0 &* 31 &+ $0 / 251) }
        try withFile(bytes) { (path: String) throws in
            #expect(try FileIO.readBytes(path) == bytes)
        }
    }

    @Test func readAllReadsAPipeUntilItsWriterCloses() throws {
        var fds: [Int32] = [0, 0]
        #expect(pipe(&fds) == 0)
        defer { close(fds[0]) }
        let parts = [Array("first ".utf8), Array(repeating: UInt8(ascii: "x"), count: 20000), Array(" last".utf8)]
        for part in parts {
            #expect(part.withUnsafeBytes { write(fds[1], $0.baseAddress, $0.count) } == part.count)
        }
        close(fds[1])
        #expect(try FileIO.readAll(fd: fds[0]) == parts.flatMap { $0 })
    }

    @Test func aMissingFileIsNotFound() {
        #expect(throws: PodrunError.self) { try FileIO.readBytes("/nonexistent/podrun-fileio") }
        do {
            _ = try FileIO.readBytes("/nonexistent/podrun-fileio")
        } catch let error as PodrunError {
            #expect(error.code == .notFound)
        } catch {
            Issue.record("unexpected \(error)")
        }
    }
}
