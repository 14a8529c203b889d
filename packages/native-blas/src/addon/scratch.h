// Scratch memory for the kernels' packing buffers, kept per calling thread from one call to the
// next (see scratch.c for why).
#ifndef R3D_SCRATCH_H
#define R3D_SCRATCH_H
#include <stddef.h>

typedef enum {
  R3D_SCRATCH_GEMM_PANELS,    // packed panels of op(A), one block per task
  R3D_SCRATCH_GEMM_B_PACKS,   // packed column blocks of B, one per task
  R3D_SCRATCH_GEMM_OUTPUT,    // C^T of an A * B^T computed as B * A^T
  R3D_SCRATCH_SLOTS
} r3d_scratch_slot;

// A 64-byte aligned buffer of at least `bytes` (contents arbitrary), or NULL when out of memory.
// It stays valid until the calling thread's next r3d_scratch_take or r3d_scratch_release of the
// same slot; worker tasks may use it while the caller waits for them.
void *r3d_scratch_take(r3d_scratch_slot slot, size_t bytes);

// Done with the slot's buffer for now: it is kept for the next call unless it is larger than
// R3D_SCRATCH_KEEP_BYTES, which bounds the memory an idle thread holds.
void r3d_scratch_release(r3d_scratch_slot slot);

#define R3D_SCRATCH_KEEP_BYTES ((size_t)64 << 20)

#endif
