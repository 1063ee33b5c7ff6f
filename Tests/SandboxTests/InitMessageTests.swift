import Glibc
import LinuxSys
import PodrunCore
import Testing
@testable import Sandbox

@Suite struct InitMessageTests {
    static let messages: [InitMessage] = [
        .requestMappings(pid: 1), .mappingsDone, .pid(Int32.max), .runHooks, .hooksDone(pid: 70000), .ready,
        .cgroupReady(openedTaskFiles: 0, mountCopies: 0),
        .cgroupReady(openedTaskFiles: 0b1_0000_1001, mountCopies: 0), .cgroupReady(openedTaskFiles: 0, mountCopies: 0b110),
        .cgroupReady(openedTaskFiles: UInt64.max, mountCopies: 1 << 63), .resourcesSet,
        .failed(PodrunError(.invalidSpec, "bad {json} \"here\"", path: "process.args")),
    ]

    /// A textual form to compare messages by (InitMessage is not Equatable).
    static func describe(_ message: InitMessage?) -> String { message.map { String(describing: $0) } ?? "nil" }

    @Test(arguments: messages)
    func everyMessageCrossesASyncChannelUnchanged(_ message: InitMessage) throws {
        let (a, b) = try SyncChannel<InitMessage>.pair()
        defer { close(a); close(b) }
        try SyncChannel<InitMessage>(fd: a).send(message)
        let received = try SyncChannel<InitMessage>(fd: b).receive()
        #expect(Self.describe(received) == Self.describe(message))
    }

    /// A container's process that fails before reading the runtime's go-ahead sends `failed` and exits: the
    /// runtime reads the failure, not the reset the kernel reports for the go-ahead left unread.
    @Test func aMessageSentBeforeThePeerClosedWithUnreadMessagesIsStillReceived() throws {
        let (runtime, process) = try SyncChannel<InitMessage>.pair()
        defer { close(runtime) }
        try SyncChannel<InitMessage>(fd: runtime).send(.cgroupReady(openedTaskFiles: 0, mountCopies: 0))
        try SyncChannel<InitMessage>(fd: process).send(.failed(PodrunError(.invalidSpec, "bad mount")))
        close(process)
        let channel = SyncChannel<InitMessage>(fd: runtime)
        #expect(Self.describe(try channel.receive()) == Self.describe(.failed(PodrunError(.invalidSpec, "bad mount"))))
        #expect(try channel.receive() == nil)
    }

    /// A failure's text can be long (a hook's output, a path): it arrives whole, and the next receive sees the end.
    @Test func aLongFailureCrossesWholeAndThenTheEnd() throws {
        let (a, b) = try SyncChannel<InitMessage>.pair()
        defer { close(b) }
        let long = InitMessage.failed(PodrunError(.hookFailed, String(repeating: "output line\n", count: 4000)))
        try SyncChannel<InitMessage>(fd: a).send(long)
        try SyncChannel<InitMessage>(fd: a).send(.ready)
        close(a)
        let channel = SyncChannel<InitMessage>(fd: b)
        #expect(Self.describe(try channel.receive()) == Self.describe(long))
        #expect(Self.describe(try channel.receive()) == Self.describe(.ready))
        #expect(try channel.receive() == nil)
    }

    @Test func onlyFailedGoesAsJSON() {
        for message in Self.messages {
            if case .failed = message {
                #expect(message.compactBytes == nil)
            } else {
                #expect(message.compactBytes?.first != UInt8(ascii: "{"))
            }
        }
    }

    @Test(arguments: [[], [0], [1, 0], [4, 1, 2], [8, 0], [9, 0], [10], [UInt8(ascii: "x")]] as [[UInt8]])
    func malformedCompactBytesAreRefused(_ bytes: [UInt8]) {
        #expect(InitMessage(compactBytes: bytes) == nil)
    }
}
