// The GEMM kernels for CPUs with AVX2 + FMA but no AVX-512 (AMD Zen 1-3, most desktop Intel
// CPUs): the same arguments as gemm.c's AVX-512 kernels and the same bits (gemm_kernels.h says
// how each element is summed), so a seeded training gives the same numbers on both. Half-width
// registers and half as many of them: the outer kernel's 12 x 32 tile runs as 6 x 16 sub-tiles,
// each element still one FMA chain over the block; the dot kernel computes its 16 lane sums 8 at a
// time, without the AVX-512 kernel's alignment shift, and reduces them in _mm512_reduce_add_ps's
// order.
#include "gemm_kernels.h"

#include <stdint.h>

#if defined(__x86_64__) && (defined(__GNUC__) || defined(__clang__))

#define AVX2 __attribute__((target("avx2,fma")))

// Lanes of a 16-bit lane mask (bit l: lane l) as the two 8-lane masks maskload / maskstore take.
AVX2 static inline __m256i half_mask(unsigned mask16, int half) {
  const __m256i bits = _mm256_setr_epi32(1, 2, 4, 8, 16, 32, 64, 128);
  const __m256i m = _mm256_set1_epi32((int)((mask16 >> (8 * half)) & 0xFFu));
  return _mm256_cmpeq_epi32(_mm256_and_si256(m, bits), bits);
}

// ---------------------------------------------------------------------------------------------
// dot kernel: C[i][j] (+)= sum_p A[i*lda + p] * B[j*ldb + p]

// A 16-lane sum is two independent 8-lane halves, so the tile runs one half at a time, 3 rows x 4
// columns per pass: 12 accumulators, 7 loads for 12 FMAs (both halves at once left room for
// 2 x 2 elements only: 8 loads for 8 FMAs, and the RGB projection ran 1.6x slower than OpenBLAS).
// The two halves of a row triple run back to back, so its rows are still in L1 for the second
// (2-3% over both halves of every triple in turn), and the steps are unrolled 4 (0-4%): alternated
// in one process on Zen 1, the same sums.
#define SUB_M 3

