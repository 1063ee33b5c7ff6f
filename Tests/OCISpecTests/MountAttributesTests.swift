import OCISpec
import Testing

/// The mount_setattr(2) change that gives a mount what a bind remount with given flags gives it.
@Suite struct MountAttributesTests {
    typealias O = MountOptions
    static let plain = O.MOUNT_ATTR_RDONLY | O.MOUNT_ATTR_NOSUID | O.MOUNT_ATTR_NODEV | O.MOUNT_ATTR_NOEXEC
        | O.MOUNT_ATTR_NOSYMFOLLOW

    @Test func runcsCgroupMountOptionsSetReadOnlyNosuidNodevNoexecAndRelatime() {
        let flags = O.parse(["nosuid", "noexec", "nodev", "relatime", "ro"]).flags
        let attributes = MountAttributes(remountFlags: flags)
        #expect(attributes.set == O.MOUNT_ATTR_RDONLY | O.MOUNT_ATTR_NOSUID | O.MOUNT_ATTR_NODEV | O.MOUNT_ATTR_NOEXEC
                | O.MOUNT_ATTR_RELATIME)
        #expect(attributes.clear == Self.plain | O.MOUNT_ATTR__ATIME | O.MOUNT_ATTR_NODIRATIME)
    }

    @Test func flagsNotAskedForAreClearedAsARemountClearsThem() {
        let attributes = MountAttributes(remountFlags: O.MS_RDONLY)
        #expect(attributes.set == O.MOUNT_ATTR_RDONLY)
        #expect(attributes.clear & O.MOUNT_ATTR_NOSUID != 0 && attributes.clear & O.MOUNT_ATTR_NOEXEC != 0)
    }

    @Test func withoutAnAtimeFlagTheMountKeepsItsAtimeModeAndNodiratime() {
        let attributes = MountAttributes(remountFlags: O.MS_NOSUID)
        #expect(attributes.clear == Self.plain)
        #expect(attributes.set == O.MOUNT_ATTR_NOSUID)
    }

    @Test func strictatimeWinsOverNoatimeAndNodiratimeComesAlong() {
        #expect(MountAttributes(remountFlags: O.MS_NOATIME | O.MS_STRICTATIME).set == O.MOUNT_ATTR_STRICTATIME)
        #expect(MountAttributes(remountFlags: O.MS_NOATIME | O.MS_NODIRATIME).set
                == O.MOUNT_ATTR_NOATIME | O.MOUNT_ATTR_NODIRATIME)
        // nodiratime alone is an atime flag: the mode becomes relatime, the kernel's default.
        let nodiratime = MountAttributes(remountFlags: O.MS_NODIRATIME)
        #expect(nodiratime.set == O.MOUNT_ATTR_RELATIME | O.MOUNT_ATTR_NODIRATIME)
        #expect(nodiratime.clear & O.MOUNT_ATTR__ATIME == O.MOUNT_ATTR__ATIME)
    }
}
