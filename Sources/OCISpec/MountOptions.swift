import PodrunCore
/// A mount's `options` array split the way runc splits it: mount(2) flags to set and to clear, propagation
/// changes, recursive attributes for mount_setattr(2), and the rest as filesystem data (`mode=755,size=64k`).
public struct MountOptions: Sendable, Equatable {
    /// MS_* flags to set.
    public var flags: UInt = 0
    /// MS_* flags the options clear (`rw`, `suid`, `exec`, ...).
    public var clearFlags: UInt = 0
    /// Propagation changes, in order (each an MS_* propagation flag, maybe with MS_REC).
    public var propagation: [UInt] = []
    /// MOUNT_ATTR_* to set recursively (`rro`, `rnosuid`, ...).
    public var recursiveSet: UInt64 = 0
    /// MOUNT_ATTR_* to clear recursively (`rrw`, `rsuid`, ...).
    public var recursiveClear: UInt64 = 0
    /// Options that are not flags, joined by commas: the filesystem's data.
    public var data: String = ""
    /// `tmpcopyup`: copy what the destination held into a new tmpfs.
    public var tmpcopyup = false

    public init() {}

    /// Whether the options ask for a bind mount.
    public var isBind: Bool { flags & MountOptions.MS_BIND != 0 }
    /// Whether the bind is recursive (`rbind`).
    public var isRecursiveBind: Bool { isBind && flags & MountOptions.MS_REC != 0 }

    public static let MS_RDONLY: UInt = 0x1
    public static let MS_NOSUID: UInt = 0x2
    public static let MS_NODEV: UInt = 0x4
    public static let MS_NOEXEC: UInt = 0x8
    public static let MS_SYNCHRONOUS: UInt = 0x10
    public static let MS_REMOUNT: UInt = 0x20
    public static let MS_MANDLOCK: UInt = 0x40
    public static let MS_DIRSYNC: UInt = 0x80
    public static let MS_NOSYMFOLLOW: UInt = 0x100
    public static let MS_NOATIME: UInt = 0x400
    public static let MS_NODIRATIME: UInt = 0x800
    public static let MS_BIND: UInt = 0x1000
    public static let MS_REC: UInt = 0x4000
    public static let MS_SILENT: UInt = 0x8000
    public static let MS_POSIXACL: UInt = 0x10000
    public static let MS_UNBINDABLE: UInt = 0x20000
    public static let MS_PRIVATE: UInt = 0x40000
    public static let MS_SLAVE: UInt = 0x80000
    public static let MS_SHARED: UInt = 0x100000
    public static let MS_RELATIME: UInt = 0x200000
    public static let MS_I_VERSION: UInt = 0x800000
    public static let MS_STRICTATIME: UInt = 0x1000000
    public static let MS_LAZYTIME: UInt = 0x2000000

    public static let MOUNT_ATTR_RDONLY: UInt64 = 0x1
    public static let MOUNT_ATTR_NOSUID: UInt64 = 0x2
    public static let MOUNT_ATTR_NODEV: UInt64 = 0x4
    public static let MOUNT_ATTR_NOEXEC: UInt64 = 0x8
    public static let MOUNT_ATTR__ATIME: UInt64 = 0x70
    public static let MOUNT_ATTR_RELATIME: UInt64 = 0x0
    public static let MOUNT_ATTR_NOATIME: UInt64 = 0x10
    public static let MOUNT_ATTR_STRICTATIME: UInt64 = 0x20
    public static let MOUNT_ATTR_NODIRATIME: UInt64 = 0x80
    public static let MOUNT_ATTR_NOSYMFOLLOW: UInt64 = 0x200000

    /// One option of runc's tables: its name, whether it clears its flag or attribute rather than sets it, and
    /// the flag (MS_*) or attribute (MOUNT_ATTR_*). The tables are arrays searched in order, not dictionaries: a
    /// dictionary of tuples instantiates five generic types at run time in every process that parses a mount.
    struct Option {
        var name: String
        var clears: Bool
        var bits: UInt64

        init(_ name: String, _ clears: Bool, _ flag: UInt) {
            self.init(name, clears, attribute: UInt64(flag))
        }

        init(_ name: String, _ clears: Bool, attribute: UInt64) {
            self.name = name
            self.clears = clears
            self.bits = attribute
        }
    }

