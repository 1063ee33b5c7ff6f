/// The rtnetlink numbers podrun uses (from <linux/netlink.h>, <linux/rtnetlink.h>, <linux/if_link.h>,
/// <linux/if_addr.h>, <linux/veth.h>); the Swift importer does not see most of them.
public enum Netlink {
    // Message types.
    public static let NLMSG_NOOP: UInt16 = 1
    public static let NLMSG_ERROR: UInt16 = 2
    public static let NLMSG_DONE: UInt16 = 3
    public static let RTM_NEWLINK: UInt16 = 16
    public static let RTM_DELLINK: UInt16 = 17
    public static let RTM_GETLINK: UInt16 = 18
    public static let RTM_SETLINK: UInt16 = 19
    public static let RTM_NEWADDR: UInt16 = 20
    public static let RTM_DELADDR: UInt16 = 21
    public static let RTM_GETADDR: UInt16 = 22
    public static let RTM_NEWROUTE: UInt16 = 24
    public static let RTM_DELROUTE: UInt16 = 25
    public static let RTM_GETROUTE: UInt16 = 26

    // Header flags.
    public static let NLM_F_REQUEST: UInt16 = 0x1
    public static let NLM_F_MULTI: UInt16 = 0x2
    public static let NLM_F_ACK: UInt16 = 0x4
    public static let NLM_F_DUMP_INTR: UInt16 = 0x10
    public static let NLM_F_DUMP: UInt16 = 0x300
    public static let NLM_F_REPLACE: UInt16 = 0x100
    public static let NLM_F_EXCL: UInt16 = 0x200
    public static let NLM_F_CREATE: UInt16 = 0x400
    /// In an NLMSG_ERROR message: extended-ack attributes follow.
    public static let NLM_F_ACK_TLVS: UInt16 = 0x200
    /// In an NLMSG_ERROR message: the request's payload is not echoed.
    public static let NLM_F_CAPPED: UInt16 = 0x100

    // Socket options (SOL_NETLINK).
    public static let SOL_NETLINK: Int32 = 270
    public static let NETLINK_CAP_ACK: Int32 = 10
    public static let NETLINK_EXT_ACK: Int32 = 11
    /// Extended-ack attribute: the kernel's error text.
    public static let NLMSGERR_ATTR_MSG: UInt16 = 1

    // Address families.
    public static let AF_UNSPEC: UInt8 = 0
    public static let AF_INET: UInt8 = 2

    // Link attributes.
    public static let IFLA_ADDRESS: UInt16 = 1
    public static let IFLA_IFNAME: UInt16 = 3
    public static let IFLA_MTU: UInt16 = 4
    public static let IFLA_MASTER: UInt16 = 10
    public static let IFLA_LINKINFO: UInt16 = 18
    public static let IFLA_NET_NS_FD: UInt16 = 28
    public static let IFLA_INFO_KIND: UInt16 = 1
    public static let IFLA_INFO_DATA: UInt16 = 2
    public static let VETH_INFO_PEER: UInt16 = 1

    // Link flags.
    public static let IFF_UP: UInt32 = 0x1

    // Address attributes.
    public static let IFA_ADDRESS: UInt16 = 1
    public static let IFA_LOCAL: UInt16 = 2
    public static let IFA_BROADCAST: UInt16 = 4

    // Route fields and attributes.
    public static let RTA_DST: UInt16 = 1
    public static let RTA_OIF: UInt16 = 4
    public static let RTA_GATEWAY: UInt16 = 5
    public static let RT_TABLE_MAIN: UInt8 = 254
    public static let RTPROT_BOOT: UInt8 = 3
    public static let RT_SCOPE_UNIVERSE: UInt8 = 0
    public static let RT_SCOPE_LINK: UInt8 = 253
    public static let RTN_UNICAST: UInt8 = 1

    /// Bits of an attribute type that are flags, not the type (NLA_F_NESTED, NLA_F_NET_BYTEORDER).
    public static let NLA_TYPE_MASK: UInt16 = 0x3fff
    /// Marks an attribute whose payload is more attributes.
    public static let NLA_F_NESTED: UInt16 = 0x8000
}