AVX2 void r3d_dot_tile_avx2(const float *a, size_t lda, const float *b, size_t ldb, float *c, size_t ldc, int kc,
                            int mr, int nr, enum store_mode mode, float beta, const float *bias) {
  // Element p of the block in lane p mod 16, wherever A lies. The AVX-512 kernel puts it in lane
  // (p + s) mod 16 (s: A's floats past a 64-byte line, so its loads stay on lines) and rotates
  // back; each lane is the same FMA chain over the same products either way, and the tree below
  // adds lanes 8, 4, 2 and 1 apart, so where a lane sits changes none of its sums. What the shift
  // does change is which lanes its last step masks (elements past kc): they add 0 * 0 = +0, which
  // turns a chain that underflowed to -0 into +0. Here masked lanes add +0 * -0 = -0, which changes
  // nothing, and the lanes the AVX-512 kernel's last step masks get + (+0) before the tree: the
  // same bits, signs of zero included. Following the AVX-512 layout instead (a masked first step
  // whenever A is off a line, as most arrays are) took ~20% longer on Zen 1.
  const int s = lda % 16 == 0 ? (int)(((uintptr_t)a >> 2) & 15) : 0;
  const int end512 = kc + (16 - (kc + s) % 16) % 16; // the AVX-512 kernel's last step ends here
  __m256 zero_lo, zero_hi; // per lane: +0 where that step masked an element past kc, else -0
  {
    float z[16];
    for (int l = 0; l < 16; l++) z[l] = -0.0f;
    for (int p = kc; p < end512; p++) z[p % 16] = 0.0f;
    zero_lo = _mm256_loadu_ps(z);
    zero_hi = _mm256_loadu_ps(z + 8);
  }
  const int tail = kc / 16 * 16; // the masked last step, if < kc
  float lanes[DOT_M][DOT_N][16];
  const float *br[DOT_N];
  for (int j = 0; j < DOT_N; j++) br[j] = b + (size_t)(j < nr ? j : nr - 1) * ldb;
  // The masked last step: a vmaskmovps load takes ~10 cycles on Zen 1 (4.1 ns in a loop, a plain
  // load 0.4). A plain load and a mask give the same lanes where the 16 floats it reads lie on the
  // page of the row's last float of this block (so they are mapped).
  bool plain_a[DOT_M], plain_b[DOT_N];
  for (int r = 0; r < DOT_M + DOT_N && tail < kc; r++) { // only where there is such a step
    const float *row = r < DOT_M ? a + (size_t)(r < mr ? r : mr - 1) * lda : br[r - DOT_M];
    const bool ok = (uintptr_t)(row + tail + 15) >> 12 == (uintptr_t)(row + kc - 1) >> 12;
    if (r < DOT_M) plain_a[r] = ok;
    else plain_b[r - DOT_M] = ok;
  }
  const __m256 sign = _mm256_set1_ps(-0.0f);
  for (int i0 = 0; i0 < mr; i0 += SUB_M) {
    for (int h = 0; h < 2; h++) {
      const int off = 8 * h; // this pass's lanes: [off, off + 8)
      const float *ar[SUB_M];
      for (int i = 0; i < SUB_M; i++) ar[i] = a + (size_t)(i0 + i < mr ? i0 + i : mr - 1) * lda;
      __m256 acc[SUB_M][DOT_N];
      for (int i = 0; i < SUB_M; i++)
        for (int j = 0; j < DOT_N; j++) acc[i][j] = _mm256_setzero_ps();
#define DOT_STEP(LOAD_A, LOAD_B)                                                             \
  do {                                                                                       \
    __m256 av[SUB_M];                                                                        \
    for (int i = 0; i < SUB_M; i++) av[i] = LOAD_A;                                          \
    for (int j = 0; j < DOT_N; j++) {                                                        \
      const __m256 bv = LOAD_B;                                                              \
      for (int i = 0; i < SUB_M; i++) acc[i][j] = _mm256_fmadd_ps(av[i], bv, acc[i][j]);     \
    }                                                                                        \
  } while (0)
#pragma GCC unroll 4
      for (int e = 0; e < tail; e += 16) DOT_STEP(_mm256_loadu_ps(ar[i] + e + off), _mm256_loadu_ps(br[j] + e + off));
      if (tail < kc) {
        // masked lanes: +0 from A times -0 from B
        const __m256i hm = half_mask((1u << (kc - tail)) - 1u, h);
        const __m256 hmf = _mm256_castsi256_ps(hm), bpad = _mm256_andnot_ps(hmf, sign);
#define EDGE_A(P) (plain_a[i0 + i] ? _mm256_and_ps(_mm256_loadu_ps(P), hmf) : _mm256_maskload_ps(P, hm))
#define EDGE_B(P) _mm256_or_ps(plain_b[j] ? _mm256_and_ps(_mm256_loadu_ps(P), hmf) : _mm256_maskload_ps(P, hm), bpad)
        DOT_STEP(EDGE_A(ar[i] + tail + off), EDGE_B(br[j] + tail + off));
#undef EDGE_A
#undef EDGE_B
      }
#undef DOT_STEP
      for (int i = 0; i < SUB_M && i0 + i < mr; i++)
        for (int j = 0; j < DOT_N; j++) _mm256_storeu_ps(lanes[i0 + i][j] + off, _mm256_add_ps(acc[i][j], h ? zero_hi : zero_lo));
    }
  }
  // _mm512_reduce_add_ps's tree: upper 8 lanes + lower 8, then the upper 4 of that + the lower 4,
  // then lanes {2, 3} onto {0, 1}, then [0] + [1].
  for (int i = 0; i < mr; i++) {
    for (int j = 0; j < nr; j++) {
      const __m256 t3 = _mm256_add_ps(_mm256_loadu_ps(lanes[i][j] + 8), _mm256_loadu_ps(lanes[i][j]));
      const __m128 t6 = _mm_add_ps(_mm256_extractf128_ps(t3, 1), _mm256_castps256_ps128(t3));
      const __m128 u = _mm_add_ps(t6, _mm_movehl_ps(t6, t6)); // t6[0] + t6[2], t6[1] + t6[3]
      const float sum = _mm_cvtss_f32(_mm_add_ss(u, _mm_shuffle_ps(u, u, 1)));
      float *out = c + (size_t)i * ldc + j;
      *out = mode == STORE ? sum : mode == ACCUMULATE ? *out + sum : mode == BIAS ? bias[j] + sum : beta * *out + sum;
    }
  }
}

