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

    @Test func vethEndsCanBeResizedMovedRenamedAndDeletedTogether() throws {
        let pod = try TestNetns("podrun-test-ops")
        let host = try NetlinkSocket()
        defer { _ = try? host.deleteLink(named: "podrun-tv0"); pod.remove() }
        try host.createVethPair(named: "podrun-tv0", peerName: "podrun-tv1")
        let duplicate = #expect(throws: PodrunError.self) { try host.createVethPair(named: "podrun-tv0", peerName: "podrun-tv2") }
        #expect(duplicate?.errno == EEXIST)
        guard let end = try host.link(named: "podrun-tv0"), let peer = try host.link(named: "podrun-tv1") else {
            Issue.record("the veth pair is missing")
            return
        }
        #expect(end.kind == "veth" && end.mac.count == 6 && !end.isUp)
        try host.setMTU(index: end.index, 1400)
        #expect(try host.link(index: end.index)?.mtu == 1400)
        try host.setUp(index: end.index)
        #expect(try host.link(index: end.index)?.isUp == true)

        let netnsFD = try NetworkNamespace.open(pod.path)
        defer { close(netnsFD) }
        try host.moveToNetns(index: peer.index, netnsFD: netnsFD)
        #expect(try host.link(named: "podrun-tv1") == nil)
        let inside = try NetworkNamespace.netlinkSocket(in: pod.path)
        guard let moved = try inside.link(named: "podrun-tv1") else {
            Issue.record("the peer is not in the namespace")
            return
        }
        try inside.rename(index: moved.index, to: "eth1")
        #expect(try inside.link(named: "eth1")?.index == moved.index)
        #expect(try pod.run("ip", "link", "show", "eth1").status == 0)

        #expect(try host.deleteLink(named: "podrun-tv0"))
        #expect(try inside.link(named: "eth1") == nil)
        #expect(try host.deleteLink(named: "podrun-tv0") == false)
    }
}
