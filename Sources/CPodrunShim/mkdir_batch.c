// A batch of mkdirs (and the first writes to what they made) on a thread of their own: the runtime makes a
// container's v1 cgroup folders while it clones the container's process, which takes most of a millisecond
// (mostly the kernel making the network namespace).
#define _GNU_SOURCE
#include "podrun_shim.h"

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <sched.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

struct podrun_mkdir_batch {
    pthread_t thread;
    const char *const *paths;
    int *errors;
    int count;
    const struct podrun_folder_write *writes;
    int *write_errors;
    int write_count;
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
    return NULL;
}

struct podrun_mkdir_batch *podrun_mkdir_batch_start(const char *const *paths, int *errors, int count,
                                                    const struct podrun_folder_write *writes, int *write_errors,
                                                    int write_count) {
    struct podrun_mkdir_batch *batch = malloc(sizeof *batch);
    if (batch == NULL) return NULL;
    batch->paths = paths;
    batch->errors = errors;
    batch->count = count;
    batch->writes = writes;
    batch->write_errors = write_errors;
    batch->write_count = write_count;
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
