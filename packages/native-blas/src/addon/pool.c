// A small thread pool for the addon's kernels (see pool.h).
#include "pool.h"

#include <pthread.h>
#include <sched.h>
#include <stdatomic.h>
#include <stdint.h>
#include <time.h>

// Workers wait for the next job spinning for SPIN_US, then sleep on a condition variable. The
// kernels of one forward pass follow each other within microseconds, and waking a sleeping
// thread costs tens of them (as much as a 300K-element multiply takes), while a worker that
// spins longer would hold a core other processes could use. Tasks are claimed from an atomic
// counter, so a thread slowed by another process simply takes fewer.
#define SPIN_US 50

static pthread_mutex_t submit_lock = PTHREAD_MUTEX_INITIALIZER; // one job at a time per process
static pthread_mutex_t pool_mu = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t pool_wake = PTHREAD_COND_INITIALIZER;
static int pool_size = 1;    // threads a job may use, caller included
static int workers = 0;      // worker threads started so far
static atomic_ulong generation;
static int job_threads; // threads the current job may use, caller included
static r3d_task_fn job_fn;
static void *job_ctx;
static int job_tasks;
static atomic_int next_task;
static atomic_int done_tasks;
static atomic_int busy_workers; // workers holding a snapshot of the current job

static void run_tasks(r3d_task_fn fn, void *ctx, int tasks) {
  for (;;) {
    const int t = atomic_fetch_add(&next_task, 1);
    if (t >= tasks) return;
    fn(ctx, t);
    atomic_fetch_add(&done_tasks, 1);
  }
}

static double now_us(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (double)ts.tv_sec * 1e6 + (double)ts.tv_nsec / 1e3;
}

static inline void cpu_relax(void) {
#if defined(__x86_64__) || defined(__i386__)
  __builtin_ia32_pause();
#endif
}

static void *worker_main(void *arg) {
  const int index = (int)(intptr_t)arg; // worker i helps with jobs of more than i + 1 threads
  unsigned long seen = 0;
  for (;;) {
    const double until = now_us() + SPIN_US;
    while (atomic_load_explicit(&generation, memory_order_acquire) == seen && now_us() < until) cpu_relax();
    pthread_mutex_lock(&pool_mu);
    while (atomic_load(&generation) == seen) pthread_cond_wait(&pool_wake, &pool_mu);
    seen = atomic_load(&generation);
    if (index >= job_threads - 1) { // fewer threads asked for than workers started
      pthread_mutex_unlock(&pool_mu);
      continue;
    }
    // Snapshot under the lock; the submitter does not reuse the counters until busy_workers is 0.
    r3d_task_fn fn = job_fn;
    void *ctx = job_ctx;
    const int tasks = job_tasks;
    atomic_fetch_add(&busy_workers, 1);
    pthread_mutex_unlock(&pool_mu);
    run_tasks(fn, ctx, tasks);
    atomic_fetch_sub(&busy_workers, 1);
  }
  return NULL;
}

static void ensure_workers(int wanted) {
  while (workers < wanted) {
    pthread_t t;
    pthread_attr_t attr;
    pthread_attr_init(&attr);
    pthread_attr_setdetachstate(&attr, PTHREAD_CREATE_DETACHED);
    const int ok = pthread_create(&t, &attr, worker_main, (void *)(intptr_t)workers) == 0;
    pthread_attr_destroy(&attr);
    if (!ok) break; // fewer workers: the caller's thread still runs every task
    workers++;
  }
}

void r3d_parallel_for(r3d_task_fn fn, void *ctx, int tasks, int threads) {
  if (threads <= 1 || tasks <= 1) {
    for (int t = 0; t < tasks; t++) fn(ctx, t);
    return;
  }
  pthread_mutex_lock(&submit_lock);
  pthread_mutex_lock(&pool_mu);
  ensure_workers(threads - 1);
  while (atomic_load(&busy_workers) != 0) sched_yield(); // a late waker of the previous job
  job_fn = fn;
  job_ctx = ctx;
  job_tasks = tasks;
  job_threads = threads;
  atomic_store(&next_task, 0);
  atomic_store(&done_tasks, 0);
  atomic_fetch_add_explicit(&generation, 1, memory_order_release);
  pthread_cond_broadcast(&pool_wake);
  pthread_mutex_unlock(&pool_mu);
  run_tasks(fn, ctx, tasks);
  while (atomic_load(&done_tasks) < tasks) sched_yield();
  while (atomic_load(&busy_workers) != 0) sched_yield();
  pthread_mutex_unlock(&submit_lock);
}

void r3d_pool_set_threads(int n) { pool_size = n < 1 ? 1 : n; }
int r3d_pool_threads(void) { return pool_size; }
