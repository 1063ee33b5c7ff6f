// TEMPORARY: replaced by the ocispec branch at merge.
import FoundationEssentials
import PodrunCore

extension Spec {
    public static func decode(from bytes: [UInt8]) throws -> Spec {
        do { return try JSONDecoder().decode(Spec.self, from: Data(bytes)) }
        catch { throw PodrunError(.invalidSpec, "bad config", cause: "\(error)") }
    }
    public func validate() throws {}
    public func unknownCapabilities() -> [String] { [] }
    public func encodedJSON() throws -> [UInt8] {
        let e = JSONEncoder(); e.outputFormatting = [.prettyPrinted]
        return Array(try e.encode(self))
    }
    public static func runcDefault(rootless: Bool = false) -> Spec { Spec() }
}
extension Process {
    public static func decode(from bytes: [UInt8]) throws -> Process {
        do { return try JSONDecoder().decode(Process.self, from: Data(bytes)) }
        catch { throw PodrunError(.invalidSpec, "bad process", cause: "\(error)") }
    }
}
public struct Features: Codable, Sendable {
    public var ociVersionMin = "1.0.0"
    public static func podrun(libseccompVersion: String?) -> Features { Features() }
}
public struct MountOptions {
    public var flags: UInt = 0
    public var propagation: [UInt] = []
    public var data = ""
    public var isRecursiveBind = false
    public static func parse(_ options: [String]) -> MountOptions {
        var m = MountOptions()
        var data: [String] = []
        let table: [String: UInt] = ["ro": 1, "nosuid": 2, "nodev": 4, "noexec": 8, "bind": 0x1000, "rbind": 0x5000,
                                     "relatime": 1 << 21, "strictatime": 1 << 24, "noatime": 1024, "rw": 0, "defaults": 0]
        let prop: [String: UInt] = ["private": 0x40000, "rprivate": 0x44000, "slave": 0x80000, "rslave": 0x84000,
                                    "shared": 0x100000, "rshared": 0x104000]
        for o in options {
            if let f = table[o] { m.flags |= f; if o == "rbind" { m.isRecursiveBind = true } }
            else if let p = prop[o] { m.propagation.append(p) }
            else { data.append(o) }
        }
        m.data = data.joined(separator: ",")
        return m
    }
    public static func propagationFlags(_ name: String) -> UInt? {
        ["private": 0x40000, "rprivate": 0x44000, "slave": 0x80000, "rslave": 0x84000, "shared": 0x100000, "rshared": 0x104000][name]
    }
}
