import Foundation
import Glibc
import Testing

@testable import ImageStore

@Test func userDatabaseOfARootfsReadsOnlyRegularFiles() throws {
    let rootfs = NSTemporaryDirectory() + "rootfs-" + UUID().uuidString
    defer { try? FileManager.default.removeItem(atPath: rootfs) }
    try FileManager.default.createDirectory(atPath: rootfs + "/etc", withIntermediateDirectories: true)
    try "app:x:1000:1000::/:/bin/sh\n".write(toFile: rootfs + "/etc/passwd", atomically: false, encoding: .utf8)
    // A fifo would block an open without O_NONBLOCK forever; a hostile image may hold one.
    #expect(mkfifo(rootfs + "/etc/group", 0o644) == 0)
    let users = try ImageBundle.userDatabase(rootfs: rootfs)
    #expect(try users.resolve("app").uid == 1000)
    #expect(throws: (any Error).self) { try users.resolve("app:staff") }
}
