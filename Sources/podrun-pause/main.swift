// podrun-pause: the process that holds a pod's namespaces.
//
//   podrun-pause [--cgroup-tasks FILE]... [--cgroup2 DIR] [--unshare net,ipc,uts,pid] [--hostname NAME]
//                [--loopback-up] [--ready-fd N]
//
// It enters the pod's cgroup itself (writing 0 to each v1 hierarchy's `tasks` file, which moves this one thread
// without the wait for an RCU grace period that moving a pid through `cgroup.procs` costs), unshares the
// namespaces it is told to, sets the hostname, and then does nothing but wait for signals: SIGCHLD reaps every
// child and orphan (when it is PID 1 of its pid namespace), SIGTERM and SIGINT end it with status 0. With `pid`,
// or a v2 cgroup folder (which a process can enter without that wait only by being born there, with clone3's
// CLONE_INTO_CGROUP), it forks once after unshare; the parent reports the child's pid and exits. The pid of the
// process that stays is written, as decimal text, to the ready fd, which is then closed; from then on its stdin,
// stdout and stderr are /dev/null (errors before that go to the caller's stderr). Single-threaded, Glibc and
// podrun's C shim (for unshare and clone3).
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
var cgroupTaskFiles: [String] = []
var cgroup2Directory: String? = nil
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
    case "--cgroup-tasks": cgroupTaskFiles.append(arguments.popFirst() ?? "")
    case "--cgroup2": cgroup2Directory = arguments.popFirst()
    case "--ready-fd": readyFD = Int32(arguments.popFirst() ?? "") ?? -1
    default: fail("unknown argument \(argument)")
    }
}

// Block the signals we wait for before anything can send them.
var waited = sigset_t()
sigemptyset(&waited)
for signal in [SIGCHLD, SIGTERM, SIGINT] { sigaddset(&waited, signal) }
sigprocmask(SIG_BLOCK, &waited, nil)

for file in cgroupTaskFiles {
    let fd = open(file, O_WRONLY | O_CLOEXEC)
    if fd < 0 || write(fd, "0", 1) != 1 { fail("join cgroup: write 0 to \(file)") }
    close(fd)
}
var cgroup2: Int32 = -1
if let cgroup2Directory {
    cgroup2 = open(cgroup2Directory, O_DIRECTORY | O_CLOEXEC | 0o10000000 /* O_PATH */)
    if cgroup2 < 0 { fail("open cgroup \(cgroup2Directory)") }
}

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

/// Forks into the v2 cgroup, if there is one (on a kernel without CLONE_INTO_CGROUP, the child moves itself).
func forkIntoCgroup(_ cgroup2: Int32) -> pid_t {
    guard cgroup2 >= 0 else { return fork() }
    let child = podrun_clone_into_cgroup(cgroup2)
    if child >= 0 || (errno != ENOSYS && errno != E2BIG && errno != EINVAL) { return child }
    let forked = fork()
    if forked == 0 {
        let procs = openat(cgroup2, "cgroup.procs", O_WRONLY | O_CLOEXEC)
        if procs < 0 || write(procs, "0", 1) != 1 { fail("join cgroup: write 0 to cgroup.procs") }
        close(procs)
    }
    return forked
}

/// Points stdin, stdout and stderr at /dev/null once nothing is left that can fail: the pause outlives the
/// command that started it, and a copy of that command's stdout or stderr kept here would hold the reader of a
/// pipe (`id=$(podrun sandbox create ...)`) open for the pod's whole life.
func detachStandardStreams() {
    let null = open("/dev/null", O_RDWR | O_CLOEXEC)
    guard null >= 0 else { fail("open /dev/null") }
    for target: Int32 in 0...2 where dup2(null, target) < 0 { fail("dup2 /dev/null") }
    if null > 2 { close(null) }  // with stdin closed, /dev/null came as 0: it stays
}

if flags & CLONE_NEWPID != 0 || cgroup2 >= 0 {
    let child = forkIntoCgroup(cgroup2)
    if child < 0 { fail("clone into cgroup") }
    if cgroup2 >= 0 { close(cgroup2) }
    if child > 0 {
        report(child, to: readyFD)
        exit(0)
    }
    // The pause (PID 1 of a new pid namespace): the launcher reported; its copy of the ready fd must go, or the
    // reader never sees end-of-file. A mount of /proc is not ours to make; nothing here reads it.
    detachStandardStreams()
    if readyFD >= 0 { close(readyFD) }
} else {
    detachStandardStreams()
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
