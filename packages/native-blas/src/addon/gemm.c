// Single-precision GEMM for row-major operands (see gemm.h); tasks run on pool.c. The drivers and
// the AVX-512 kernels are here; the AVX2 + FMA kernels, which sum every element in the same order
// (gemm_kernels.h), are in gemm_avx2.c.
//
// Two register-blocked kernels, chosen by where the reduction index is contiguous:
// - "dot" (A * B^T, both operands contiguous along the reduction): a 6 x 4 tile of C is 24 vector
//   accumulators of 16 partial sums each, reduced horizontally once per 1024-long block of the
//   reduction. Used for A * B^T with a long reduction (k >= 256: linear layers) or a small
//   product. It packs nothing: the blocks it streams stay in L1/L2.
// - "outer" (op(B) contiguous along the columns of C): a 12 x 32 tile of C is 24 vector
//   accumulators; each step of the reduction broadcasts 12 elements of op(A), packed into panels,
//   against two vectors of a row of B. Used for A * B and A^T * B (weight gradients), for A * B^T
//   with a short reduction and A^T * B^T (B's blocks transposed as they are packed), and for a
//   long, narrow A * B^T over many rows (the depth projection) as C^T = B * A^T ("rows",
//   sgemm_rows).
#include "gemm.h"
#include "gemm_kernels.h"
#include "pool.h"
#include "scratch.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#if defined(__x86_64__) && (defined(__GNUC__) || defined(__clang__))
#define R3D_X86 1
#include <immintrin.h>
#define AVX512 __attribute__((target("avx512f")))
#endif

#ifdef R3D_X86

// The kernels this CPU runs: 2 AVX-512, 1 AVX2 + FMA, 0 none (BLAS does everything).
static int cpu_isa(void) {
  static int isa = -1; // cpuid once; a benign race writes the same value
  if (isa < 0) {
    __builtin_cpu_init();
    isa = __builtin_cpu_supports("avx512f")                                        ? 2
          : __builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma") ? 1
                                                                              : 0;
  }
  return isa;
}

// The highest instruction set products may use (r3d_gemm_cap_isa); read when a product starts.
static int isa_cap = 2;

int r3d_gemm_isa(void) { return cpu_isa() < isa_cap ? cpu_isa() : isa_cap; }
bool r3d_gemm_supported(void) { return r3d_gemm_isa() > 0; }
bool r3d_cpu_avx512(void) { return cpu_isa() == 2; }
int r3d_gemm_cap_isa(int cap) {
  isa_cap = cap < 0 ? 0 : cap > 2 ? 2 : cap;
  return r3d_gemm_isa();
}

// ---------------------------------------------------------------------------------------------
// dot kernel: C[i][j] (+)= sum_p A[i*lda + p] * B[j*ldb + p]

// Loads of A run 64-byte aligned (a load that straddles two cache lines costs ~13% here, and
// Float32Arrays are only 16-byte aligned): the reduction starts s lanes early, masked, so element
// p sits in lane (p + s) mod 16, and each accumulator is rotated back by s lanes before its
// horizontal sum. Every lane adds the same products in the same order as with s = 0, so the result
// does not depend on where the arrays happen to lie in memory, but for the sign of a zero: the
// masked lanes of the last step, which s decides, add +0 to chains that underflowed to -0
// (gemm_kernels.h; the AVX2 kernel adds the same +0s without the shift).
AVX512 static void dot_tile_512(const float *a, size_t lda, const float *b, size_t ldb, float *c, size_t ldc, int kc,
                            int mr, int nr, enum store_mode mode, float beta, const float *bias) {
  const float *ar[DOT_M], *br[DOT_N];
  for (int i = 0; i < DOT_M; i++) ar[i] = a + (size_t)(i < mr ? i : mr - 1) * lda; // edge rows repeat
  for (int j = 0; j < DOT_N; j++) br[j] = b + (size_t)(j < nr ? j : nr - 1) * ldb;
  // rows of A share one misalignment only when lda is a multiple of 16 floats
  const int s = lda % 16 == 0 ? (int)(((uintptr_t)a >> 2) & 15) : 0;
  __m512 acc[DOT_M][DOT_N];
  for (int i = 0; i < DOT_M; i++)
    for (int j = 0; j < DOT_N; j++) acc[i][j] = _mm512_setzero_ps();
  int e = -s; // element offset of lane 0 of the next load
#define DOT_STEP(LOAD_A, LOAD_B)                                                   \
  do {                                                                             \
    __m512 av[DOT_M];                                                              \
    for (int i = 0; i < DOT_M; i++) av[i] = LOAD_A;                                \
    for (int j = 0; j < DOT_N; j++) {                                              \
      const __m512 bv = LOAD_B;                                                    \
      for (int i = 0; i < DOT_M; i++) acc[i][j] = _mm512_fmadd_ps(av[i], bv, acc[i][j]); \
    }                                                                              \
  } while (0)
  if (s > 0) {
    // lanes [s, 16) hold elements [0, 16 - s); masked lanes are never read, so they cannot fault
    __mmask16 mask = (__mmask16)(0xFFFFu & ~((1u << s) - 1u));
    if (kc < 16 - s) mask &= (__mmask16)((1u << (s + kc)) - 1u);
    DOT_STEP(_mm512_maskz_loadu_ps(mask, (const float *)((uintptr_t)ar[i] - 4u * (unsigned)s)),
             _mm512_maskz_loadu_ps(mask, (const float *)((uintptr_t)br[j] - 4u * (unsigned)s)));
    e += 16;
  }
  for (; e + 16 <= kc; e += 16) DOT_STEP(_mm512_loadu_ps(ar[i] + e), _mm512_loadu_ps(br[j] + e));
  if (e < kc) {
    const __mmask16 mask = (__mmask16)((1u << (kc - e)) - 1u);
    DOT_STEP(_mm512_maskz_loadu_ps(mask, ar[i] + e), _mm512_maskz_loadu_ps(mask, br[j] + e));
  }
#undef DOT_STEP
  const __m512i rotate = _mm512_and_si512(_mm512_add_epi32(_mm512_set_epi32(15, 14, 13, 12, 11, 10, 9, 8, 7, 6, 5, 4, 3, 2, 1, 0),
                                                           _mm512_set1_epi32(s)),
                                          _mm512_set1_epi32(15));
  for (int i = 0; i < mr; i++) {
    for (int j = 0; j < nr; j++) {
      const __m512 v = s > 0 ? _mm512_permutexvar_ps(rotate, acc[i][j]) : acc[i][j];
      const float sum = _mm512_reduce_add_ps(v);
      float *out = c + (size_t)i * ldc + j;
      *out = mode == STORE ? sum : mode == ACCUMULATE ? *out + sum : mode == BIAS ? bias[j] + sum : beta * *out + sum;
    }
  }
}

