/* timing.h - a monotonic wall clock for progress lines and benchmarks. */
#ifndef PL_CORE_TIMING_H
#define PL_CORE_TIMING_H

/* Seconds since an arbitrary fixed point; monotonic. */
double pl_now(void);

#endif
