// podrun's C shim: only what Swift cannot call directly (variadic syscalls and ioctls, CMSG macros,
// fork, makedev, a thread that runs while the runtime clones). Every function returns -1 and sets errno on
// failure, like the calls it wraps.
#ifndef PODRUN_SHIM_H
#define PODRUN_SHIM_H

#include <stdint.h>
#include <spawn.h>
#include <sys/types.h>
// Declarations Swift's Glibc module leaves out (fsetxattr, lsetxattr, lgetxattr, ...), for LinuxSys.
#include <sys/xattr.h>

/// fork(2). Only the single-threaded `podrun init` and exec helpers call it.
pid_t podrun_fork(void);
/// fork(2) as clone3(CLONE_INTO_CGROUP): the child starts in the cgroup v2 folder `cgroupfd`, with no migration
/// (which would wait for an RCU grace period). A raw syscall: glibc's fork bookkeeping (atfork handlers, the
/// thread's cached tid) is skipped, so only the single-threaded `podrun init` calls it.
pid_t podrun_clone_into_cgroup(int cgroupfd);
/// clone3(2) as a fork: the child starts in the new namespaces of `flags` (CLONE_NEW*) and, with `cgroupfd` >= 0, in
/// that cgroup v2 folder. A raw syscall like `podrun_clone_into_cgroup`: only a single-threaded caller may use it.
pid_t podrun_clone3(uint64_t flags, int cgroupfd);
int podrun_unshare(int flags);
struct podrun_mkdir_batch;
/// Descriptors a batch makes of its folders for another process, one per folder (-1 where none was made; the
/// arrays hold as many as the batch has folders): with `opened`, the file `open_name` opened write-only; with
/// `trees`, a detached copy of the folder's mount (open_tree(2) OPEN_TREE_CLONE, not recursive) given the
/// attributes `tree_set` and `tree_clear` and slave propagation (mount_setattr(2)). All close-on-exec.
struct podrun_folder_handover {
    const char *open_name;
    int *opened;
    int *trees;
    uint64_t tree_set;
    uint64_t tree_clear;
};
/// A file to write in a folder that a batch makes, only when the batch's mkdir of folder number `folder` made it:
/// each line in a write of its own, or, when `copy_from` is not NULL, that file's content (up to 4 KiB, its
/// trailing newlines dropped) in one write.
struct podrun_folder_write {
    int folder;
    const char *file;
    const char *const *lines;
    int line_count;
    const char *copy_from;
};
/// Starts a thread that makes each folder of `paths` (mkdir, mode 0755), putting its errno (0 when made) in
/// `errors`, then does `writes`, putting each one's errno (0 when written, -1 when its folder was not made) in
/// `write_errors`; then, with `handover`, what it asks for in each folder that it made or found there. The thread
/// writes into memory of its own, which no fork copies; `podrun_mkdir_batch_wait` copies its results into `errors`,
/// `write_errors` and the handover's arrays. Everything must stay valid until then. The thread does nothing else
/// (no allocation, no lock), so that the caller may clone3 meanwhile. NULL with errno when no thread could start.
struct podrun_mkdir_batch *podrun_mkdir_batch_start(const char *const *paths, int *errors, int count,
                                                    const struct podrun_folder_write *writes, int *write_errors,
                                                    int write_count, const struct podrun_folder_handover *handover);
/// Waits for the batch's thread to end, copies its results to the caller's arrays and frees the batch.
void podrun_mkdir_batch_wait(struct podrun_mkdir_batch *batch);
/// The filesystem type (statfs's f_type magic number) of what `path` is on; -1 with errno on failure. Glibc's
/// Swift module leaves statfs out.
long long podrun_filesystem_magic(const char *path);
int podrun_setns(int fd, int nstype);
int podrun_pivot_root(const char *new_root, const char *put_old);
int podrun_mount(const char *source, const char *target, const char *fstype, unsigned long flags, const char *data);
int podrun_umount2(const char *target, int flags);
/// openat2(2) with the given resolve flags (RESOLVE_IN_ROOT, RESOLVE_NO_MAGICLINKS, ...).
int podrun_openat2(int dirfd, const char *path, uint64_t flags, uint64_t mode, uint64_t resolve);
int podrun_close_range(unsigned int first, unsigned int last, unsigned int flags);
int podrun_mknodat(int dirfd, const char *path, mode_t mode, unsigned int major, unsigned int minor);
unsigned int podrun_major(uint64_t dev);
unsigned int podrun_minor(uint64_t dev);
int podrun_prctl(int option, unsigned long a2, unsigned long a3, unsigned long a4, unsigned long a5);
int podrun_setrlimit(int resource, uint64_t soft, uint64_t hard);
int podrun_setgroups(size_t count, const gid_t *gids);
int podrun_setresuid(uid_t r, uid_t e, uid_t s);
int podrun_setresgid(gid_t r, gid_t e, gid_t s);
int podrun_pidfd_open(pid_t pid);
int podrun_pidfd_send_signal(int pidfd, int sig);
int podrun_sethostname(const char *name, size_t len);
int podrun_setdomainname(const char *name, size_t len);
/// Loads a classic BPF seccomp program (compiled in the parent) with the seccomp(2) flags.
int podrun_seccomp_load(const void *filter, size_t instructions, unsigned int flags);

