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
