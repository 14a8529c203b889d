// What the addon's source files share: the N-API error macro, argument parsing (args.c), how
// element-wise work is split across the pool (threads.c), the vectorisation attribute, the inline
// loops more than one kernel runs, and the N-API functions module.c registers.
#ifndef R3D_COMMON_H
#define R3D_COMMON_H
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <node_api.h>

#include "pool.h"

// OpenBLAS extensions; declared here too so a cblas.h from another vendor still compiles.
void openblas_set_num_threads(int num_threads);
int openblas_get_num_threads(void);
char *openblas_get_config(void);
char *openblas_get_corename(void);

// Throws an Error and returns NULL to JS when an N-API call fails.
#define CHECK(env, call)                                                   \
  do {                                                                     \
    if ((call) != napi_ok) {                                               \
      napi_throw_error((env), "R3D_BLAS", "N-API call failed: " #call);   \
      return NULL;                                                         \
    }                                                                      \
  } while (0)

// Declares argc and argv[n] and reads an N-API call's arguments into them (argc: how many came).
#define GET_ARGS(env, info, n)   \
  size_t argc = (n);             \
  napi_value argv[n];            \
  CHECK((env), napi_get_cb_info((env), (info), &argc, argv, NULL, NULL))

// The highest rank the strided kernels take (MAX_RANK in elementwise-kernels.ts).
#define MAX_RANK 16

// ---- argument parsing (args.c) ----------------------------------------------------------------
// Each reads one argument into its out-parameters, or throws a TypeError naming the argument and
// returns false (the caller then returns NULL to JS).

// A Float32Array's data and length.
bool r3d_get_f32(napi_env env, napi_value v, const char *name, float **data, size_t *len);
// Any typed array of 4-byte elements (Float32Array, Int32Array, Uint32Array): the data-movement
// kernels move int32 as well.
bool r3d_get_words(napi_env env, napi_value v, const char *name, uint32_t **data, size_t *len);
// A non-negative integer.
// Any array of 1-byte (Uint8Array: bool tensors) or 4-byte elements; *size is 1 or 4.
bool r3d_get_elements(napi_env env, napi_value v, const char *name, void **data, size_t *len, size_t *size);
// A Uint8Array (a bool tensor's values).
bool r3d_get_bytes(napi_env env, napi_value v, const char *name, uint8_t **data, size_t *len);
bool r3d_get_i64(napi_env env, napi_value v, const char *name, int64_t *out);
// An array of at most MAX_RANK integers (negative ones only with allow_negative); its length in rank.
bool r3d_get_ints(napi_env env, napi_value v, const char *name, int64_t *out, uint32_t *rank, bool allow_negative);
// r3d_get_ints for dimensions: no negatives.
bool r3d_get_dims(napi_env env, napi_value v, const char *name, int64_t *out, uint32_t *rank);

// ---- vectorised, threaded element-wise loops --------------------------------------------------
// The element-wise loops are compiled three times, for AVX-512, AVX2 and baseline x86-64, and
// the loader picks one by CPU (GCC function multi-versioning): the addon is built once for any
// x86-64 machine, whose baseline is SSE2. With -ffp-contract=off every version computes the same
// float32 operations, so results do not depend on the CPU either.
#if defined(__x86_64__) && defined(__linux__) && defined(__GNUC__) && !defined(__clang__)
#define VECTOR_CLONES __attribute__((target_clones("avx512f", "avx2", "default")))
#else
#define VECTOR_CLONES
#endif

// Element-wise kernels split arrays of at least PARALLEL_ELEMENTS into PARALLEL_CHUNK-long tasks
// on the pool: below that, waking a worker costs about what the second core would save. The
// kernels are memory-bound and a training step's are mostly 100K-200K elements (1600 x 128): at
// 2^18 those ran on one core (mul of 1600 x 128: 88 us), at 2^15 on two (41 us), and the R3D
// step's median fell from about 108 to 99 ms.
#define PARALLEL_ELEMENTS (1 << 15)
#define PARALLEL_CHUNK (1 << 13)

// How many tasks an element-wise kernel over n elements runs as (1: on the calling thread alone);
// in threads.c.
int r3d_element_tasks(int64_t n);

// Gives OpenBLAS the pool's thread count, or one thread while our own GEMM kernels are on; in
// matmul.c, which owns that switch.
void r3d_blas_follow_pool(void);

// ---- inline loops shared by several kernels ---------------------------------------------------
// Advances a row-major index over dims[0, last) (skipping dimension `skip`; -1 skips none) by one
// step, moving each offset by its strides (st2 may be NULL): the outer loop of every strided kernel.
__attribute__((always_inline)) static inline void odometer_next(int64_t *idx, const int64_t *dims, int last, int skip,
                                                                int64_t *off1, const int64_t *st1, int64_t *off2,
                                                                const int64_t *st2) {
  for (int d = last - 1; d >= 0; d--) {
    if (d == skip) continue;
    idx[d]++;
    *off1 += st1[d];
    if (st2) *off2 += st2[d];
    if (idx[d] < dims[d]) return;
    *off1 -= st1[d] * dims[d];
    if (st2) *off2 -= st2[d] * dims[d];
    idx[d] = 0;
  }
}

// Sums in double over 8 interleaved lanes, combined in a fixed order: the compiler can vectorise
// this (a single running sum is one dependent add per element, ~4 cycles each), and the order
// does not depend on the CPU. LANED_SUM takes the summands as an expression in `i` (i < n), so a
// kernel can sum values as it computes them, in the same order as sum_f64 over an array of them.
#define LANED_SUM(sum, n, EXPR)                                                                        \
  do {                                                                                               \
    double lane_[8] = {0, 0, 0, 0, 0, 0, 0, 0};                                                      \
    int64_t j_ = 0;                                                                                  \
    for (; j_ + 8 <= (n); j_ += 8)                                                                   \
      for (int l_ = 0; l_ < 8; l_++) {                                                               \
        const int64_t i = j_ + l_;                                                                   \
        lane_[l_] += (EXPR);                                                                         \
      }                                                                                              \
    double s_ = ((lane_[0] + lane_[1]) + (lane_[2] + lane_[3])) + ((lane_[4] + lane_[5]) + (lane_[6] + lane_[7])); \
    for (int64_t i = j_; i < (n); i++) s_ += (EXPR);                                                 \
    (sum) = s_;                                                                                      \
  } while (0)

__attribute__((always_inline)) static inline double sum_f64(const float *x, int64_t n) {
  double s;
  LANED_SUM(s, n, x[i]);
  return s;
}

// A mean as the Mean kernel takes it from the double sum of `count` values: the sum rounded to
// float32, divided by the count in double, rounded again (JavaScript's two roundings, which the
// kernel once took there).
static inline float mean_of_sum(double sum, double count) { return (float)((double)(float)sum / count); }

// ---- the N-API functions module.c registers, by file ------------------------------------------
// matmul.c
napi_value r3d_js_sgemm(napi_env env, napi_callback_info info);
napi_value r3d_js_rows_path(napi_env env, napi_callback_info info);
napi_value r3d_js_pack_weight_panels(napi_env env, napi_callback_info info);
napi_value r3d_js_set_own_gemm(napi_env env, napi_callback_info info);
napi_value r3d_js_own_gemm(napi_env env, napi_callback_info info);
napi_value r3d_js_config(napi_env env, napi_callback_info info);
// threads.c
napi_value r3d_js_set_num_threads(napi_env env, napi_callback_info info);
napi_value r3d_js_get_num_threads(napi_env env, napi_callback_info info);
// elementwise.c
napi_value r3d_js_binary(napi_env env, napi_callback_info info);
napi_value r3d_js_unary(napi_env env, napi_callback_info info);
napi_value r3d_js_softmax(napi_env env, napi_callback_info info);
napi_value r3d_js_sum(napi_env env, napi_callback_info info);
// movement.c
napi_value r3d_js_transpose(napi_env env, napi_callback_info info);
napi_value r3d_js_copy(napi_env env, napi_callback_info info);
napi_value r3d_js_select(napi_env env, napi_callback_info info);
// fused.c
napi_value r3d_js_layer_norm(napi_env env, napi_callback_info info);
napi_value r3d_js_layer_norm_grad(napi_env env, napi_callback_info info);
napi_value r3d_js_adamw(napi_env env, napi_callback_info info);
// dropout.c
napi_value r3d_js_dropout_mask(napi_env env, napi_callback_info info);

#endif
