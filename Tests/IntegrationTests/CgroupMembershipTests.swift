import Foundation
import Testing

/// The container's processes enter its cgroup themselves (v1 `tasks`, v2 `CLONE_INTO_CGROUP`): checked from the
/// host in every mounted hierarchy, the controller-less v2 one of a hybrid host included.
@Suite("cgroup membership")
struct CgroupMembershipTests {
    /// The lines of /proc/PID/cgroup (or of a container's own view) whose path is not the container's cgroup.
    static func linesOutside(_ text: String, id: String) -> [Substring] {
        text.split(separator: "\n").filter { !$0.hasSuffix("/" + id) }
    }

    /// Checks, from the host, that running container `id`'s process is in its cgroup in every hierarchy, and an
    /// exec'd process too.
    static func expectContainerAndExecInTheirCgroup(_ h: Harness, _ id: String,
                                                    sourceLocation: SourceLocation = #_sourceLocation) async throws {
        let pid = try await h.pid(id)
        let host = try String(contentsOfFile: "/proc/\(pid)/cgroup", encoding: .utf8)
        #expect(host.split(separator: "\n").count >= 2, "\(host)", sourceLocation: sourceLocation)
        #expect(linesOutside(host, id: id).isEmpty, "container process outside its cgroup: \(host)",
                sourceLocation: sourceLocation)
        let exec = try await h.runtimeSucceeds(["exec", id, "cat", "/proc/self/cgroup"])
        #expect(!exec.output.isEmpty, sourceLocation: sourceLocation)
        #expect(linesOutside(exec.output, id: id).isEmpty, "exec'd process outside the cgroup: \(exec.output)",
                sourceLocation: sourceLocation)
    }

    @Test func containerAndExecProcessesAreInTheContainersCgroupInEveryHierarchy() async throws {
        try await withHarness { h in
            let id = try await h.startSleeper(label: "cgjoin")
            try await Self.expectContainerAndExecInTheirCgroup(h, id)
            try await h.stopAndDelete(id)
        }
    }

    @Test func aContainerWithAUserNamespaceIsInItsCgroupInEveryHierarchy() async throws {
        try await withHarness { h in
            var config = ContainerConfig(args: ["sleep", "1000"])
            config.namespaces += [ContainerConfig.namespace("user")]
            config.uidMappings = [ContainerConfig.idMapping(container: 0, host: 100_000, size: 65536)]
            config.gidMappings = [ContainerConfig.idMapping(container: 0, host: 100_000, size: 65536)]
            let id = try await h.startSleeper(label: "cguser", config: config)
            let pid = try await h.pid(id)
            let host = try String(contentsOfFile: "/proc/\(pid)/cgroup", encoding: .utf8)
            #expect(Self.linesOutside(host, id: id).isEmpty, "container process outside its cgroup: \(host)")
            let exec = try await h.runtimeSucceeds(["exec", id, "cat", "/proc/self/cgroup"])
            #expect(Self.linesOutside(exec.output, id: id).isEmpty, "exec'd process outside the cgroup: \(exec.output)")
            try await h.stopAndDelete(id)
        }
    }

    @Test func aNewCgroupNamespaceIsRootedAtTheContainersCgroupForExecToo() async throws {
        try await withHarness { h in
            var config = ContainerConfig(args: ["sleep", "1000"])
            config.namespaces += [ContainerConfig.namespace("cgroup")]
            let id = try await h.startSleeper(label: "cgns", config: config)
            let pid = try await h.pid(id)
            let host = try String(contentsOfFile: "/proc/\(pid)/cgroup", encoding: .utf8)
            #expect(Self.linesOutside(host, id: id).isEmpty, "container process outside its cgroup: \(host)")
            let exec = try await h.runtimeSucceeds(["exec", id, "cat", "/proc/self/cgroup"])
            let lines = exec.output.split(separator: "\n")
            #expect(!lines.isEmpty)
            #expect(lines.allSatisfy { $0.hasSuffix(":/") }, "exec'd process sees a path outside its namespace: \(exec.output)")
            try await h.stopAndDelete(id)
        }
    }
}
