#define _GNU_SOURCE
#include "podrun_shim.h"

#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <linux/bpf.h>
#include <linux/filter.h>
#include <linux/openat2.h>
#include <linux/seccomp.h>
#include <sched.h>
#include <signal.h>
#include <spawn.h>
#include <stdio.h>
#include <string.h>
#include <linux/fs.h>
#include <sys/ioctl.h>
#include <sys/sendfile.h>
#include <sys/mman.h>
#include <linux/mount.h>
#include <sys/mount.h>
#include <sys/personality.h>
#include <sys/prctl.h>
#include <sys/signalfd.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <sys/syscall.h>
#include <sys/sysmacros.h>
#include <termios.h>
#include <unistd.h>

pid_t podrun_fork(void) { return fork(); }

/// clone3's arguments (linux/sched.h's struct clone_args, which clashes with glibc's sched.h when included).
struct podrun_clone_args {
    uint64_t flags, pidfd, child_tid, parent_tid, exit_signal, stack, stack_size, tls, set_tid, set_tid_size, cgroup;
};
#define PODRUN_CLONE_INTO_CGROUP 0x200000000ULL
#ifndef SYS_clone3
#define SYS_clone3 435
#endif

pid_t podrun_clone3(uint64_t flags, int cgroupfd) {
    struct podrun_clone_args args;
    memset(&args, 0, sizeof args);
    args.flags = flags;
    if (cgroupfd >= 0) {
        args.flags |= PODRUN_CLONE_INTO_CGROUP;
        args.cgroup = (uint64_t)cgroupfd;
    }
    args.exit_signal = SIGCHLD;
    return (pid_t)syscall(SYS_clone3, &args, sizeof args);
}
pid_t podrun_clone_into_cgroup(int cgroupfd) { return podrun_clone3(0, cgroupfd); }
int podrun_unshare(int flags) { return unshare(flags); }
int podrun_setns(int fd, int nstype) { return setns(fd, nstype); }
int podrun_pivot_root(const char *new_root, const char *put_old) {
    return (int)syscall(SYS_pivot_root, new_root, put_old);
}
int podrun_mount(const char *source, const char *target, const char *fstype, unsigned long flags, const char *data) {
    return mount(source, target, fstype, flags, data);
}
int podrun_umount2(const char *target, int flags) { return umount2(target, flags); }

int podrun_openat2(int dirfd, const char *path, uint64_t flags, uint64_t mode, uint64_t resolve) {
    struct open_how how;
    memset(&how, 0, sizeof(how));
    how.flags = flags;
    how.mode = mode;
    how.resolve = resolve;
    return (int)syscall(SYS_openat2, dirfd, path, &how, sizeof(how));
}

int podrun_close_range(unsigned int first, unsigned int last, unsigned int flags) {
    return (int)syscall(SYS_close_range, first, last, flags);
}

int podrun_mknodat(int dirfd, const char *path, mode_t mode, unsigned int major, unsigned int minor) {
    return mknodat(dirfd, path, mode, makedev(major, minor));
}
unsigned int podrun_major(uint64_t dev) { return major(dev); }
unsigned int podrun_minor(uint64_t dev) { return minor(dev); }

int podrun_prctl(int option, unsigned long a2, unsigned long a3, unsigned long a4, unsigned long a5) {
    return prctl(option, a2, a3, a4, a5);
}

int podrun_setrlimit(int resource, uint64_t soft, uint64_t hard) {
    struct rlimit rl = {.rlim_cur = soft, .rlim_max = hard};
    return setrlimit(resource, &rl);
}

int podrun_setgroups(size_t count, const gid_t *gids) { return (int)syscall(SYS_setgroups, count, gids); }
/* Raw syscalls: glibc's wrappers broadcast to every thread, which is not needed in single-threaded init. */
int podrun_setresuid(uid_t r, uid_t e, uid_t s) { return (int)syscall(SYS_setresuid, r, e, s); }
int podrun_setresgid(gid_t r, gid_t e, gid_t s) { return (int)syscall(SYS_setresgid, r, e, s); }
int podrun_pidfd_open(pid_t pid) { return (int)syscall(SYS_pidfd_open, pid, 0); }
int podrun_pidfd_send_signal(int pidfd, int sig) { return (int)syscall(SYS_pidfd_send_signal, pidfd, sig, NULL, 0); }
int podrun_sethostname(const char *name, size_t len) { return sethostname(name, len); }
int podrun_setdomainname(const char *name, size_t len) { return setdomainname(name, len); }

int podrun_seccomp_load(const void *filter, size_t instructions, unsigned int flags) {
    struct sock_fprog prog = {.len = (unsigned short)instructions, .filter = (struct sock_filter *)filter};
    return (int)syscall(SYS_seccomp, SECCOMP_SET_MODE_FILTER, flags, &prog);
}

// The most descriptors one message carries (the kernel's SCM_MAX_FD is 253).
enum { PODRUN_MESSAGE_FDS = 64 };

