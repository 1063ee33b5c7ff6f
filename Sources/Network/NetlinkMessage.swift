/// Netlink's 4-byte alignment of headers and attributes.
@inline(__always)
func netlinkAlign(_ length: Int) -> Int { (length + 3) & ~3 }

/// Appends `value` in host byte order (netlink's own fields are host order).
@inline(__always)
func appendHostOrder<T: FixedWidthInteger>(_ value: T, to bytes: inout [UInt8]) {
    withUnsafeBytes(of: value) { bytes.append(contentsOf: $0) }
}

/// Reads a host-order integer at `offset` of `bytes` (0 when out of range).
@inline(__always)
func readHostOrder<T: FixedWidthInteger>(_ type: T.Type, _ bytes: ArraySlice<UInt8>, at offset: Int) -> T {
    let start = bytes.startIndex + offset
    let size = MemoryLayout<T>.size
    guard offset >= 0, start + size <= bytes.endIndex else { return 0 }
    var value: T = 0
    withUnsafeMutableBytes(of: &value) { target in
        for i in 0..<size { target[i] = bytes[start + i] }
    }
    return value
}

/// A netlink request under construction: a 16-byte `nlmsghdr`, a fixed family header (`ifinfomsg`,
/// `ifaddrmsg`, `rtmsg`) and attributes, each 4-byte aligned. `seq` and the length are filled in on sending.
public struct NetlinkRequest: Sendable {
    /// The whole message so far.
    public private(set) var bytes: [UInt8]

    /// A request of `type` with `flags` (NLM_F_REQUEST is added) and the family header `header`.
    public init(type: UInt16, flags: UInt16, header: [UInt8]) {
        bytes = []
        bytes.reserveCapacity(256)
        appendHostOrder(UInt32(0), to: &bytes)  // nlmsg_len, set by `finished`
        appendHostOrder(type, to: &bytes)
        appendHostOrder(flags | Netlink.NLM_F_REQUEST, to: &bytes)
        appendHostOrder(UInt32(0), to: &bytes)  // nlmsg_seq
        appendHostOrder(UInt32(0), to: &bytes)  // nlmsg_pid: the kernel
        append(header)
    }

    /// Appends raw bytes, padded to 4.
    public mutating func append(_ raw: [UInt8]) {
        bytes.append(contentsOf: raw)
        bytes.append(contentsOf: repeatElement(0, count: netlinkAlign(bytes.count) - bytes.count))
    }

    /// Appends one attribute (`rtattr`: 16-bit length, 16-bit type, payload padded to 4).
    public mutating func attribute(_ type: UInt16, _ payload: [UInt8]) {
        appendHostOrder(UInt16(4 + payload.count), to: &bytes)
        appendHostOrder(type, to: &bytes)
        append(payload)
    }

    /// Appends a 32-bit attribute in host order.
    public mutating func attribute(_ type: UInt16, uint32 value: UInt32) {
        var payload: [UInt8] = []
        appendHostOrder(value, to: &payload)
        attribute(type, payload)
    }

    /// Appends a NUL-terminated string attribute.
    public mutating func attribute(_ type: UInt16, string: String) {
        attribute(type, Array(string.utf8) + [0])
    }

    /// Appends a nested attribute whose payload `body` writes (the length is patched afterwards).
    public mutating func nested(_ type: UInt16, _ body: (inout NetlinkRequest) -> Void) {
        let start = bytes.count
        appendHostOrder(UInt16(0), to: &bytes)
        appendHostOrder(type | Netlink.NLA_F_NESTED, to: &bytes)
        body(&self)
        let length = UInt16(bytes.count - start)
        withUnsafeBytes(of: length) { bytes.replaceSubrange(start..<start + 2, with: $0) }
    }

    /// Adds `flag` to the header's flags.
    public mutating func addFlag(_ flag: UInt16) {
        let flags = readHostOrder(UInt16.self, bytes[...], at: 6) | flag
        withUnsafeBytes(of: flags) { bytes.replaceSubrange(6..<8, with: $0) }
    }

    /// Whether NLM_F_ACK is set (a GET without it answers with the object only).
    public var asksForAck: Bool { readHostOrder(UInt16.self, bytes[...], at: 6) & Netlink.NLM_F_ACK != 0 }

    /// The message with its length and sequence number set.
    public func finished(seq: UInt32) -> [UInt8] {
        var message = bytes
        withUnsafeBytes(of: UInt32(message.count)) { message.replaceSubrange(0..<4, with: $0) }
        withUnsafeBytes(of: seq) { message.replaceSubrange(8..<12, with: $0) }
        return message
    }