// ---------------------------------------------------------------------------------------------
// outer kernel: C[i][j] (+)= sum_p A(i, p) * B[p*ldb + j], A(i, p) = a[i*sai + p*sap]

#define OUT_PANEL_FLOATS (128 * 1024)

// A 12 x nc tile from a packed panel of op(A) (panel[p * 12 + r] = A(i0 + r, p), zero rows past
// the edge) and rows of B. `full` (a compile-time constant after inlining) drops the masks. With a
// cursor, one line of it is prefetched every 4 reduction steps; with a second, one line of that
// too, two steps later.
__attribute__((always_inline)) AVX512 static inline void outer_tile_generic(
    const float *panel, const float *b, size_t ldb, float *c, size_t ldc, int kc, int mr, int nc, enum store_mode mode,
    float beta, const float *bias, const bool full, prefetch_cursor *pf, prefetch_cursor *pf2) {
  const __mmask16 m0 = full || nc >= 16 ? (__mmask16)0xFFFF : (__mmask16)((1u << nc) - 1u);
  const __mmask16 m1 = full || nc >= 32 ? (__mmask16)0xFFFF : nc > 16 ? (__mmask16)((1u << (nc - 16)) - 1u) : 0;
  __m512 c0[OUT_M], c1[OUT_M];
  for (int r = 0; r < OUT_M; r++) c0[r] = c1[r] = _mm512_setzero_ps();
  for (int p = 0; p < kc; p++) {
    if (pf && (p & 3) == 0) prefetch_next(pf);
    if (pf2 && (p & 3) == 2) prefetch_next(pf2);
    const float *brow = b + (size_t)p * ldb;
    const __m512 b0 = full ? _mm512_loadu_ps(brow) : _mm512_maskz_loadu_ps(m0, brow);
    const __m512 b1 = full ? _mm512_loadu_ps(brow + 16) : _mm512_maskz_loadu_ps(m1, brow + 16);
    const float *ap = panel + (size_t)p * OUT_M;
    for (int r = 0; r < OUT_M; r++) {
      const __m512 av = _mm512_set1_ps(ap[r]);
      c0[r] = _mm512_fmadd_ps(av, b0, c0[r]);
      c1[r] = _mm512_fmadd_ps(av, b1, c1[r]);
    }
  }
  // Unrolled with constant indices: indexing c0/c1 by a runtime row count made GCC keep the
  // accumulators in memory and store all 24 every reduction step in the masked variant (edge
  // tiles ran at half speed).
#pragma GCC unroll 12
  for (int r = 0; r < OUT_M; r++) {
    if (r >= mr) break;
    float *row = c + (size_t)r * ldc;
    __m512 v0 = c0[r], v1 = c1[r];
    if (mode == BIAS) {
      v0 = _mm512_add_ps(v0, _mm512_maskz_loadu_ps(m0, bias));
      v1 = _mm512_add_ps(v1, _mm512_maskz_loadu_ps(m1, bias + 16));
    } else if (mode != STORE) {
      const __m512 old0 = _mm512_maskz_loadu_ps(m0, row), old1 = _mm512_maskz_loadu_ps(m1, row + 16);
      if (mode == ACCUMULATE) {
        v0 = _mm512_add_ps(v0, old0);
        v1 = _mm512_add_ps(v1, old1);
      } else {
        v0 = _mm512_fmadd_ps(_mm512_set1_ps(beta), old0, v0);
        v1 = _mm512_fmadd_ps(_mm512_set1_ps(beta), old1, v1);
      }
    }
    _mm512_mask_storeu_ps(row, m0, v0);
    _mm512_mask_storeu_ps(row + 16, m1, v1);
  }
}

