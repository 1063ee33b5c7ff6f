extension LinuxSeccomp {
    /// containerd's default seccomp profile (`contrib/seccomp/seccomp_default.go`, `DefaultProfile`), which is
    /// Docker's: everything not listed fails with EPERM; a large allow list; `personality` only with the
    /// harmless personas; groups of syscalls allowed only when the bounding set has the capability that guards
    /// them; and without `CAP_SYS_ADMIN`, `clone` only without namespace flags and `clone3` failing with
    /// ENOSYS so that glibc falls back to `clone`, where the flags can be checked.
    ///
    /// `capabilities` is the container's bounding set (`process.capabilities.bounding`). The profile is for
    /// the machine podrun is built for (amd64 adds x86 and x32, arm64 adds arm). containerd allows `ptrace`
    /// only on kernels 4.8 and later; podrun needs a newer kernel than that anyway, so it is always allowed.
    /// As in containerd, `defaultErrnoRet` is not set: `SCMP_ACT_ERRNO` without a value means EPERM.
    public static func dockerDefault(capabilities: [String]) -> LinuxSeccomp {
        var syscalls: [LinuxSyscall] = [
            LinuxSyscall(names: dockerDefaultAllowed, action: actAllow),
        ]
        for persona: UInt64 in [0x0, 0x0008, 0x20000, 0x20008, 0xffff_ffff] {
            syscalls.append(LinuxSyscall(names: ["personality"], action: actAllow,
                                         args: [LinuxSeccompArg(index: 0, value: persona, op: "SCMP_CMP_EQ")]))
        }
        // containerd: "include by kernel version" (4.8 and later).
        syscalls.append(LinuxSyscall(names: ["ptrace"], action: actAllow))

        // containerd: "include by arch".
        #if arch(powerpc64le)
        syscalls.append(LinuxSyscall(names: ["sync_file_range2", "swapcontext"], action: actAllow))
        #elseif arch(arm) || arch(arm64)
        syscalls.append(LinuxSyscall(names: ["arm_fadvise64_64", "arm_sync_file_range", "sync_file_range2",
                                             "breakpoint", "cacheflush", "set_tls"], action: actAllow))
        #elseif arch(x86_64)
        syscalls.append(LinuxSyscall(names: ["arch_prctl", "modify_ldt"], action: actAllow))
        #elseif arch(i386)
        syscalls.append(LinuxSyscall(names: ["modify_ldt"], action: actAllow))
        #elseif arch(s390x)
        syscalls.append(LinuxSyscall(names: ["s390_pci_mmio_read", "s390_pci_mmio_write", "s390_runtime_instr"],
                                     action: actAllow))
        #elseif arch(riscv64)
        syscalls.append(LinuxSyscall(names: ["riscv_flush_icache"], action: actAllow))
        #endif

        var admin = false
        for capability in capabilities {
            switch capability {
            case "CAP_DAC_READ_SEARCH":
                syscalls.append(LinuxSyscall(names: ["open_by_handle_at"], action: actAllow))
            case "CAP_SYS_ADMIN":
                admin = true
                syscalls.append(LinuxSyscall(names: [
                    "bpf", "clone", "clone3", "fanotify_init", "fsconfig", "fsmount", "fsopen", "fspick",
                    "lookup_dcookie", "mount", "mount_setattr", "move_mount", "name_to_handle_at", "open_tree",
                    "perf_event_open", "quotactl", "quotactl_fd", "setdomainname", "sethostname", "setns",
                    "syslog", "umount", "umount2", "unshare",
                ], action: actAllow))
            case "CAP_SYS_BOOT":
                syscalls.append(LinuxSyscall(names: ["reboot"], action: actAllow))
            case "CAP_SYS_CHROOT":
                syscalls.append(LinuxSyscall(names: ["chroot"], action: actAllow))
            case "CAP_SYS_MODULE":
                syscalls.append(LinuxSyscall(names: ["delete_module", "init_module", "finit_module"], action: actAllow))
            case "CAP_SYS_PACCT":
                syscalls.append(LinuxSyscall(names: ["acct"], action: actAllow))
            case "CAP_SYS_PTRACE":
                syscalls.append(LinuxSyscall(names: ["kcmp", "pidfd_getfd", "process_madvise", "process_vm_readv",
                                                     "process_vm_writev", "ptrace"], action: actAllow))
            case "CAP_SYS_RAWIO":
                syscalls.append(LinuxSyscall(names: ["iopl", "ioperm"], action: actAllow))
            case "CAP_SYS_TIME":
                syscalls.append(LinuxSyscall(names: ["settimeofday", "stime", "clock_settime", "clock_settime64"],
                                             action: actAllow))
            case "CAP_SYS_TTY_CONFIG":
                syscalls.append(LinuxSyscall(names: ["vhangup"], action: actAllow))
            case "CAP_SYSLOG":
                syscalls.append(LinuxSyscall(names: ["syslog"], action: actAllow))
            case "CAP_BPF":
                syscalls.append(LinuxSyscall(names: ["bpf"], action: actAllow))
            case "CAP_PERFMON":
                syscalls.append(LinuxSyscall(names: ["perf_event_open"], action: actAllow))
            default:
                break
            }
        }

        if !admin {
            // No new namespaces: clone's flags must have none of the CLONE_NEW* bits. s390 swaps clone's
            // first two arguments.
            let namespaceFlags: UInt64 = 0x0002_0000 /* CLONE_NEWNS */ | 0x0400_0000 /* CLONE_NEWUTS */
                | 0x0800_0000 /* CLONE_NEWIPC */ | 0x1000_0000 /* CLONE_NEWUSER */ | 0x2000_0000 /* CLONE_NEWPID */
                | 0x4000_0000 /* CLONE_NEWNET */ | 0x0200_0000 /* CLONE_NEWCGROUP */
            #if arch(s390x)
            let flagsArgument: UInt = 1
            #else
            let flagsArgument: UInt = 0
            #endif
            syscalls.append(LinuxSyscall(names: ["clone"], action: actAllow, args: [
                LinuxSeccompArg(index: flagsArgument, value: namespaceFlags, valueTwo: 0, op: "SCMP_CMP_MASKED_EQ"),
            ]))
            // clone3 passes its flags in memory, where seccomp cannot look: ENOSYS makes glibc use clone.
            syscalls.append(LinuxSyscall(names: ["clone3"], action: "SCMP_ACT_ERRNO", errnoRet: 38 /* ENOSYS */))
        }

        return LinuxSeccomp(defaultAction: "SCMP_ACT_ERRNO", architectures: dockerDefaultArchitectures,
                            syscalls: syscalls)
    }

    private static let actAllow = "SCMP_ACT_ALLOW"

    /// The architectures containerd lists for the machine podrun is built for.
    static var dockerDefaultArchitectures: [String]? {
        #if arch(x86_64)
        return ["SCMP_ARCH_X86_64", "SCMP_ARCH_X86", "SCMP_ARCH_X32"]
        #elseif arch(arm64)
        return ["SCMP_ARCH_ARM", "SCMP_ARCH_AARCH64"]
        #elseif arch(s390x)
        return ["SCMP_ARCH_S390", "SCMP_ARCH_S390X"]
        #elseif arch(riscv64)
        return ["SCMP_ARCH_RISCV64"]
        #else
        return []
        #endif
    }

    /// The syscalls Docker's default profile allows unconditionally, in containerd's order.
    static let dockerDefaultAllowed: [String] = [
        "accept", "accept4", "access", "adjtimex", "alarm", "bind", "brk", "capget", "capset", "chdir", "chmod",
        "chown", "chown32", "clock_adjtime", "clock_adjtime64", "clock_getres", "clock_getres_time64",
        "clock_gettime", "clock_gettime64", "clock_nanosleep", "clock_nanosleep_time64", "close", "close_range",
        "connect", "copy_file_range", "creat", "dup", "dup2", "dup3", "epoll_create", "epoll_create1",
        "epoll_ctl", "epoll_ctl_old", "epoll_pwait", "epoll_pwait2", "epoll_wait", "epoll_wait_old", "eventfd",
        "eventfd2", "execve", "execveat", "exit", "exit_group", "faccessat", "faccessat2", "fadvise64",
        "fadvise64_64", "fallocate", "fanotify_mark", "fchdir", "fchmod", "fchmodat", "fchown", "fchown32",
        "fchownat", "fcntl", "fcntl64", "fdatasync", "fgetxattr", "flistxattr", "flock", "fork", "fremovexattr",
        "fsetxattr", "fstat", "fstat64", "fstatat64", "fstatfs", "fstatfs64", "fsync", "ftruncate",
        "ftruncate64", "futex", "futex_time64", "futex_waitv", "futimesat", "getcpu", "getcwd", "getdents",
        "getdents64", "getegid", "getegid32", "geteuid", "geteuid32", "getgid", "getgid32", "getgroups",
        "getgroups32", "getitimer", "getpeername", "getpgid", "getpgrp", "getpid", "getppid", "getpriority",
        "getrandom", "getresgid", "getresgid32", "getresuid", "getresuid32", "getrlimit", "get_robust_list",
        "getrusage", "getsid", "getsockname", "getsockopt", "get_thread_area", "gettid", "gettimeofday",
        "getuid", "getuid32", "getxattr", "inotify_add_watch", "inotify_init", "inotify_init1",
        "inotify_rm_watch", "io_cancel", "ioctl", "io_destroy", "io_getevents", "io_pgetevents",
        "io_pgetevents_time64", "ioprio_get", "ioprio_set", "io_setup", "io_submit", "io_uring_enter",
        "io_uring_register", "io_uring_setup", "ipc", "kill", "landlock_add_rule", "landlock_create_ruleset",
        "landlock_restrict_self", "lchown", "lchown32", "lgetxattr", "link", "linkat", "listen", "listxattr",
        "llistxattr", "_llseek", "lremovexattr", "lseek", "lsetxattr", "lstat", "lstat64", "madvise",
        "membarrier", "memfd_create", "memfd_secret", "mincore", "mkdir", "mkdirat", "mknod", "mknodat", "mlock",
        "mlock2", "mlockall", "mmap", "mmap2", "mprotect", "mq_getsetattr", "mq_notify", "mq_open",
        "mq_timedreceive", "mq_timedreceive_time64", "mq_timedsend", "mq_timedsend_time64", "mq_unlink",
        "mremap", "msgctl", "msgget", "msgrcv", "msgsnd", "msync", "munlock", "munlockall", "munmap",
        "nanosleep", "newfstatat", "_newselect", "open", "openat", "openat2", "pause", "pidfd_open",
        "pidfd_send_signal", "pipe", "pipe2", "poll", "ppoll", "ppoll_time64", "prctl", "pread64", "preadv",
        "preadv2", "prlimit64", "process_mrelease", "pselect6", "pselect6_time64", "pwrite64", "pwritev",
        "pwritev2", "read", "readahead", "readlink", "readlinkat", "readv", "recv", "recvfrom", "recvmmsg",
        "recvmmsg_time64", "recvmsg", "remap_file_pages", "removexattr", "rename", "renameat", "renameat2",
        "restart_syscall", "rmdir", "rseq", "rt_sigaction", "rt_sigpending", "rt_sigprocmask", "rt_sigqueueinfo",
        "rt_sigreturn", "rt_sigsuspend", "rt_sigtimedwait", "rt_sigtimedwait_time64", "rt_tgsigqueueinfo",
        "sched_getaffinity", "sched_getattr", "sched_getparam", "sched_get_priority_max",
        "sched_get_priority_min", "sched_getscheduler", "sched_rr_get_interval", "sched_rr_get_interval_time64",
        "sched_setaffinity", "sched_setattr", "sched_setparam", "sched_setscheduler", "sched_yield", "seccomp",
        "select", "semctl", "semget", "semop", "semtimedop", "semtimedop_time64", "send", "sendfile",
        "sendfile64", "sendmmsg", "sendmsg", "sendto", "setfsgid", "setfsgid32", "setfsuid", "setfsuid32",
        "setgid", "setgid32", "setgroups", "setgroups32", "setitimer", "setpgid", "setpriority", "setregid",
        "setregid32", "setresgid", "setresgid32", "setresuid", "setresuid32", "setreuid", "setreuid32",
        "setrlimit", "set_robust_list", "setsid", "setsockopt", "set_thread_area", "set_tid_address", "setuid",
        "setuid32", "setxattr", "shmat", "shmctl", "shmdt", "shmget", "shutdown", "sigaltstack", "signalfd",
        "signalfd4", "sigprocmask", "sigreturn", "socket", "socketcall", "socketpair", "splice", "stat",
        "stat64", "statfs", "statfs64", "statx", "symlink", "symlinkat", "sync", "sync_file_range", "syncfs",
        "sysinfo", "tee", "tgkill", "time", "timer_create", "timer_delete", "timer_getoverrun", "timer_gettime",
        "timer_gettime64", "timer_settime", "timer_settime64", "timerfd_create", "timerfd_gettime",
        "timerfd_gettime64", "timerfd_settime", "timerfd_settime64", "times", "tkill", "truncate", "truncate64",
        "ugetrlimit", "umask", "uname", "unlink", "unlinkat", "utime", "utimensat", "utimensat_time64", "utimes",
        "vfork", "vmsplice", "wait4", "waitid", "waitpid", "write", "writev",
    ]
}
