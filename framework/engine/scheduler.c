/* scheduler.c - dependency-ordered execution of a stage graph on OpenMP threads or forked
 * processes (see scheduler.h). */
#define _POSIX_C_SOURCE 200809L
#include "engine/scheduler.h"

#include <errno.h>
#include <omp.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "core/alloc.h"
#include "core/threads.h"

enum { NODE_WAITING, NODE_RUNNING, NODE_DONE, NODE_FAILED };

typedef struct {
    const pl_graph *g;
    const pl_sched_ops *ops;
    int *state;
    int remaining;        /* nodes neither done nor failed */
    int running;
    bool alone_running;   /* a node that must run alone (graph.h) is running */
    bool defer_alone;     /* job threads leave such nodes to the serial pass after them */
    pl_sched_result res;
    pthread_mutex_t mu;
    pthread_cond_t cv;
} sched;

/* The ready node to start next: a waiting node whose parent is done, the one whose run comes
 * first in the run table (a model node counts as its first run's), the lower-numbered on a
 * tie; or -1. Going run by run finishes each run as early as it can be (its eval right after
 * its last model stage) instead of computing every model stage before any run: a sweep
 * stopped half way has whole runs to show, and progress lines come from its first minutes.
 * Which node starts first never changes what any node computes. Nothing starts beside a
 * node that runs alone; and when the first ready node must run alone, nothing else starts
 * until the running nodes have drained, so it cannot starve. (The thread driver with several
 * jobs defers such nodes to a serial pass after the job team instead, see run_threads.) */
static int next_ready(const sched *s) {
    if (s->alone_running) return -1;
    int best = -1;
    for (int n = 0; n < s->g->n_nodes; n++) {
        const pl_graph_node *node = &s->g->nodes[n];
        if (s->state[n] != NODE_WAITING || (node->parent >= 0 && s->state[node->parent] != NODE_DONE))
            continue;
        if (node->alone && s->defer_alone) continue; /* run nodes are leaves: nothing waits for them */
        if (best < 0 || node->run < s->g->nodes[best].run) best = n;
    }
    if (best >= 0 && s->g->nodes[best].alone && s->running > 0) return -1;
    return best;
}

static void mark_running(sched *s, int n) {
    s->state[n] = NODE_RUNNING;
    s->running++;
    if (s->g->nodes[n].alone) s->alone_running = true;
    if (s->ops->started) s->ops->started(s->ops->ctx, n);
}

static void mark_stopped(sched *s, int n) {
    s->running--;
    if (s->g->nodes[n].alone) s->alone_running = false;
}

static void finish(sched *s, int n, pl_status st, const char *reason) {
    s->remaining--;
    if (st == PL_OK) {
        s->state[n] = NODE_DONE;
        s->res.executed++;
        if (s->ops->ended) s->ops->ended(s->ops->ctx, n, true);
        return;
    }
    s->state[n] = NODE_FAILED;
    s->res.failed++;
    s->ops->failed(s->ops->ctx, n, n, reason);
    if (s->ops->ended) s->ops->ended(s->ops->ctx, n, false);
    /* descendants: nodes are numbered so that no node waits for a later one... except run
     * nodes, which come last anyway; one pass in index order suffices */
    for (int d = 0; d < s->g->n_nodes; d++) {
        if (s->state[d] != NODE_WAITING || !pl_graph_depends(s->g, d, n)) continue;
        s->state[d] = NODE_FAILED;
        s->remaining--;
        s->res.failed++;
        s->ops->failed(s->ops->ctx, d, n, reason);
        if (s->ops->ended) s->ops->ended(s->ops->ctx, d, false);
    }
}

/* ---- threads ---------------------------------------------------------------------------- */

static void job_loop(sched *s) {
    pl_threads_set(s->ops->threads);
    pthread_mutex_lock(&s->mu);
    for (;;) {
        int n = next_ready(s);
        if (n >= 0) {
            mark_running(s, n);
            pthread_mutex_unlock(&s->mu);
            pl_error err;
            pl_error_clear(&err);
            pl_status st = s->ops->exec(s->ops->ctx, n, &err);
            pthread_mutex_lock(&s->mu);
            mark_stopped(s, n);
            finish(s, n, st, err.message[0] ? err.message : pl_status_name(st));
            pthread_cond_broadcast(&s->cv);
            continue;
        }
        if (s->remaining == 0 || s->running == 0) break; /* done, or nothing can ever start */
        pthread_cond_wait(&s->cv, &s->mu);
    }
    pthread_cond_broadcast(&s->cv);
    pthread_mutex_unlock(&s->mu);
}

