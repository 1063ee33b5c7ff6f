import Glibc
import PodrunCore

/// An rtnetlink socket (AF_NETLINK, NETLINK_ROUTE), bound to the network namespace of the thread that
/// opened it. Requests are acknowledged (NLM_F_ACK); kernel errors become `PodrunError`s with the errno
/// and, when the kernel gives one, its extended-ack text.
public final class NetlinkSocket {
    /// The socket descriptor (close-on-exec).
    public let fd: Int32
    private var nextSeq: UInt32
    private var buffer: [UInt8]

    /// Opens a socket in the calling thread's network namespace.
    public init() throws {
        let sockRaw = Int32(SOCK_RAW.rawValue), sockCloexec = Int32(SOCK_CLOEXEC.rawValue)
        let fd = socket(AF_NETLINK, sockRaw | sockCloexec, 0 /* NETLINK_ROUTE */)
        guard fd >= 0 else { throw PodrunError.system("open netlink socket") }
        let bound = NetlinkSocket.withKernelAddress { bind(fd, $0, $1) }
        guard bound == 0 else {
            let error = PodrunError.system("bind netlink socket")
            close(fd)
            throw error
        }
        var on: Int32 = 1
        // Best effort: the kernel's error text, and no echo of the request in acks.
        _ = setsockopt(fd, Netlink.SOL_NETLINK, Netlink.NETLINK_EXT_ACK, &on, socklen_t(MemoryLayout<Int32>.size))
        _ = setsockopt(fd, Netlink.SOL_NETLINK, Netlink.NETLINK_CAP_ACK, &on, socklen_t(MemoryLayout<Int32>.size))
        self.fd = fd
        self.nextSeq = UInt32(truncatingIfNeeded: time(nil))
        self.buffer = [UInt8](repeating: 0, count: 1 << 16)
    }

    deinit { close(fd) }

    /// Sends `request` with NLM_F_ACK and waits for the kernel's answer; throws its error, described as `what`.
    public func perform(_ request: NetlinkRequest, _ what: String) throws {
        var flagged = request
        flagged.addFlag(Netlink.NLM_F_ACK)
        _ = try exchange(flagged, what, dump: false)
    }

    /// Sends a request that answers with data (a GET of one object, without NLM_F_DUMP) and returns the answer.
    public func query(_ request: NetlinkRequest, _ what: String) throws -> [NetlinkMessage] {
        try exchange(request, what, dump: false)
    }

    /// Sends a dump request (NLM_F_DUMP is added) and returns every message until NLMSG_DONE.
    /// A dump the kernel marks as interrupted (NLM_F_DUMP_INTR: the table changed meanwhile) is retried.
    public func dump(_ request: NetlinkRequest, _ what: String) throws -> [NetlinkMessage] {
        var flagged = request
        flagged.addFlag(Netlink.NLM_F_DUMP)
        var attempts = 0
        while true {
            let answers = try exchange(flagged, what, dump: true)
            attempts += 1
            if attempts >= 5 || !answers.contains(where: { $0.flags & Netlink.NLM_F_DUMP_INTR != 0 }) { return answers }
        }
    }

    private func exchange(_ request: NetlinkRequest, _ what: String, dump: Bool) throws -> [NetlinkMessage] {
        nextSeq &+= 1
        let seq = nextSeq
        let message = request.finished(seq: seq)
        let sent = message.withUnsafeBytes { raw in
            NetlinkSocket.withKernelAddress { sendto(fd, raw.baseAddress, raw.count, 0, $0, $1) }
        }
        guard sent == message.count else { throw PodrunError.system("\(what): send netlink request") }

        var answers: [NetlinkMessage] = []
        while true {
            // Peek at the datagram's size first, so that none is cut short.
            let size = recv(fd, nil, 0, Int32(MSG_PEEK | MSG_TRUNC))
            if size > buffer.count { buffer = [UInt8](repeating: 0, count: size) }
            let count = buffer.withUnsafeMutableBytes { recv(fd, $0.baseAddress, $0.count, 0) }
            if count < 0 {
                if errno == EINTR { continue }
                throw PodrunError.system("\(what): receive netlink answer")
            }
            for reply in NetlinkMessage.parse(buffer[0..<count]) where reply.seq == seq {
                switch reply.type {
                case Netlink.NLMSG_ERROR:
                    let code = readHostOrder(Int32.self, reply.payload, at: 0)
                    if code == 0 { return answers }
                    throw NetlinkSocket.error(code: code, reply: reply, what: what)
                case Netlink.NLMSG_DONE:
                    return answers
                case Netlink.NLMSG_NOOP:
                    continue
                default:
                    answers.append(reply)
                    if !dump && reply.flags & Netlink.NLM_F_MULTI == 0 && !request.asksForAck { return answers }
                }
            }
        }
    }

    /// Calls `body` with a `sockaddr_nl` of port 0 and no groups (the kernel, or "assign one" for bind);
    /// the Swift importer does not see `sockaddr_nl`, whose 12 bytes are a family and zeros here.
    private static func withKernelAddress<T>(_ body: (UnsafePointer<sockaddr>, socklen_t) -> T) -> T {
        var storage = sockaddr_storage()
        storage.ss_family = sa_family_t(AF_NETLINK)
        return withUnsafePointer(to: &storage) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { body($0, 12) }
        }
    }

    /// The error of an NLMSG_ERROR answer, with the kernel's extended-ack text when there is one.
    static func error(code: Int32, reply: NetlinkMessage, what: String) -> PodrunError {
        var error = PodrunError(.system, what, errno: -code)
        if reply.flags & Netlink.NLM_F_ACK_TLVS != 0 {
            // After the error code: the original header, and its payload unless capped.
            let echoedLength = reply.flags & Netlink.NLM_F_CAPPED != 0
                ? 16 : Int(readHostOrder(UInt32.self, reply.payload, at: 4))
            let attributes = NetlinkAttributes(reply.payload, from: 4 + netlinkAlign(echoedLength))
            if let text = attributes.string(Netlink.NLMSGERR_ATTR_MSG), !text.isEmpty {
                error.message += " (\(text))"
            }
        }
        return error
    }
}