// ---------------------------------------------------------------------------------------------
// outer kernel: a 12 x nc tile (nc <= 32) from a 12-row panel of op(A) and rows of B

// Rows [r0, r0 + 6) x columns [j0, j0 + 16) of the tile: 12 accumulators, 2 loads of B and 6
// broadcasts per step. `pf`/`pf2` as in the AVX-512 kernel (NULL in all sub-tiles but the first).
__attribute__((always_inline)) AVX2 static inline void outer_subtile(const float *panel, const float *b, size_t ldb,
                                                                     float *c, size_t ldc, int kc, int rows, int cols,
                                                                     enum store_mode mode, float beta,
                                                                     const float *bias, prefetch_cursor *pf,
                                                                     prefetch_cursor *pf2) {
  const bool full0 = cols >= 8, full1 = cols >= 16;
  const unsigned mask = cols >= 16 ? 0xFFFFu : (1u << cols) - 1u;
  const __m256i m0 = half_mask(mask, 0), m1 = half_mask(mask, 1);
  __m256 c0[6], c1[6];
  for (int r = 0; r < 6; r++) c0[r] = c1[r] = _mm256_setzero_ps();
  // unrolled 4 steps: 1-2% on every product here (Zen 1, alternated in one process), the same sums
#pragma GCC unroll 4
  for (int p = 0; p < kc; p++) {
    if (pf && (p & 3) == 0) prefetch_next(pf);
    if (pf2 && (p & 3) == 2) prefetch_next(pf2);
    const float *brow = b + (size_t)p * ldb;
    const __m256 b0 = full0 ? _mm256_loadu_ps(brow) : _mm256_maskload_ps(brow, m0);
    const __m256 b1 = full1 ? _mm256_loadu_ps(brow + 8) : _mm256_maskload_ps(brow + 8, m1);
    const float *ap = panel + (size_t)p * OUT_M;
    for (int r = 0; r < 6; r++) {
      const __m256 av = _mm256_broadcast_ss(ap + r);
      c0[r] = _mm256_fmadd_ps(av, b0, c0[r]);
      c1[r] = _mm256_fmadd_ps(av, b1, c1[r]);
    }
  }
#pragma GCC unroll 6
  for (int r = 0; r < 6; r++) {
    if (r >= rows) break;
    float *row = c + (size_t)r * ldc;
    __m256 v0 = c0[r], v1 = c1[r];
    if (mode == BIAS) {
      v0 = _mm256_add_ps(v0, _mm256_maskload_ps(bias, m0));
      v1 = _mm256_add_ps(v1, _mm256_maskload_ps(bias + 8, m1));
    } else if (mode != STORE) {
      const __m256 old0 = _mm256_maskload_ps(row, m0), old1 = _mm256_maskload_ps(row + 8, m1);
      if (mode == ACCUMULATE) {
        v0 = _mm256_add_ps(v0, old0);
        v1 = _mm256_add_ps(v1, old1);
      } else {
        v0 = _mm256_fmadd_ps(_mm256_set1_ps(beta), old0, v0);
        v1 = _mm256_fmadd_ps(_mm256_set1_ps(beta), old1, v1);
      }
    }
    // a masked store only where a mask is needed: on Zen 1 each takes ~12 cycles, even with all lanes set
    if (full0) _mm256_storeu_ps(row, v0);
    else _mm256_maskstore_ps(row, m0, v0);
    if (full1) _mm256_storeu_ps(row + 8, v1);
    else _mm256_maskstore_ps(row + 8, m1, v1);
  }
}

