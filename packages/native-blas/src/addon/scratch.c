// Per-thread scratch buffers (see scratch.h).
//
// Why keep them: a freshly allocated buffer is page-faulted in on its first write, and on the 2-core
// VMs this project is measured on a fault costs about 11 us per 4 KB page (a C loop touching fresh
// mmap'd memory; ~0.2 us on bare metal). The weight-gradient product 128 x 512 x 1600 packs 2.2 MB
// of panels and blocks of B: faulting them in took 5 ms, five times the product itself, and the
// R3D training step paid about 1100 such faults (13 ms) in its products. Kept buffers fault once.
//
// One set per calling thread (the Node main thread, each worker_thread), so concurrent callers
// never share a buffer; a thread's set is freed when the thread exits.
#include "scratch.h"

#include <pthread.h>
#include <stdlib.h>

typedef struct {
  void *ptr[R3D_SCRATCH_SLOTS];
  size_t bytes[R3D_SCRATCH_SLOTS];
} scratch_set;

static _Thread_local scratch_set *local_set;
static pthread_key_t exit_key;
static pthread_once_t key_once = PTHREAD_ONCE_INIT;

static void free_set(void *p) {
  scratch_set *s = (scratch_set *)p;
  for (int i = 0; i < R3D_SCRATCH_SLOTS; i++) free(s->ptr[i]);
  free(s);
}

static void make_key(void) { (void)pthread_key_create(&exit_key, free_set); }

static scratch_set *thread_set(void) {
  if (local_set) return local_set;
  scratch_set *s = (scratch_set *)calloc(1, sizeof(scratch_set));
  if (!s) return NULL;
  pthread_once(&key_once, make_key);
  pthread_setspecific(exit_key, s); // freed by free_set when the thread exits
  return local_set = s;
}

void *r3d_scratch_take(r3d_scratch_slot slot, size_t bytes) {
  scratch_set *s = thread_set();
  if (!s) return NULL;
  if (s->bytes[slot] >= bytes && s->ptr[slot]) return s->ptr[slot];
  free(s->ptr[slot]);
  s->ptr[slot] = NULL;
  s->bytes[slot] = 0;
  const size_t block = (size_t)64 << 10; // a size aligned_alloc accepts, and room to grow a little
  const size_t size = (bytes + block - 1) / block * block;
  void *p = aligned_alloc(64, size ? size : block);
  if (!p) return NULL;
  s->ptr[slot] = p;
  s->bytes[slot] = size ? size : block;
  return p;
}

void r3d_scratch_release(r3d_scratch_slot slot) {
  scratch_set *s = local_set;
  if (!s || s->bytes[slot] <= R3D_SCRATCH_KEEP_BYTES) return;
  free(s->ptr[slot]);
  s->ptr[slot] = NULL;
  s->bytes[slot] = 0;
}
