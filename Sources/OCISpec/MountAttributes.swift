/// A change of a mount's attributes as mount_setattr(2) takes it: the `MOUNT_ATTR_*` bits to set and to clear.
public struct MountAttributes: Sendable, Equatable {
    /// The attributes to set (with `MOUNT_ATTR__ATIME` in `clear`, the atime mode, one of its values).
    public var set: UInt64
    /// The attributes to clear.
    public var clear: UInt64

    public init(set: UInt64, clear: UInt64) {
        self.set = set
        self.clear = clear
    }

    /// What a bind remount (`MS_REMOUNT | MS_BIND | flags`) makes of a mount's attributes, as the kernel's
    /// `path_mount` and `do_reconfigure_mnt` set them: read-only, nosuid, nodev, noexec and nosymfollow as `flags`
    /// say, each cleared otherwise; with an atime flag (noatime, nodiratime, relatime, strictatime), the atime mode
    /// it gives (strictatime over noatime, else relatime) and nodiratime as asked; without one, the mount's own.
    public init(remountFlags flags: UInt) {
        typealias O = MountOptions
        var set: UInt64 = 0
        var clear = O.MOUNT_ATTR_RDONLY | O.MOUNT_ATTR_NOSUID | O.MOUNT_ATTR_NODEV | O.MOUNT_ATTR_NOEXEC
            | O.MOUNT_ATTR_NOSYMFOLLOW
        if flags & O.MS_RDONLY != 0 { set |= O.MOUNT_ATTR_RDONLY }
        if flags & O.MS_NOSUID != 0 { set |= O.MOUNT_ATTR_NOSUID }
        if flags & O.MS_NODEV != 0 { set |= O.MOUNT_ATTR_NODEV }
        if flags & O.MS_NOEXEC != 0 { set |= O.MOUNT_ATTR_NOEXEC }
        if flags & O.MS_NOSYMFOLLOW != 0 { set |= O.MOUNT_ATTR_NOSYMFOLLOW }
        if flags & (O.MS_NOATIME | O.MS_NODIRATIME | O.MS_RELATIME | O.MS_STRICTATIME) != 0 {
            clear |= O.MOUNT_ATTR__ATIME | O.MOUNT_ATTR_NODIRATIME
            if flags & O.MS_STRICTATIME != 0 {
                set |= O.MOUNT_ATTR_STRICTATIME
            } else if flags & O.MS_NOATIME != 0 {
                set |= O.MOUNT_ATTR_NOATIME
            } else {
                set |= O.MOUNT_ATTR_RELATIME
            }
            if flags & O.MS_NODIRATIME != 0 { set |= O.MOUNT_ATTR_NODIRATIME }
        }
        self.init(set: set, clear: clear)
    }
}
