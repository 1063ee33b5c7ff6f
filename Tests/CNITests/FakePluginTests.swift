import Foundation
import Testing
@testable import CNI
import PodrunCore

/// The runner and the list operations against shell-script plugins that record what they were given.
@Suite struct FakePluginTests {
    static let resultA = #"{"cniVersion":"0.4.0","interfaces":[{"name":"eth0","sandbox":"/var/run/netns/fake"}],"ips":[{"version":"4","address":"10.9.0.2/24","gateway":"10.9.0.1","interface":0}]}"#
    static let resultB = #"{"cniVersion":"1.0.0","interfaces":[{"name":"eth0","mac":"02:00:00:00:00:01","sandbox":"/var/run/netns/fake"}],"ips":[{"address":"10.9.0.2/24","gateway":"10.9.0.1","interface":0}],"routes":[{"dst":"0.0.0.0/0"}],"dns":{"nameservers":["10.9.0.1"]}}"#

    func network(_ dir: TempDirectory, _ plugins: String, disableCheck: Bool = false, timeout: Int = 60) throws -> CNINetwork {
        let text = #"{"cniVersion": "1.0.0", "name": "fakenet", "disableCheck": \#(disableCheck), "plugins": [\#(plugins)]}"#
        return CNINetwork(config: try NetworkConfigList.parse(Array(text.utf8)),
                          runner: CNIPluginRunner(binDirectories: [dir.path + "/nothing-here", dir.path], timeoutSeconds: timeout))
    }

    func calls(_ dir: TempDirectory) -> [String] {
        (dir.read("calls.log") ?? "").split(separator: "\n").map(String.init)
    }

