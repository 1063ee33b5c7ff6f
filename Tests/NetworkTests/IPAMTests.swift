import Foundation
import Glibc
import LinuxSys
@testable import Network
import PodrunCore
import Synchronization
import Testing

/// A fresh temporary folder, removed by `remove()`.
struct TemporaryFolder {
    let path: String
    init() throws {
        var template = Array("/tmp/podrun-network-test-XXXXXX".utf8CString)
        guard mkdtemp(&template) != nil else { throw PodrunError.system("mkdtemp") }
        path = String(decoding: template.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
    }
    func remove() { try? FileManager.default.removeItem(atPath: path) }
}

private func makeIPAM(_ folder: TemporaryFolder, _ subnet: String = "10.201.0.0/24") throws -> IPAM {
    let subnet = try IPv4Subnet(parsing: subnet)
    return try IPAM(directory: folder.path + "/ips", subnet: subnet, gateway: subnet.firstHost)
}

@Test func allocationSkipsNetworkAndGatewayAndIsStablePerOwner() throws {
    let folder = try TemporaryFolder()
    defer { folder.remove() }
    let ipam = try makeIPAM(folder)
    let first = try ipam.allocate(owner: "a")
    #expect(first.description == "10.201.0.2")
    #expect(try ipam.allocate(owner: "a") == first)
    #expect(try ipam.allocate(owner: "b").description == "10.201.0.3")
    #expect(try ipam.allocations() == [first: "a", try IPv4Address(parsing: "10.201.0.3"): "b"])
}

@Test func anOwnersAddressIsFoundThroughItsIndexWhichGoesWithTheRelease() throws {
    let folder = try TemporaryFolder()
    defer { folder.remove() }
    let ipam = try makeIPAM(folder)
    let address = try ipam.allocate(owner: "/run/podrun/.sandboxes/a")
    let index = IPAM.indexFile("/run/podrun/.sandboxes/a", in: ipam.directory)
    #expect(try FileIO.readString(index) == address.description)
    // The index is what an allocation and a release read: moved (by hand) to another address the owner holds,
    // that one is its, and the one release frees.
    let other = try IPv4Address(parsing: "10.201.0.77")
    try FileIO.writeAtomically(ipam.directory + "/" + other.description, Array("/run/podrun/.sandboxes/a".utf8))
    try FileIO.writeAtomically(index, Array(other.description.utf8))
    #expect(try ipam.allocate(owner: "/run/podrun/.sandboxes/a") == other)
    try ipam.release(owner: "/run/podrun/.sandboxes/a")
    #expect(try ipam.allocations() == [address: "/run/podrun/.sandboxes/a"])
    #expect(!FileIO.exists(index))
}

@Test func releaseFreesOnlyItsOwnersAddress() throws {
    let folder = try TemporaryFolder()
    defer { folder.remove() }
    let ipam = try makeIPAM(folder)
    let a = try ipam.allocate(owner: "a"), b = try ipam.allocate(owner: "b"), c = try ipam.allocate(owner: "c")
    try ipam.release(owner: "b")
    #expect(try ipam.allocations() == [a: "a", c: "c"])
    #expect(!FileIO.exists(IPAM.indexFile("b", in: ipam.directory)))
    try ipam.release(owner: "b")
    #expect(try ipam.allocations() == [a: "a", c: "c"], "a second release changes nothing")
    #expect(try ipam.allocate(owner: "b") != b, "the freed address waits until the pool wraps")
}

@Test func anAddressWithoutAnIndexIsStillReleased() throws {
    let folder = try TemporaryFolder()
    defer { folder.remove() }
    let ipam = try makeIPAM(folder)
    let kept = try ipam.allocate(owner: "kept")
    // An address allocated before the index existed: its file alone names the owner.
    try FileIO.writeAtomically(ipam.directory + "/10.201.0.50", Array("old".utf8))
    try ipam.release(owner: "old")
    #expect(try ipam.allocations() == [kept: "kept"])
}

@Test func anAllocationWhoseIndexCannotBeWrittenReservesNothing() throws {
    let folder = try TemporaryFolder()
    defer { folder.remove() }
    let ipam = try makeIPAM(folder)
    // The index folder's place is taken by a file: the index cannot be written, so no address may be reserved
    // (an address the owner's index does not name would be freed by nothing but reconcile).
    try FileIO.writeAtomically(ipam.directory + "/" + IPAM.ownersFolder, [])
    #expect(throws: PodrunError.self) { try ipam.allocate(owner: "a") }
    #expect(try ipam.allocations().isEmpty)
    #expect(try !ipam.hasAllocations())
}

@Test func hasAllocationsSeesAddressesOfTheSubnetOnly() throws {
    let folder = try TemporaryFolder()
    defer { folder.remove() }
    let ipam = try makeIPAM(folder)
    #expect(try !ipam.hasAllocations())
    // The pool's own files, and an address outside its subnet (another pool's, by hand), are not allocations.
    try FileIO.writeAtomically(ipam.directory + "/10.99.0.5", Array("elsewhere".utf8))
    _ = try ipam.allocate(owner: "a")
    try ipam.release(owner: "a")
    #expect(FileIO.exists(ipam.directory + "/" + IPAM.cursorFile))
    #expect(try !ipam.hasAllocations())
    _ = try ipam.allocate(owner: "b")
    #expect(try ipam.hasAllocations())
}

@Test func aStaleIndexEntryDoesNotGiveAnOwnerAnotherOwnersAddress() throws {
    let folder = try TemporaryFolder()
    defer { folder.remove() }
    let ipam = try makeIPAM(folder)
    let b = try ipam.allocate(owner: "b")
    // An index naming b's address for a (a crash, a hash clash): the address file says b, so a gets its own.
    try FileIO.writeAtomically(IPAM.indexFile("a", in: ipam.directory), Array(b.description.utf8))
    let a = try ipam.allocate(owner: "a")
    #expect(a != b)
    #expect(try ipam.allocations() == [a: "a", b: "b"])
    try IPAM.reconcile(directory: ipam.directory, liveOwners: ["b"])
    #expect(!FileIO.exists(IPAM.indexFile("a", in: ipam.directory)), "reconcile drops the index of a released owner")
    #expect(try ipam.allocate(owner: "b") == b)
}

@Test func releasedAddressesAreNotReusedBeforeThePoolWraps() throws {
    let folder = try TemporaryFolder()
    defer { folder.remove() }
    let ipam = try makeIPAM(folder)
    let a = try ipam.allocate(owner: "a")
    try ipam.release(owner: "a")
    #expect(try ipam.allocations().isEmpty)
    let b = try ipam.allocate(owner: "b")
    #expect(b != a)
    try ipam.release(owner: "nobody")  // nothing held: nothing to do
}

@Test func smallPoolIsExhaustedWithoutHandingOutReservedAddresses() throws {
    let folder = try TemporaryFolder()
    defer { folder.remove() }
    // /29: network .0, gateway .1, hosts .2-.6, broadcast .7.
    let ipam = try makeIPAM(folder, "10.201.0.0/29")
    var given: Set<String> = []
    for owner in 0..<5 { given.insert(try ipam.allocate(owner: "o\(owner)").description) }
    #expect(given == ["10.201.0.2", "10.201.0.3", "10.201.0.4", "10.201.0.5", "10.201.0.6"])
    let error = #expect(throws: PodrunError.self) { try ipam.allocate(owner: "one-too-many") }
    #expect(error?.code == .invalidState)
    try ipam.release(owner: "o2")
    #expect(try ipam.allocate(owner: "late").description == "10.201.0.4")
}

@Test func reconcileReleasesOnlyOwnersThatAreNotLive() throws {
    let folder = try TemporaryFolder()
    defer { folder.remove() }
    let ipam = try makeIPAM(folder)
    for owner in ["a", "b", "c"] { _ = try ipam.allocate(owner: owner) }
    #expect(try ipam.reconcile(liveOwners: ["b"]) == ["a", "c"])
    #expect(Set(try ipam.allocations().values) == ["b"])
    #expect(try IPAM.reconcile(directory: folder.path + "/missing", liveOwners: []).isEmpty)
}

@Test func fiftyConcurrentAllocationsGetFiftyDistinctAddresses() throws {
    let folder = try TemporaryFolder()
    defer { folder.remove() }
    let ipam = try makeIPAM(folder)
    let results = Mutex<[String: IPv4Address]>([:])
    let failures = Mutex<[String]>([])
    DispatchQueue.concurrentPerform(iterations: 50) { i in
        do {
            // A separate IPAM value per thread, as separate processes would have.
            let own = try makeIPAM(folder)
            let address = try own.allocate(owner: "owner-\(i)")
            results.withLock { $0["owner-\(i)"] = address }
        } catch {
            failures.withLock { $0.append("\(error)") }
        }
    }
    #expect(failures.withLock { $0 } == [])
    let addresses = results.withLock { $0 }
    #expect(addresses.count == 50)
    #expect(Set(addresses.values).count == 50)
    #expect(try ipam.allocations().count == 50)
}

@Test func badSubnetOrGatewayIsRejectedBeforeAnythingIsWritten() throws {
    let folder = try TemporaryFolder()
    defer { folder.remove() }
    let small = try IPv4Subnet(parsing: "10.201.0.0/31")
    #expect(throws: PodrunError.self) { try IPAM(directory: folder.path + "/a", subnet: small, gateway: small.network) }
    let subnet = try IPv4Subnet(parsing: "10.201.0.0/24")
    #expect(throws: PodrunError.self) { try IPAM(directory: folder.path + "/b", subnet: subnet, gateway: subnet.broadcast) }
    #expect(!FileManager.default.fileExists(atPath: folder.path + "/a"))
    #expect(!FileManager.default.fileExists(atPath: folder.path + "/b"))
}
