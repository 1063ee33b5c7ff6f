// A batch of mkdirs (and the first writes to what they made) on a thread of their own: the runtime makes a
// container's v1 cgroup folders while it clones the container's process, which takes most of a millisecond
// (mostly the kernel making the network namespace). Then descriptors of the folders for the container's process
// to join and mount them through: each `tasks` file opened, each folder's mount copied read-only.
#define _GNU_SOURCE
#include "podrun_shim.h"

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <linux/mount.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

struct podrun_mkdir_batch {
    pthread_t thread;
    const char *const *paths;
    int count;
    const struct podrun_folder_write *writes;
    int write_count;
    // The caller's arrays, filled from the thread's once it is joined.
    int *errors_out;
    int *write_errors_out;
    const struct podrun_folder_handover *handover_out;
    // The thread's own memory (its stack and what it writes), mapped apart and left out of any fork
    // (MADV_DONTFORK): a clone3 made meanwhile write-protects every page the two processes would share, and a
    // write of the thread's to one of those would be a copy-on-write fault with a TLB flush on the other CPU,
    // where the runtime is cloning (an IPI: 16 us a fault on this kind of host, against 2 without).
    void *memory;
    size_t memory_size;
    int *errors;
    int *write_errors;
    struct podrun_folder_handover handover;
    int has_handover;
};

enum { BATCH_STACK_SIZE = 64 * 1024 };

// Another file's content, trailing newlines dropped, in one write (a cpuset value copied from the parent).
static int copy_file(const struct podrun_folder_write *write_) {
    char buffer[4096];
    int source = open(write_->copy_from, O_RDONLY | O_CLOEXEC);
    if (source < 0) return errno;
    ssize_t length = read(source, buffer, sizeof buffer);
    int error = length < 0 ? errno : 0;
    close(source);
    if (error != 0) return error;
    while (length > 0 && buffer[length - 1] == '\n') length--;
    int fd = open(write_->file, O_WRONLY | O_CLOEXEC);
    if (fd < 0) return errno;
    ssize_t written = write(fd, buffer, (size_t)length);
    error = written < 0 ? errno : (written != length ? EIO : 0);
    close(fd);
    return error;
}

// One file: each line in a write of its own (cgroup files such as devices.allow take one rule per write).
static int write_lines(const struct podrun_folder_write *write_) {
    if (write_->copy_from != NULL) return copy_file(write_);
    int fd = open(write_->file, O_WRONLY | O_CLOEXEC);
    if (fd < 0) return errno;
    int error = 0;
    for (int i = 0; i < write_->line_count && error == 0; i++) {
        size_t length = strlen(write_->lines[i]);
        ssize_t written = write(fd, write_->lines[i], length);
        if (written < 0) error = errno;
        else if ((size_t)written != length) error = EIO;
    }
    close(fd);
    return error;
}

// The thread: mkdir(2), open, read, write and close, nothing else. It allocates nothing and takes no lock, so a clone3
// or fork that another thread makes meanwhile copies no lock it holds.
static void *make_folders(void *argument) {
    struct podrun_mkdir_batch *batch = argument;
    for (int i = 0; i < batch->count; i++) {
        batch->errors[i] = mkdir(batch->paths[i], 0755) == 0 ? 0 : errno;
    }
    for (int i = 0; i < batch->write_count; i++) {
        const struct podrun_folder_write *write_ = &batch->writes[i];
        int folder = write_->folder;
        int made = folder >= 0 && folder < batch->count && batch->errors[folder] == 0;
        batch->write_errors[i] = made ? write_lines(write_) : -1;
    }
    if (!batch->has_handover) return NULL;
    const struct podrun_folder_handover *handover = &batch->handover;
    for (int i = 0; i < batch->count; i++) {
        if (handover->opened != NULL) handover->opened[i] = -1;
        if (handover->trees != NULL) handover->trees[i] = -1;
        if (batch->errors[i] != 0 && batch->errors[i] != EEXIST) continue;
        if (handover->opened != NULL && handover->open_name != NULL) {
            char path[4096];
            int length = snprintf(path, sizeof path, "%s/%s", batch->paths[i], handover->open_name);
            if (length > 0 && (size_t)length < sizeof path) handover->opened[i] = open(path, O_WRONLY | O_CLOEXEC);
        }
        if (handover->trees != NULL) {
            int tree = (int)syscall(SYS_open_tree, AT_FDCWD, batch->paths[i], OPEN_TREE_CLONE | OPEN_TREE_CLOEXEC);
            if (tree < 0) continue;
            struct mount_attr attributes;
            memset(&attributes, 0, sizeof attributes);
            attributes.attr_set = handover->tree_set;
            attributes.attr_clr = handover->tree_clear;
            // As a bind made in the container's rslave mount namespace would be: a slave of the folder's mount
            // when that is shared, else private (a copy starts in its source's peer group).
            attributes.propagation = MS_SLAVE;
            if (syscall(SYS_mount_setattr, tree, "", AT_EMPTY_PATH, &attributes, sizeof attributes) != 0) {
                close(tree);
                continue;
            }
            handover->trees[i] = tree;
        }
    }
    return NULL;
}