// pf, pf2: NULL, or lines to prefetch; each case gets its own copy of the kernel, so the tiles that
// prefetch nothing test no cursor in their loop.
AVX512 static void outer_tile_512(const float *panel, const float *b, size_t ldb, float *c, size_t ldc, int kc, int mr,
                              int nc, enum store_mode mode, float beta, const float *bias, prefetch_cursor *pf,
                              prefetch_cursor *pf2) {
  const bool full = nc == OUT_N;
  if (pf2) {
    if (full) outer_tile_generic(panel, b, ldb, c, ldc, kc, mr, nc, mode, beta, bias, true, pf, pf2);
    else outer_tile_generic(panel, b, ldb, c, ldc, kc, mr, nc, mode, beta, bias, false, pf, pf2);
  } else if (pf) {
    if (full) outer_tile_generic(panel, b, ldb, c, ldc, kc, mr, nc, mode, beta, bias, true, pf, NULL);
    else outer_tile_generic(panel, b, ldb, c, ldc, kc, mr, nc, mode, beta, bias, false, pf, NULL);
  } else if (full) outer_tile_generic(panel, b, ldb, c, ldc, kc, mr, nc, mode, beta, bias, true, NULL, NULL);
  else outer_tile_generic(panel, b, ldb, c, ldc, kc, mr, nc, mode, beta, bias, false, NULL, NULL);
}

// Packs rows [i0, i1) x reduction [p0, p0 + kc) of op(A) into 12-row panels, zero-padded. Why:
// the 12 elements a reduction step broadcasts sit a row apart (A) or contiguous but one row of a
// power-of-two-wide matrix apart per step (A^T, e.g. 128 floats: every step hits the same 8 L1
// sets), and either way the panel is reused for every column tile.
// The copies are vectorised (a 12-float masked load and store per step of A^T, 4 x 4 transposes
// for A): the scalar loop cost 0.3-0.8 ms for the R3D step's 1600 x 512 operands, as much as
// their products (packing is a copy: the bits of the product do not change).
// A(it + r, p0 + p) = a[(p0 + p) * lda + it + r]: 12 neighbours, rows past mr read as zeros
AVX512 static void pack_panel_transposed_512(const float *a, size_t lda, int it, int mr, int p0, int kc, float *panel) {
  const __mmask16 rows = (__mmask16)((1u << mr) - 1u);
  for (int p = 0; p < kc; p++) {
    const __m512 v = _mm512_maskz_loadu_ps(rows, a + (size_t)(p0 + p) * lda + it);
    _mm512_mask_storeu_ps(panel + (size_t)p * OUT_M, (__mmask16)0x0FFF, v);
  }
}

static void pack_panels(int isa, const float *a, size_t lda, bool trans_a, int i0, int i1, int p0, int kc, float *out) {
  for (int it = i0; it < i1; it += OUT_M) {
    const int mr = i1 - it < OUT_M ? i1 - it : OUT_M;
    float *panel = out + (size_t)((it - i0) / OUT_M) * OUT_M * kc;
    if (trans_a) {
      if (isa == 2) pack_panel_transposed_512(a, lda, it, mr, p0, kc, panel);
      else r3d_pack_panel_transposed_avx2(a, lda, it, mr, p0, kc, panel);
      continue;
    }
    int p = 0;
    if (mr == OUT_M) {
      // three 4 x 4 blocks per 4 steps: rows it + 4g .. it + 4g + 3 become 4-float runs of the panel
      for (; p + 4 <= kc; p += 4) {
        for (int g = 0; g < OUT_M / 4; g++) {
          const float *src = a + (size_t)(it + 4 * g) * lda + p0 + p;
          __m128 r0 = _mm_loadu_ps(src), r1 = _mm_loadu_ps(src + lda), r2 = _mm_loadu_ps(src + 2 * lda), r3 = _mm_loadu_ps(src + 3 * lda);
          _MM_TRANSPOSE4_PS(r0, r1, r2, r3);
          float *dst = panel + (size_t)p * OUT_M + 4 * g;
          _mm_storeu_ps(dst, r0);
          _mm_storeu_ps(dst + OUT_M, r1);
          _mm_storeu_ps(dst + 2 * OUT_M, r2);
          _mm_storeu_ps(dst + 3 * OUT_M, r3);
        }
      }
    }
    for (; p < kc; p++) {
      float *dst = panel + (size_t)p * OUT_M;
      for (int r = 0; r < OUT_M; r++) dst[r] = r >= mr ? 0.0f : a[(size_t)(it + r) * lda + p0 + p];
    }
  }
}

// ---------------------------------------------------------------------------------------------
// Driver: the output is cut into row chunks x column chunks, one task each; a task walks the
// reduction in blocks, so every element of C is summed in the same order whatever the threads.

static int ceil_div(int a, int b) { return (a + b - 1) / b; }

typedef struct {
  bool dot, trans_a;
  int m, n, k;
  const float *a, *b;
  size_t lda, ldb, ldc;
  float *c;
  float beta;
  const float *bias;   // NULL, or n floats added to every row (beta is then 0)
  int row_chunk, col_chunk, col_tasks;
  float *panels;       // outer kernel: panel_floats of packed A per task
  size_t panel_floats;
  int panel_rows;      // rows of A packed at a time
  int col_pad;         // outer kernel: column tiles start at j = 32 t - col_pad (see r3d_sgemm)
  bool pack_b;         // outer kernel: copy each block of B's columns into a contiguous scratch first
  float *bpacks;       // PACK_B_N x kc_max floats per task
  bool b_rows;         // outer kernel: op(B)(p, j) = b[j * ldb + p], read only through the packed blocks
  const float *packed_a; // outer kernel: op(A)'s panels for every reduction block (r3d_pack_weight_panels)
  int isa;             // the kernels' instruction set: 2 AVX-512, 1 AVX2 + FMA (r3d_gemm_isa when the product started)
} gemm_job;