    @Test func addChainsPrevResultAndInjectsNameVersionAndRuntimeConfig() throws {
        let dir = try TempDirectory()
        defer { dir.remove() }
        try writeFakePlugin("fake-a", in: dir, body: printingOnAdd(Self.resultA))
        try writeFakePlugin("fake-b", in: dir, body: printingOnAdd(Self.resultB))
        let net = try network(dir, #"""
            {"type": "fake-a", "custom": {"keep": [1, "two"]}, "runtimeConfig": {"stale": true}},
            {"type": "fake-b", "capabilities": {"portMappings": true, "bandwidth": false}}
            """#)
        let result = try net.add(containerID: "ctr-1.a_b", netnsPath: "/var/run/netns/fake", ifName: "eth0",
                                 portMappings: [PortMapping(hostPort: 8080, containerPort: 80)],
                                 capabilityArguments: ["bandwidth": .object(["ingressRate": .integer(1000)])],
                                 arguments: ["K8S_POD_NAME": "p", "IgnoreUnknown": "1"])
        #expect(calls(dir) == ["fake-a ADD", "fake-b ADD"])
        #expect(result == (try JSONDecoder().decode(CNIResult.self, from: Data(Self.resultB.utf8))))

        let a = try #require(jsonObject(dir.read("fake-a.ADD.stdin")))
        #expect(a["name"] as? String == "fakenet")
        #expect(a["cniVersion"] as? String == "1.0.0")
        #expect(a["prevResult"] == nil)
        #expect(((a["custom"] as? [String: Any])?["keep"] as? [Any])?.count == 2)
        // No declared capability: the file's runtimeConfig is passed as it is.
        #expect((a["runtimeConfig"] as? [String: Any])?["stale"] as? Bool == true)

        let b = try #require(jsonObject(dir.read("fake-b.ADD.stdin")))
        let prev = try #require(b["prevResult"] as? [String: Any])
        #expect(prev["cniVersion"] as? String == "0.4.0")
        #expect(((prev["ips"] as? [[String: Any]])?.first)?["version"] as? String == "4")
        let runtime = try #require(b["runtimeConfig"] as? [String: Any])
        #expect(runtime["bandwidth"] == nil)
        let mappings = try #require(runtime["portMappings"] as? [[String: Any]])
        #expect(mappings.first?["hostPort"] as? Int == 8080)
        #expect(mappings.first?["containerPort"] as? Int == 80)
        #expect(mappings.first?["protocol"] as? String == "tcp")

        let env = environment(dir.read("fake-b.ADD.env"))
        #expect(env["CNI_COMMAND"] == "ADD")
        #expect(env["CNI_CONTAINERID"] == "ctr-1.a_b")
        #expect(env["CNI_NETNS"] == "/var/run/netns/fake")
        #expect(env["CNI_IFNAME"] == "eth0")
        #expect(env["CNI_ARGS"] == "IgnoreUnknown=1;K8S_POD_NAME=p")
        #expect(env["CNI_PATH"] == dir.path + "/nothing-here:" + dir.path)
        #expect(env["PATH"]?.isEmpty == false)
    }

    @Test func deleteRunsInReverseWithStoredResultAndToleratesMissingNetns() throws {
        let dir = try TempDirectory()
        defer { dir.remove() }
        try writeFakePlugin("fake-a", in: dir, body: printingOnAdd(Self.resultA))
        try writeFakePlugin("fake-b", in: dir, body: printingOnAdd(Self.resultB))
        let net = try network(dir, #"{"type": "fake-a"}, {"type": "fake-b"}"#)
        let stored = try JSONDecoder().decode(CNIResult.self, from: Data(Self.resultB.utf8))
        try net.delete(containerID: "c1", netnsPath: "/var/run/netns/gone-" + uniqueTag(), ifName: "eth0", prevResult: stored)
        #expect(calls(dir) == ["fake-b DEL", "fake-a DEL"])
        for name in ["fake-a", "fake-b"] {
            let stdin = try #require(jsonObject(dir.read("\(name).DEL.stdin")))
            let prev = try #require(stdin["prevResult"] as? [String: Any])
            #expect(prev["cniVersion"] as? String == "1.0.0")
            #expect(((prev["ips"] as? [[String: Any]])?.first)?["address"] as? String == "10.9.0.2/24")
            let env = environment(dir.read("\(name).DEL.env"))
            #expect(env["CNI_COMMAND"] == "DEL")
            #expect(env["CNI_NETNS"] == "")
        }
        // Without a stored result there is no prevResult.
        try net.delete(containerID: "c1", netnsPath: nil, prevResult: nil)
        #expect(jsonObject(dir.read("fake-a.DEL.stdin"))?["prevResult"] == nil)
    }

    @Test func checkRunsInOrderWithPrevResultUnlessDisabled() throws {
        let dir = try TempDirectory()
        defer { dir.remove() }
        try writeFakePlugin("fake-a", in: dir, body: printingOnAdd(Self.resultA))
        try writeFakePlugin("fake-b", in: dir, body: printingOnAdd(Self.resultB))
        let stored = try JSONDecoder().decode(CNIResult.self, from: Data(Self.resultB.utf8))
        let net = try network(dir, #"{"type": "fake-a"}, {"type": "fake-b"}"#)
        try net.check(containerID: "c1", netnsPath: "/var/run/netns/fake", prevResult: stored)
        #expect(calls(dir) == ["fake-a CHECK", "fake-b CHECK"])
        #expect(jsonObject(dir.read("fake-a.CHECK.stdin"))?["prevResult"] != nil)

        let disabled = try network(dir, #"{"type": "fake-a"}"#, disableCheck: true)
        try disabled.check(containerID: "c1", netnsPath: "/var/run/netns/fake", prevResult: stored)
        #expect(calls(dir).count == 2)
    }

    @Test func pluginErrorJSONBecomesAnErrorNamingThePlugin() throws {
        let dir = try TempDirectory()
        defer { dir.remove() }
        try writeFakePlugin("fake-a", in: dir, body: printingOnAdd(Self.resultA))
        try writeFakePlugin("fake-fail", in: dir, body: """
            if [ "$CNI_COMMAND" = ADD ]; then
              printf '%s' '{"cniVersion":"1.0.0","code":7,"msg":"bad subnet","details":"10.0.0.0/33 is not a CIDR"}'
              echo "some log" >&2
              exit 1
            fi
            exit 0
            """)
        let net = try network(dir, #"{"type": "fake-a"}, {"type": "fake-fail"}"#)
        #expect {
            _ = try net.add(containerID: "c2", netnsPath: "/var/run/netns/fake")
        } throws: { error in
            let e = error as? PodrunError
            return e?.code == .system && e?.message.contains("fake-fail ADD: bad subnet") == true
                && e?.message.contains("fakenet") == true
                && e?.cause == "CNI error code 7: 10.0.0.0/33 is not a CIDR"
        }
        // A failed ADD is undone: every plugin got DEL, in reverse order, with the last good result.
        #expect(calls(dir) == ["fake-a ADD", "fake-fail ADD", "fake-fail DEL", "fake-a DEL"])
        let prev = jsonObject(dir.read("fake-a.DEL.stdin"))?["prevResult"] as? [String: Any]
        #expect(prev?["cniVersion"] as? String == "0.4.0")
    }

    @Test func pluginFailingWithoutErrorJSONReportsStatusAndStderr() throws {
        let dir = try TempDirectory()
        defer { dir.remove() }
        try writeFakePlugin("fake-crash", in: dir, body: #"echo "panic: boom" >&2; exit 3"#)
        let net = try network(dir, #"{"type": "fake-crash"}"#)
        #expect {
            _ = try net.add(containerID: "c3", netnsPath: "/var/run/netns/fake")
        } throws: { error in
            let e = error as? PodrunError
            return e?.message.contains("fake-crash ADD: exit status 3") == true && e?.cause == "panic: boom"
        }
    }

    @Test func pluginNotFoundIsNotFound() throws {
        let dir = try TempDirectory()
        defer { dir.remove() }
        let net = try network(dir, #"{"type": "no-such-plugin"}"#)
        #expect {
            _ = try net.add(containerID: "c4", netnsPath: "/var/run/netns/fake")
        } throws: { error in
            let e = error as? PodrunError
            return e?.code == .notFound && e?.message.contains("\"no-such-plugin\" not found in") == true
        }
        // A directory or a non-executable file of that name is not a plugin.
        try FileManager.default.createDirectory(atPath: dir.file("a-dir"), withIntermediateDirectories: false)
        try dir.write("not-exec", "#!/bin/sh\n")
        #expect(throws: PodrunError.self) { try net.runner.find("a-dir") }
        #expect(throws: PodrunError.self) { try net.runner.find("not-exec") }
    }

    @Test(arguments: ["../bridge", "sub/bridge", "/usr/lib/cni/bridge", "..", "a..b", ""])
    func pluginTypeWithPathPartsIsRefused(type: String) throws {
        let runner = CNIPluginRunner()
        #expect {
            _ = try runner.run(type, .add, CNIInvocation(containerID: "c", netnsPath: "/x", ifName: "eth0"), config: [])
        } throws: { error in
            let e = error as? PodrunError
            return e?.code == .invalidSpec && e?.message.contains("plain file name") == true
        }
    }

    @Test func slowPluginIsKilledAtTimeout() throws {
        let dir = try TempDirectory()
        defer { dir.remove() }
        try writeFakePlugin("fake-slow", in: dir, body: "exec sleep 30")
        let net = try network(dir, #"{"type": "fake-slow"}"#, timeout: 1)
        let start = Date()
        #expect {
            try net.delete(containerID: "c5", netnsPath: nil, prevResult: nil)
        } throws: { ($0 as? PodrunError)?.code == .timeout }
        #expect(Date().timeIntervalSince(start) < 10)
    }

    @Test func pluginNotReadingStdinDoesNotHurt() throws {
        let dir = try TempDirectory()
        defer { dir.remove() }
        // Exits at once without reading a config larger than a pipe's buffer.
        try dir.write("fake-deaf", "#!/bin/sh\nprintf '%s' '\(Self.resultB)'\n", executable: true)
        let big = String(repeating: "x", count: 300_000)
        let net = try network(dir, #"{"type": "fake-deaf", "padding": "\#(big)"}"#)
        let result = try net.add(containerID: "c6", netnsPath: "/var/run/netns/fake")
        #expect(CNINetwork.podIP(of: result) == "10.9.0.2")
    }

    @Test func invalidContainerIDOrInterfaceIsRefusedBeforeAnyPluginRuns() throws {
        let dir = try TempDirectory()
        defer { dir.remove() }
        try writeFakePlugin("fake-a", in: dir, body: printingOnAdd(Self.resultA))
        let net = try network(dir, #"{"type": "fake-a"}"#)
        for (id, ifName) in [("", "eth0"), ("-lead", "eth0"), ("a b", "eth0"), ("ok", "with/slash"),
                             ("ok", "waytoolonginterface0"), ("ok", "")] {
            #expect(throws: PodrunError.self) { _ = try net.add(containerID: id, netnsPath: "/x", ifName: ifName) }
        }
        #expect(calls(dir).isEmpty)
    }

    @Test func versionReportsSupportedVersions() throws {
        let dir = try TempDirectory()
        defer { dir.remove() }
        try writeFakePlugin("fake-v", in: dir, body: #"printf '%s' '{"cniVersion":"1.0.0","supportedVersions":["0.4.0","1.0.0"]}'"#)
        let net = try network(dir, #"{"type": "fake-v"}"#)
        let info = try net.versions(ofPlugin: "fake-v")
        #expect(info.supportedVersions == ["0.4.0", "1.0.0"])
        #expect(environment(dir.read("fake-v.VERSION.env"))["CNI_COMMAND"] == "VERSION")
        #expect(jsonObject(dir.read("fake-v.VERSION.stdin"))?["cniVersion"] as? String == "1.0.0")
    }
}