struct podrun_mkdir_batch *podrun_mkdir_batch_start(const char *const *paths, int *errors, int count,
                                                    const struct podrun_folder_write *writes, int *write_errors,
                                                    int write_count, const struct podrun_folder_handover *handover) {
    struct podrun_mkdir_batch *batch = malloc(sizeof *batch);
    if (batch == NULL) return NULL;
    memset(batch, 0, sizeof *batch);
    batch->paths = paths;
    batch->count = count;
    batch->writes = writes;
    batch->write_count = write_count;
    batch->errors_out = errors;
    batch->write_errors_out = write_errors;
    batch->handover_out = handover;
    // The stack first, then the thread's result arrays: errors, write errors, opened files, mount copies.
    size_t page = (size_t)sysconf(_SC_PAGESIZE);
    size_t results = sizeof(int) * (size_t)(3 * count + write_count);
    batch->memory_size = BATCH_STACK_SIZE + (results + page - 1) / page * page;
    batch->memory = mmap(NULL, batch->memory_size, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_STACK,
                         -1, 0);
    if (batch->memory == MAP_FAILED) {
        int error = errno;
        free(batch);
        errno = error;
        return NULL;
    }
    madvise(batch->memory, batch->memory_size, MADV_DONTFORK);
    int *slots = (int *)((char *)batch->memory + BATCH_STACK_SIZE);
    batch->errors = slots;
    batch->write_errors = slots + count;
    if (handover != NULL) {
        batch->has_handover = 1;
        batch->handover = *handover;
        batch->handover.opened = handover->opened != NULL ? slots + count + write_count : NULL;
        batch->handover.trees = handover->trees != NULL ? slots + 2 * count + write_count : NULL;
    }
    pthread_attr_t attributes;
    sigset_t all;
    sigfillset(&all);
    int rc = pthread_attr_init(&attributes);
    if (rc == 0) {
        // Its own small stack, and every signal blocked: no handler ever runs on this thread.
        pthread_attr_setstack(&attributes, batch->memory, BATCH_STACK_SIZE);
        pthread_attr_setsigmask_np(&attributes, &all);
        // On another CPU than the caller's when there is one: the scheduler tends to queue a new thread behind
        // the one that made it, which would run it only once the clone it is meant to overlap is done.
        cpu_set_t allowed;
        int here = sched_getcpu();
        if (here >= 0 && sched_getaffinity(0, sizeof allowed, &allowed) == 0 && CPU_ISSET(here, &allowed)
            && CPU_COUNT(&allowed) > 1) {
            CPU_CLR(here, &allowed);
            pthread_attr_setaffinity_np(&attributes, sizeof allowed, &allowed);
        }
        rc = pthread_create(&batch->thread, &attributes, make_folders, batch);
        pthread_attr_destroy(&attributes);
    }
    if (rc != 0) {
        munmap(batch->memory, batch->memory_size);
        free(batch);
        errno = rc;
        return NULL;
    }
    return batch;
}

void podrun_mkdir_batch_wait(struct podrun_mkdir_batch *batch) {
    pthread_join(batch->thread, NULL);
    memcpy(batch->errors_out, batch->errors, sizeof(int) * (size_t)batch->count);
    memcpy(batch->write_errors_out, batch->write_errors, sizeof(int) * (size_t)batch->write_count);
    if (batch->has_handover) {
        for (int i = 0; i < batch->count; i++) {
            if (batch->handover.opened != NULL) batch->handover_out->opened[i] = batch->handover.opened[i];
            if (batch->handover.trees != NULL) batch->handover_out->trees[i] = batch->handover.trees[i];
        }
    }
    munmap(batch->memory, batch->memory_size);
    free(batch);
}