static const float *bias_at(const gemm_job *g, int j) { return g->bias ? g->bias + j : NULL; }

// The first column of B that virtual column u (counted from -col_pad) covers: only the first tile
// is cut short.
static int col_start(const gemm_job *g, int u) { return (u > g->col_pad ? u : g->col_pad) - g->col_pad; }

static enum store_mode first_mode(const gemm_job *g) {
  return g->bias ? BIAS : g->beta == 0.0f ? STORE : g->beta == 1.0f ? ACCUMULATE : SCALE;
}

// The outer kernel over columns [j0, j1) of one reduction block, B read through a packed copy:
// PACK_B_N columns x kc rows of B, contiguous, then every row tile of the panels over it. Why: a
// row of B far wider than a page (the depth frames: 19200 floats) puts each reduction step on
// another page and, with a row stride of 3 KB modulo 4 KB, on one of 4 L1 sets, so the unpacked
// kernel rereads B from L2 with a TLB miss per row; narrower power-of-two rows (128-512 floats)
// land on 2-8 sets alike. Measured on the R3D step's products: 25 -> 15 ms for the depth
// projection's weight gradient, 15.4 -> 13.5 ms for the other twelve. The products are the same
// FMA chains, in the same order, so packing does not change a bit.
// pack[p * PACK_B_N + r] = rows[r][p0 + p] for r < w (w <= PACK_B_N rows of B, ldb apart), p < kc:
// op(B)'s columns j0 .. j0 + w of a reduction block when B is stored as rows along the reduction.
// 16 x 16 blocks transposed in registers; rows past w repeat the last (their columns are never
// stored). A copy: the products' bits are those of the outer kernel on a transposed B.
AVX512 static void pack_rows_transposed_512(const float *b, size_t ldb, int w, int kc, float *pack) {
  for (int r0 = 0; r0 < w; r0 += 16) {
    const float *row[16];
    for (int r = 0; r < 16; r++) row[r] = b + (size_t)(r0 + r < w ? r0 + r : w - 1) * ldb;
    int p = 0;
    for (; p + 16 <= kc; p += 16) {
      __m512 v[16], t[16];
      for (int r = 0; r < 16; r++) v[r] = _mm512_loadu_ps(row[r] + p);
      for (int r = 0; r < 16; r += 2) {
        t[r] = _mm512_unpacklo_ps(v[r], v[r + 1]);
        t[r + 1] = _mm512_unpackhi_ps(v[r], v[r + 1]);
      }
      for (int r = 0; r < 16; r += 4) {
        v[r] = _mm512_castpd_ps(_mm512_unpacklo_pd(_mm512_castps_pd(t[r]), _mm512_castps_pd(t[r + 2])));
        v[r + 1] = _mm512_castpd_ps(_mm512_unpackhi_pd(_mm512_castps_pd(t[r]), _mm512_castps_pd(t[r + 2])));
        v[r + 2] = _mm512_castpd_ps(_mm512_unpacklo_pd(_mm512_castps_pd(t[r + 1]), _mm512_castps_pd(t[r + 3])));
        v[r + 3] = _mm512_castpd_ps(_mm512_unpackhi_pd(_mm512_castps_pd(t[r + 1]), _mm512_castps_pd(t[r + 3])));
      }
      // v[4q + s] holds, per 128-bit lane L, elements p + 4L + s of rows 4q .. 4q + 3
      for (int s = 0; s < 4; s++) {
        t[s] = _mm512_shuffle_f32x4(v[s], v[4 + s], 0x88);      // lanes 0, 2 of rows 0-3 | 4-7
        t[4 + s] = _mm512_shuffle_f32x4(v[s], v[4 + s], 0xDD);  // lanes 1, 3
        t[8 + s] = _mm512_shuffle_f32x4(v[8 + s], v[12 + s], 0x88);
        t[12 + s] = _mm512_shuffle_f32x4(v[8 + s], v[12 + s], 0xDD);
      }
      for (int s = 0; s < 4; s++) {
        // element p + 4L + s for L = 0, 2 (from t[s], t[8 + s]) and L = 1, 3 (t[4 + s], t[12 + s])
        const __m512 l0 = _mm512_shuffle_f32x4(t[s], t[8 + s], 0x88);
        const __m512 l2 = _mm512_shuffle_f32x4(t[s], t[8 + s], 0xDD);
        const __m512 l1 = _mm512_shuffle_f32x4(t[4 + s], t[12 + s], 0x88);
        const __m512 l3 = _mm512_shuffle_f32x4(t[4 + s], t[12 + s], 0xDD);
        _mm512_store_ps(pack + (size_t)(p + s) * PACK_B_N + r0, l0);
        _mm512_store_ps(pack + (size_t)(p + 4 + s) * PACK_B_N + r0, l1);
        _mm512_store_ps(pack + (size_t)(p + 8 + s) * PACK_B_N + r0, l2);
        _mm512_store_ps(pack + (size_t)(p + 12 + s) * PACK_B_N + r0, l3);
      }
    }
    for (; p < kc; p++)
      for (int r = 0; r < 16; r++) pack[(size_t)p * PACK_B_N + r0 + r] = row[r][p];
  }
}

