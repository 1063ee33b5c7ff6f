import ImageStore
import PodrunCore
import Testing

@Suite struct UserDatabaseTests {
    let database = UserDatabase(
        passwd: """
        root:x:0:0:root:/root:/bin/sh
        # a comment
        www:x:33:33:www:/var/www:/bin/false
        broken line
        app:x:1000:1000::/home/app:/bin/sh
        """,
        group: """
        root:x:0:
        www:x:33:
        staff:x:50:app,www
        video:x:44:app
        app:x:1000:
        """)

    @Test func emptyUserIsRootWithRootsHome() throws {
        #expect(try database.resolve("") == .init(uid: 0, gid: 0, additionalGids: [], home: "/root"))
    }

    @Test func nameResolvesUidGidHomeAndSupplementaryGroups() throws {
        #expect(try database.resolve("app") == .init(uid: 1000, gid: 1000, additionalGids: [50, 44], home: "/home/app"))
    }

    @Test func numericUserNotInPasswdGetsGroupZero() throws {
        #expect(try database.resolve("4242") == .init(uid: 4242, gid: 0, additionalGids: [], home: "/"))
    }

    @Test func explicitGroupReplacesPrimaryAndDropsSupplementary() throws {
        #expect(try database.resolve("www:staff") == .init(uid: 33, gid: 50, additionalGids: [], home: "/var/www"))
        #expect(try database.resolve("1000:7") == .init(uid: 1000, gid: 7, additionalGids: [], home: "/home/app"))
    }

    @Test func unknownNamesAreRefused() {
        #expect(throws: PodrunError.self) { try database.resolve("nobody") }
        #expect(throws: PodrunError.self) { try database.resolve("app:nogroup") }
    }
}