long podrun_send_with_fds(int sock, const void *bytes, size_t length, const int *fds, int count) {
    if (count < 0 || count > PODRUN_MESSAGE_FDS) { errno = EINVAL; return -1; }
    struct iovec iov = {.iov_base = (void *)bytes, .iov_len = length};
    union {
        char buf[CMSG_SPACE(sizeof(int) * PODRUN_MESSAGE_FDS)];
        struct cmsghdr align;
    } u;
    struct msghdr msg = {.msg_iov = &iov, .msg_iovlen = 1};
    if (count > 0) {
        memset(&u, 0, sizeof(u));
        msg.msg_control = u.buf;
        msg.msg_controllen = CMSG_SPACE(sizeof(int) * (size_t)count);
        struct cmsghdr *c = CMSG_FIRSTHDR(&msg);
        c->cmsg_level = SOL_SOCKET;
        c->cmsg_type = SCM_RIGHTS;
        c->cmsg_len = CMSG_LEN(sizeof(int) * (size_t)count);
        memcpy(CMSG_DATA(c), fds, sizeof(int) * (size_t)count);
    }
    ssize_t n;
    do { n = sendmsg(sock, &msg, MSG_NOSIGNAL); } while (n < 0 && errno == EINTR);
    return n;
}

long podrun_recv_with_fds(int sock, void *bytes, size_t length, int *fds, int max, int *count) {
    *count = 0;
    struct iovec iov = {.iov_base = bytes, .iov_len = length};
    union {
        char buf[CMSG_SPACE(sizeof(int) * PODRUN_MESSAGE_FDS)];
        struct cmsghdr align;
    } u;
    struct msghdr msg = {.msg_iov = &iov, .msg_iovlen = 1, .msg_control = u.buf, .msg_controllen = sizeof(u.buf)};
    ssize_t n;
    // ECONNRESET: the peer closed before reading what was sent to it; the messages it sent first follow.
    do { n = recvmsg(sock, &msg, MSG_CMSG_CLOEXEC); } while (n < 0 && (errno == EINTR || errno == ECONNRESET));
    if (n < 0) return -1;
    for (struct cmsghdr *c = CMSG_FIRSTHDR(&msg); c != NULL; c = CMSG_NXTHDR(&msg, c)) {
        if (c->cmsg_level != SOL_SOCKET || c->cmsg_type != SCM_RIGHTS) continue;
        int received = (int)((c->cmsg_len - CMSG_LEN(0)) / sizeof(int));
        for (int i = 0; i < received; i++) {
            int fd;
            memcpy(&fd, CMSG_DATA(c) + sizeof(int) * (size_t)i, sizeof(int));
            if (*count < max) fds[(*count)++] = fd; else close(fd);
        }
    }
    return n;
}

int podrun_send_fd(int sock, int fd) {
    char byte = 0;
    return podrun_send_with_fds(sock, &byte, 1, &fd, 1) < 0 ? -1 : 0;
}

int podrun_recv_fd(int sock) {
    char byte;
    int fd = -1;
    int count = 0;
    long n = podrun_recv_with_fds(sock, &byte, 1, &fd, 1, &count);
    if (n < 0) return -1;
    if (n == 0) { errno = ECONNRESET; return -1; }
    if (count == 0) { errno = EBADMSG; return -1; }
    return fd;
}

int podrun_ioctl_set_ctty(int fd) { return ioctl(fd, TIOCSCTTY, 0); }
int podrun_ioctl_ptsnum(int fd, unsigned int *num) { return ioctl(fd, TIOCGPTN, num); }
int podrun_ioctl_unlock_pt(int fd) { int unlock = 0; return ioctl(fd, TIOCSPTLCK, &unlock); }
int podrun_ioctl_get_winsize(int fd, unsigned short *rows, unsigned short *cols) {
    struct winsize ws;
    if (ioctl(fd, TIOCGWINSZ, &ws) < 0) return -1;
    *rows = ws.ws_row;
    *cols = ws.ws_col;
    return 0;
}
int podrun_ioctl_set_winsize(int fd, unsigned short rows, unsigned short cols) {
    struct winsize ws = {.ws_row = rows, .ws_col = cols};
    return ioctl(fd, TIOCSWINSZ, &ws);
}

int podrun_memfd(const char *name, int sealable) {
    return memfd_create(name, MFD_CLOEXEC | (sealable ? MFD_ALLOW_SEALING : 0));
}
int podrun_seal_readonly(int fd) {
    return fcntl(fd, F_ADD_SEALS, F_SEAL_SEAL | F_SEAL_SHRINK | F_SEAL_GROW | F_SEAL_WRITE);
}

int podrun_spawn_addclosefrom(posix_spawn_file_actions_t *actions, int from) {
    return posix_spawn_file_actions_addclosefrom_np(actions, from);
}

int podrun_signalfd_all(void) {
    sigset_t mask;
    sigfillset(&mask);
    sigdelset(&mask, SIGSEGV);
    sigdelset(&mask, SIGBUS);
    sigdelset(&mask, SIGILL);
    sigdelset(&mask, SIGFPE);
    return signalfd(-1, &mask, SFD_CLOEXEC);
}
int podrun_signalfd_read(int fd) {
    struct signalfd_siginfo info;
    ssize_t n;
    do { n = read(fd, &info, sizeof(info)); } while (n < 0 && errno == EINTR);
    return n == sizeof(info) ? (int)info.ssi_signo : -1;
}