// The kernels of the instruction set a product runs (gemm_job.isa): the same bits either way.
static void dot_tile(int isa, const float *a, size_t lda, const float *b, size_t ldb, float *c, size_t ldc, int kc, int mr,
                     int nr, enum store_mode mode, float beta, const float *bias) {
  if (isa == 2) dot_tile_512(a, lda, b, ldb, c, ldc, kc, mr, nr, mode, beta, bias);
  else r3d_dot_tile_avx2(a, lda, b, ldb, c, ldc, kc, mr, nr, mode, beta, bias);
}

static void outer_tile(int isa, const float *panel, const float *b, size_t ldb, float *c, size_t ldc, int kc, int mr,
                       int nc, enum store_mode mode, float beta, const float *bias, prefetch_cursor *pf,
                       prefetch_cursor *pf2) {
  if (isa == 2) outer_tile_512(panel, b, ldb, c, ldc, kc, mr, nc, mode, beta, bias, pf, pf2);
  else r3d_outer_tile_avx2(panel, b, ldb, c, ldc, kc, mr, nc, mode, beta, bias, pf, pf2);
}

static void pack_rows_transposed(int isa, const float *b, size_t ldb, int w, int kc, float *pack) {
  if (isa == 2) pack_rows_transposed_512(b, ldb, w, kc, pack);
  else r3d_pack_rows_transposed_avx2(b, ldb, w, kc, pack);
}

static void outer_columns_packed(const gemm_job *g, const float *bp, const float *panels, int ib, int ie,
                                        int j0, int j1, int p0, int kc, enum store_mode mode, float *pack,
                                        prefetch_cursor *panels_pf) {
  for (int u0 = j0; u0 < j1; u0 += PACK_B_N) {
    const int jb = col_start(g, u0);
    const int je = (j1 - u0 < PACK_B_N ? j1 : u0 + PACK_B_N) - g->col_pad;
    if (je <= jb) continue;
    const int w = je - jb;
    // While this block computes, fetch what the next block will copy: the next PACK_B_N columns of
    // B (the task's first ones in the next reduction block), or in the rows path the next PACK_B_N rows
    // of A. The copy otherwise waits on memory where B is streamed once: 0.3-0.6 ms of the depth
    // projection's 6-14 ms (A of 23-61 MB), 0.3-0.5 of its weight gradient's 12-13.
    prefetch_cursor pf = {NULL, g->ldb, 0, 0, 0};
    const int next = je < j1 ? u0 + PACK_B_N : j0;
    const int next_p0 = je < j1 ? p0 : p0 + kc;
    if (next_p0 < g->k) {
      const int next_kc = g->k - next_p0 < OUT_KC ? g->k - next_p0 : OUT_KC;
      if (g->b_rows) { // rows next .. next + PACK_B_N of A, reduction elements next_p0 .. next_p0 + next_kc
        pf.row = g->b + (size_t)next * g->ldb + next_p0;
        pf.lines = (next_kc + 15) / 16;
        pf.rows = j1 - next < PACK_B_N ? j1 - next : PACK_B_N;
      } else { // next_kc rows of B, PACK_B_N columns (PACK_B_N / 16 lines) each
        pf.row = g->b + (size_t)next_p0 * g->ldb + col_start(g, next);
        pf.lines = PACK_B_N / 16;
        pf.rows = next_kc;
      }
    }
    if (g->b_rows) pack_rows_transposed(g->isa, bp + (size_t)jb * g->ldb, g->ldb, w, kc, pack);
    else
      for (int p = 0; p < kc; p++) memcpy(pack + (size_t)p * PACK_B_N, bp + (size_t)p * g->ldb + jb, (size_t)w * sizeof(float));
    for (int j = jb; j < je; j += OUT_N) {
      const int nc = je - j < OUT_N ? je - j : OUT_N;
      for (int i = ib; i < ie; i += OUT_M) {
        const int mr = ie - i < OUT_M ? ie - i : OUT_M;
        outer_tile(g->isa, panels + (size_t)((i - ib) / OUT_M) * OUT_M * kc, pack + (j - jb), PACK_B_N,
                   g->c + (size_t)i * g->ldc + j, g->ldc, kc, mr, nc, mode, g->beta, bias_at(g, j), pf.rows > 0 ? &pf : NULL,
                   panels_pf && panels_pf->rows > 0 ? panels_pf : NULL);
      }
    }
  }
}

