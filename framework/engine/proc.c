/* proc.c - fork, exec and read an external command's output (see proc.h). */
#define _POSIX_C_SOURCE 200809L
#include "engine/proc.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

bool pl_proc_find(const char *name, char *buf, size_t cap) {
    if (strchr(name, '/')) {
        snprintf(buf, cap, "%s", name);
        return access(buf, X_OK) == 0;
    }
    const char *path = getenv("PATH");
    if (path == NULL) path = "/usr/local/bin:/usr/bin:/bin";
    while (*path) {
        size_t len = strcspn(path, ":");
        if ((size_t)snprintf(buf, cap, "%.*s/%s", (int)len, path, name) < cap && len > 0 && access(buf, X_OK) == 0)
            return true;
        path += len + (path[len] == ':');
    }
    return false;
}

pl_status pl_proc_capture(const char *const argv[], char *out, size_t cap, int *exit_status, pl_error *err) {
    int fds[2];
    if (pipe(fds) != 0) return PL_ERROR(err, PL_ERR_IO, "cannot create a pipe for %s: %s", argv[0], strerror(errno));
    fflush(NULL);
    pid_t pid = fork();
    if (pid < 0) {
        close(fds[0]), close(fds[1]);
        return PL_ERROR(err, PL_ERR_IO, "cannot start %s: %s", argv[0], strerror(errno));
    }
    if (pid == 0) {
        dup2(fds[1], STDOUT_FILENO);
        dup2(fds[1], STDERR_FILENO);
        close(fds[0]), close(fds[1]);
        execv(argv[0], (char *const *)argv);
        fprintf(stderr, "cannot run %s: %s\n", argv[0], strerror(errno));
        _exit(127);
    }
    close(fds[1]);
    size_t used = 0;
    char sink[512];
    for (;;) {
        char *dst = used + 1 < cap ? out + used : sink;
        size_t room = used + 1 < cap ? cap - 1 - used : sizeof sink;
        ssize_t got = read(fds[0], dst, room);
        if (got < 0 && errno == EINTR) continue;
        if (got <= 0) break;
        if (dst != sink) used += (size_t)got;
    }
    close(fds[0]);
    if (cap > 0) out[used] = '\0';
    int status;
    while (waitpid(pid, &status, 0) < 0)
        if (errno != EINTR) return PL_ERROR(err, PL_ERR_IO, "lost the process of %s: %s", argv[0], strerror(errno));
    *exit_status = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
    return PL_OK;
}
