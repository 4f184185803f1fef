/* mpi_comm.h - the few MPI calls prunelab makes, behind plain C functions (the only file
 * that includes mpi.h is mpi_comm.c). Waiting never spins a core: every wait polls a
 * non-blocking request and sleeps between polls (OpenMPI's blocking calls busy-wait, which
 * would take a core from the ranks that run stages).
 *
 *   pl_mpi_init(&argc, &argv, err)        MPI_Init (threads: funneled; only the main thread calls MPI)
 *   pl_mpi_bcast(buf, len, err)           rank 0's buf to every rank
 *   pl_mpi_send(dest, tag, buf, len, err) one small message (eager)
 *   pl_mpi_recv(tag, &src, buf, cap, &len, err)  the next message with tag from any rank
 *   pl_mpi_finalize()
 */
#ifndef PL_ENGINE_MPI_COMM_H
#define PL_ENGINE_MPI_COMM_H

#include <stddef.h>

#include "core/error.h"

pl_status pl_mpi_init(int *argc, char ***argv, pl_error *err);
void pl_mpi_finalize(void);
/* Ends every rank of the job (MPI_Abort): for an error that leaves the others waiting. */
void pl_mpi_abort(int code);
/* This process's rank and the number of ranks (0 and 1 before pl_mpi_init). */
int pl_mpi_rank(void);
int pl_mpi_size(void);

pl_status pl_mpi_bcast(void *buf, size_t len, pl_error *err);
pl_status pl_mpi_send(int dest, int tag, const void *buf, size_t len, pl_error *err);
pl_status pl_mpi_recv(int tag, int *src, void *buf, size_t cap, size_t *len, pl_error *err);

#endif
