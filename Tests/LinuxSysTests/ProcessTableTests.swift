import Foundation
import Glibc
import Testing
@testable import LinuxSys

@Suite struct ProcessTableTests {
    /// Field 22 of /proc/PID/stat, read the plain way: split after the command name's last `)`.
    func startTimeBySplitting(_ pid: Int32) throws -> UInt64 {
        let text = try String(contentsOfFile: "/proc/\(pid)/stat", encoding: .utf8)
        let close = try #require(text.lastIndex(of: ")"))
        let fields = text[text.index(after: close)...].split(separator: " ")
        return try #require(UInt64(fields[19]))
    }

    @Test func aProcessWhoseNameHasParenthesesAndSpacesReadsItsStateAndStartTime() throws {
        let folder = "/tmp/podrun-process-table-\(getpid())"
        try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: folder) }
        // The command name is the program's file name: "a) b 1 2" looks like the end of the name and two fields.
        let program = folder + "/a) b 1 2"
        try FileManager.default.createSymbolicLink(atPath: program, withDestinationPath: "/bin/sleep")
        var pid: pid_t = 0
        let argv: [UnsafeMutablePointer<CChar>?] = [strdup(program), strdup("30"), nil]
        defer { argv.forEach { free($0) } }
        #expect(posix_spawn(&pid, program, nil, nil, argv, nil) == 0)
        defer {
            kill(pid, SIGKILL)
            var status: Int32 = 0
            waitpid(pid, &status, 0)
        }
        // Until its exec is done the child has the test's name, and during the exec it may be in "D" (reading the
        // program): wait for the new name and for sleep(1) to sleep. A parser that read the wrong field never
        // sees "S".
        var stat: (state: Character, startTime: UInt64)?
        for _ in 0..<500 {
            let name = try? String(contentsOfFile: "/proc/\(pid)/comm", encoding: .utf8)
            if name == "a) b 1 2\n", let now = ProcessTable.stat(of: pid), now.state == "S" { stat = now; break }
            usleep(10_000)
        }
        let info = try #require(stat, "the child was not seen asleep under its new name within 5 s")
        #expect(info.startTime == (try startTimeBySplitting(pid)))
        #expect(ProcessTable.isAlive(pid, startTime: info.startTime))
        #expect(!ProcessTable.isAlive(pid, startTime: info.startTime + 1))
    }

    @Test func theTestProcessItselfIsAliveAndAMissingOneIsNot() throws {
        let info = try #require(ProcessTable.stat(of: getpid()))
        #expect(info.startTime == (try startTimeBySplitting(getpid())))
        #expect(ProcessTable.isAlive(getpid(), startTime: info.startTime))
        #expect(ProcessTable.stat(of: Int32.max) == nil)
    }
}