static void gemm_task(void *ctx, int task) {
  const gemm_job *g = (const gemm_job *)ctx;
  const int i0 = (task / g->col_tasks) * g->row_chunk, j0 = (task % g->col_tasks) * g->col_chunk;
  const int i1 = i0 + g->row_chunk < g->m ? i0 + g->row_chunk : g->m;
  // the outer kernel's columns are counted from -col_pad (0 for the dot kernel)
  const int nv = g->n + g->col_pad;
  const int j1 = j0 + g->col_chunk < nv ? j0 + g->col_chunk : nv;
  if (g->dot) {
    for (int p0 = 0; p0 < g->k; p0 += DOT_KC) {
      const int kc = g->k - p0 < DOT_KC ? g->k - p0 : DOT_KC;
      const enum store_mode mode = p0 == 0 ? first_mode(g) : ACCUMULATE;
      for (int i = i0; i < i1; i += DOT_M) {
        const int mr = i1 - i < DOT_M ? i1 - i : DOT_M;
        for (int j = j0; j < j1; j += DOT_N) {
          const int nr = j1 - j < DOT_N ? j1 - j : DOT_N;
          dot_tile(g->isa, g->a + (size_t)i * g->lda + p0, g->lda, g->b + (size_t)j * g->ldb + p0, g->ldb,
                   g->c + (size_t)i * g->ldc + j, g->ldc, kc, mr, nr, mode, g->beta, bias_at(g, j));
        }
      }
    }
    return;
  }
  const int mc = g->panel_rows;
  float *own_panels = g->packed_a ? NULL : g->panels + (size_t)task * g->panel_floats;
  for (int p0 = 0; p0 < g->k; p0 += OUT_KC) {
    const int kc = g->k - p0 < OUT_KC ? g->k - p0 : OUT_KC;
    const enum store_mode mode = p0 == 0 ? first_mode(g) : ACCUMULATE;
    const float *bp = g->b_rows ? g->b + p0 : g->b + (size_t)p0 * g->ldb;
    // Prepacked panels come from memory: fetch the next block's while this one computes, as the
    // blocks of B are (without, the tiles waited on them and packing them per call was as fast).
    prefetch_cursor panels_pf = {NULL, 0, 0, 0, 0};
    if (g->packed_a && p0 + kc < g->k) {
      const int next_kc = g->k - (p0 + kc) < OUT_KC ? g->k - (p0 + kc) : OUT_KC;
      panels_pf.row = g->packed_a + r3d_weight_panels_floats(g->m, p0 + kc);
      panels_pf.lines = (int)(r3d_weight_panels_floats(g->m, next_kc) / 16);
      panels_pf.rows = 1;
    }
    for (int ib = i0; ib < i1; ib += mc) {
      const int ie = ib + mc < i1 ? ib + mc : i1;
      const float *panels = own_panels;
      if (g->packed_a) panels = g->packed_a + r3d_weight_panels_floats(g->m, p0) + (size_t)(ib / OUT_M) * OUT_M * kc;
      else pack_panels(g->isa, g->a, g->lda, g->trans_a, ib, ie, p0, kc, own_panels);
      if (g->pack_b) {
        outer_columns_packed(g, bp, panels, ib, ie, j0, j1, p0, kc, mode, g->bpacks + (size_t)task * PACK_B_N * OUT_KC,
                             g->packed_a ? &panels_pf : NULL);
        continue;
      }
      for (int u = j0; u < j1; u += OUT_N) {
        const int j = col_start(g, u);
        const int nc = (j1 - u < OUT_N ? j1 : u + OUT_N) - g->col_pad - j;
        if (nc <= 0) continue;
        for (int i = ib; i < ie; i += OUT_M) {
          const int mr = ie - i < OUT_M ? ie - i : OUT_M;
          outer_tile(g->isa, panels + (size_t)((i - ib) / OUT_M) * OUT_M * kc, bp + j, g->ldb, g->c + (size_t)i * g->ldc + j,
                     g->ldc, kc, mr, nc, mode, g->beta, bias_at(g, j), NULL, NULL);
        }
      }
    }
  }
}

// Below this many flops BLAS is as fast as the outer kernel (edge tiles and packing dominate).
// Not so for A * B^T: OpenBLAS takes ~0.3 ms for 8 x 512 x 128 (the decoder's queries), the dot
// kernel ~20 us, so small A * B^T always runs here.
#define OWN_MIN_FLOPS 8e6
// Below this many flops one thread finishes before a sleeping worker would wake.
#define PARALLEL_FLOPS 4e6
// A * B^T with a reduction shorter than this runs the outer kernel, B read through its packed,
// transposed blocks: the dot kernel's horizontal sums would dominate.
#define DOT_MIN_K 256

// The outer kernel's scratch for `tasks` tasks: packed panels of op(A), as many rows of a task's
// row chunk at a time as keep them under half of a 1 MB L2 (they are reread for every column tile,
// so they must stay in cache; each block of rows rereads B once), and packed column blocks of B
// where B is read through them (pack_b). False, holding nothing, when memory runs out.
static bool take_outer_scratch(gemm_job *g, int tasks) {
  const int kc_max = g->k < OUT_KC ? g->k : OUT_KC;
  g->panel_rows = ceil_div(OUT_PANEL_FLOATS / kc_max, OUT_M) * OUT_M;
  const int rows = g->row_chunk < g->panel_rows ? g->row_chunk : g->panel_rows;
  g->panel_floats = (size_t)ceil_div(rows, OUT_M) * OUT_M * (size_t)kc_max;
  if (!g->packed_a) {
    g->panels = (float *)r3d_scratch_take(R3D_SCRATCH_GEMM_PANELS, (size_t)tasks * g->panel_floats * sizeof(float));
    if (!g->panels) return false;
  }
  // B^T (rows path, short reductions): B is only read through its packs; otherwise where two or
  // more row tiles read it and a row of it is wider than a block
  g->pack_b = g->b_rows || (g->ldb > PACK_B_N && rows > OUT_M);
  if (g->pack_b) {
    g->bpacks = (float *)r3d_scratch_take(R3D_SCRATCH_GEMM_B_PACKS, (size_t)tasks * PACK_B_N * OUT_KC * sizeof(float)); // rows on cache lines
    if (!g->bpacks) g->pack_b = false;
  }
  if (g->b_rows && !g->pack_b) {
    if (g->panels) r3d_scratch_release(R3D_SCRATCH_GEMM_PANELS);
    g->panels = NULL;
    return false;
  }
  return true;
}