    /// runc's mount(2) flags.
    static let flagTable: [Option] = [
        Option("acl", false, MS_POSIXACL), Option("async", true, MS_SYNCHRONOUS), Option("atime", true, MS_NOATIME),
        Option("bind", false, MS_BIND), Option("defaults", false, 0), Option("dev", true, MS_NODEV),
        Option("diratime", true, MS_NODIRATIME), Option("dirsync", false, MS_DIRSYNC), Option("exec", true, MS_NOEXEC),
        Option("iversion", false, MS_I_VERSION), Option("lazytime", false, MS_LAZYTIME), Option("loud", true, MS_SILENT),
        Option("mand", false, MS_MANDLOCK), Option("noacl", true, MS_POSIXACL), Option("noatime", false, MS_NOATIME),
        Option("nodev", false, MS_NODEV), Option("nodiratime", false, MS_NODIRATIME), Option("noexec", false, MS_NOEXEC),
        Option("noiversion", true, MS_I_VERSION), Option("nolazytime", true, MS_LAZYTIME),
        Option("nomand", true, MS_MANDLOCK), Option("norelatime", true, MS_RELATIME),
        Option("nostrictatime", true, MS_STRICTATIME), Option("nosuid", false, MS_NOSUID),
        Option("nosymfollow", false, MS_NOSYMFOLLOW), Option("rbind", false, MS_BIND | MS_REC),
        Option("relatime", false, MS_RELATIME), Option("remount", false, MS_REMOUNT), Option("ro", false, MS_RDONLY),
        Option("rw", true, MS_RDONLY), Option("silent", false, MS_SILENT), Option("strictatime", false, MS_STRICTATIME),
        Option("suid", true, MS_NOSUID), Option("sync", false, MS_SYNCHRONOUS), Option("symfollow", true, MS_NOSYMFOLLOW),
    ]

    /// runc's recursive attributes (mount_setattr(2) with AT_RECURSIVE).
    static let recursiveTable: [Option] = [
        Option("rro", false, attribute: MOUNT_ATTR_RDONLY), Option("rrw", true, attribute: MOUNT_ATTR_RDONLY),
        Option("rnosuid", false, attribute: MOUNT_ATTR_NOSUID), Option("rsuid", true, attribute: MOUNT_ATTR_NOSUID),
        Option("rnodev", false, attribute: MOUNT_ATTR_NODEV), Option("rdev", true, attribute: MOUNT_ATTR_NODEV),
        Option("rnoexec", false, attribute: MOUNT_ATTR_NOEXEC), Option("rexec", true, attribute: MOUNT_ATTR_NOEXEC),
        Option("rnodiratime", false, attribute: MOUNT_ATTR_NODIRATIME),
        Option("rdiratime", true, attribute: MOUNT_ATTR_NODIRATIME),
        Option("rrelatime", false, attribute: MOUNT_ATTR_RELATIME),
        Option("rnorelatime", true, attribute: MOUNT_ATTR_RELATIME),
        Option("rnoatime", false, attribute: MOUNT_ATTR_NOATIME), Option("ratime", true, attribute: MOUNT_ATTR_NOATIME),
        Option("rstrictatime", false, attribute: MOUNT_ATTR_STRICTATIME),
        Option("rnostrictatime", true, attribute: MOUNT_ATTR_STRICTATIME),
        Option("rnosymfollow", false, attribute: MOUNT_ATTR_NOSYMFOLLOW),
        Option("rsymfollow", true, attribute: MOUNT_ATTR_NOSYMFOLLOW),
    ]

    /// The entry of `table` named `name`, if any.
    private static func lookUp(_ name: String, in table: [Option]) -> Option? {
        for option in table where option.name == name { return option }
        return nil
    }

    /// Parses a mount's options, later options overriding earlier ones as in runc.
    public static func parse(_ options: [String]) -> MountOptions {
        var result = MountOptions()
        var data: [String] = []
        for option in options {
            if let entry = lookUp(option, in: flagTable) {
                let flag = UInt(entry.bits)
                if entry.clears {
                    result.flags &= ~flag
                    result.clearFlags |= flag
                } else {
                    result.flags |= flag
                    result.clearFlags &= ~flag
                }
            } else if let flag = propagationFlags(option) {
                result.propagation.append(flag)
            } else if let entry = lookUp(option, in: recursiveTable) {
                if entry.clears {
                    result.recursiveClear |= entry.bits
                    result.recursiveSet &= ~entry.bits
                } else {
                    result.recursiveSet |= entry.bits
                    result.recursiveClear &= ~entry.bits
                }
                // An atime mode replaces the others.
                if entry.bits & MOUNT_ATTR__ATIME != 0 || option == "rrelatime" || option == "rnorelatime" {
                    result.recursiveClear |= MOUNT_ATTR__ATIME
                }
            } else if option == "tmpcopyup" {
                result.tmpcopyup = true
            } else {
                data.append(option)
            }
        }
        result.data = data.joinedText(",")
        return result
    }

    /// The MS_* flags of a propagation name (`rprivate` is MS_PRIVATE|MS_REC), or nil.
    public static func propagationFlags(_ name: String) -> UInt? {
        switch name {
        case "private": MS_PRIVATE
        case "rprivate": MS_PRIVATE | MS_REC
        case "shared": MS_SHARED
        case "rshared": MS_SHARED | MS_REC
        case "slave": MS_SLAVE
        case "rslave": MS_SLAVE | MS_REC
        case "unbindable": MS_UNBINDABLE
        case "runbindable": MS_UNBINDABLE | MS_REC
        default: nil
        }
    }

    /// Every option name podrun understands (for `features`).
    public static var knownOptions: [String] {
        ((flagTable + recursiveTable).map(\.name)
            + ["private", "rprivate", "shared", "rshared", "slave", "rslave", "unbindable", "runbindable", "tmpcopyup"])
            .sorted()
    }
}