    /// An `ifinfomsg`: family, type, interface index, flags and the mask of flags to change.
    public static func ifinfomsg(family: UInt8 = Netlink.AF_UNSPEC, index: Int32 = 0, flags: UInt32 = 0,
                                 change: UInt32 = 0) -> [UInt8] {
        var header: [UInt8] = [family, 0]
        appendHostOrder(UInt16(0), to: &header)  // ifi_type
        appendHostOrder(index, to: &header)
        appendHostOrder(flags, to: &header)
        appendHostOrder(change, to: &header)
        return header
    }

    /// An `ifaddrmsg`: family, prefix length, flags, scope and interface index.
    public static func ifaddrmsg(family: UInt8 = Netlink.AF_INET, prefixLength: UInt8, scope: UInt8 = Netlink.RT_SCOPE_UNIVERSE,
                                 index: Int32) -> [UInt8] {
        var header: [UInt8] = [family, prefixLength, 0, scope]
        appendHostOrder(UInt32(bitPattern: index), to: &header)
        return header
    }

    /// An `rtmsg` for a route in the main table.
    public static func rtmsg(family: UInt8 = Netlink.AF_INET, destinationLength: UInt8, table: UInt8 = Netlink.RT_TABLE_MAIN,
                             protocol proto: UInt8 = Netlink.RTPROT_BOOT, scope: UInt8 = Netlink.RT_SCOPE_UNIVERSE,
                             type: UInt8 = Netlink.RTN_UNICAST) -> [UInt8] {
        var header: [UInt8] = [family, destinationLength, 0, 0, table, proto, scope, type]
        appendHostOrder(UInt32(0), to: &header)  // rtm_flags
        return header
    }
}

/// One message the kernel sent: header fields and the payload after the 16-byte header.
public struct NetlinkMessage: Sendable {
    /// `nlmsg_type`.
    public var type: UInt16
    /// `nlmsg_flags`.
    public var flags: UInt16
    /// `nlmsg_seq`.
    public var seq: UInt32
    /// The bytes after the header.
    public var payload: ArraySlice<UInt8>

    /// Splits a datagram into messages; stops at a truncated or malformed one.
    public static func parse(_ datagram: ArraySlice<UInt8>) -> [NetlinkMessage] {
        var messages: [NetlinkMessage] = []
        var offset = 0
        while offset + 16 <= datagram.count {
            let length = Int(readHostOrder(UInt32.self, datagram, at: offset))
            guard length >= 16, offset + length <= datagram.count else { break }
            let start = datagram.startIndex + offset
            messages.append(NetlinkMessage(type: readHostOrder(UInt16.self, datagram, at: offset + 4),
                                           flags: readHostOrder(UInt16.self, datagram, at: offset + 6),
                                           seq: readHostOrder(UInt32.self, datagram, at: offset + 8),
                                           payload: datagram[(start + 16)..<(start + length)]))
            offset += netlinkAlign(length)
        }
        return messages
    }
}

/// Attributes of a message or of a nested attribute, by type (flag bits removed); the payloads only.
public struct NetlinkAttributes: Sendable {
    /// Payload by attribute type; for a repeated type, the first.
    public var values: [UInt16: ArraySlice<UInt8>] = [:]

    /// Parses the attributes in `bytes` from `offset` on (after the family header).
    public init(_ bytes: ArraySlice<UInt8>, from offset: Int = 0) {
        var position = offset
        while position + 4 <= bytes.count {
            let length = Int(readHostOrder(UInt16.self, bytes, at: position))
            let type = readHostOrder(UInt16.self, bytes, at: position + 2) & Netlink.NLA_TYPE_MASK
            guard length >= 4, position + length <= bytes.count else { break }
            let start = bytes.startIndex + position
            if values[type] == nil { values[type] = bytes[(start + 4)..<(start + length)] }
            position += netlinkAlign(length)
        }
    }

    /// The payload of `type`.
    public subscript(_ type: UInt16) -> ArraySlice<UInt8>? { values[type] }

    /// A NUL-terminated string attribute.
    public func string(_ type: UInt16) -> String? {
        guard let payload = values[type] else { return nil }
        return String(decoding: payload.prefix { $0 != 0 }, as: UTF8.self)
    }

    /// A 32-bit attribute in host order.
    public func uint32(_ type: UInt16) -> UInt32? {
        guard let payload = values[type], payload.count >= 4 else { return nil }
        return readHostOrder(UInt32.self, payload, at: 0)
    }
}
