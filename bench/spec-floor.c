/*
 * spec-floor: the kernel work any runtime must do to run runc's default spec (`runc spec`, with
 * process.args ["/bin/true"] and terminal false), and nothing else: no config parsing, no state
 * folder, no sync protocol, no intermediate process, no Swift or Go start-up. The bench times it
 * next to `podrun run` so that the difference is podrun's own cost.
 *
 *   spec-floor <rootfs>        (an absolute path; the bench passes its bundle's rootfs)
 *
 * The spec is hardcoded. The steps follow a runtime's order (podrun's Runtime, ContainerInit,
 * RootfsBuilder and ProcessSetup; runc's libcontainer does the same work):
 *
 *   parent   find the cgroup hierarchies (/proc/self/mountinfo) and our cgroup in each
 *            (/proc/self/cgroup); mkdir the container's folder in each, copy cpuset.cpus/mems
 *            down, write the device rules; open the v2 folder
 *   clone3   CLONE_NEWNS|NEWPID|NEWNET|NEWIPC|NEWUTS|CLONE_INTO_CGROUP
 *   child    join the v1 hierarchies ("0" to each `tasks`), setsid, mount namespace and rootfs,
 *            the spec's mounts, /dev, pivot_root, read-only root, hostname, read-only and masked
 *            paths, rlimits, no_new_privs, capabilities, user, execve /bin/true
 *   parent   wait, rmdir the cgroup folders, exit with the child's status
 *
 * Every failed syscall is reported (which one, on what) and ends the run with status 1: a floor
 * that skips work silently would measure nothing. Nothing is left behind: the cgroup folders
 * (named after our pid) are removed on every path out of the parent, and the mounts live in the
 * child's mount namespace, which goes with it.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <limits.h>
#include <linux/capability.h>
#include <sched.h>
#include <signal.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/sysmacros.h>
#include <sys/wait.h>
#include <unistd.h>

#ifndef CLONE_INTO_CGROUP
#define CLONE_INTO_CGROUP 0x200000000ULL
#endif
#ifndef CLOSE_RANGE_CLOEXEC
#define CLOSE_RANGE_CLOEXEC (1U << 2)
#endif

/* clone3's argument, as in <linux/sched.h> (not included: its CLONE_* clash with glibc's). */
struct clone_args_v2 {
    uint64_t flags, pidfd, child_tid, parent_tid, exit_signal, stack, stack_size, tls;
    uint64_t set_tid, set_tid_size, cgroup;
};

/* One mounted cgroup hierarchy and the container's folder in it. */
struct hierarchy {
    char mount_point[PATH_MAX]; /* /sys/fs/cgroup/memory */
    char name[NAME_MAX + 1];    /* memory: the folder under the container's /sys/fs/cgroup */
    char options[512];          /* the super options: rw,memory */
    int unified;                /* the cgroup2 hierarchy (controller-less on this hybrid host) */
    char dir[PATH_MAX];         /* the container's folder */
    int made;                   /* whether we made it (and must remove it) */
};

static struct hierarchy hierarchies[32];
static int hierarchy_count;
static int is_child;

static void remove_cgroups(void);

/* Reports a failed syscall and ends the run; in the parent, first removes what it made. */
static void die(const char *what, const char *path) {
    int e = errno;
    fprintf(stderr, "spec-floor: %s%s%s: %s\n", what, path ? " " : "", path ? path : "", strerror(e));
    if (!is_child) remove_cgroups();
    _exit(1);
}

static void check(int rc, const char *what, const char *path) {
    if (rc < 0) die(what, path);
}

/* Reads a small file (a /proc or cgroup file) into buf, NUL-terminated. */
static void read_file(const char *path, char *buf, size_t size) {
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    check(fd, "open", path);
    size_t used = 0;
    for (;;) {
        ssize_t n = read(fd, buf + used, size - 1 - used);
        check((int)n, "read", path);
        if (n == 0 || used + (size_t)n >= size - 1) {
            used += (size_t)n;
            break;
        }
        used += (size_t)n;
    }
    buf[used] = 0;
    close(fd);
}