/// Sends one fd with a one-byte payload over a unix socket (SCM_RIGHTS).
int podrun_send_fd(int sock, int fd);
/// Sends `length` bytes as one message with `count` descriptors (at most 64; SCM_RIGHTS); bytes sent or -1.
long podrun_send_with_fds(int sock, const void *bytes, size_t length, const int *fds, int count);
/// Receives one message of at most `length` bytes and the descriptors that came with it (close-on-exec; up to
/// `max` into `fds`, `*count` of them, the others closed); bytes received (0 at end of stream) or -1.
long podrun_recv_with_fds(int sock, void *bytes, size_t length, int *fds, int max, int *count);
/// Receives one fd sent with `podrun_send_fd`; returns the fd.
int podrun_recv_fd(int sock);

/// The controlling-terminal and pty ioctls.
int podrun_ioctl_set_ctty(int fd);
int podrun_ioctl_ptsnum(int fd, unsigned int *num);
int podrun_ioctl_unlock_pt(int fd);
int podrun_ioctl_get_winsize(int fd, unsigned short *rows, unsigned short *cols);
int podrun_ioctl_set_winsize(int fd, unsigned short rows, unsigned short cols);

/// memfd_create(2) with MFD_CLOEXEC (and MFD_ALLOW_SEALING when `sealable`).
int podrun_memfd(const char *name, int sealable);
/// Seals a memfd against writes, growth and shrinking.
int podrun_seal_readonly(int fd);

/// posix_spawn_file_actions_addclosefrom_np (a GNU extension the Swift importer does not see).
int podrun_spawn_addclosefrom(posix_spawn_file_actions_t *actions, int from);

/// A close-on-exec signalfd for every catchable signal (they must be blocked by the caller).
int podrun_signalfd_all(void);
/// Reads one signal from a signalfd; returns its number, or -1.
int podrun_signalfd_read(int fd);

/// Whether the file behind `fd` has the immutable attribute (FS_IMMUTABLE_FL): 1, 0, or -1 on error.
int podrun_is_immutable(int fd);
/// Copies `count` bytes from `in` to `out` with sendfile(2); returns bytes copied or -1.
long podrun_sendfile(int out, int in, size_t count);

/// mount_setattr(2) on the mount `fd` refers to, recursively, setting and clearing MOUNT_ATTR_* bits.
int podrun_mount_setattr_recursive(int fd, uint64_t set, uint64_t clear);

/// move_mount(2) of the mount `from` refers to (a detached tree, say) onto `to_path` under `to_directory`.
int podrun_move_mount(int from, int to_directory, const char *to_path);
/// Loads a BPF_PROG_TYPE_CGROUP_DEVICE program of `count` 8-byte instructions; returns its fd. On a
/// verifier error, its log is written to `log` (of `log_size` bytes).
int podrun_bpf_load_device_program(const void *instructions, unsigned int count, char *log, unsigned int log_size);
/// Attaches a device program to the cgroup2 folder `cgroup_fd` (BPF_CGROUP_DEVICE, BPF_F_ALLOW_MULTI).
int podrun_bpf_attach_device_program(int cgroup_fd, int program_fd);

/// personality(2).
int podrun_personality(unsigned long persona);
/// sched_setattr(2) for this process.
int podrun_sched_setattr(unsigned int policy, unsigned long long flags, int nice, unsigned int priority,
                         unsigned long long runtime, unsigned long long deadline, unsigned long long period);
/// ioprio_set(IOPRIO_WHO_PROCESS, 0, value).
int podrun_ioprio_set(int value);
/// sched_setaffinity(2) of this process to the `count` CPUs in `cpus`.
int podrun_set_affinity(const int *cpus, int count);

/// Number of threads of this process (from /proc/self/stat's field 20), or -1.
int podrun_thread_count(void);

#endif
