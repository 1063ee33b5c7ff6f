import Foundation
import Glibc
import Testing

/// Namespaces: new ones, joined ones, id mappings, and namespaced sysctls.
@Suite("namespaces and sysctl")
struct NamespaceTests {
    @Test func userNamespaceAppliesUidAndGidMappings() async throws {
        try await withHarness { h in
            var config = ContainerConfig.shell("cat /proc/self/uid_map /proc/self/gid_map; id -u; stat -c %u /bin/busybox")
            config.namespaces += [ContainerConfig.namespace("user")]
            config.uidMappings = [ContainerConfig.idMapping(container: 0, host: 100_000, size: 65536)]
            config.gidMappings = [ContainerConfig.idMapping(container: 0, host: 200_000, size: 65536)]
            let lines = try await h.output(of: config).split(separator: "\n").map {
                $0.split(separator: " ", omittingEmptySubsequences: true).joined(separator: " ")
            }
            #expect(lines == ["0 100000 65536", "0 200000 65536", "0", "65534"], "\(lines)")
        }
    }

    @Test func joiningAUTSNamespaceByPathSharesItsHostname() async throws {
        try await withHarness { h in
            let ready = h.tempDirectory + "/uts-ready"
            let holder = try h.startHostProcess(
                "/usr/bin/unshare", ["--uts", "/bin/sh", "-c", "hostname it-joined-uts && touch \(ready) && exec sleep 1000"])
            #expect(try await waitUntil { FileManager.default.fileExists(atPath: ready) }, "unshare never got ready")
            var config = ContainerConfig(args: ["hostname"])
            config.hostname = nil
            config.namespaces = ContainerConfig.defaultNamespaces.map { entry in
                entry["type"] as? String == "uts"
                    ? ContainerConfig.namespace("uts", path: "/proc/\(holder.processIdentifier)/ns/uts") : entry
            }
            let hostname = try await h.output(of: config)
            #expect(hostname == "it-joined-uts")
            #expect(ProcessInfo.processInfo.hostName != "it-joined-uts", "the host's hostname changed")
            holder.terminate()
        }
    }

    @Test func joiningANetworkNamespaceOfAnotherContainer() async throws {
        try await withHarness { h in
            // A second container joins the network namespace of a first one by /proc/PID/ns/net.
            let id = try await h.startSleeper(label: "netns")
            let pid = try await h.pid(id)
            var config = ContainerConfig.shell("ls /sys/class/net; readlink /proc/self/ns/net")
            config.namespaces = ContainerConfig.defaultNamespaces.map { entry in
                entry["type"] as? String == "network"
                    ? ContainerConfig.namespace("network", path: "/proc/\(pid)/ns/net") : entry
            }
            let output = try await h.output(of: config)
            let expected = try FileManager.default.destinationOfSymbolicLink(atPath: "/proc/\(pid)/ns/net")
            #expect(output.contains(expected), "joined \(output), expected \(expected)")
            try await h.stopAndDelete(id)
        }
    }

    @Test func cgroupNamespaceHidesTheHostCgroupPath() async throws {
        try await withHarness { h in
            var config = ContainerConfig(args: ["cat", "/proc/self/cgroup"])
            config.namespaces += [ContainerConfig.namespace("cgroup")]
            let lines = try await h.output(of: config).split(separator: "\n")
            #expect(!lines.isEmpty)
            for line in lines {
                #expect(line.hasSuffix(":/"), "cgroup path visible in a cgroup namespace: \(line)")
            }
            // Without a cgroup namespace the container's own cgroup (named after its id) shows.
            let plain = try await h.output(of: ContainerConfig(args: ["cat", "/proc/self/cgroup"]))
            #expect(plain.split(separator: "\n").contains { !$0.hasSuffix(":/") }, "\(plain)")
        }
    }

    @Test func sysctlValuesAreSetInsideTheContainer() async throws {
        try await withHarness { h in
            var config = ContainerConfig(args: ["cat", "/proc/sys/net/ipv4/ip_forward", "/proc/sys/kernel/shmmax"])
            config.sysctl = ["net.ipv4.ip_forward": "1", "kernel.shmmax": "123456789"]
            let hostShmmax = readText("/proc/sys/kernel/shmmax")
            let values = try await h.output(of: config)
            #expect(values.split(separator: "\n") == ["1", "123456789"])
            #expect(readText("/proc/sys/kernel/shmmax") == hostShmmax, "the host's value changed")
        }
    }

    @Test func containerGetsItsOwnNamespaces() async throws {
        try await withHarness { h in
            let kinds = ["pid", "net", "ipc", "uts", "mnt"]
            let id = try await h.startSleeper(label: "ns")
            let pid = try await h.pid(id)
            for kind in kinds {
                let inside = try FileManager.default.destinationOfSymbolicLink(atPath: "/proc/\(pid)/ns/\(kind)")
                let outside = try FileManager.default.destinationOfSymbolicLink(atPath: "/proc/self/ns/\(kind)")
                #expect(inside != outside, "\(kind) namespace is the host's")
            }
            try await h.stopAndDelete(id)
        }
    }
}