/* Writes each of `lines` (NULL-terminated) to path, one write each, through one descriptor: a cgroup
 * control file takes one value per write. */
static void write_lines(const char *path, const char *const *lines) {
    int fd = open(path, O_WRONLY | O_CLOEXEC);
    check(fd, "open", path);
    for (; *lines; lines++) {
        size_t len = strlen(*lines);
        if (write(fd, *lines, len) != (ssize_t)len) die("write", path);
    }
    close(fd);
}

static void write_file(const char *path, const char *text) {
    const char *lines[] = {text, NULL};
    write_lines(path, lines);
}

/* Formats a path into out; a path too long for it is a failure like any other. */
static void format_path(char *out, size_t size, const char *format, ...) {
    va_list args;
    va_start(args, format);
    int n = vsnprintf(out, size, format, args);
    va_end(args);
    if (n < 0 || (size_t)n >= size) {
        errno = ENAMETOOLONG;
        die("path too long:", format);
    }
}

static void join(char *out, size_t size, const char *a, const char *b) {
    format_path(out, size, "%s%s", a, b);
}

/* Whether comma-separated `list` holds `item`. */
static int list_contains(const char *list, const char *item, size_t item_len) {
    for (const char *p = list; *p;) {
        const char *end = strchrnul(p, ',');
        if ((size_t)(end - p) == item_len && strncmp(p, item, item_len) == 0) return 1;
        p = *end ? end + 1 : end;
    }
    return 0;
}

/* ---- parent: the container's cgroup (podrun's CgroupV1Manager.create/set, runc's fs manager) ---- */

/* The cgroup hierarchies mounted under /sys/fs/cgroup, from /proc/self/mountinfo, and the container's
 * folder in each: our own cgroup there (from /proc/self/cgroup) plus "spec-floor-<pid>", as runc and
 * podrun place a container without a cgroupsPath below the caller's cgroup. */
static void find_hierarchies(void) {
    static char mountinfo[65536], own[8192];
    const int pid = (int)getpid();
    read_file("/proc/self/mountinfo", mountinfo, sizeof mountinfo);
    read_file("/proc/self/cgroup", own, sizeof own);
    for (char *line = mountinfo, *next; *line; line = next) {
        next = strchrnul(line, '\n');
        if (*next) *next++ = 0;
        /* "ID PARENT MAJ:MIN ROOT MOUNTPOINT OPTIONS [OPTIONAL...] - FSTYPE SOURCE SUPEROPTIONS" */
        char mount_point[PATH_MAX], fstype[32], source[64], options[512];
        const char *dash = strstr(line, " - ");
        if (!dash || sscanf(line, "%*s %*s %*s %*s %4095s", mount_point) != 1) continue;
        if (sscanf(dash + 3, "%31s %63s %511s", fstype, source, options) != 3) continue;
        int unified = strcmp(fstype, "cgroup2") == 0;
        if (!unified && strcmp(fstype, "cgroup") != 0) continue;
        if (strncmp(mount_point, "/sys/fs/cgroup/", 15) != 0 && strcmp(mount_point, "/sys/fs/cgroup") != 0) continue;
        if (hierarchy_count == (int)(sizeof hierarchies / sizeof hierarchies[0])) break;
        struct hierarchy *h = &hierarchies[hierarchy_count++];
        memset(h, 0, sizeof *h);
        strcpy(h->mount_point, mount_point);
        strcpy(h->options, options);
        snprintf(h->name, sizeof h->name, "%s", strrchr(mount_point, '/') + 1);
        h->unified = unified;
    }
    /* Our cgroup in each: lines "ID:CONTROLLERS:PATH"; v2 is "0::PATH". */
    for (int i = 0; i < hierarchy_count; i++) {
        struct hierarchy *h = &hierarchies[i];
        const char *path = NULL;
        size_t path_len = 0;
        for (const char *line = own; *line;) {
            const char *end = strchrnul(line, '\n');
            const char *c1 = memchr(line, ':', (size_t)(end - line));
            const char *c2 = c1 ? memchr(c1 + 1, ':', (size_t)(end - c1 - 1)) : NULL;
            if (c2) {
                int matches;
                if (h->unified) {
                    matches = c2 == c1 + 1 && strncmp(line, "0:", 2) == 0;
                } else {
                    /* Every controller of the line is among the mount's super options. */
                    matches = c2 > c1 + 1;
                    for (const char *p = c1 + 1; matches && p < c2;) {
                        const char *comma = memchr(p, ',', (size_t)(c2 - p));
                        const char *item_end = comma ? comma : c2;
                        matches = list_contains(h->options, p, (size_t)(item_end - p));
                        p = item_end + 1;
                    }
                }
                if (matches) {
                    path = c2 + 1;
                    path_len = (size_t)(end - path);
                    break;
                }
            }
            line = *end ? end + 1 : end;
        }
        if (!path) {
            errno = ENOENT;
            die("find our cgroup (/proc/self/cgroup) in", h->mount_point);
        }
        if (path_len == 1) path_len = 0; /* "/" */
        format_path(h->dir, sizeof h->dir, "%s%.*s/spec-floor-%d", h->mount_point, (int)path_len, path, pid);
    }
    if (hierarchy_count == 0) {
        errno = ENOENT;
        die("find cgroup hierarchies in", "/proc/self/mountinfo");
    }
}

