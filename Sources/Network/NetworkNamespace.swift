import CPodrunShim
import Glibc
import PodrunCore

/// Running code inside another network namespace from the calling thread only: setns(CLONE_NEWNET) on
/// this thread, the body, then back to the original namespace (kept open the whole time). Other threads of
/// the process are untouched. The body must not suspend (it is synchronous, so it cannot).
public enum NetworkNamespace {
    /// CLONE_NEWNET.
    static let CLONE_NEWNET: Int32 = 0x4000_0000

    /// Runs `body` with the calling thread in the network namespace pinned at `path`.
    public static func run<T>(in path: String, _ body: () throws -> T) throws -> T {
        let original = Glibc.open("/proc/thread-self/ns/net", O_RDONLY | O_CLOEXEC)
        guard original >= 0 else { throw PodrunError.system("open this thread's network namespace") }
        defer { close(original) }
        let target = Glibc.open(path, O_RDONLY | O_CLOEXEC)
        guard target >= 0 else { throw PodrunError.system("open network namespace", path: path) }
        defer { close(target) }
        guard podrun_setns(target, CLONE_NEWNET) == 0 else { throw PodrunError.system("enter network namespace", path: path) }
        defer {
            // A thread left in a pod's namespace would do the host's work there: never continue like that.
            if podrun_setns(original, CLONE_NEWNET) != 0 {
                fatalError("cannot return to the original network namespace: errno \(errno)")
            }
        }
        return try body()
    }

    /// A netlink socket bound to the network namespace pinned at `path` (usable from any thread afterwards).
    public static func netlinkSocket(in path: String) throws -> NetlinkSocket {
        try run(in: path) { try NetlinkSocket() }
    }

    /// Opens the namespace file at `path` (close-on-exec) for IFLA_NET_NS_FD; the caller closes it.
    public static func open(_ path: String) throws -> Int32 {
        let fd = Glibc.open(path, O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else { throw PodrunError.system("open network namespace", path: path) }
        return fd
    }
}

/// Network sysctls under /proc/sys/net, which show the network namespace of the thread that opens the
/// file: write them inside `NetworkNamespace.run` for a pod's interfaces.
public enum NetworkSysctl {
    /// Writes `value` to `/proc/sys/net/<key>` (key with slashes: `ipv6/conf/eth0/accept_ra`).
    public static func write(_ key: String, _ value: String) throws {
        let path = "/proc/sys/net/" + key
        let fd = open(path, O_WRONLY | O_CLOEXEC)
        guard fd >= 0 else { throw PodrunError.system("open sysctl", path: path) }
        defer { close(fd) }
        let bytes = Array(value.utf8) + [UInt8(ascii: "\n")]
        let written = bytes.withUnsafeBytes { Glibc.write(fd, $0.baseAddress, $0.count) }
        guard written == bytes.count else { throw PodrunError.system("write sysctl", path: path) }
    }

    /// Reads `/proc/sys/net/<key>`, trimmed.
    public static func read(_ key: String) throws -> String {
        let path = "/proc/sys/net/" + key
        let fd = open(path, O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else { throw PodrunError.system("open sysctl", path: path) }
        defer { close(fd) }
        var buffer = [UInt8](repeating: 0, count: 256)
        let count = buffer.withUnsafeMutableBytes { Glibc.read(fd, $0.baseAddress, $0.count) }
        guard count >= 0 else { throw PodrunError.system("read sysctl", path: path) }
        return String(decoding: buffer[0..<count], as: UTF8.self).trimmed(of: " \n")
    }

    /// Turns IPv6 off on `interface` (nothing to do when IPv6 is off in the kernel or namespace).
    public static func disableIPv6(_ interface: String) throws {
        do {
            try write("ipv6/conf/\(interface)/disable_ipv6", "1")
        } catch let error as PodrunError where error.errno == ENOENT && access("/proc/sys/net/ipv6/conf", F_OK) != 0 {
            // No IPv6 in this kernel or namespace.
        }
    }
}

extension String {
    /// The string without leading and trailing characters from `set`.
    func trimmed(of set: String) -> String {
        let characters = Set(set)
        let start = firstIndex { !characters.contains($0) } ?? endIndex
        let end = lastIndex { !characters.contains($0) }.map { index(after: $0) } ?? start
        return start < end ? String(self[start..<end]) : ""
    }
}
