import CPodrunShim
import Glibc
import PodrunCore

/// A message a `SyncChannel` carries: in a few bytes when it has a compact form, else as JSON.
///
/// The compact form keeps `JSONEncoder`/`JSONDecoder` (and their first-use cost in a fresh process: type
/// metadata and conformance look-ups, about a millisecond) off the path of every container start.
public protocol SyncMessage: Codable {
    /// The message's compact bytes (the first byte never `{`), or nil to send it as JSON.
    var compactBytes: [UInt8]? { get }
    /// The message read from its compact bytes; nil when they are not one.
    init?(compactBytes: [UInt8])
}

/// A typed message channel over one end of a `SOCK_SEQPACKET` socketpair: each `send` is one datagram holding
/// one message (compact or JSON), so the runtime and its init processes never see half a message.
public struct SyncChannel<Message: SyncMessage>: Sendable {
    /// The socket descriptor.
    public let fd: Int32

    public init(fd: Int32) {
        self.fd = fd
    }

    /// A connected pair of close-on-exec sockets.
    public static func pair() throws -> (Int32, Int32) {
        var fds: [Int32] = [0, 0]
        let SOCK_SEQPACKET: Int32 = 5
        guard socketpair(AF_UNIX, SOCK_SEQPACKET | Int32(SOCK_CLOEXEC.rawValue), 0, &fds) == 0 else {
            throw PodrunError.system("socketpair")
        }
        return (fds[0], fds[1])
    }

    /// Sends one message.
    public func send(_ message: Message) throws {
        try send(message, descriptors: [])
    }

    /// Receives one message; nil when the other side closed (all its copies of the socket). Descriptors sent
    /// with it are closed.
    public func receive() throws -> Message? {
        let (message, descriptors) = try receiveWithDescriptors()
        for descriptor in descriptors { close(descriptor) }
        return message
    }

    /// Sends one message with `descriptors` (SCM_RIGHTS, at most 64): the receiver gets its own copies, in order.
    public func send(_ message: Message, descriptors: [Int32]) throws {
        let bytes = try message.compactBytes ?? JSONCoding.encode(message, what: "sync message")
        let n = bytes.withUnsafeBytes { buffer in
            descriptors.withUnsafeBufferPointer {
                podrun_send_with_fds(fd, buffer.baseAddress, buffer.count, $0.baseAddress, Int32($0.count))
            }
        }
        guard n == bytes.count else { throw PodrunError.system("send sync message") }
    }

    /// Receives one message and the descriptors sent with it (close-on-exec, in order; the caller owns them); a nil
    /// message when the other side closed.
    public func receiveWithDescriptors() throws -> (message: Message?, descriptors: [Int32]) {
        var descriptors: [Int32] = []
        let bytes = try withUnsafeTemporaryAllocation(of: Int32.self, capacity: 64) { received in
            var count: Int32 = 0
            // Received straight into the message's array: its 64 KiB are not zeroed (nor their pages touched) first.
            // ECONNRESET (the peer closed before reading what was sent to it) is retried in C: the kernel reports it
            // once, before the messages the peer sent first (its `failed`, say), then end-of-stream.
            let bytes = try [UInt8](unsafeUninitializedCapacity: 65536) { buffer, length in
                length = 0
                let n = podrun_recv_with_fds(fd, buffer.baseAddress, buffer.count, received.baseAddress, 64, &count)
                guard n >= 0 else { throw PodrunError.system("receive sync message") }
                length = n
            }
            if count > 0 { descriptors = Array(UnsafeBufferPointer(rebasing: received[0..<Int(count)])) }
            return bytes
        }
        do {
            return (try Self.decode(bytes), descriptors)
        } catch {
            for descriptor in descriptors { close(descriptor) }
            throw error
        }
    }

    /// A message from its bytes; nil for none (the other side closed).
    private static func decode(_ bytes: [UInt8]) throws -> Message? {
        if bytes.isEmpty { return nil }
        if bytes[0] != UInt8(ascii: "{") {
            guard let message = Message(compactBytes: bytes) else {
                throw PodrunError(.internalError, "decode sync message", cause: "unknown compact message \(bytes)")
            }
            return message
        }
        return try JSONCoding.decode(Message.self, from: bytes, what: "sync message")
    }

    /// Sends a descriptor (SCM_RIGHTS).
    public func sendDescriptor(_ descriptor: Int32) throws {
        guard podrun_send_fd(fd, descriptor) == 0 else { throw PodrunError.system("send fd") }
    }

    /// Receives a descriptor sent with `sendDescriptor`.
    public func receiveDescriptor() throws -> Int32 {
        let d = podrun_recv_fd(fd)
        guard d >= 0 else { throw PodrunError.system("receive fd") }
        return d
    }
}
