import Glibc
@testable import Network
import PodrunCore
import Testing

/// Entering a network namespace from one thread, against the real kernel (root).
@Suite(.serialized) struct NetworkNamespaceTests {
    private func namespaceInode(_ path: String) throws -> UInt {
        var info = stat()
        guard stat(path, &info) == 0 else { throw PodrunError.system("stat", path: path) }
        return UInt(info.st_ino)
    }

    @Test func netlinkSocketAndSysctlsFollowTheThreadIntoTheNamespaceAndBack() throws {
        let pod = try TestNetns("podrun-test-ns")
        defer { pod.remove() }
        #expect(try pod.run("ip", "link", "add", "podrun-probe", "type", "veth", "peer", "name", "podrun-probe1").status == 0)

        // A socket made inside stays bound to the pod's namespace after the thread has returned.
        let inside = try NetworkNamespace.netlinkSocket(in: pod.path)
        #expect(try inside.link(named: "podrun-probe") != nil)
        #expect(try NetlinkSocket().link(named: "podrun-probe") == nil)

        // /proc/sys/net shows the namespace of the thread that opens the file.
        let forwarding = try NetworkNamespace.run(in: pod.path) {
            try NetworkSysctl.read("ipv4/conf/podrun-probe/forwarding")
        }
        #expect(forwarding == "0" || forwarding == "1")
        #expect(try namespaceInode("/proc/thread-self/ns/net") == namespaceInode("/proc/self/ns/net"))
        let outside = #expect(throws: PodrunError.self) { try NetworkSysctl.read("ipv4/conf/podrun-probe/forwarding") }
        #expect(outside?.errno == ENOENT)
    }

    @Test func enteringAMissingNamespaceFailsAndLeavesTheThreadWhereItWas() throws {
        let error = #expect(throws: PodrunError.self) {
            try NetworkNamespace.run(in: "/run/netns/podrun-test-missing") { 1 }
        }
        #expect(error?.errno == ENOENT)
        #expect(try namespaceInode("/proc/thread-self/ns/net") == namespaceInode("/proc/self/ns/net"))
    }
}