static void release_outer_scratch(const gemm_job *g) {
  if (g->pack_b) r3d_scratch_release(R3D_SCRATCH_GEMM_B_PACKS);
  if (g->panels) r3d_scratch_release(R3D_SCRATCH_GEMM_PANELS);
}

// "rows": A * B^T with a long reduction over many rows of A and a narrow B (the depth projection,
// x W^T: 800 x 19200 frames by a 128 x 19200 weight) as C^T = B * A^T on the outer kernel. B's
// rows are packed into 12-row panels once per reduction block, and A's rows are transposed 32 at a
// time into the blocks the kernel streams (pack_rows_transposed), so each element of A is read
// from memory once and then only from L1/L2. The dot kernel instead rereads its 4 rows of B from
// L2 for every 6 rows of A and sums each tile horizontally; in the R3D training step, next to the
// other kernels' data, the depth projection took 18-22 ms that way and 14-15.5 ms this way
// (`bench/` in @r3d-ts/r3d-model). C^T is written to a scratch, prefilled with C^T (beta != 0) or
// the bias, and transposed into C at the end: each element is the outer kernel's sum, the same
// bits as A * B with B^T given.
#define ROWS_MIN_K 8192
#define ROWS_MIN_M 256
#define ROWS_MIN_N 96

static bool sgemm_rows(int m, int n, int k, const float *a, int lda, const float *b, int ldb, float beta, float *c,
                       int ldc, const float *bias, const float *b_panels) {
  float *ct = (float *)r3d_scratch_take(R3D_SCRATCH_GEMM_OUTPUT, (size_t)n * (size_t)m * sizeof(float));
  if (!ct) return false;
  if (bias || beta != 0.0f)
    for (int j = 0; j < n; j++)
      for (int i = 0; i < m; i++) ct[(size_t)j * m + i] = bias ? bias[j] : c[(size_t)i * ldc + j];
  gemm_job g = {false, false, n, m, k, b, a, (size_t)ldb, (size_t)lda, (size_t)m, ct, bias ? 1.0f : beta, NULL, n, m, 1,
                NULL, 0, 0, 0, true, NULL, true, b_panels, r3d_gemm_isa()};
  const int threads = r3d_pool_threads();
  int tasks = 1;
  if (threads > 1) {
    // columns of C^T (rows of A) split evenly: each task packs all of B's panels once per block
    const int tiles = ceil_div(m, OUT_N);
    g.col_chunk = ceil_div(tiles, threads < tiles ? threads : tiles) * OUT_N;
    g.col_tasks = ceil_div(m, g.col_chunk);
    tasks = g.col_tasks;
  }
  const bool ok = take_outer_scratch(&g, tasks);
  if (ok) {
    r3d_parallel_for(gemm_task, &g, tasks, threads);
    release_outer_scratch(&g);
    for (int i0 = 0; i0 < m; i0 += 16)
      for (int j = 0; j < n; j++)
        for (int i = i0; i < m && i < i0 + 16; i++) c[(size_t)i * ldc + j] = ct[(size_t)j * m + i];
  }
  r3d_scratch_release(R3D_SCRATCH_GEMM_OUTPUT);
  return ok;
}

bool r3d_rows_path(bool trans_a, bool trans_b, int m, int n, int k) {
  return !trans_a && trans_b && k >= ROWS_MIN_K && m >= ROWS_MIN_M && n >= ROWS_MIN_N && r3d_gemm_supported();
}

size_t r3d_weight_panels_floats(int rows, int k) { return (size_t)ceil_div(rows, OUT_M) * OUT_M * (size_t)k; }

typedef struct {
  const float *w;
  int rows, k;
  float *out;
  int isa;
} weight_panels_job;

static void weight_panels_task(void *ctx, int task) {
  const weight_panels_job *j = (const weight_panels_job *)ctx;
  const int p0 = task * OUT_KC, kc = j->k - p0 < OUT_KC ? j->k - p0 : OUT_KC;
  pack_panels(j->isa, j->w, (size_t)j->k, false, 0, j->rows, p0, kc, j->out + r3d_weight_panels_floats(j->rows, p0));
}

void r3d_pack_weight_panels(const float *w, int rows, int k, float *out) {
  weight_panels_job j = {w, rows, k, out, r3d_gemm_isa()};
  r3d_parallel_for(weight_panels_task, &j, ceil_div(k, OUT_KC), r3d_pool_threads());
}

