/* lock.c - open-file-description locks on lock files (see lock.h). */
#define _GNU_SOURCE /* F_OFD_SETLK, F_OFD_SETLKW */
#include "engine/lock.h"

#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <unistd.h>

/* Opens path and sets the lock with cmd; *held false (and nothing open) when cmd is
 * F_OFD_SETLK and another description holds it. */
static pl_status take(const char *path, int cmd, pl_lock *lock, bool *held, pl_error *err) {
    lock->fd = -1;
    *held = false;
    int fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0644);
    if (fd < 0)
        return PL_ERROR(err, PL_ERR_IO, "cannot open the lock file %s: %s", path, strerror(errno));
    struct flock fl;
    memset(&fl, 0, sizeof fl); /* l_pid must be 0 for OFD locks */
    fl.l_type = F_WRLCK;
    fl.l_whence = SEEK_SET; /* l_start = l_len = 0: the whole file */
    int rc;
    do rc = fcntl(fd, cmd, &fl);
    while (rc != 0 && errno == EINTR);
    if (rc == 0) {
        lock->fd = fd;
        *held = true;
        return PL_OK;
    }
    int saved = errno;
    close(fd);
    if (cmd == F_OFD_SETLK && (saved == EAGAIN || saved == EACCES)) return PL_OK;
    return PL_ERROR(err, PL_ERR_IO, "cannot lock %s: %s (the file system must support fcntl "
                    "open-file-description locks)", path, strerror(saved));
}

pl_status pl_lock_try(const char *path, pl_lock *lock, bool *held, pl_error *err) {
    return take(path, F_OFD_SETLK, lock, held, err);
}

pl_status pl_lock_wait(const char *path, pl_lock *lock, pl_error *err) {
    bool held;
    return take(path, F_OFD_SETLKW, lock, &held, err);
}

pl_status pl_lock_query(const char *path, bool *held, pl_error *err) {
    *held = false;
    int fd = open(path, O_RDONLY | O_NONBLOCK | O_CLOEXEC); /* a FIFO must not block status */
    if (fd < 0) {
        if (errno == ENOENT) return PL_OK;
        return PL_ERROR(err, PL_ERR_IO, "cannot open the lock file %s: %s", path, strerror(errno));
    }
    struct flock fl;
    memset(&fl, 0, sizeof fl);
    fl.l_type = F_WRLCK;
    fl.l_whence = SEEK_SET;
    int rc = fcntl(fd, F_OFD_GETLK, &fl);
    int saved = errno;
    close(fd); /* this description holds no lock, so closing it releases nothing */
    if (rc != 0)
        return PL_ERROR(err, PL_ERR_IO, "cannot query the lock on %s: %s", path, strerror(saved));
    *held = fl.l_type != F_UNLCK;
    return PL_OK;
}

void pl_lock_release(pl_lock *lock) {
    if (lock->fd < 0) return;
    close(lock->fd); /* closing the only descriptor of the description drops the lock */
    lock->fd = -1;
}
