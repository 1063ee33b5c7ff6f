import Foundation
import Testing

/// podrun installed where nothing can write it (here a read-only bind mount; `chattr +i` is the other way)
/// forks its init instead of exec'ing a sealed copy of itself: the fast path the benchmarks measure.
@Suite("a protected podrun binary forks its init", .enabled(if: !TestEnvironment.isRunc, "podrun's init launch"))
struct ProtectedBinaryTests {
    @Test func runCreateStartAndExecWorkThroughTheForkedInit() async throws {
        try await withHarness { h in
            let folder = try h.makeHostDirectory("bin")
            let binary = folder + "/podrun"
            #expect(try runCommandSync("/bin/cp", [TestEnvironment.binary, binary]) == 0)
            #expect(try runCommandSync("/bin/mount", ["--bind", folder, folder]) == 0)
            defer { umount2(folder, Int32(MNT_DETACH)) }
            #expect(try runCommandSync("/bin/mount", ["-o", "remount,bind,ro", folder]) == 0)
            let protected = { (arguments: [String]) async throws -> CommandResult in
                try await runCommand(binary, ["--root", h.stateDirectory] + arguments,
                                     outputDirectory: h.tempDirectory + "/out", timeout: .seconds(60))
            }
            // Only the standard streams reach the process (the forked init closed its copies of the rest).
            let run = try await protected(["run", "--bundle", try h.makeBundle(.shell("ls /proc/self/fd")).path,
                                           h.newID("fork")])
            #expect(run.status == 0, "\(run)")
            #expect(run.output.split(separator: "\n") == ["0", "1", "2", "3"], "\(run.output)")

            let id = h.newID("fork")
            let created = try await protected(["create", "--bundle", try h.makeBundle(ContainerConfig(args: ["sleep", "1000"])).path, id])
            #expect(created.status == 0, "\(created)")
            #expect(try await protected(["start", id]).status == 0)
            let exec = try await protected(["exec", id, "echo", "exec-ok"])
            #expect(exec.output == "exec-ok", "\(exec)")
            #expect(try await protected(["delete", "--force", id]).status == 0)
        }
    }
}
