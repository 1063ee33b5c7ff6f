import PodrunCore

/// A published port: traffic to `hostPort` on the host goes to `podPort` of the pod (`8080:80/tcp`).
public struct PortMapping: Hashable, Sendable, CustomStringConvertible {
    /// `tcp` or `udp`.
    public var proto: String
    /// The host's port.
    public var hostPort: UInt16
    /// The pod's port.
    public var podPort: UInt16

    /// A mapping from its parts.
    public init(hostPort: UInt16, podPort: UInt16, proto: String = "tcp") {
        self.hostPort = hostPort
        self.podPort = podPort
        self.proto = proto
    }

    /// Parses `HOST:POD[/tcp|udp]` (ports 1-65535; tcp when no protocol is given).
    public init(parsing text: String) throws {
        let invalid = PodrunError(.invalidArgument, "invalid port mapping \"\(text)\" (want HOST:POD[/tcp|udp])", path: "--publish")
        let protoParts = text.split(separator: "/", omittingEmptySubsequences: false)
        guard protoParts.count <= 2 else { throw invalid }
        let proto = protoParts.count == 2 ? protoParts[1].lowercased() : "tcp"
        guard proto == "tcp" || proto == "udp" else { throw invalid }
        let ports = protoParts[0].split(separator: ":", omittingEmptySubsequences: false)
        guard ports.count == 2, let host = PortMapping.port(ports[0]), let pod = PortMapping.port(ports[1]) else { throw invalid }
        self.init(hostPort: host, podPort: pod, proto: proto)
    }

    /// `HOST:POD/proto`.
    public var description: String { "\(hostPort):\(podPort)/\(proto)" }

    private static func port(_ text: Substring) -> UInt16? {
        guard !text.isEmpty, text.count <= 5, text.allSatisfy({ $0.isASCII && $0.isNumber }),
              let value = UInt16(text), value > 0 else { return nil }
        return value
    }
}
