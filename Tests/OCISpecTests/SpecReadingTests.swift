import Foundation
@testable import OCISpec
import PodrunCore
import Testing

/// The hand-written readers (`JSONTreeReadable`) read every spec document as the `Decodable` conformances do: the
/// same values as with Foundation's `JSONDecoder`, and for a document that does not fit, the same error as with
/// `JSONTreeDecoder` (which names the field of a number that does not fit, where `JSONDecoder` only says the
/// document is not valid).
@Suite struct SpecReadingTests {
    /// A config that sets every field of every type of the spec (the first test checks that it still does).
    static let everyField = #"""
    {"ociVersion":"1.2.0",
     "process":{"terminal":true,"consoleSize":{"height":24,"width":80},
       "user":{"uid":1000,"gid":1000,"umask":18,"additionalGids":[1,2],"username":"u"},
       "args":["sh"],"commandLine":"sh -c x","env":["A=1"],"cwd":"/",
       "capabilities":{"bounding":["CAP_KILL"],"effective":["CAP_KILL"],"inheritable":["CAP_KILL"],
         "permitted":["CAP_KILL"],"ambient":["CAP_KILL"]},
       "rlimits":[{"type":"RLIMIT_NOFILE","hard":1024,"soft":1e3}],"noNewPrivileges":true,"apparmorProfile":"p",
       "oomScoreAdj":-500,"selinuxLabel":"l",
       "scheduler":{"policy":"SCHED_DEADLINE","nice":-1,"priority":2,"flags":["SCHED_FLAG_RESET_ON_FORK"],
         "runtime":3,"deadline":4,"period":5},
       "ioPriority":{"class":"IOPRIO_CLASS_BE","priority":4},"execCPUAffinity":{"initial":"0","final":"0-1"}},
     "root":{"path":"rootfs","readonly":true},"hostname":"h","domainname":"d",
     "mounts":[{"destination":"/m","type":"bind","source":"/s","options":["rbind"],
       "uidMappings":[{"containerID":0,"hostID":1000,"size":1}],"gidMappings":[{"containerID":0,"hostID":1000,"size":1}]}],
     "hooks":{"prestart":[{"path":"/bin/a","args":["a"],"env":["X=1"],"timeout":5}],
       "createRuntime":[{"path":"/bin/b","args":["b"],"env":["Y=1"],"timeout":1}],"createContainer":[{"path":"/bin/c","args":["c"],"env":["Y=1"],"timeout":1}],"startContainer":[{"path":"/bin/d","args":["d"],"env":["Y=1"],"timeout":1}],
       "poststart":[{"path":"/bin/e","args":["e"],"env":["Y=1"],"timeout":1}],"poststop":[{"path":"/bin/f","args":["f"],"env":["Y=1"],"timeout":1}]},
     "annotations":{"a":"1","a":"2","b/c":"é \" \\ \n"},
     "linux":{"uidMappings":[{"containerID":0,"hostID":100000,"size":65536}],
       "gidMappings":[{"containerID":0,"hostID":100000,"size":65536}],"sysctl":{"net.ipv4.ip_forward":"1"},
       "resources":{"devices":[{"allow":true,"type":"c","major":1,"minor":3,"access":"rw"}],
         "memory":{"limit":536870912,"reservation":1,"swap":2,"kernel":3,"kernelTCP":4,"swappiness":60,
           "disableOOMKiller":false,"useHierarchy":true,"checkBeforeUpdate":true},
         "cpu":{"shares":1024,"quota":50000,"burst":1,"period":100000,"realtimeRuntime":2,"realtimePeriod":3,
           "cpus":"0-1","mems":"0","idle":0},
         "pids":{"limit":100},
         "blockIO":{"weight":500,"leafWeight":400,"weightDevice":[{"major":8,"minor":0,"weight":100,"leafWeight":50}],
           "throttleReadBpsDevice":[{"major":8,"minor":0,"rate":1}],"throttleWriteBpsDevice":[{"major":8,"minor":0,"rate":2}],
           "throttleReadIOPSDevice":[{"major":8,"minor":0,"rate":3}],"throttleWriteIOPSDevice":[{"major":8,"minor":0,"rate":4}]},
         "hugepageLimits":[{"pageSize":"2MB","limit":18446744073709551615}],
         "network":{"classID":1048577,"priorities":[{"name":"eth0","priority":1}]},
         "unified":{"memory.high":"max"}},
       "cgroupsPath":"/pods/x",
       "namespaces":[{"type":"mount","path":"/proc/1/ns/mnt"},{"type":"network","path":"/proc/1/ns/net"}],
       "devices":[{"path":"/dev/fuse","type":"c","major":10,"minor":229,"fileMode":438,"uid":0,"gid":0}],
       "seccomp":{"defaultAction":"SCMP_ACT_ERRNO","defaultErrnoRet":1,"architectures":["SCMP_ARCH_X86_64"],
         "flags":["SECCOMP_FILTER_FLAG_LOG"],"listenerPath":"/run/l","listenerMetadata":"m",
         "syscalls":[{"names":["clone"],"action":"SCMP_ACT_ALLOW","errnoRet":2,
           "args":[{"index":0,"value":2114060288,"valueTwo":0,"op":"SCMP_CMP_MASKED_EQ"}]}]},
       "rootfsPropagation":"rslave","maskedPaths":["/proc/kcore"],"readonlyPaths":["/proc/sys"],"mountLabel":"m",
       "personality":{"domain":"LINUX32","flags":["f"]},"timeOffsets":{"boottime":{"secs":1,"nanosecs":2}}},
     "unknownMember":{"ignored":[1,2]}}
    """#

    /// The paths of the optionals left nil and the arrays left empty anywhere in `value`.
    static func unset(_ value: Any, at path: String = "") -> [String] {
        let mirror = Mirror(reflecting: value)
        switch mirror.displayStyle {
        case .optional:
            guard let wrapped = mirror.children.first?.value else { return [path] }
            return unset(wrapped, at: path)
        case .collection:
            if mirror.children.isEmpty { return [path + "[]"] }
            return mirror.children.enumerated().flatMap { unset($0.element.value, at: path + "[\($0.offset)]") }
        case .dictionary:
            return mirror.children.flatMap { entry -> [String] in
                let pair = Array(Mirror(reflecting: entry.value).children)
                return unset(pair[1].value, at: path + "[\(pair[0].value)]")
            }
        case .struct:
            return mirror.children.flatMap { unset($0.value, at: path + "." + ($0.label ?? "?")) }
        default:
            return []
        }
    }

    @Test func theEveryFieldConfigSetsEveryField() throws {
        let spec = try JSONDecoder().decode(Spec.self, from: Data(Self.everyField.utf8))
        #expect(Self.unset(spec) == [])
    }

    @Test func everyFieldIsReadAsJSONDecoderDecodesIt() throws {
        let bytes = Array(Self.everyField.utf8)
        let read = try Spec.decode(from: bytes)
        #expect(read == (try JSONDecoder().decode(Spec.self, from: Data(bytes))))
        // The first of repeated keys, `1e3` as a whole number, the largest UInt64.
        #expect(read.annotations?["a"] == "1")
        #expect(read.process?.rlimits?.first?.soft == 1000)
        #expect(read.linux?.resources?.hugepageLimits?.first?.limit == UInt64.max)
        #expect(try Spec.decodeKeepingDocument(from: bytes).spec == read)
    }

    /// Documents that do not fit the spec, each wrong in one place.
    static let misfits: [String] = [
        #"{"ociVersion":1}"#,
        #"{"root":{"path":"rootfs"}}"#,
        #"{"ociVersion":"1.2.0","root":{"path":null}}"#,
        #"{"ociVersion":"1.2.0","root":{}}"#,
        #"{"ociVersion":"1.2.0","root":[]}"#,
        #"{"ociVersion":"1.2.0","mounts":{}}"#,
        #"{"ociVersion":"1.2.0","mounts":[{"destination":"/a"},{"destination":"/b","options":["ro",null]}]}"#,
        #"{"ociVersion":"1.2.0","mounts":[{"destination":"/a"},7]}"#,
        #"{"ociVersion":"1.2.0","process":{"cwd":"/","user":{"uid":4294967296,"gid":0}}}"#,
        #"{"ociVersion":"1.2.0","process":{"cwd":"/","user":{"uid":1.5,"gid":0}}}"#,
        #"{"ociVersion":"1.2.0","process":{"cwd":"/","user":{"uid":"0","gid":0}}}"#,
        #"{"ociVersion":"1.2.0","process":{"cwd":"/","user":{"gid":0}}}"#,
        #"{"ociVersion":"1.2.0","process":{"terminal":"yes"}}"#,
        #"{"ociVersion":"1.2.0","annotations":{"a":"1","b":2}}"#,
        #"{"ociVersion":"1.2.0","annotations":[]}"#,
        #"{"ociVersion":"1.2.0","linux":{"namespaces":[{"type":"mount"},{"type":"nope"}]}}"#,
        #"{"ociVersion":"1.2.0","linux":{"namespaces":[{"path":"/x"}]}}"#,
        #"{"ociVersion":"1.2.0","linux":{"timeOffsets":{"boottime":{"secs":"1"}}}}"#,
        #"{"ociVersion":"1.2.0","linux":{"resources":{"blockIO":{"weightDevice":[{"major":8}]}}}}"#,
        #"{"ociVersion":"1.2.0","linux":{"seccomp":{"defaultAction":"SCMP_ACT_ALLOW","syscalls":[{"names":["a"],"action":"SCMP_ACT_ALLOW","args":[{"index":-1,"value":0,"op":"SCMP_CMP_EQ"}]}]}}}"#,
        #"{"ociVersion":"1.2.0","hooks":{"poststop":[{"path":"/bin/true","timeout":1e400}]}}"#,
        #"[]"#,
        #"null"#,
    ]

    @Test(arguments: misfits)
    func aMisfitIsRefusedWithTheErrorOfTheDecodableConformance(_ text: String) throws {
        let bytes = Array(text.utf8)
        let read = #expect(throws: PodrunError.self) { try Spec.decode(from: bytes) }
        let tree = try #require(JSONTree.parse(bytes))
        let decoded = #expect(throws: DecodingError.self) { try JSONTreeDecoder.decode(Spec.self, from: tree) }
        #expect(throws: DecodingError.self) { try JSONDecoder().decode(Spec.self, from: Data(bytes)) }
        let expected = try #require(decoded.map { SpecCoding.describe($0, document: "config.json") })
        #expect(read?.code == expected.code)
        #expect(read?.message == expected.message)
        #expect(read?.path == expected.path)
    }

    @Test func aProcessWithoutUserOrCwdIsRootInNoFolderAsInRunc() throws {
        let process = try Process.decode(from: Array(#"{"args":["ls"]}"#.utf8))
        #expect(process.user == User())
        #expect(process.cwd == "")
    }
}
