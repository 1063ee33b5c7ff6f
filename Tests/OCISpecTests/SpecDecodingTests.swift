import Foundation
import OCISpec
import PodrunCore
import Testing

/// A minimal valid config with `edit` applied to its JSON object.
func config(_ edit: (inout [String: Any]) -> Void = { _ in }) -> [UInt8] {
    var object: [String: Any] = [
        "ociVersion": "1.2.0",
        "root": ["path": "rootfs"],
        "process": ["cwd": "/", "args": ["sh"], "user": ["uid": 0, "gid": 0]],
        "hostname": "h",
        "linux": ["namespaces": [["type": "mount"], ["type": "uts"], ["type": "pid"]]],
    ]
    edit(&object)
    return Array(try! JSONSerialization.data(withJSONObject: object))
}

func specError(_ bytes: [UInt8]) -> PodrunError? {
    do {
        try Spec.decode(from: bytes).validate()
        return nil
    } catch {
        return error as? PodrunError
    }
}

@Suite struct SpecDecodingTests {
    @Test func aValidConfigDecodesAndValidates() throws {
        let spec = try Spec.decode(from: config())
        try spec.validate()
        #expect(spec.process?.args == ["sh"])
    }

    @Test func typeMismatchNamesTheField() {
        let e = specError(config { $0["process"] = ["cwd": "/", "args": [1]] })
        #expect(e?.code == .invalidSpec)
        #expect(e?.path == "process.args[0]")
        #expect(e?.message == "expected a string")
    }

    @Test func unknownNamespaceTypeNamesTheValue() {
        let e = specError(config { $0["linux"] = ["namespaces": [["type": "mount"], ["type": "foo"]]] })
        #expect(e?.path == "linux.namespaces[1].type")
        #expect(e?.message.contains("\"foo\"") == true)
    }

    @Test func missingRequiredKeyIsNamed() {
        let e = specError(config { $0["root"] = ["readonly": true] })
        #expect(e?.path == "root.path")
        #expect(e?.message == "is required")
    }

    @Test func malformedJSONSaysSo() {
        let e = specError(Array("{bad".utf8))
        #expect(e?.code == .invalidSpec)
        #expect(e?.message == "config.json is not valid JSON")
    }

    @Test func missingUserMeansRootAsInRunc() throws {
        let spec = try Spec.decode(from: config { $0["process"] = ["cwd": "/", "args": ["sh"]] })
        #expect(spec.process?.user == User(uid: 0, gid: 0))
    }

