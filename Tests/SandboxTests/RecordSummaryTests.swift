import FoundationEssentials
import Glibc
import LinuxSys
import OCISpec
import PodrunCore
import Testing
@testable import Sandbox

@Suite struct RecordSummaryTests {
    func record(spec: Spec, storage: String? = nil) -> ContainerRecord {
        ContainerRecord(id: "c1", bundle: "/b \"quoted\" \\ é", rootfs: "/b/rootfs", pid: 4242, pidStartTime: 123456789012,
                        created: "2026-12-01T22:00:00.123456789Z", spec: spec, cgroupPath: "/pods/c1",
                        cgroupDirectories: ["/sys/fs/cgroup/cpu": "/sys/fs/cgroup/cpu/pods/c1",
                                            "/sys/fs/cgroup/unified": "/sys/fs/cgroup/unified/pods/c1"],
                        storage: storage)
    }

    func summary(of record: ContainerRecord) throws -> ContainerRecord? {
        let bytes = try JSONCoding.encode(record)
        let tree = try #require(JSONTree.parse(bytes))
        return ContainerRecord.summary(from: tree)
    }

    @Test func summaryKeepsEveryFieldButTheSpecDetails() throws {
        var spec = Spec(process: Process(args: ["sh"]), annotations: ["a": "1", "emoji 😀": "tab\there\nline"])
        spec.linux = Linux(namespaces: [LinuxNamespace(type: .pid), LinuxNamespace(type: .network, path: "/proc/1/ns/net")])
        let full = record(spec: spec, storage: "/var/lib/podrun/x")
        let summary = try #require(try self.summary(of: full))
        var expected = full
        expected.spec = Spec(annotations: spec.annotations, linux: Linux(namespaces: spec.linux?.namespaces))
        #expect(summary == expected)
        #expect(summary.hasPrivatePidNamespace)
    }

    @Test func summaryOfASpecWithoutAnnotationsOrNamespaces() throws {
        let full = record(spec: Spec())
        let summary = try #require(try self.summary(of: full))
        #expect(summary == full)
        #expect(!summary.hasPrivatePidNamespace)
    }

    @Test(arguments: [nil, "/var/lib/podrun/x"])
    func theStateDocumentWithTheSpecsOwnTreeIsWhatEncodingTheRecordWrites(storage: String?) throws {
        var spec = Spec(process: Process(args: ["sh", "-c", "echo /é"]), annotations: ["b": "2", "a": "1"])
        spec.linux = Linux(namespaces: [LinuxNamespace(type: .pid)])
        let full = record(spec: spec, storage: storage)
        let document = full.stateDocument(spec: try JSONTreeEncoder.tree(of: spec))
        #expect(document.jsonBytes() == (try JSONCoding.encode(full)))
    }

    @Test func aStateSavedWithConfigJSONsDocumentLoadsAsTheDecodedSpec() throws {
        let config = #"{"ociVersion":"1.2.0","process":{"args":["sh"],"cwd":"/","user":{"uid":0,"gid":0}},"#
            + #""root":{"path":"rootfs"},"annotations":{"x":"y"},"#
            + #""linux":{"namespaces":[{"type":"pid"},{"type":"mount"}]},"somethingPodrunDoesNotKnow":[1]}"#
        let (spec, document) = try Spec.decodeKeepingDocument(from: Array(config.utf8))
        let root = "/tmp/podrun-record-test-\(getpid())"
        defer { try? FileIO.removeTree(root) }
        let store = StateStore(root: root)
        _ = try store.makeDirectory(for: "c1")
        let full = record(spec: spec)
        guard let document else {
            Issue.record("config.json did not parse as a JSONTree")
            return
        }
        try store.save(full, specDocument: document)
        #expect(try store.load("c1") == full)
        var expected = full
        expected.spec = Spec(annotations: ["x": "y"], linux: Linux(namespaces: spec.linux?.namespaces))
        #expect(try store.loadSummary("c1") == expected)
    }

    @Test(arguments: [nil, "/var/lib/podrun/x"])
    func aStateIsReadAsJSONDecoderDecodesIt(storage: String?) throws {
        var spec = Spec(process: Process(args: ["sh"]), annotations: ["a": "1"])
        spec.hooks = Hooks(poststop: [Hook(path: "/bin/true", timeout: 3)])
        spec.linux = Linux(namespaces: [LinuxNamespace(type: .pid)], seccomp: LinuxSeccomp(defaultAction: "SCMP_ACT_ALLOW"))
        let bytes = try JSONCoding.encode(record(spec: spec, storage: storage))
        let read = try JSONCoding.decode(ContainerRecord.self, from: bytes)
        #expect(read == record(spec: spec, storage: storage))
        #expect(read == (try JSONDecoder().decode(ContainerRecord.self, from: Data(bytes))))
    }

    @Test func aStateWithoutItsSpecIsRefused() throws {
        let bytes = Array(#"{"id":"c1","bundle":"/b","rootfs":"/b/r","pid":1,"pidStartTime":2,"created":"x","cgroupPath":"/c","cgroupDirectories":{}}"#.utf8)
        #expect(throws: PodrunError.self) { try JSONCoding.decode(ContainerRecord.self, from: bytes) }
    }

    @Test func aSpecWithHooksHasNoSummary() throws {
        var spec = Spec()
        spec.hooks = Hooks(poststop: [Hook(path: "/bin/true")])
        #expect(try summary(of: record(spec: spec)) == nil)
    }

    @Test(arguments: ["", "{", "{\"a\":}", "[1,]", "\"\\x\"", "{\"a\":1} x", "\"\u{1}\""])
    func invalidJSONDoesNotParse(_ text: String) {
        #expect(JSONTree.parse(Array(text.utf8)) == nil)
    }

    @Test func escapesParseAsJSONDecoderReadsThem() throws {
        let text = #"{"s":"a\"b\\c\/d\n\u00e9\ud83d\ude00","n":-12,"t":true,"z":null,"l":[1,"x"]}"#
        let tree = try #require(JSONTree.parse(Array(text.utf8)))
        #expect(tree == .object([("s", .string("a\"b\\c/d\né😀")), ("n", .number("-12")), ("t", .bool(true)),
                                 ("z", .null), ("l", .array([.number("1"), .string("x")]))]))
    }

    @Test func recordsAreWrittenAndReadAsJSONEncoderAndJSONDecoderDo() throws {
        var spec = Spec.podrunDefault()
        spec.annotations = ["a": "1", "emoji 😀": "tab\there\nline"]
        spec.hooks = Hooks(poststop: [Hook(path: "/bin/true", timeout: 3)])
        let full = record(spec: spec, storage: "/var/lib/podrun/x")
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        let bytes = try JSONCoding.encode(full)
        #expect(bytes == Array(try encoder.encode(full)))
        #expect(try JSONDecoder().decode(ContainerRecord.self, from: Data(bytes)) == full)
        #expect(try JSONCoding.decode(ContainerRecord.self, from: bytes) == full)
    }
}