/* mkdir the container's folder in every hierarchy; a new v1 cpuset starts empty and takes no task, so
 * its cpus and mems are copied down from the parent (podrun and runc do the same). */
static void make_cgroups(void) {
    for (int i = 0; i < hierarchy_count; i++) {
        struct hierarchy *h = &hierarchies[i];
        check(mkdir(h->dir, 0755), "mkdir", h->dir);
        h->made = 1;
        if (!h->unified && list_contains(h->options, "cpuset", 6)) {
            char parent[PATH_MAX], from[PATH_MAX], to[PATH_MAX], value[4096];
            snprintf(parent, sizeof parent, "%s", h->dir);
            *strrchr(parent, '/') = 0;
            const char *files[] = {"/cpuset.cpus", "/cpuset.mems"};
            for (int f = 0; f < 2; f++) {
                join(from, sizeof from, parent, files[f]);
                join(to, sizeof to, h->dir, files[f]);
                read_file(from, value, sizeof value);
                value[strcspn(value, "\n")] = 0;
                write_file(to, value);
            }
        }
    }
}

/* linux.resources.devices of runc's spec ("deny all") and the devices runc always allows, on v1:
 * podrun's DeviceRules.runcAllowed. runc's default spec sets no other resource (no memory, pids or cpu
 * limits), so there is nothing else to write. */
static void write_device_rules(void) {
    static const char *const allow[] = {
        "c *:* m", "b *:* m", "c 1:3 rwm", "c 1:8 rwm", "c 1:7 rwm", "c 5:0 rwm",
        "c 1:5 rwm", "c 1:9 rwm", "c 136:* rwm", "c 5:2 rwm", "c 10:200 rwm", NULL,
    };
    for (int i = 0; i < hierarchy_count; i++) {
        struct hierarchy *h = &hierarchies[i];
        if (h->unified || !list_contains(h->options, "devices", 7)) continue;
        char path[PATH_MAX];
        join(path, sizeof path, h->dir, "/devices.deny");
        write_file(path, "a *:* rwm");
        join(path, sizeof path, h->dir, "/devices.allow");
        write_lines(path, allow);
    }
}