AVX2 void r3d_outer_tile_avx2(const float *panel, const float *b, size_t ldb, float *c, size_t ldc, int kc, int mr,
                              int nc, enum store_mode mode, float beta, const float *bias, prefetch_cursor *pf,
                              prefetch_cursor *pf2) {
  bool first = true;
  for (int r0 = 0; r0 < mr; r0 += 6) {
    for (int j0 = 0; j0 < nc; j0 += 16) {
      const int rows = mr - r0 < 6 ? mr - r0 : 6, cols = nc - j0 < 16 ? nc - j0 : 16;
      const float *bias_j = bias ? bias + j0 : NULL;
      // the cursors advance as often as in the AVX-512 kernel: once per 4 steps of the tile
      // full-width sub-tiles get their own copy of the loop, without masks (as `full` in gemm.c)
      if (first && (pf || pf2))
        outer_subtile(panel + r0, b + j0, ldb, c + (size_t)r0 * ldc + j0, ldc, kc, rows, cols, mode, beta, bias_j, pf, pf2);
      else if (cols == 16)
        outer_subtile(panel + r0, b + j0, ldb, c + (size_t)r0 * ldc + j0, ldc, kc, rows, 16, mode, beta, bias_j, NULL, NULL);
      else outer_subtile(panel + r0, b + j0, ldb, c + (size_t)r0 * ldc + j0, ldc, kc, rows, cols, mode, beta, bias_j, NULL, NULL);
      first = false;
    }
  }
}

// ---------------------------------------------------------------------------------------------
// packing (copies: they change no bit)

AVX2 void r3d_pack_panel_transposed_avx2(const float *a, size_t lda, int it, int mr, int p0, int kc, float *panel) {
  for (int p = 0; p < kc; p++) {
    const float *src = a + (size_t)(p0 + p) * lda + it;
    float *dst = panel + (size_t)p * OUT_M;
    if (mr == OUT_M) {
      _mm256_storeu_ps(dst, _mm256_loadu_ps(src));
      _mm_storeu_ps(dst + 8, _mm_loadu_ps(src + 8));
    } else {
      for (int r = 0; r < OUT_M; r++) dst[r] = r < mr ? src[r] : 0.0f;
    }
  }
}

// pack[p * PACK_B_N + r0 + r] = row r0 + r at p (rows past w repeat the last), 8 x 8 blocks
// transposed in registers.
AVX2 void r3d_pack_rows_transposed_avx2(const float *b, size_t ldb, int w, int kc, float *pack) {
  for (int r0 = 0; r0 < w; r0 += 8) {
    const float *row[8];
    for (int r = 0; r < 8; r++) row[r] = b + (size_t)(r0 + r < w ? r0 + r : w - 1) * ldb;
    int p = 0;
    for (; p + 8 <= kc; p += 8) {
      __m256 v[8], t[8];
      for (int r = 0; r < 8; r++) v[r] = _mm256_loadu_ps(row[r] + p);
      for (int r = 0; r < 8; r += 2) {
        t[r] = _mm256_unpacklo_ps(v[r], v[r + 1]);     // r0p0 r1p0 r0p1 r1p1 | r0p4 r1p4 r0p5 r1p5
        t[r + 1] = _mm256_unpackhi_ps(v[r], v[r + 1]); // p2, p3 | p6, p7
      }
      for (int q = 0; q < 8; q += 4) {
        v[q] = _mm256_shuffle_ps(t[q], t[q + 2], 0x44);     // rows q..q+3 at p0 | p4
        v[q + 1] = _mm256_shuffle_ps(t[q], t[q + 2], 0xEE); // p1 | p5
        v[q + 2] = _mm256_shuffle_ps(t[q + 1], t[q + 3], 0x44); // p2 | p6
        v[q + 3] = _mm256_shuffle_ps(t[q + 1], t[q + 3], 0xEE); // p3 | p7
      }
      for (int s = 0; s < 4; s++) {
        _mm256_storeu_ps(pack + (size_t)(p + s) * PACK_B_N + r0, _mm256_permute2f128_ps(v[s], v[4 + s], 0x20));
        _mm256_storeu_ps(pack + (size_t)(p + 4 + s) * PACK_B_N + r0, _mm256_permute2f128_ps(v[s], v[4 + s], 0x31));
      }
    }
    for (; p < kc; p++)
      for (int r = 0; r < 8; r++) pack[(size_t)p * PACK_B_N + r0 + r] = row[r][p];
  }
}

#endif
