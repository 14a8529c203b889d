// Single-precision GEMM kernels of our own for x86-64 CPUs with AVX-512, and the thread pool they
// run on. Why not only OpenBLAS: a DYNAMIC_ARCH OpenBLAS picks its kernels by core type, and where
// that is pinned (OPENBLAS_CORETYPE=Haswell, as on the machines this was measured on) it runs
// AVX2 kernels at ~90 GFLOP/s per core where the same core reaches ~145 with AVX-512. These
// kernels need no packing for the products R3D makes (long reductions, one operand a weight) and
// write every output element from one thread in a fixed reduction order, so results do not depend
// on the thread count. They run on the pool in pool.h.
#ifndef R3D_GEMM_H
#define R3D_GEMM_H
#include <stdbool.h>
#include <stddef.h>

// Whether products may run on our kernels here: AVX-512 ones, or AVX2 + FMA ones with the same
// bits (gemm_kernels.h), on CPUs with neither BLAS does everything.
bool r3d_gemm_supported(void);

// The instruction set of our kernels now: 2 AVX-512, 1 AVX2 + FMA, 0 none.
int r3d_gemm_isa(void);

// Caps the instruction set the kernels may use (2: the best the CPU has; 1: AVX2 + FMA even where
// the CPU has AVX-512, the same bits; 0: none) and returns the one now in use.
int r3d_gemm_cap_isa(int cap);

// Whether the CPU has AVX-512 (other kernels' fast paths, e.g. AdamW's streaming stores).
bool r3d_cpu_avx512(void);

// Row-major C = op(A) * op(B) + beta * C for one matrix: op(A) is m x k, op(B) is k x n; lda, ldb,
// ldc are row strides. With a row bias (n floats, beta 0), C = op(A) * op(B) + bias: the bias is
// added where the first reduction block's sums are stored, the same float32 additions as a C
// prefilled with the bias and beta 1, without that extra pass over C. Returns false, touching
// nothing, for a case it does not handle (no AVX-512, a product too small to gain); the caller
// then uses BLAS.
// b_panels: NULL, or B (n x k, contiguous) already packed by r3d_pack_weight_panels, used where
// the product runs as C^T = B * A^T ("rows", r3d_rows_path): the same bits, without packing B
// again on every call (an evaluation's fixed weight).
bool r3d_sgemm(bool trans_a, bool trans_b, int m, int n, int k, const float *a, int lda, const float *b, int ldb,
               float beta, float *c, int ldc, const float *bias, const float *b_panels);

// Whether r3d_sgemm runs this product as C^T = B * A^T (only then are b_panels read).
bool r3d_rows_path(bool trans_a, bool trans_b, int m, int n, int k);

// Floats of a rows x k matrix packed by r3d_pack_weight_panels.
size_t r3d_weight_panels_floats(int rows, int k);

// Packs a row-major rows x k matrix (a weight W in x W^T) into the panels its every reduction block
// would be packed into on each call, for r3d_sgemm's b_panels.
void r3d_pack_weight_panels(const float *w, int rows, int k, float *out);

#endif
