import OCISpec

extension LinuxNamespaceType {
    /// The CLONE_NEW* flag of this namespace type.
    public var cloneFlag: Int32 {
        switch self {
        case .mount: 0x0002_0000
        case .uts: 0x0400_0000
        case .ipc: 0x0800_0000
        case .user: 0x1000_0000
        case .pid: 0x2000_0000
        case .network: 0x4000_0000
        case .cgroup: 0x0200_0000
        case .time: 0x0000_0080
        }
    }

    /// The file name under /proc/PID/ns.
    public var procName: String {
        switch self {
        case .mount: "mnt"
        case .network: "net"
        case .pid: "pid"
        case .ipc: "ipc"
        case .uts: "uts"
        case .user: "user"
        case .cgroup: "cgroup"
        case .time: "time"
        }
    }

    /// The order in which namespaces are joined: user first (it grants the rights to join the others),
    /// mount last (joining it changes the root and the cwd).
    public static let joinOrder: [LinuxNamespaceType] = [.user, .ipc, .uts, .network, .pid, .cgroup, .time, .mount]
}