/* podrun delete / runc delete: the folders go once the container's last process has been reaped. */
static void remove_cgroups(void) {
    for (int i = hierarchy_count - 1; i >= 0; i--) {
        if (!hierarchies[i].made) continue;
        hierarchies[i].made = 0;
        if (rmdir(hierarchies[i].dir) < 0) {
            fprintf(stderr, "spec-floor: rmdir %s: %s\n", hierarchies[i].dir, strerror(errno));
            _exit(1);
        }
    }
}

/* ---- child: the container's process (podrun's ContainerInit.containerProcess) ---- */

/* Joins the v1 hierarchies: a single-threaded process writes "0" (itself) to each `tasks`, which takes
 * no thread-group lock (see bench/README.md, "Floors"). The v2 one it was born into (CLONE_INTO_CGROUP). */
static void join_cgroups(int into_unified_too) {
    for (int i = 0; i < hierarchy_count; i++) {
        struct hierarchy *h = &hierarchies[i];
        char path[PATH_MAX];
        if (h->unified && !into_unified_too) continue;
        join(path, sizeof path, h->dir, h->unified ? "/cgroup.procs" : "/tasks");
        write_file(path, "0");
    }
}

static void do_mount(const char *source, const char *target, const char *type, unsigned long flags,
                     const char *data) {
    if (mount(source, target, type, flags, data) < 0) {
        char what[64];
        snprintf(what, sizeof what, "mount %s on", type ? type : source ? source : "(remount)");
        die(what, target);
    }
}

static void make_dir(const char *path) {
    check(mkdir(path, 0755), "mkdir", path);
}

/* RootfsBuilder.init: the mount namespace's propagation (runc's default: rslave), the rootfs bound onto
 * itself (pivot_root needs a mount point). */
static void prepare_rootfs(const char *rootfs) {
    do_mount(NULL, "/", NULL, MS_SLAVE | MS_REC, NULL);
    do_mount(rootfs, rootfs, NULL, MS_BIND | MS_REC, NULL);
}

/* RootfsBuilder.mountAll: the spec's `mounts`, in order. The rootfs has /proc, /dev and /sys; the
 * folders inside the fresh /dev and /sys/fs/cgroup tmpfs are made. */
static void mount_spec(const char *rootfs) {
    char path[PATH_MAX];
    join(path, sizeof path, rootfs, "/proc");
    do_mount("proc", path, "proc", 0, NULL);
    join(path, sizeof path, rootfs, "/dev");
    do_mount("tmpfs", path, "tmpfs", MS_NOSUID | MS_STRICTATIME, "mode=755,size=65536k");
    join(path, sizeof path, rootfs, "/dev/pts");
    make_dir(path);
    do_mount("devpts", path, "devpts", MS_NOSUID | MS_NOEXEC, "newinstance,ptmxmode=0666,mode=0620,gid=5");
    join(path, sizeof path, rootfs, "/dev/shm");
    make_dir(path);
    do_mount("shm", path, "tmpfs", MS_NOSUID | MS_NOEXEC | MS_NODEV, "mode=1777,size=65536k");
    join(path, sizeof path, rootfs, "/dev/mqueue");
    make_dir(path);
    do_mount("mqueue", path, "mqueue", MS_NOSUID | MS_NOEXEC | MS_NODEV, NULL);
    join(path, sizeof path, rootfs, "/sys");
    do_mount("sysfs", path, "sysfs", MS_RDONLY | MS_NOSUID | MS_NOEXEC | MS_NODEV, NULL);

    /* /sys/fs/cgroup, type cgroup, options nosuid,noexec,nodev,relatime,ro, without a cgroup namespace
     * on a v1 (hybrid) host: a tmpfs holding, per v1 hierarchy, a read-only bind of the container's own
     * folder (RootfsBuilder.mountCgroups; runc's mountCgroupV1). The v2 hierarchy of a hybrid host is not
     * mounted (as runc). A hierarchy with comounted controllers (cpu,cpuacct) gets a symlink per
     * controller, as runc makes them. Then the tmpfs itself goes read-only. */
    const unsigned long flags = MS_NOSUID | MS_NODEV | MS_NOEXEC | MS_RELATIME;
    char cgroup_root[PATH_MAX];
    join(cgroup_root, sizeof cgroup_root, rootfs, "/sys/fs/cgroup");
    do_mount("tmpfs", cgroup_root, "tmpfs", flags, "mode=755");
    for (int i = 0; i < hierarchy_count; i++) {
        struct hierarchy *h = &hierarchies[i];
        if (h->unified) continue;
        format_path(path, sizeof path, "%s/%s", cgroup_root, h->name);
        make_dir(path);
        do_mount(h->dir, path, NULL, MS_BIND, NULL);
        do_mount(NULL, path, NULL, MS_REMOUNT | MS_BIND | MS_RDONLY | flags, NULL);
        if (strchr(h->name, ',')) {
            for (const char *p = h->name; *p;) {
                const char *end = strchrnul(p, ',');
                char link[PATH_MAX];
                format_path(link, sizeof link, "%s/%.*s", cgroup_root, (int)(end - p), p);
                check(symlink(h->name, link), "symlink", link);
                p = *end ? end + 1 : end;
            }
        }
    }
    do_mount(NULL, cgroup_root, NULL, MS_REMOUNT | MS_BIND | MS_RDONLY | flags, NULL);
}

