import PodrunCore

extension NetlinkSocket {
    /// Adds the default route (0.0.0.0/0) via `gateway` out of interface `index` to the main table; throws
    /// EEXIST when there is one.
    public func addDefaultRoute(via gateway: IPv4Address, index: Int32) throws {
        var request = NetlinkRequest(type: Netlink.RTM_NEWROUTE, flags: Netlink.NLM_F_CREATE | Netlink.NLM_F_EXCL,
                                     header: NetlinkRequest.rtmsg(destinationLength: 0))
        request.attribute(Netlink.RTA_GATEWAY, gateway.bytes)
        request.attribute(Netlink.RTA_OIF, uint32: UInt32(bitPattern: index))
        try perform(request, "add default route via \(gateway)")
    }
}