/* With several jobs, nodes that must run alone wait until the job threads are done and
 * then run one by one on the calling thread: outside the job team, a timing stage's own
 * thread count gets a first-level OpenMP team, not a nested one (measured: nested teams
 * made 2-thread decoding 10x slower and noisy). */
static void run_threads(sched *s) {
    int saved = pl_threads_get();
    if (s->ops->jobs > 1) {
        int levels = omp_get_max_active_levels();
        omp_set_max_active_levels(2);
        s->defer_alone = true;
#pragma omp parallel num_threads(s->ops->jobs)
        job_loop(s);
        s->defer_alone = false;
        omp_set_max_active_levels(levels);
    }
    job_loop(s);
    pl_threads_set(saved);
}

/* ---- processes -------------------------------------------------------------------------- */

typedef struct {
    pid_t pid;
    int node, fd;
} child;

static void child_main(const pl_sched_ops *ops, int n, int fd, bool die_with_parent) {
    /* A worker's stage dies with its worker (an MPI rank killed, the job aborted). */
    if (die_with_parent) prctl(PR_SET_PDEATHSIG, SIGKILL);
    struct rlimit no_core = {0, 0};
    setrlimit(RLIMIT_CORE, &no_core); /* a crash hook or a real crash: no core dump */
    pl_threads_set(ops->threads);
    pl_error err;
    pl_error_clear(&err);
    pl_status st = ops->exec(ops->ctx, n, &err);
    if (st != PL_OK) {
        const char *msg = err.message[0] ? err.message : pl_status_name(st);
        size_t len = strlen(msg), done = 0;
        while (done < len) {
            ssize_t w = write(fd, msg + done, len - done);
            if (w <= 0) break;
            done += (size_t)w;
        }
    }
    close(fd);
    _exit(st == PL_OK ? 0 : 1); /* a forked child must not run the parent's atexit handlers */
}

/* Forks a child for node n; *pid and *fd (its message pipe) on success. */
static pl_status spawn(const pl_sched_ops *ops, int n, bool die_with_parent, pid_t *pid, int *fd, pl_error *err) {
    int fds[2];
    if (pipe(fds) != 0)
        return PL_ERROR(err, PL_ERR_IO, "cannot create a pipe for a stage process: %s", strerror(errno));
    fflush(NULL); /* nothing buffered gets written twice */
    *pid = fork();
    if (*pid < 0) {
        close(fds[0]), close(fds[1]);
        return PL_ERROR(err, PL_ERR_IO, "cannot fork a stage process: %s", strerror(errno));
    }
    if (*pid == 0) {
        close(fds[0]);
        child_main(ops, n, fds[1], die_with_parent);
    }
    close(fds[1]);
    *fd = fds[0];
    return PL_OK;
}

/* The outcome of an ended child from its wait status and message pipe (closed here). */
static pl_status child_outcome(int fd, int status, char *reason, size_t cap) {
    ssize_t got = read(fd, reason, cap - 1);
    reason[got > 0 ? got : 0] = '\0';
    close(fd);
    if (WIFSIGNALED(status)) {
        snprintf(reason, cap, "crashed: killed by signal %d (%s)", WTERMSIG(status), strsignal(WTERMSIG(status)));
        return PL_ERR_INTERNAL;
    }
    if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) {
        if (reason[0] == '\0') snprintf(reason, cap, "the stage's process exited with status %d", WEXITSTATUS(status));
        return PL_ERR_INTERNAL;
    }
    return PL_OK;
}

static void reap(sched *s, child *c, int status) {
    char reason[1024];
    pl_status st = child_outcome(c->fd, status, reason, sizeof reason);
    finish(s, c->node, st, reason);
}

pl_status pl_sched_run_forked(const pl_sched_ops *ops, int n, char *reason, size_t cap) {
    pl_error err;
    pl_error_clear(&err);
    pid_t pid;
    int fd, status;
    if (spawn(ops, n, true, &pid, &fd, &err) != PL_OK) {
        snprintf(reason, cap, "%s", err.message);
        return PL_ERR_IO;
    }
    while (waitpid(pid, &status, 0) < 0)
        if (errno != EINTR) {
            status = 0x7f00; /* lost child: report as exit status 127 */
            break;
        }
    return child_outcome(fd, status, reason, cap);
}