/* RootfsBuilder.makeDevices: runc's default devices in the private /dev (mode 0666, root-owned: the
 * child's umask is 0 here, so no chmod/chown is needed), its /dev symlinks, and /dev/ptmx pointing at the
 * devpts instance. */
static void make_devices(const char *rootfs) {
    static const struct { const char *name; unsigned major, minor; } devices[] = {
        {"null", 1, 3}, {"zero", 1, 5}, {"full", 1, 7}, {"random", 1, 8}, {"urandom", 1, 9}, {"tty", 5, 0},
    };
    static const struct { const char *target, *name; } links[] = {
        {"/proc/self/fd", "fd"}, {"/proc/self/fd/0", "stdin"}, {"/proc/self/fd/1", "stdout"},
        {"/proc/self/fd/2", "stderr"}, {"pts/ptmx", "ptmx"},
    };
    char dev[PATH_MAX];
    join(dev, sizeof dev, rootfs, "/dev");
    int dir = open(dev, O_PATH | O_DIRECTORY | O_CLOEXEC);
    check(dir, "open", dev);
    for (size_t i = 0; i < sizeof devices / sizeof devices[0]; i++) {
        if (mknodat(dir, devices[i].name, S_IFCHR | 0666, makedev(devices[i].major, devices[i].minor)) < 0)
            die("mknod /dev/", devices[i].name);
    }
    /* /dev/core only where the host has /proc/kcore (runc). */
    if (access("/proc/kcore", F_OK) == 0) check(symlinkat("/proc/kcore", dir, "core"), "symlink", "/dev/core");
    for (size_t i = 0; i < sizeof links / sizeof links[0]; i++) {
        if (symlinkat(links[i].target, dir, links[i].name) < 0) die("symlink /dev/", links[i].name);
    }
    close(dir);
}

/* RootfsBuilder.enterRoot: pivot_root into the rootfs, then detach the old root (made a slave first so
 * that the unmount does not propagate to the host). */
static void enter_root(const char *rootfs) {
    int old_root = open("/", O_DIRECTORY | O_RDONLY | O_CLOEXEC);
    check(old_root, "open", "/");
    int new_root = open(rootfs, O_DIRECTORY | O_RDONLY | O_CLOEXEC);
    check(new_root, "open", rootfs);
    check(fchdir(new_root), "fchdir", rootfs);
    check((int)syscall(SYS_pivot_root, ".", "."), "pivot_root", rootfs);
    check(fchdir(old_root), "fchdir", "(old root)");
    do_mount(NULL, ".", NULL, MS_SLAVE | MS_REC, NULL);
    check(umount2(".", MNT_DETACH), "umount2", "(old root)");
    check(chdir("/"), "chdir", "/");
    close(new_root);
    close(old_root);
}

