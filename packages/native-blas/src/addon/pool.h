// The addon's thread pool: the GEMM kernels and the large element-wise kernels split their work
// into tasks run here. Workers sleep between jobs instead of spinning, so they never hold a core
// that OpenBLAS or another process could use.
#ifndef R3D_POOL_H
#define R3D_POOL_H

typedef void (*r3d_task_fn)(void *ctx, int task);

// Runs fn(ctx, t) for every t in [0, tasks) on up to `threads` threads, the caller's included,
// and returns when all are done. One job runs at a time per process; tasks must not submit jobs.
void r3d_parallel_for(r3d_task_fn fn, void *ctx, int tasks, int threads);

// Threads a job may use, the caller included (>= 1); set with the addon's setNumThreads.
void r3d_pool_set_threads(int n);
int r3d_pool_threads(void);

#endif
