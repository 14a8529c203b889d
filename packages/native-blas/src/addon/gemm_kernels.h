// What gemm.c's drivers share with the kernels of each instruction set (gemm.c: AVX-512;
// gemm_avx2.c: AVX2 + FMA). Internal to the addon.
//
// Every kernel sums an element of C the same way, so the two instruction sets give the same bits:
// - outer kernel: one FMA chain per element over a reduction block, from +0, in increasing p;
// - dot kernel: 16 lane sums (element p of the block in lane p mod 16, each an FMA chain from +0
//   over the 16-wide steps), then _mm512_reduce_add_ps's tree: v[8 + l] + v[l], then the upper 4
//   of that plus the lower 4, then lanes {2, 3} onto {0, 1}, then [0] + [1]. Before the tree, the
//   lanes of elements [kc, kc + (16 - (kc + s) mod 16) mod 16) get + (+0) (the masked lanes of the
//   AVX-512 kernel's last step, s being A's floats past a 64-byte line where lda is a multiple of
//   16), which turns a chain that underflowed to -0 into +0: it decides only the sign of a zero;
// - then the store mode's one addition (or beta * C + s, fused in the outer kernel, as a product
//   and a sum in the dot kernel: -ffp-contract=off keeps C from fusing it).
// The blocks of the reduction, and which products run which kernel, are the drivers' (gemm.c),
// the same whichever kernels run.
#ifndef R3D_GEMM_KERNELS_H
#define R3D_GEMM_KERNELS_H
#include <stdbool.h>
#include <stddef.h>

#if defined(__x86_64__) && (defined(__GNUC__) || defined(__clang__))
#include <immintrin.h>

// C = s, C += s, C = beta * C + s, C = bias[j] + s (the first reduction block of a product with a
// row bias: the same sum as a C prefilled with the bias and accumulated into, one pass less over C)
enum store_mode { STORE, ACCUMULATE, SCALE, BIAS };

// dot kernel (A * B^T): DOT_M x DOT_N tiles of C, DOT_KC-long reduction blocks
#define DOT_M 6
#define DOT_N 4
#define DOT_KC 1024

// outer kernel: 12 x 32 tiles of C from 12-row panels of op(A), OUT_KC-long reduction blocks
#define OUT_M 12
#define OUT_N 32
#define OUT_KC 1024

// Columns of B packed at a time (a multiple of OUT_N). 32 rather than 64: a reduction block of
// the depth projection's rows path then holds its 528 KB of weight panels, a 128 KB block of
// transposed frames and the 128 KB being prefetched for the next in a 1 MB L2, where 64 (256 KB
// each) overflowed it. Alternated in one process with 64: the depth projection 3-5% faster
// (evaluation and training), its weight gradient and the step's other products level (+-2%).
#define PACK_B_N 32

// Cache lines to fetch ahead while a tile computes: `rows` rows of `lines` lines each, `ld` floats
// apart, walked row by row (what the next block will copy, see outer_columns_packed, or the next
// block's prepacked panels, see gemm_task).
typedef struct {
  const float *row;
  size_t ld;
  int lines, rows, line;
} prefetch_cursor;

__attribute__((always_inline)) static inline void prefetch_next(prefetch_cursor *pf) {
  if (pf->rows <= 0) return;
  _mm_prefetch((const char *)(pf->row + 16 * pf->line), _MM_HINT_T1);
  if (++pf->line == pf->lines) {
    pf->line = 0;
    pf->row += pf->ld;
    pf->rows--;
  }
}

// The AVX2 + FMA kernels (gemm_avx2.c), called by the drivers where the CPU has no AVX-512 (or
// R3D_NATIVE_GEMM=avx2 asks for them): the same arguments and bits as gemm.c's AVX-512 ones.
void r3d_dot_tile_avx2(const float *a, size_t lda, const float *b, size_t ldb, float *c, size_t ldc, int kc, int mr,
                       int nr, enum store_mode mode, float beta, const float *bias);
void r3d_outer_tile_avx2(const float *panel, const float *b, size_t ldb, float *c, size_t ldc, int kc, int mr, int nc,
                         enum store_mode mode, float beta, const float *bias, prefetch_cursor *pf, prefetch_cursor *pf2);
void r3d_pack_panel_transposed_avx2(const float *a, size_t lda, int it, int mr, int p0, int kc, float *panel);
void r3d_pack_rows_transposed_avx2(const float *b, size_t ldb, int w, int kc, float *pack);

#endif
#endif
