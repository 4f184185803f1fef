/* file_open.c - non-blocking opens of named files for reading (see file_open.h). */
#define _POSIX_C_SOURCE 200809L
#include "core/file_open.h"

#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

const char *pl_file_type_name(unsigned mode) {
    if (S_ISREG(mode)) return "a regular file";
    if (S_ISDIR(mode)) return "a directory";
    if (S_ISFIFO(mode)) return "a FIFO (named pipe)";
    if (S_ISSOCK(mode)) return "a socket";
    if (S_ISCHR(mode)) return "a character device";
    if (S_ISBLK(mode)) return "a block device";
    return "not a regular file";
}

/* "the TSV /x" or "/x". */
static void named(char *buf, size_t cap, const char *what, const char *path) {
    snprintf(buf, cap, "%s%s%s", what ? what : "", what ? " " : "", path);
}

static pl_status refuse(const char *path, const char *what, unsigned mode, bool dir_ok, pl_error *err) {
    char name[4200];
    named(name, sizeof name, what, path);
    return PL_ERROR(err, PL_ERR_IO, "%s is %s, not %s; name a file prunelab can read to its end", name,
                    pl_file_type_name(mode), dir_ok ? "a regular file or a directory" : "a regular file");
}

pl_status pl_open_read(const char *path, const char *what, int flags, int *fd, pl_error *err) {
    *fd = -1;
    char name[4200];
    named(name, sizeof name, what, path);
    /* O_NONBLOCK: a FIFO opens at once instead of waiting for a writer; fstat then says
     * what the path is before a single byte is read. */
    int f = open(path, O_RDONLY | O_NONBLOCK | O_NOCTTY | O_CLOEXEC);
    if (f < 0) {
        const bool absent = errno == ENOENT && (flags & PL_OPEN_DATASET);
        return PL_ERROR(err, absent ? PL_ERR_MISSING : PL_ERR_IO, "cannot open %s: %s", name, strerror(errno));
    }
    struct stat sb;
    if (fstat(f, &sb) != 0) {
        const int saved = errno;
        close(f);
        return PL_ERROR(err, PL_ERR_IO, "cannot stat %s: %s", name, strerror(saved));
    }
    const bool dir_ok = (flags & PL_OPEN_DIR) != 0;
    if (!S_ISREG(sb.st_mode) && !(dir_ok && S_ISDIR(sb.st_mode))) {
        close(f);
        return refuse(path, what, (unsigned)sb.st_mode, dir_ok, err);
    }
    const int fl = fcntl(f, F_GETFL);
    if (fl < 0 || fcntl(f, F_SETFL, fl & ~O_NONBLOCK) != 0) {
        const int saved = errno;
        close(f);
        return PL_ERROR(err, PL_ERR_IO, "cannot read %s: %s", name, strerror(saved));
    }
    *fd = f;
    return PL_OK;
}

pl_status pl_fopen_read(const char *path, const char *what, int flags, FILE **out, pl_error *err) {
    *out = NULL;
    int fd;
    PL_TRY(pl_open_read(path, what, flags & ~PL_OPEN_DIR, &fd, err));
    FILE *f = fdopen(fd, "rb");
    if (f == NULL) {
        const int saved = errno;
        close(fd);
        return PL_ERROR(err, PL_ERR_IO, "cannot read %s: %s", path, strerror(saved));
    }
    *out = f;
    return PL_OK;
}

pl_status pl_check_regular(const char *path, pl_error *err) {
    struct stat sb;
    if (stat(path, &sb) != 0) return PL_ERROR(err, PL_ERR_IO, "cannot open %s: %s", path, strerror(errno));
    return S_ISREG(sb.st_mode) ? PL_OK : refuse(path, NULL, (unsigned)sb.st_mode, false, err);
}
