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

    /// runc's table: option -> (clears the flag?, flag).
    static let flagTable: [String: (clear: Bool, flag: UInt)] = [
        "acl": (false, MS_POSIXACL), "async": (true, MS_SYNCHRONOUS), "atime": (true, MS_NOATIME),
        "bind": (false, MS_BIND), "defaults": (false, 0), "dev": (true, MS_NODEV), "diratime": (true, MS_NODIRATIME),
        "dirsync": (false, MS_DIRSYNC), "exec": (true, MS_NOEXEC), "iversion": (false, MS_I_VERSION),
        "lazytime": (false, MS_LAZYTIME), "loud": (true, MS_SILENT), "mand": (false, MS_MANDLOCK),
        "noacl": (true, MS_POSIXACL), "noatime": (false, MS_NOATIME), "nodev": (false, MS_NODEV),
        "nodiratime": (false, MS_NODIRATIME), "noexec": (false, MS_NOEXEC), "noiversion": (true, MS_I_VERSION),
        "nolazytime": (true, MS_LAZYTIME), "nomand": (true, MS_MANDLOCK), "norelatime": (true, MS_RELATIME),
        "nostrictatime": (true, MS_STRICTATIME), "nosuid": (false, MS_NOSUID), "nosymfollow": (false, MS_NOSYMFOLLOW),
        "rbind": (false, MS_BIND | MS_REC), "relatime": (false, MS_RELATIME), "remount": (false, MS_REMOUNT),
        "ro": (false, MS_RDONLY), "rw": (true, MS_RDONLY), "silent": (false, MS_SILENT),
        "strictatime": (false, MS_STRICTATIME), "suid": (true, MS_NOSUID), "sync": (false, MS_SYNCHRONOUS),
        "symfollow": (true, MS_NOSYMFOLLOW),
    ]

    /// runc's recursive attributes: option -> (clears?, attribute).
    static let recursiveTable: [String: (clear: Bool, attr: UInt64)] = [
        "rro": (false, MOUNT_ATTR_RDONLY), "rrw": (true, MOUNT_ATTR_RDONLY),
        "rnosuid": (false, MOUNT_ATTR_NOSUID), "rsuid": (true, MOUNT_ATTR_NOSUID),
        "rnodev": (false, MOUNT_ATTR_NODEV), "rdev": (true, MOUNT_ATTR_NODEV),
        "rnoexec": (false, MOUNT_ATTR_NOEXEC), "rexec": (true, MOUNT_ATTR_NOEXEC),
        "rnodiratime": (false, MOUNT_ATTR_NODIRATIME), "rdiratime": (true, MOUNT_ATTR_NODIRATIME),
        "rrelatime": (false, MOUNT_ATTR_RELATIME), "rnorelatime": (true, MOUNT_ATTR_RELATIME),
        "rnoatime": (false, MOUNT_ATTR_NOATIME), "ratime": (true, MOUNT_ATTR_NOATIME),
        "rstrictatime": (false, MOUNT_ATTR_STRICTATIME), "rnostrictatime": (true, MOUNT_ATTR_STRICTATIME),
        "rnosymfollow": (false, MOUNT_ATTR_NOSYMFOLLOW), "rsymfollow": (true, MOUNT_ATTR_NOSYMFOLLOW),
    ]

    /// Parses a mount's options, later options overriding earlier ones as in runc.
    public static func parse(_ options: [String]) -> MountOptions {
        var result = MountOptions()
        var data: [String] = []
        for option in options {
            if let entry = flagTable[option] {
                if entry.clear {
                    result.flags &= ~entry.flag
                    result.clearFlags |= entry.flag
                } else {
                    result.flags |= entry.flag
                    result.clearFlags &= ~entry.flag
                }
            } else if let flag = propagationFlags(option) {
                result.propagation.append(flag)
            } else if let entry = recursiveTable[option] {
                if entry.clear {
                    result.recursiveClear |= entry.attr
                    result.recursiveSet &= ~entry.attr
                } else {
                    result.recursiveSet |= entry.attr
                    result.recursiveClear &= ~entry.attr
                }
                // An atime mode replaces the others.
                if entry.attr & MOUNT_ATTR__ATIME != 0 || option == "rrelatime" || option == "rnorelatime" {
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
        (Array(flagTable.keys) + Array(recursiveTable.keys)
            + ["private", "rprivate", "shared", "rshared", "slave", "rslave", "unbindable", "runbindable", "tmpcopyup"])
            .sorted()
    }
}
