/* gnuplot_run.c - gnuplot as a child process on a script file (see gnuplot_run.h). */
#define _POSIX_C_SOURCE 200809L
#include "io/gnuplot_run.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "core/alloc.h"

static bool executable(const char *path) {
    struct stat sb;
    return stat(path, &sb) == 0 && S_ISREG(sb.st_mode) && access(path, X_OK) == 0;
}

bool pl_gnuplot_available(const char *program) {
    if (program == NULL || *program == '\0') return false;
    if (strchr(program, '/')) return executable(program);
    const char *path = getenv("PATH");
    if (path == NULL) path = "/usr/bin:/bin";
    char buf[4096];
    for (const char *p = path; *p;) {
        size_t n = strcspn(p, ":");
        if (n > 0 && n + strlen(program) + 2 < sizeof buf) {
            snprintf(buf, sizeof buf, "%.*s/%s", (int)n, p, program);
            if (executable(buf)) return true;
        }
        p += n + (p[n] == ':');
    }
    return false;
}

/* The last lines of the log (up to ~600 bytes) for the error message. */
static void log_tail(const char *dir, const char *log, char *out, size_t cap) {
    out[0] = '\0';
    size_t n = strlen(dir) + strlen(log) + 2;
    char *path = malloc(n);
    if (path == NULL) return;
    snprintf(path, n, "%s/%s", dir, log);
    FILE *f = fopen(path, "r");
    free(path);
    if (f == NULL) return;
    char buf[601];
    if (fseek(f, 0, SEEK_END) == 0) {
        long size = ftell(f);
        fseek(f, size > 600 ? size - 600 : 0, SEEK_SET);
    }
    size_t got = fread(buf, 1, sizeof buf - 1, f);
    fclose(f);
    buf[got] = '\0';
    while (got > 0 && (buf[got - 1] == '\n' || buf[got - 1] == ' ')) buf[--got] = '\0';
    snprintf(out, cap, "%s", buf);
}

pl_status pl_gnuplot_run(const char *program, const char *dir, const char *script, const char *log, pl_error *err) {
    char *const argv[] = {(char *)program, (char *)script, NULL};
    pid_t pid = fork();
    if (pid < 0) return PL_ERROR(err, PL_ERR_IO, "cannot start %s: %s", program, strerror(errno));
    if (pid == 0) {
        /* the child: only async-signal-safe calls until exec */
        if (chdir(dir) != 0) _exit(126);
        int fd = open(log, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
        int null = open("/dev/null", O_RDONLY | O_CLOEXEC);
        if (fd < 0 || null < 0 || dup2(fd, 1) < 0 || dup2(fd, 2) < 0 || dup2(null, 0) < 0) _exit(126);
        execvp(program, argv);
        _exit(127);
    }
    int status;
    while (waitpid(pid, &status, 0) < 0)
        if (errno != EINTR) return PL_ERROR(err, PL_ERR_IO, "waiting for %s: %s", program, strerror(errno));
    if (WIFEXITED(status) && WEXITSTATUS(status) == 0) return PL_OK;
    char tail[700];
    log_tail(dir, log, tail, sizeof tail);
    if (WIFEXITED(status) && WEXITSTATUS(status) == 127)
        return PL_ERROR(err, PL_ERR_MISSING, "cannot run %s (install gnuplot-nox: make deps)", program);
    if (WIFEXITED(status))
        return PL_ERROR(err, PL_ERR_IO, "%s %s (in %s) exited with status %d:\n%s", program, script, dir,
                        WEXITSTATUS(status), tail[0] ? tail : "(no output)");
    return PL_ERROR(err, PL_ERR_IO, "%s %s (in %s) was killed by signal %d", program, script, dir, WTERMSIG(status));
}