    @Test func processDecodesForExec() throws {
        let p = try Process.decode(from: Array(#"{"args":["ls"],"cwd":"/tmp","env":["A=1"]}"#.utf8))
        #expect(p.args == ["ls"] && p.cwd == "/tmp" && p.env == ["A=1"])
    }

    @Test func encodingRoundTrips() throws {
        let spec = Spec.podrunDefault()
        #expect(try Spec.decode(from: spec.encodedJSON()) == spec)
    }
}

@Suite struct SpecValidationTests {
    @Test func emptyArgsAreRefused() {
        #expect(specError(config { $0["process"] = ["cwd": "/", "args": [String]()] })?.path == "process.args")
    }

    @Test func relativeCwdIsRefused() {
        #expect(specError(config { $0["process"] = ["cwd": "tmp", "args": ["sh"]] })?.path == "process.cwd")
    }

    @Test func duplicateNamespacesAreRefused() {
        let e = specError(config { $0["linux"] = ["namespaces": [["type": "mount"], ["type": "mount"]]] })
        #expect(e?.path == "linux.namespaces[1].type")
    }

    @Test func aMountNamespaceIsRequired() {
        let e = specError(config {
            $0["hostname"] = nil
            $0["linux"] = ["namespaces": [["type": "pid"]]]
        })
        #expect(e?.path == "linux.namespaces")
    }

    @Test func hostnameWithoutUTSNamespaceIsRefused() {
        let e = specError(config { $0["linux"] = ["namespaces": [["type": "mount"]]] })
        #expect(e?.path == "hostname")
        #expect(e?.message == "unable to set hostname without a private UTS namespace")
    }

    @Test func idMappingsWithoutUserNamespaceAreRefused() {
        let e = specError(config {
            $0["linux"] = ["namespaces": [["type": "mount"], ["type": "uts"]],
                           "uidMappings": [["containerID": 0, "hostID": 1000, "size": 1]]]
        })
        #expect(e?.path == "linux.uidMappings")
    }

    @Test func newUserNamespaceNeedsMappings() {
        let e = specError(config {
            $0["linux"] = ["namespaces": [["type": "mount"], ["type": "uts"], ["type": "user"]]]
        })
        #expect(e?.path == "linux.uidMappings")
    }

    @Test func netSysctlNeedsANetworkNamespace() {
        let e = specError(config {
            $0["linux"] = ["namespaces": [["type": "mount"], ["type": "uts"]], "sysctl": ["net.ipv4.ip_forward": "1"]]
        })
        #expect(e?.path == "linux.sysctl.net.ipv4.ip_forward")
    }

    @Test func ipcSysctlWithIPCNamespaceIsAccepted() throws {
        try Spec.decode(from: config {
            $0["linux"] = ["namespaces": [["type": "mount"], ["type": "uts"], ["type": "ipc"]],
                           "sysctl": ["kernel.shmmax": "65536"]]
        }).validate()
    }

    @Test func hostWideSysctlIsRefused() {
        let e = specError(config {
            $0["linux"] = ["namespaces": [["type": "mount"], ["type": "uts"]], "sysctl": ["vm.swappiness": "1"]]
        })
        #expect(e?.path == "linux.sysctl.vm.swappiness")
    }

    @Test func unknownRlimitIsRefused() {
        let e = specError(config {
            $0["process"] = ["cwd": "/", "args": ["sh"], "rlimits": [["type": "RLIMIT_FOO", "soft": 1, "hard": 1]]]
        })
        #expect(e?.path == "process.rlimits[0].type")
    }

    @Test func softRlimitAboveHardIsRefused() {
        let e = specError(config {
            $0["process"] = ["cwd": "/", "args": ["sh"], "rlimits": [["type": "RLIMIT_NOFILE", "soft": 9, "hard": 1]]]
        })
        #expect(e?.path == "process.rlimits[0]")
    }

    @Test func badDeviceTypeIsRefused() {
        let e = specError(config {
            $0["linux"] = ["namespaces": [["type": "mount"], ["type": "uts"]],
                           "devices": [["path": "/dev/x", "type": "z", "major": 1, "minor": 1]]]
        })
        #expect(e?.path == "linux.devices[0].type")
    }

    @Test func unknownRootfsPropagationIsRefused() {
        let e = specError(config {
            $0["linux"] = ["namespaces": [["type": "mount"], ["type": "uts"]], "rootfsPropagation": "sideways"]
        })
        #expect(e?.path == "linux.rootfsPropagation")
    }

    @Test func systemdCgroupPathIsRefused() {
        let e = specError(config {
            $0["linux"] = ["namespaces": [["type": "mount"], ["type": "uts"]], "cgroupsPath": "system.slice:p:n"]
        })
        #expect(e?.path == "linux.cgroupsPath")
    }

    @Test func malformedCapabilityNameIsRefused() {
        let e = specError(config {
            $0["process"] = ["cwd": "/", "args": ["sh"], "capabilities": ["bounding": ["KILL"]]]
        })
        #expect(e?.path == "process.capabilities.bounding[0]")
    }
}

@Suite struct DefaultSpecTests {
    func golden(_ name: String) throws -> [String: Any] {
        let url = try #require(Bundle.module.url(forResource: "Fixtures/\(name)", withExtension: "json"))
        var object = try #require(try JSONSerialization.jsonObject(with: Data(contentsOf: url)) as? [String: Any])
        object["ociVersion"] = nil
        return object
    }

    func encoded(_ spec: Spec) throws -> [String: Any] {
        var object = try #require(try JSONSerialization.jsonObject(with: Data(spec.encodedJSON())) as? [String: Any])
        object["ociVersion"] = nil
        return object
    }

    @Test func defaultSpecMatchesRunc() throws {
        #expect(NSDictionary(dictionary: try encoded(.runcDefault())).isEqual(to: try golden("runc-spec")))
    }

    @Test func rootlessDefaultSpecMatchesRunc() throws {
        let ours = try encoded(.runcDefault(rootless: true, uid: 0, gid: 0))
        #expect(NSDictionary(dictionary: ours).isEqual(to: try golden("runc-spec-rootless")))
    }

    @Test func podrunDefaultAddsTheSeccompProfile() {
        let spec = Spec.podrunDefault()
        #expect(spec.linux?.seccomp?.defaultAction == "SCMP_ACT_ERRNO")
        var withoutSeccomp = spec
        withoutSeccomp.linux?.seccomp = nil
        withoutSeccomp.hostname = "runc"
        #expect(withoutSeccomp == Spec.runcDefault())
    }
}

@Suite struct MountOptionsTests {
    @Test func flagsAreSplitFromData() {
        let o = MountOptions.parse(["nosuid", "strictatime", "mode=755", "size=65536k"])
        #expect(o.flags == MountOptions.MS_NOSUID | MountOptions.MS_STRICTATIME)
        #expect(o.data == "mode=755,size=65536k")
    }

    @Test func laterOptionsOverrideEarlierOnes() {
        let o = MountOptions.parse(["ro", "rw"])
        #expect(o.flags & MountOptions.MS_RDONLY == 0)
        #expect(o.clearFlags & MountOptions.MS_RDONLY != 0)
    }

    @Test func rbindIsARecursiveBind() {
        #expect(MountOptions.parse(["rbind"]).isRecursiveBind)
        #expect(!MountOptions.parse(["bind"]).isRecursiveBind)
        #expect(MountOptions.parse(["bind"]).isBind)
    }

    @Test func propagationOptionsAreKeptInOrder() {
        let o = MountOptions.parse(["rprivate", "shared"])
        #expect(o.propagation == [MountOptions.MS_PRIVATE | MountOptions.MS_REC, MountOptions.MS_SHARED])
        #expect(o.flags == 0)
    }

    @Test func recursiveAttributesGoToMountSetattr() {
        let o = MountOptions.parse(["rro", "rnosuid", "rexec"])
        #expect(o.recursiveSet == MountOptions.MOUNT_ATTR_RDONLY | MountOptions.MOUNT_ATTR_NOSUID)
        #expect(o.recursiveClear & MountOptions.MOUNT_ATTR_NOEXEC != 0)
    }

    @Test func everyKnownOptionSetsOrClearsSomethingAndUnknownOnesAreData() {
        for name in MountOptions.knownOptions where name != "defaults" {
            let o = MountOptions.parse([name])
            #expect(o.flags | o.clearFlags != 0 || o.recursiveSet | o.recursiveClear != 0 || !o.propagation.isEmpty
                    || o.tmpcopyup, "\(name) changes nothing")
            #expect(o.data.isEmpty, "\(name) went to the data")
        }
        #expect(MountOptions.parse(["noexec"]).flags == MountOptions.MS_NOEXEC)
        #expect(MountOptions.parse(["noexec", "exec"]).clearFlags == MountOptions.MS_NOEXEC)
        let atime = MountOptions.parse(["rnoatime"])
        #expect(atime.recursiveSet == MountOptions.MOUNT_ATTR_NOATIME)
        #expect(atime.recursiveClear == MountOptions.MOUNT_ATTR__ATIME)
        #expect(MountOptions.parse(["uid=1000", "defaults"]).data == "uid=1000")
    }

    @Test func unknownPropagationNameIsNil() {
        #expect(MountOptions.propagationFlags("sideways") == nil)
        #expect(MountOptions.propagationFlags("rslave") == MountOptions.MS_SLAVE | MountOptions.MS_REC)
    }
}

@Suite struct FeaturesTests {
    @Test func featuresListEveryHookAndNamespace() {
        let f = Features.podrun(libseccompVersion: "2.5.4", capabilities: ["CAP_KILL"])
        #expect(f.hooks.count == 6)
        #expect(f.linux.namespaces.contains("user") && f.linux.namespaces.contains("cgroup"))
        #expect(f.mountOptions.contains("rbind") && f.mountOptions.contains("rro"))
        #expect(f.annotations["io.github.seccomp.libseccomp.version"] == "2.5.4")
    }
}

/// The JSONTree coders read and write specs exactly as Foundation's `JSONDecoder`/`JSONEncoder` do.
@Suite struct SpecCodingEquivalenceTests {
    /// A config touching most of the spec: process details, mounts, hooks, resources, devices, seccomp.
    static let fullConfig = #"""
    {"ociVersion":"1.2.0","root":{"path":"rootfs","readonly":true},"hostname":"h","domainname":"d",
     "annotations":{"a":"1","b/c":"é \" \\ \n"},
     "process":{"terminal":false,"cwd":"/","args":["sh","-c","echo hi"],"env":["PATH=/bin","A=1"],
       "user":{"uid":1000,"gid":1000,"umask":18,"additionalGids":[1,2]},
       "capabilities":{"bounding":["CAP_KILL"],"effective":["CAP_KILL"],"permitted":["CAP_KILL"]},
       "rlimits":[{"type":"RLIMIT_NOFILE","hard":1024,"soft":1024}],"noNewPrivileges":true,
       "oomScoreAdj":-500,"apparmorProfile":"p","selinuxLabel":"l"},
     "mounts":[{"destination":"/proc","type":"proc","source":"proc"},
               {"destination":"/tmp","type":"tmpfs","source":"tmpfs","options":["nosuid","mode=1777","size=65536k"]}],
     "hooks":{"prestart":[{"path":"/bin/true","args":["true"],"env":["X=1"],"timeout":5}],
              "poststop":[{"path":"/bin/false"}]},
     "linux":{"namespaces":[{"type":"mount"},{"type":"pid"},{"type":"network","path":"/proc/1/ns/net"},{"type":"uts"}],
       "uidMappings":[{"containerID":0,"hostID":100000,"size":65536}],
       "gidMappings":[{"containerID":0,"hostID":100000,"size":65536}],
       "sysctl":{"net.ipv4.ip_forward":"1"},"cgroupsPath":"/pods/x","rootfsPropagation":"rprivate",
       "maskedPaths":["/proc/kcore"],"readonlyPaths":["/proc/sys"],
       "devices":[{"path":"/dev/fuse","type":"c","major":10,"minor":229,"fileMode":438,"uid":0,"gid":0}],
       "resources":{"devices":[{"allow":false,"access":"rwm"},{"allow":true,"type":"c","major":1,"minor":3,"access":"rw"}],
         "memory":{"limit":536870912,"reservation":268435456,"swap":1073741824},
         "cpu":{"shares":1024,"quota":50000,"period":100000,"cpus":"0-1","mems":"0"},
         "pids":{"limit":100},"blockIO":{"weight":500}}}}
    """#

    func fixture(_ name: String) throws -> [UInt8] {
        let url = try #require(Bundle.module.url(forResource: "Fixtures/\(name)", withExtension: "json"))
        return Array(try Data(contentsOf: url))
    }

    func foundationBytes(_ spec: Spec, pretty: Bool) throws -> [UInt8] {
        let encoder = JSONEncoder()
        encoder.outputFormatting = pretty ? [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
            : [.sortedKeys, .withoutEscapingSlashes]
        return Array(try encoder.encode(spec))
    }

    @Test(arguments: ["runc-spec", "runc-spec-rootless", "full"])
    func documentsDecodeToWhatJSONDecoderDecodes(_ name: String) throws {
        let bytes = name == "full" ? Array(Self.fullConfig.utf8) : try fixture(name)
        let ours = try Spec.decode(from: bytes)
        let foundation = try JSONDecoder().decode(Spec.self, from: Data(bytes))
        #expect(ours == foundation)
        #expect(try foundationBytes(ours, pretty: false) == foundationBytes(foundation, pretty: false))
        if name == "full" {
            #expect(ours.linux?.resources?.memory?.limit == 536870912)
            #expect(ours.hooks?.prestart?.first?.timeout == 5)
        }
    }

    @Test(arguments: [false, true])
    func specsEncodeToTheBytesJSONEncoderWrites(_ pretty: Bool) throws {
        let specs = [Spec.podrunDefault(), Spec.runcDefault(rootless: true, uid: 1000, gid: 1000),
                     try JSONDecoder().decode(Spec.self, from: Data(Self.fullConfig.utf8))]
        for spec in specs {
            let ours = try JSONCoding.encode(spec, pretty: pretty)
            #expect(ours == (try foundationBytes(spec, pretty: pretty)))
            #expect(try JSONDecoder().decode(Spec.self, from: Data(ours)) == spec)
        }
    }

    @Test func outOfRangeNumbersNameTheField() {
        let e = specError(config { $0["process"] = ["cwd": "/", "args": ["sh"], "user": ["uid": -1, "gid": 0]] })
        #expect(e?.code == .invalidSpec)
        #expect(e?.path == "process.user.uid")
    }

    @Test func malformedNumbersAreInvalidJSON() {
        let text = #"{"ociVersion":"1.2.0","root":{"path":"rootfs"},"process":{"cwd":"/","args":["sh"],"user":{"uid":01,"gid":0}}}"#
        let e = specError(Array(text.utf8))
        #expect(e?.message == "config.json is not valid JSON")
    }
}