/* RootfsBuilder.protectPaths: linux.readonlyPaths (bound onto themselves, then read-only) and
 * linux.maskedPaths (a folder under a read-only tmpfs, a file under /dev/null). Paths the kernel does not
 * have are skipped, as runc and podrun skip them; every other failure is one. */
static void protect_paths(void) {
    static const char *const readonly[] = {"/proc/bus", "/proc/fs", "/proc/irq", "/proc/sys", "/proc/sysrq-trigger"};
    static const char *const masked[] = {
        "/proc/acpi", "/proc/asound", "/proc/kcore", "/proc/keys", "/proc/latency_stats",
        "/proc/timer_list", "/proc/timer_stats", "/proc/sched_debug", "/sys/firmware", "/proc/scsi",
    };
    struct stat st;
    for (size_t i = 0; i < sizeof readonly / sizeof readonly[0]; i++) {
        if (lstat(readonly[i], &st) < 0) {
            if (errno == ENOENT) continue;
            die("stat", readonly[i]);
        }
        do_mount(readonly[i], readonly[i], NULL, MS_BIND | MS_REC, NULL);
        do_mount(NULL, readonly[i], NULL, MS_REMOUNT | MS_BIND | MS_RDONLY, NULL);
    }
    for (size_t i = 0; i < sizeof masked / sizeof masked[0]; i++) {
        if (stat(masked[i], &st) < 0) {
            if (errno == ENOENT) continue;
            die("stat", masked[i]);
        }
        if (S_ISDIR(st.st_mode))
            do_mount("tmpfs", masked[i], "tmpfs", MS_RDONLY, NULL);
        else
            do_mount("/dev/null", masked[i], NULL, MS_BIND, NULL);
    }
}

/* ProcessSetup.prepare and Capabilities.finalize: process.rlimits, cwd, noNewPrivileges, the bounding set
 * (every capability but the spec's three dropped), user 0:0 without additional groups, then the
 * effective and permitted sets. The spec's ambient set cannot be raised: the capabilities are not
 * inheritable (the spec has no inheritable set), so the kernel refuses with EPERM, which runc and podrun
 * ignore; the floor makes the same calls and accepts only that error. */
static void set_up_process(int last_cap) {
    static const int kept[] = {CAP_AUDIT_WRITE, CAP_KILL, CAP_NET_BIND_SERVICE};
    struct rlimit nofile = {1024, 1024};
    check(setrlimit(RLIMIT_NOFILE, &nofile), "setrlimit", "RLIMIT_NOFILE");
    check(chdir("/"), "chdir", "/");
    check(prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0), "prctl", "PR_SET_NO_NEW_PRIVS");
    for (int cap = 0; cap <= last_cap; cap++) {
        if (cap == kept[0] || cap == kept[1] || cap == kept[2]) continue;
        if (prctl(PR_CAPBSET_DROP, cap, 0, 0, 0) < 0) {
            char name[16];
            snprintf(name, sizeof name, "%d", cap);
            die("prctl PR_CAPBSET_DROP", name);
        }
    }
    check(setgroups(0, NULL), "setgroups", NULL);
    check(setresgid(0, 0, 0), "setresgid", "0");
    check(setresuid(0, 0, 0), "setresuid", "0");
    struct __user_cap_header_struct header = {_LINUX_CAPABILITY_VERSION_3, 0};
    struct __user_cap_data_struct data[2];
    memset(data, 0, sizeof data);
    for (int i = 0; i < 3; i++) {
        data[kept[i] / 32].effective |= 1U << (kept[i] % 32);
        data[kept[i] / 32].permitted |= 1U << (kept[i] % 32);
    }
    check((int)syscall(SYS_capset, &header, data), "capset", NULL);
    check(prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_CLEAR_ALL, 0, 0, 0), "prctl", "PR_CAP_AMBIENT_CLEAR_ALL");
    for (int i = 0; i < 3; i++) {
        if (prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_RAISE, kept[i], 0, 0) < 0 && errno != EPERM)
            die("prctl", "PR_CAP_AMBIENT_RAISE");
    }
    umask(022);
    check((int)syscall(SYS_close_range, 3U, ~0U, CLOSE_RANGE_CLOEXEC), "close_range", NULL);
}

