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
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

struct podrun_mkdir_batch {
    pthread_t thread;
    const char *const *paths;
    int *errors;
    int count;
    const struct podrun_folder_write *writes;
    int *write_errors;
    int write_count;
    const struct podrun_folder_handover *handover;
};

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
    const struct podrun_folder_handover *handover = batch->handover;
    if (handover == NULL) return NULL;
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
    batch->paths = paths;
    batch->errors = errors;
    batch->count = count;
    batch->writes = writes;
    batch->write_errors = write_errors;
    batch->write_count = write_count;
    batch->handover = handover;
    pthread_attr_t attributes;
    sigset_t all;
    sigfillset(&all);
    int rc = pthread_attr_init(&attributes);
    if (rc == 0) {
        // A small stack, and every signal blocked: no handler ever runs on this thread.
        pthread_attr_setstacksize(&attributes, 64 * 1024);
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
        free(batch);
        errno = rc;
        return NULL;
    }
    return batch;
}

void podrun_mkdir_batch_wait(struct podrun_mkdir_batch *batch) {
    pthread_join(batch->thread, NULL);
    free(batch);
}