static pl_status run_processes(sched *s, pl_error *err) {
    int jobs = s->ops->jobs < 1 ? 1 : s->ops->jobs;
    child *kids = pl_alloc((size_t)jobs, sizeof *kids, err);
    if (kids == NULL) return PL_ERR_NOMEM;
    int alive = 0;
    pl_status st = PL_OK;
    while (s->remaining > 0 && st == PL_OK) {
        int n;
        while (alive < jobs && (n = next_ready(s)) >= 0) {
            pid_t pid;
            int fd;
            if ((st = spawn(s->ops, n, false, &pid, &fd, err)) != PL_OK) break;
            mark_running(s, n);
            kids[alive++] = (child){pid, n, fd};
        }
        if (alive == 0) break; /* nothing running and nothing ready: all done or blocked */
        int reaped = 0;
        for (int i = 0; i < alive; i++) {
            int status;
            pid_t r = waitpid(kids[i].pid, &status, WNOHANG);
            if (r == 0 || (r < 0 && errno == EINTR)) continue;
            if (r < 0) status = 0x7f00; /* lost child: report as exit status 127 */
            mark_stopped(s, kids[i].node);
            reap(s, &kids[i], status);
            kids[i--] = kids[--alive];
            reaped++;
        }
        if (!reaped) nanosleep(&(struct timespec){0, 20 * 1000 * 1000}, NULL);
    }
    for (int i = 0; i < alive; i++) { /* only after an error above: wait for the rest */
        int status;
        while (waitpid(kids[i].pid, &status, 0) < 0 && errno == EINTR) {}
        mark_stopped(s, kids[i].node);
        reap(s, &kids[i], status);
    }
    pl_free(kids);
    return st;
}

/* ---- remote workers --------------------------------------------------------------------- */

static pl_status run_remote(sched *s, pl_error *err) {
    const pl_sched_remote *rm = s->ops->remote;
    pl_status st = PL_OK;
    while (s->remaining > 0 && st == PL_OK) {
        int n;
        while (s->running < rm->slots && (n = next_ready(s)) >= 0) {
            if ((st = rm->start(rm->ctx, n, err)) != PL_OK) break;
            mark_running(s, n);
        }
        if (st != PL_OK || s->running == 0) break; /* an error, or nothing can ever start */
        bool ok;
        char reason[1024] = "";
        if ((st = rm->wait(rm->ctx, &n, &ok, reason, sizeof reason, err)) != PL_OK) break;
        if (n < 0 || n >= s->g->n_nodes || s->state[n] != NODE_RUNNING)
            return PL_ERROR(err, PL_ERR_INTERNAL, "a worker reported node %d, which was not handed out", n);
        mark_stopped(s, n);
        finish(s, n, ok ? PL_OK : PL_ERR_INTERNAL, reason[0] ? reason : "the stage failed on its worker");
    }
    return st;
}

pl_status pl_schedule(const pl_graph *g, const pl_sched_ops *ops, pl_sched_result *res,
                      pl_error *err) {
    sched s = {.g = g, .ops = ops};
    s.state = pl_alloc((size_t)g->n_nodes + 1, sizeof *s.state, err);
    if (s.state == NULL) return PL_ERR_NOMEM;
    for (int n = 0; n < g->n_nodes; n++) {
        bool cached = g->nodes[n].type == PL_NODE_MODEL && g->nodes[n].cached;
        s.state[n] = cached ? NODE_DONE : NODE_WAITING;
        s.remaining += !cached;
    }
    pl_status st = PL_OK;
    if (ops->remote) {
        st = run_remote(&s, err);
    } else if (ops->processes) {
        st = run_processes(&s, err);
    } else {
        pthread_mutex_init(&s.mu, NULL);
        pthread_cond_init(&s.cv, NULL);
        run_threads(&s);
        pthread_cond_destroy(&s.cv);
        pthread_mutex_destroy(&s.mu);
    }
    if (st == PL_OK && s.remaining != 0)
        st = PL_ERROR(err, PL_ERR_INTERNAL, "%d stage graph nodes could not be scheduled", s.remaining);
    *res = s.res;
    pl_free(s.state);
    return st;
}