static void container_process(const char *rootfs, int last_cap, int into_unified_too) {
    is_child = 1;
    umask(0);
    join_cgroups(into_unified_too);
    check(setsid(), "setsid", NULL);
    prepare_rootfs(rootfs);
    mount_spec(rootfs);
    make_devices(rootfs);
    enter_root(rootfs);
    do_mount(NULL, "/", NULL, MS_REMOUNT | MS_BIND | MS_RDONLY, NULL); /* root.readonly */
    check(sethostname("runc", 4), "sethostname", "runc");               /* hostname */
    protect_paths();
    set_up_process(last_cap);
    char *const argv[] = {"/bin/true", NULL};
    char *const envp[] = {"PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin", "TERM=xterm", NULL};
    execve(argv[0], argv, envp);
    die("execve", argv[0]);
}

int main(int argc, char **argv) {
    if (argc != 2 || argv[1][0] != '/') {
        fprintf(stderr, "usage: spec-floor <rootfs> (an absolute path)\n");
        return 2;
    }
    const char *rootfs = argv[1];

    /* The capabilities the kernel knows, to drop from the bounding set all but the spec's. */
    char text[32];
    read_file("/proc/sys/kernel/cap_last_cap", text, sizeof text);
    int last_cap = atoi(text);

    find_hierarchies();
    make_cgroups();
    write_device_rules();
    int unified = -1;
    for (int i = 0; i < hierarchy_count; i++) {
        if (!hierarchies[i].unified) continue;
        unified = open(hierarchies[i].dir, O_PATH | O_DIRECTORY | O_CLOEXEC);
        check(unified, "open", hierarchies[i].dir);
    }

    /* The container's process, in its new namespaces (runc's spec: pid, network, ipc, uts, mount) and
     * born in the v2 folder. A kernel without clone3 or CLONE_INTO_CGROUP (before 5.7) gets a clone with
     * the namespaces, and the child moves itself into the v2 folder. */
    const uint64_t namespaces = CLONE_NEWNS | CLONE_NEWPID | CLONE_NEWNET | CLONE_NEWIPC | CLONE_NEWUTS;
    struct clone_args_v2 args;
    memset(&args, 0, sizeof args);
    args.flags = namespaces | (unified >= 0 ? CLONE_INTO_CGROUP : 0);
    args.exit_signal = SIGCHLD;
    args.cgroup = unified >= 0 ? (uint64_t)unified : 0;
    int into_unified_too = 0;
    pid_t pid = (pid_t)syscall(SYS_clone3, &args, sizeof args);
    if (pid < 0 && (errno == ENOSYS || errno == E2BIG || errno == EINVAL)) {
        into_unified_too = unified >= 0;
        pid = (pid_t)syscall(SYS_clone, (unsigned long)namespaces | SIGCHLD, NULL, NULL, NULL, 0UL);
    }
    check(pid, "clone3", NULL);
    if (pid == 0) container_process(rootfs, last_cap, into_unified_too);
    if (unified >= 0) close(unified);

    /* Wait for it, then delete the container: its cgroup folders. */
    int status;
    while (waitpid(pid, &status, 0) < 0) {
        if (errno != EINTR) die("waitpid", NULL);
    }
    remove_cgroups();
    if (WIFEXITED(status)) return WEXITSTATUS(status);
    return 128 + WTERMSIG(status);
}
