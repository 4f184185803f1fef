/* mpi_comm.c - MPI point-to-point and broadcast for the engine's MPI mode (see mpi_comm.h). */
#define _POSIX_C_SOURCE 200809L
#include "engine/mpi_comm.h"

#include <limits.h>
#include <mpi.h>
#include <time.h>

static int initialised;

/* Polls req until it completes, sleeping 5 ms between polls. */
static pl_status wait_request(MPI_Request *req, MPI_Status *status, const char *what, pl_error *err) {
    for (;;) {
        int done = 0;
        if (MPI_Test(req, &done, status) != MPI_SUCCESS)
            return PL_ERROR(err, PL_ERR_IO, "MPI %s failed", what);
        if (done) return PL_OK;
        nanosleep(&(struct timespec){0, 5 * 1000 * 1000}, NULL);
    }
}

pl_status pl_mpi_init(int *argc, char ***argv, pl_error *err) {
    int provided;
    if (MPI_Init_thread(argc, argv, MPI_THREAD_FUNNELED, &provided) != MPI_SUCCESS)
        return PL_ERROR(err, PL_ERR_IO, "MPI_Init failed (start prunelab with mpirun)");
    initialised = 1;
    return PL_OK;
}

void pl_mpi_finalize(void) {
    if (initialised) MPI_Finalize();
    initialised = 0;
}

void pl_mpi_abort(int code) {
    if (initialised) MPI_Abort(MPI_COMM_WORLD, code);
}

int pl_mpi_rank(void) {
    int r = 0;
    if (initialised) MPI_Comm_rank(MPI_COMM_WORLD, &r);
    return r;
}

int pl_mpi_size(void) {
    int n = 1;
    if (initialised) MPI_Comm_size(MPI_COMM_WORLD, &n);
    return n;
}

pl_status pl_mpi_bcast(void *buf, size_t len, pl_error *err) {
    if (len > INT_MAX) return PL_ERROR(err, PL_ERR_INVALID, "MPI broadcast of %zu bytes is too large", len);
    MPI_Request req;
    if (MPI_Ibcast(buf, (int)len, MPI_BYTE, 0, MPI_COMM_WORLD, &req) != MPI_SUCCESS)
        return PL_ERROR(err, PL_ERR_IO, "MPI broadcast failed");
    return wait_request(&req, MPI_STATUS_IGNORE, "broadcast", err);
}

pl_status pl_mpi_send(int dest, int tag, const void *buf, size_t len, pl_error *err) {
    if (len > INT_MAX) return PL_ERROR(err, PL_ERR_INVALID, "MPI message of %zu bytes is too large", len);
    MPI_Request req;
    if (MPI_Isend(buf, (int)len, MPI_BYTE, dest, tag, MPI_COMM_WORLD, &req) != MPI_SUCCESS)
        return PL_ERROR(err, PL_ERR_IO, "MPI send to rank %d failed", dest);
    return wait_request(&req, MPI_STATUS_IGNORE, "send", err);
}

pl_status pl_mpi_recv(int tag, int *src, void *buf, size_t cap, size_t *len, pl_error *err) {
    if (cap > INT_MAX) cap = INT_MAX;
    MPI_Request req;
    MPI_Status status;
    if (MPI_Irecv(buf, (int)cap, MPI_BYTE, MPI_ANY_SOURCE, tag, MPI_COMM_WORLD, &req) != MPI_SUCCESS)
        return PL_ERROR(err, PL_ERR_IO, "MPI receive failed");
    PL_TRY(wait_request(&req, &status, "receive", err));
    int count = 0;
    MPI_Get_count(&status, MPI_BYTE, &count);
    *src = status.MPI_SOURCE;
    if (len) *len = (size_t)count;
    return PL_OK;
}