int podrun_is_immutable(int fd) {
    int flags = 0;
    if (ioctl(fd, FS_IOC_GETFLAGS, &flags) < 0) return -1;
    return (flags & FS_IMMUTABLE_FL) ? 1 : 0;
}
long podrun_sendfile(int out, int in, size_t count) { return (long)sendfile(out, in, NULL, count); }

int podrun_mount_setattr_recursive(int fd, uint64_t set, uint64_t clear) {
    struct mount_attr attr;
    memset(&attr, 0, sizeof(attr));
    attr.attr_set = set;
    attr.attr_clr = clear;
    return (int)syscall(SYS_mount_setattr, fd, "", AT_EMPTY_PATH | AT_RECURSIVE, &attr, sizeof(attr));
}

int podrun_move_mount(int from, int to_directory, const char *to_path) {
    return (int)syscall(SYS_move_mount, from, "", to_directory, to_path, MOVE_MOUNT_F_EMPTY_PATH);
}

int podrun_bpf_load_device_program(const void *instructions, unsigned int count, char *log, unsigned int log_size) {
    union bpf_attr attr;
    memset(&attr, 0, sizeof(attr));
    attr.prog_type = BPF_PROG_TYPE_CGROUP_DEVICE;
    attr.insns = (uint64_t)(uintptr_t)instructions;
    attr.insn_cnt = count;
    attr.license = (uint64_t)(uintptr_t)"Apache";
    if (log != NULL && log_size > 0) {
        log[0] = 0;
        attr.log_buf = (uint64_t)(uintptr_t)log;
        attr.log_size = log_size;
        attr.log_level = 1;
    }
    return (int)syscall(SYS_bpf, BPF_PROG_LOAD, &attr, sizeof(attr));
}

int podrun_bpf_attach_device_program(int cgroup_fd, int program_fd) {
    union bpf_attr attr;
    memset(&attr, 0, sizeof(attr));
    attr.target_fd = cgroup_fd;
    attr.attach_bpf_fd = program_fd;
    attr.attach_type = BPF_CGROUP_DEVICE;
    attr.attach_flags = BPF_F_ALLOW_MULTI;
    return (int)syscall(SYS_bpf, BPF_PROG_ATTACH, &attr, sizeof(attr));
}

int podrun_personality(unsigned long persona) { return personality(persona); }

int podrun_sched_setattr(unsigned int policy, unsigned long long flags, int nice, unsigned int priority,
                         unsigned long long runtime, unsigned long long deadline, unsigned long long period) {
    struct {
        uint32_t size;
        uint32_t sched_policy;
        uint64_t sched_flags;
        int32_t sched_nice;
        uint32_t sched_priority;
        uint64_t sched_runtime;
        uint64_t sched_deadline;
        uint64_t sched_period;
    } attr;
    memset(&attr, 0, sizeof(attr));
    attr.size = sizeof(attr);
    attr.sched_policy = policy;
    attr.sched_flags = flags;
    attr.sched_nice = nice;
    attr.sched_priority = priority;
    attr.sched_runtime = runtime;
    attr.sched_deadline = deadline;
    attr.sched_period = period;
    return (int)syscall(SYS_sched_setattr, 0, &attr, 0);
}

int podrun_ioprio_set(int value) { return (int)syscall(SYS_ioprio_set, 1, 0, value); }

int podrun_set_affinity(const int *cpus, int count) {
    cpu_set_t set;
    CPU_ZERO(&set);
    for (int i = 0; i < count; i++) {
        if (cpus[i] < 0 || cpus[i] >= CPU_SETSIZE) { errno = EINVAL; return -1; }
        CPU_SET(cpus[i], &set);
    }
    return sched_setaffinity(0, sizeof(set), &set);
}

int podrun_thread_count(void) {
    /* /proc/PID/task's link count is 2 plus the number of threads (the kernel's proc_task_getattr): one stat,
       where /proc/self/stat has the kernel gather every field of the process. */
    struct stat task;
    if (stat("/proc/self/task", &task) == 0 && task.st_nlink > 2) return (int)(task.st_nlink - 2);
    char buf[1024];
    int fd = open("/proc/self/stat", O_RDONLY | O_CLOEXEC);
    if (fd < 0) return -1;
    ssize_t n = read(fd, buf, sizeof(buf) - 1);
    close(fd);
    if (n <= 0) return -1;
    buf[n] = 0;
    char *p = strrchr(buf, ')');
    if (!p) return -1;
    /* after ") " come fields 3..; threads is field 20 */
    int field = 2;
    for (; *p && field < 20; p++) if (*p == ' ') field++;
    int threads = -1;
    if (sscanf(p, "%d", &threads) != 1) return -1;
    return threads;
}

long long podrun_filesystem_magic(const char *path) {
    struct statfs fs;
    if (statfs(path, &fs) != 0) return -1;
    return (long long)(unsigned long)fs.f_type;
}