bool r3d_sgemm(bool trans_a, bool trans_b, int m, int n, int k, const float *a, int lda, const float *b, int ldb,
               float beta, float *c, int ldc, const float *bias, const float *b_panels) {
  if (m <= 0 || n <= 0 || k <= 0 || !r3d_gemm_supported()) return false;
  if (r3d_rows_path(trans_a, trans_b, m, n, k) && sgemm_rows(m, n, k, a, lda, b, ldb, beta, c, ldc, bias, ldb == k ? b_panels : NULL))
    return true;
  const double flops = 2.0 * m * n * (double)k;
  // A * B^T: the dot kernel, except for a short reduction in a large product (see DOT_MIN_K).
  const bool dot = !trans_a && trans_b && (k >= DOT_MIN_K || flops < OWN_MIN_FLOPS);
  if (!dot && flops < OWN_MIN_FLOPS) return false;
  // The outer kernel on op(B) = B^T reads B through the blocks it packs anyway, transposed 16 x 16
  // in registers as they are copied (pack_rows_transposed). Transposing all of B into a scratch
  // first and then copying its blocks was one pass more: the R3D step's short-reduction products
  // (1600 x 512 x 128 and alike) took 6-10% longer that way, alternated in one process. A copy:
  // the sums are the same FMA chains, the same bits.
  const bool b_rows = trans_b && !dot;
  // The outer kernel reads two vectors of a row of B per step. Where B's rows are all 64-byte
  // aligned alike (ldb a multiple of 16 floats) but B itself is not (a large Float32Array sits 16
  // bytes into its page), the column tiles are shifted to start on cache lines: one narrow tile
  // first, then every load within one line (measured: 8-10% less CPU time for the depth
  // projection's weight gradient, 128 x 19200 x 800). Each element of C is still one FMA chain
  // over the reduction, so the tiling does not change a bit. The shift costs a tile where it
  // pushes the last columns into a tile of their own: worth it only where that tile is one of many
  // (n = 128 alike: 5 tiles instead of 4, 12-15% slower; n = 19200: 601 instead of 600, 3% faster).
  int col_pad = 0;
  if (!dot && !b_rows && ldb % 16 == 0 && ((uintptr_t)b & 3) == 0) {
    const int to_line = (int)((64 - ((uintptr_t)b & 63)) & 63) / 4; // floats before the next line
    col_pad = (16 - to_line) % 16;
    const bool extra_tile = ceil_div(n + col_pad, OUT_N) > ceil_div(n, OUT_N);
    if (col_pad >= n || (extra_tile && n < 32 * OUT_N)) col_pad = 0;
  }
  const int nv = n + col_pad;
  gemm_job g = {dot, trans_a, m, n, k, a, b, (size_t)lda, (size_t)ldb, (size_t)ldc, c, beta, bias, m, nv, 1, NULL, 0, 0, col_pad,
                false, NULL, b_rows, NULL, r3d_gemm_isa()};
  const int threads = flops < PARALLEL_FLOPS ? 1 : r3d_pool_threads();
  int tasks = 1;
  if (threads > 1) {
    // Split the side whose operand is re-read less: a row chunk re-reads all of op(B), a column
    // chunk all of op(A). Two chunks per thread even out a thread slowed by another process,
    // except where each chunk would stream a B far larger than the L2 for few rows: the depth
    // projection of an evaluation (300 x 128 x 19200, a 9.8 MB weight) took 6.3 ms in four row
    // chunks and 5.8 in two (standalone, medians of 30); at 800 rows the two are level.
    const int tile_m = dot ? DOT_M : OUT_M, tile_n = dot ? DOT_N : OUT_N;
    const bool few_rows_wide_b = dot && m >= n && (double)n * k * sizeof(float) > 2e6 && m < 200 * threads;
    const int want = (few_rows_wide_b ? 1 : 2) * threads;
    if (m >= n) {
      const int tiles = ceil_div(m, tile_m);
      g.row_chunk = ceil_div(tiles, want < tiles ? want : tiles) * tile_m;
    } else {
      const int tiles = ceil_div(nv, tile_n);
      g.col_chunk = ceil_div(tiles, want < tiles ? want : tiles) * tile_n;
    }
    g.col_tasks = ceil_div(nv, g.col_chunk);
    tasks = ceil_div(m, g.row_chunk) * g.col_tasks;
  }
  if (!dot && !take_outer_scratch(&g, tasks)) return false; // BLAS then does it, with its own buffers
  r3d_parallel_for(gemm_task, &g, tasks, threads);
  release_outer_scratch(&g);
  return true;
}

#else // not x86-64: BLAS does everything

bool r3d_gemm_supported(void) { return false; }
bool r3d_cpu_avx512(void) { return false; }
int r3d_gemm_isa(void) { return 0; }
int r3d_gemm_cap_isa(int cap) {
  (void)cap;
  return 0;
}
bool r3d_sgemm(bool trans_a, bool trans_b, int m, int n, int k, const float *a, int lda, const float *b, int ldb,
               float beta, float *c, int ldc, const float *bias, const float *b_panels) {
  (void)trans_a, (void)trans_b, (void)m, (void)n, (void)k, (void)a, (void)lda, (void)b, (void)ldb, (void)beta,
      (void)c, (void)ldc, (void)bias, (void)b_panels;
  return false;
}
bool r3d_rows_path(bool trans_a, bool trans_b, int m, int n, int k) {
  (void)trans_a, (void)trans_b, (void)m, (void)n, (void)k;
  return false;
}
size_t r3d_weight_panels_floats(int rows, int k) { return ((size_t)rows + 11) / 12 * 12 * (size_t)k; }
void r3d_pack_weight_panels(const float *w, int rows, int k, float *out) { (void)w, (void)rows, (void)k, (void)out; }

#endif
