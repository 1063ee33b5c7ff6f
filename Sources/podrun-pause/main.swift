// podrun-pause: the process that holds a pod's namespaces.
//
//   podrun-pause [--unshare net,ipc,uts,pid] [--hostname NAME] [--loopback-up] [--ready-fd N]
//
// It unshares the namespaces it is told to, sets the hostname, and then does nothing but wait for signals:
// SIGCHLD reaps every child and orphan (when it is PID 1 of its pid namespace), SIGTERM and SIGINT end it
// with status 0. With `pid`, it forks once after unshare so that the child is PID 1 of the new namespace;
// the parent reports the child's pid and exits. The pid of the process that stays is written, as decimal
// text, to the ready fd, which is then closed. Single-threaded, Glibc and podrun's C shim (for unshare).
import CPodrunShim
import Glibc

let CLONE_NEWNET: Int32 = 0x4000_0000
let CLONE_NEWIPC: Int32 = 0x0800_0000
let CLONE_NEWUTS: Int32 = 0x0400_0000
let CLONE_NEWPID: Int32 = 0x2000_0000

func fail(_ message: String) -> Never {
    let text = "podrun-pause: " + message + ": " + String(cString: strerror(errno)) + "\n"
    _ = text.withCString { write(2, $0, strlen($0)) }
    exit(1)
}

var flags: Int32 = 0
var hostname: String? = nil
var readyFD: Int32 = -1
var loopbackUp = false
var arguments = CommandLine.arguments.dropFirst()
while let argument = arguments.popFirst() {
    switch argument {
    case "--unshare":
        for kind in (arguments.popFirst() ?? "").split(separator: ",") {
            switch kind {
            case "net": flags |= CLONE_NEWNET
            case "ipc": flags |= CLONE_NEWIPC
            case "uts": flags |= CLONE_NEWUTS
            case "pid": flags |= CLONE_NEWPID
            default: fail("unknown namespace \(kind)")
            }
        }
    case "--hostname": hostname = arguments.popFirst()
    case "--loopback-up": loopbackUp = true
    case "--ready-fd": readyFD = Int32(arguments.popFirst() ?? "") ?? -1
    default: fail("unknown argument \(argument)")
    }
}

// Block the signals we wait for before anything can send them.
var waited = sigset_t()
sigemptyset(&waited)
for signal in [SIGCHLD, SIGTERM, SIGINT] { sigaddset(&waited, signal) }
sigprocmask(SIG_BLOCK, &waited, nil)

if flags != 0 && podrun_unshare(flags) != 0 { fail("unshare") }
if let hostname, sethostname(hostname, hostname.utf8.count) != 0 { fail("sethostname") }

/// Sets IFF_UP on `lo` (of the network namespace this process is in).
func bringLoopbackUp() {
    let fd = socket(AF_INET, Int32(SOCK_DGRAM.rawValue), 0)
    if fd < 0 { fail("socket") }
    defer { close(fd) }
    var request = ifreq()
    withUnsafeMutableBytes(of: &request.ifr_ifrn.ifrn_name) { name in
        name.copyBytes(from: Array("lo".utf8))
    }
    if ioctl(fd, UInt(SIOCGIFFLAGS), &request) != 0 { fail("SIOCGIFFLAGS lo") }
    request.ifr_ifru.ifru_flags |= Int16(IFF_UP)
    if ioctl(fd, UInt(SIOCSIFFLAGS), &request) != 0 { fail("SIOCSIFFLAGS lo") }
}
if loopbackUp { bringLoopbackUp() }

func report(_ pid: pid_t, to readyFD: Int32) {
    guard readyFD >= 0 else { return }
    let text = String(pid)
    _ = text.withCString { write(readyFD, $0, strlen($0)) }
    close(readyFD)
}

if flags & CLONE_NEWPID != 0 {
    let child = fork()
    if child < 0 { fail("fork") }
    if child > 0 {
        report(child, to: readyFD)
        exit(0)
    }
    // PID 1 of the new namespace: the launcher reported; its copy of the ready fd must go, or the
    // reader never sees end-of-file. A mount of /proc is not ours to make; nothing here reads it.
    if readyFD >= 0 { close(readyFD) }
} else {
    report(getpid(), to: readyFD)
}

/// Hands back the pages of program text that start-up touched: a static Swift binary maps in about 3 MB of its
/// runtime's code at start (page-cache pages, shared by every pause, but counted in each one's resident size);
/// the wait loop below needs a few of them again. Only executable mappings, which are never written, are
/// dropped: their pages come back from the file on the next touch, so nothing is lost.
func releaseStartupText() {
    let fd = open("/proc/self/maps", O_RDONLY | O_CLOEXEC)
    guard fd >= 0 else { return }
    var maps: [UInt8] = []
    var chunk = [UInt8](repeating: 0, count: 4096)
    while true {
        let n = read(fd, &chunk, chunk.count)
        if n <= 0 { break }
        maps += chunk[0..<n]
    }
    close(fd)
    // The ranges first, the madvise calls last: parsing after a range was dropped would fault it back in.
    var ranges: [(UnsafeMutableRawPointer, Int)] = []
    ranges.reserveCapacity(8)
    for line in maps.split(separator: UInt8(ascii: "\n")) {
        // `start-end perms offset dev inode path`
        let fields = line.split(separator: UInt8(ascii: " "), omittingEmptySubsequences: true)
        guard fields.count >= 6, fields[1].count == 4, fields[1][fields[1].startIndex + 2] == UInt8(ascii: "x"),
              fields[1][fields[1].startIndex + 1] != UInt8(ascii: "w"), fields[5].first == UInt8(ascii: "/") else { continue }
        let range = fields[0].split(separator: UInt8(ascii: "-"))
        guard range.count == 2, let start = UInt(String(decoding: range[0], as: UTF8.self), radix: 16),
              let end = UInt(String(decoding: range[1], as: UTF8.self), radix: 16), end > start,
              let address = UnsafeMutableRawPointer(bitPattern: start) else { continue }
        ranges.append((address, Int(end - start)))
    }
    for (address, length) in ranges { _ = madvise(address, length, MADV_DONTNEED) }
}
releaseStartupText()

while true {
    var info = siginfo_t()
    let signal = sigwaitinfo(&waited, &info)
    if signal < 0 { continue }
    switch signal {
    case SIGCHLD:
        var status: Int32 = 0
        while waitpid(-1, &status, WNOHANG) > 0 {}
    case SIGTERM, SIGINT:
        exit(0)
    default:
        break
    }
}
