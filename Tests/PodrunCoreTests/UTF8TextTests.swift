import PodrunCore
import Testing

@Suite struct UTF8TextTests {
    static let words = ["", "a", "ab", "a\u{0}", "b", "B", "Z", "_", "z", "é", "e\u{301}", "ä", "\u{FFFF}", "😀",
                        "/sys/fs/cgroup/cpu,cpuacct", "/sys/fs/cgroup/cpu", "/sys/fs/cgroup/cpuset"]

    @Test func utf8PrecedesOrdersByBytesAsGoSortsMapKeys() {
        for left in Self.words {
            for right in Self.words {
                #expect(left.utf8Precedes(right) == Array(left.utf8).lexicographicallyPrecedes(Array(right.utf8)),
                        "\(left.debugDescription) against \(right.debugDescription)")
            }
        }
        // Where byte order and String's own order differ: a decomposed é sorts by its base letter's byte.
        #expect("e\u{301}".utf8Precedes("é"))
        #expect(!"é".utf8Precedes("e\u{301}"))
    }

    @Test func fieldsOfLinesKeepsEmptyFieldsSkipsEmptyLinesAndStopsAtMaxSplits() {
        let text = "12:memory:/user.slice\n\n0::/\n1:name=systemd:/a:b:c"
        #expect(text.fieldsOfLines(":", maxSplits: 2) == [["12", "memory", "/user.slice"], ["0", "", "/"],
                                                          ["1", "name=systemd", "/a:b:c"]])
        #expect(text.fieldsOfLines(":").last == ["1", "name=systemd", "/a", "b", "c"])
        #expect("cpu,cpuacct".fieldsOfLines(",") == [["cpu", "cpuacct"]])
        #expect(",x,".fieldsOfLines(",") == [["", "x", ""]])
        #expect("".fieldsOfLines(",").isEmpty)
        #expect("\n\n".fieldsOfLines(",").isEmpty)
        #expect("é:ü\n".fieldsOfLines(":") == [["é", "ü"]])
    }

    @Test func lastPathComponentIsWhatFollowsTheLastSlash() {
        #expect("/sys/fs/cgroup/memory".lastPathComponent == "memory")
        #expect("/sys/fs/cgroup/cpu,cpuacct".lastPathComponent == "cpu,cpuacct")
        #expect("memory".lastPathComponent == "memory")
        #expect("/a/".lastPathComponent == "")
        #expect("/".lastPathComponent == "")
    }
}
