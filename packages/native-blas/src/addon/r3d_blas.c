// N-API addon: single-precision GEMM through a CBLAS (OpenBLAS) on Float32Arrays owned by JS.
// Nothing here allocates memory that outlives a call: the tensors' data stays in JS typed arrays,
// so disposing a tensor in TensorFlow.js frees it.
#include <stdbool.h>
#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <stdio.h>
#include <string.h>
#include <node_api.h>
#include <cblas.h>

#include "gemm.h"
#include "pool.h"

// OpenBLAS extensions; declared here too so a cblas.h from another vendor still compiles.
void openblas_set_num_threads(int num_threads);
int openblas_get_num_threads(void);
char *openblas_get_config(void);
char *openblas_get_corename(void);

#define CHECK(env, call)                                                   \
  do {                                                                     \
    if ((call) != napi_ok) {                                               \
      napi_throw_error((env), "R3D_BLAS", "N-API call failed: " #call);   \
      return NULL;                                                         \
    }                                                                      \
  } while (0)

// The data of a typed-array argument: a Float32Array, or with `words` any array of 4-byte
// elements (the data-movement kernels move int32 as well); a TypeError naming it otherwise.
static bool get_typed(napi_env env, napi_value v, const char *name, bool words, void **data, size_t *len) {
  bool is_ta = false;
  napi_is_typedarray(env, v, &is_ta);
  napi_typedarray_type type;
  void *ptr = NULL;
  if (is_ta) napi_get_typedarray_info(env, v, &type, len, &ptr, NULL, NULL);
  if (!is_ta || !(type == napi_float32_array || (words && (type == napi_int32_array || type == napi_uint32_array)))) {
    char msg[96];
    snprintf(msg, sizeof msg, words ? "%s must be a Float32Array, Int32Array or Uint32Array" : "%s must be a Float32Array",
             name);
    napi_throw_type_error(env, "R3D_BLAS_ARG", msg);
    return false;
  }
  *data = ptr;
  return true;
}

static bool get_f32(napi_env env, napi_value v, const char *name, float **data, size_t *len) {
  void *ptr;
  if (!get_typed(env, v, name, false, &ptr, len)) return false;
  *data = (float *)ptr;
  return true;
}

static bool get_i64(napi_env env, napi_value v, const char *name, int64_t *out) {
  if (napi_get_value_int64(env, v, out) != napi_ok || *out < 0) {
    char msg[96];
    snprintf(msg, sizeof msg, "%s must be a non-negative integer", name);
    napi_throw_type_error(env, "R3D_BLAS_ARG", msg);
    return false;
  }
  return true;
}

#define SMALL_GEMM_FLOPS 1e8

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
// on the pool: below that, waking a worker costs about what the second core would save.
#define PARALLEL_ELEMENTS (1 << 18)
#define PARALLEL_CHUNK (1 << 16)

static int element_tasks(int64_t n) {
  if (n < PARALLEL_ELEMENTS || r3d_pool_threads() < 2) return 1;
  return (int)((n + PARALLEL_CHUNK - 1) / PARALLEL_CHUNK);
}

// Whether products go to our kernels first (gemm.c); set from JS (R3D_NATIVE_GEMM).
static bool own_gemm = false;

// sgemm(a, b, c, batch, batchA, batchB, m, n, k, transA, transB, alpha, beta)
// For bi in [0, batch): C[bi] = alpha * op(A[bi % batchA]) * op(B[bi % batchB]) + beta * C[bi],
// row-major, A[i] is m x k (k x m when transA), B[i] is k x n (n x k when transB), C[i] is m x n.
// The modulo is TensorFlow.js's batch broadcasting rule for BatchMatMul.
static napi_value Sgemm(napi_env env, napi_callback_info info) {
  size_t argc = 13;
  napi_value argv[13];
  CHECK(env, napi_get_cb_info(env, info, &argc, argv, NULL, NULL));
  if (argc != 13) {
    napi_throw_type_error(env, "R3D_BLAS_ARG", "sgemm expects 13 arguments");
    return NULL;
  }
  float *a, *b, *c;
  size_t la, lb, lc;
  int64_t batch, batch_a, batch_b, m, n, k;
  bool ta, tb;
  double alpha, beta;
  if (!get_f32(env, argv[0], "a", &a, &la) || !get_f32(env, argv[1], "b", &b, &lb) ||
      !get_f32(env, argv[2], "c", &c, &lc))
    return NULL;
  if (!get_i64(env, argv[3], "batch", &batch) || !get_i64(env, argv[4], "batchA", &batch_a) ||
      !get_i64(env, argv[5], "batchB", &batch_b) || !get_i64(env, argv[6], "m", &m) ||
      !get_i64(env, argv[7], "n", &n) || !get_i64(env, argv[8], "k", &k))
    return NULL;
  if (napi_get_value_bool(env, argv[9], &ta) != napi_ok || napi_get_value_bool(env, argv[10], &tb) != napi_ok ||
      napi_get_value_double(env, argv[11], &alpha) != napi_ok ||
      napi_get_value_double(env, argv[12], &beta) != napi_ok) {
    napi_throw_type_error(env, "R3D_BLAS_ARG", "transA/transB must be booleans, alpha/beta numbers");
    return NULL;
  }
  if (batch_a < 1 || batch_b < 1 || m > INT32_MAX || n > INT32_MAX || k > INT32_MAX) {
    napi_throw_range_error(env, "R3D_BLAS_ARG", "batchA/batchB must be >= 1 and m, n, k fit in 32 bits");
    return NULL;
  }
  const int64_t sa = m * k, sb = k * n, sc = m * n;
  if ((int64_t)la < batch_a * sa || (int64_t)lb < batch_b * sb || (int64_t)lc < batch * sc) {
    char msg[200];
    snprintf(msg, sizeof msg,
             "sgemm operands too short: a has %zu (need %lld), b has %zu (need %lld), c has %zu (need %lld)", la,
             (long long)(batch_a * sa), lb, (long long)(batch_b * sb), lc, (long long)(batch * sc));
    napi_throw_range_error(env, "R3D_BLAS_ARG", msg);
    return NULL;
  }
  if (batch == 0 || m == 0 || n == 0) return NULL;
  if (k == 0) {
    // BLAS leaves C scaled by beta when k == 0; keep that explicit (and cheap).
    for (int64_t i = 0; i < batch * sc; i++) c[i] = beta == 0.0 ? 0.0f : (float)(beta * c[i]);
    return NULL;
  }
  const int lda = ta ? (int)m : (int)k, ldb = tb ? (int)k : (int)n;
  // Our AVX-512 kernels (gemm.c) take every product they handle; the rest, and every product on
  // a CPU without AVX-512, goes to BLAS.
  int64_t first_blas = 0;
  if (own_gemm && alpha == 1.0) {
    for (; first_blas < batch; first_blas++) {
      const int64_t bi = first_blas;
      if (!r3d_sgemm(ta, tb, (int)m, (int)n, (int)k, a + (bi % batch_a) * sa, lda, b + (bi % batch_b) * sb, ldb,
                     (float)beta, c + bi * sc, (int)n))
        break;
    }
    if (first_blas == batch) return NULL;
  }
  // Small products run on the calling thread: waking OpenBLAS's other threads costs more than it
  // saves below ~100 MFLOP, and far more (milliseconds) when other processes hold the cores.
  const int threads = openblas_get_num_threads();
  const bool narrow = threads > 1 && 2.0 * (double)m * (double)n * (double)k < SMALL_GEMM_FLOPS;
  if (narrow) openblas_set_num_threads(1);
  for (int64_t bi = first_blas; bi < batch; bi++) {
    cblas_sgemm(CblasRowMajor, ta ? CblasTrans : CblasNoTrans, tb ? CblasTrans : CblasNoTrans, (int)m, (int)n,
                (int)k, (float)alpha, a + (bi % batch_a) * sa, lda, b + (bi % batch_b) * sb, ldb, (float)beta,
                c + bi * sc, (int)n);
  }
  if (narrow) openblas_set_num_threads(threads);
  return NULL;
}

static napi_value SetNumThreads(napi_env env, napi_callback_info info) {
  size_t argc = 1;
  napi_value argv[1];
  int32_t n = 0;
  CHECK(env, napi_get_cb_info(env, info, &argc, argv, NULL, NULL));
  if (argc < 1 || napi_get_value_int32(env, argv[0], &n) != napi_ok || n < 1) {
    napi_throw_range_error(env, "R3D_BLAS_ARG", "thread count must be an integer >= 1");
    return NULL;
  }
  r3d_pool_set_threads(n);
  // With our kernels on, OpenBLAS only sees small products (and A^T B^T): one thread, so its
  // workers never spin on the cores our pool needs.
  openblas_set_num_threads(own_gemm ? 1 : n);
  return NULL;
}

static napi_value GetNumThreads(napi_env env, napi_callback_info info) {
  napi_value out;
  CHECK(env, napi_create_int32(env, r3d_pool_threads(), &out));
  return out;
}

// setOwnGemm(on): route products to the AVX-512 kernels (when the CPU has them); returns whether
// they are now in use.
static napi_value SetOwnGemm(napi_env env, napi_callback_info info) {
  size_t argc = 1;
  napi_value argv[1], out;
  bool on = false;
  CHECK(env, napi_get_cb_info(env, info, &argc, argv, NULL, NULL));
  if (argc < 1 || napi_get_value_bool(env, argv[0], &on) != napi_ok) {
    napi_throw_type_error(env, "R3D_BLAS_ARG", "setOwnGemm expects a boolean");
    return NULL;
  }
  own_gemm = on && r3d_gemm_supported();
  openblas_set_num_threads(own_gemm ? 1 : r3d_pool_threads());
  CHECK(env, napi_get_boolean(env, own_gemm, &out));
  return out;
}

static napi_value OwnGemm(napi_env env, napi_callback_info info) {
  napi_value out;
  CHECK(env, napi_get_boolean(env, own_gemm, &out));
  return out;
}

static napi_value GetConfig(napi_env env, napi_callback_info info) {
  char buf[512];
  snprintf(buf, sizeof buf, "%s (core %s); own AVX-512 GEMM %s", openblas_get_config(), openblas_get_corename(),
           own_gemm ? "on" : r3d_gemm_supported() ? "off" : "unsupported on this CPU");
  napi_value out;
  CHECK(env, napi_create_string_utf8(env, buf, NAPI_AUTO_LENGTH, &out));
  return out;
}


// ---- element-wise kernels -------------------------------------------------------------------
// The cpu backend's broadcasting binary ops, transpose, softmax and sum compute an index vector per
// element in JavaScript; these loops do the same work over precomputed strides.

#define MAX_RANK 16

// exp for float32 as a branch-free polynomial (Cephes expf: range reduction by ln 2, degree-6
// polynomial, about 1 ulp) so that loops over it vectorise; libm's expf is a call per element.
static inline float exp_approx(float x) {
  const float hi = 88.72283f, lo = -87.33654f;
  float xc = x > hi ? hi : x;
  xc = xc < lo ? lo : xc;
  const float n = (xc * 1.44269504088896341f + 12582912.0f) - 12582912.0f;  // round to nearest
  float r = xc - n * 0.693359375f;
  r = r - n * -2.12194440e-4f;
  float p = 1.9875691500e-4f;
  p = p * r + 1.3981999507e-3f;
  p = p * r + 8.3334519073e-3f;
  p = p * r + 4.1665795894e-2f;
  p = p * r + 1.6666665459e-1f;
  p = p * r + 5.0000001201e-1f;
  p = p * r * r + r + 1.0f;
  // 2^n as 2^(n-1) * 2 so that n = 128 (x near 88.72) still has a finite exponent field.
  const int32_t e = ((int32_t)n + 126) << 23;
  float scale;
  memcpy(&scale, &e, sizeof scale);
  float res = p * scale * 2.0f;
  res = x > hi ? INFINITY : res;
  res = x < lo ? 0.0f : res;
  return res;
}

// Sums in double over 8 interleaved lanes, combined in a fixed order: the compiler can vectorise
// this (a single running sum is one dependent add per element, ~4 cycles each), and the order
// does not depend on the CPU.
__attribute__((always_inline)) static inline double sum_f64(const float *x, int64_t n) {
  double lane[8] = {0, 0, 0, 0, 0, 0, 0, 0};
  int64_t j = 0;
  for (; j + 8 <= n; j += 8)
    for (int l = 0; l < 8; l++) lane[l] += x[j + l];
  double s = ((lane[0] + lane[1]) + (lane[2] + lane[3])) + ((lane[4] + lane[5]) + (lane[6] + lane[7]));
  for (; j < n; j++) s += x[j];
  return s;
}

// Sum of (x - mean)^2 in double, laned as sum_f64.
__attribute__((always_inline)) static inline double sum_sq_dev_f64(const float *x, int64_t n, double mean) {
  double lane[8] = {0, 0, 0, 0, 0, 0, 0, 0};
  int64_t j = 0;
  for (; j + 8 <= n; j += 8)
    for (int l = 0; l < 8; l++) lane[l] += (x[j + l] - mean) * (x[j + l] - mean);
  double s = ((lane[0] + lane[1]) + (lane[2] + lane[3])) + ((lane[4] + lane[5]) + (lane[6] + lane[7]));
  for (; j < n; j++) s += (x[j] - mean) * (x[j] - mean);
  return s;
}


static bool get_ints(napi_env env, napi_value v, const char *name, int64_t *out, uint32_t *rank, bool allow_negative) {
  bool is_array = false;
  napi_is_array(env, v, &is_array);
  uint32_t len = 0;
  if (is_array) napi_get_array_length(env, v, &len);
  if (!is_array || len > MAX_RANK) {
    char msg[96];
    snprintf(msg, sizeof msg, "%s must be an array of at most %d integers", name, MAX_RANK);
    napi_throw_type_error(env, "R3D_BLAS_ARG", msg);
    return false;
  }
  for (uint32_t i = 0; i < len; i++) {
    napi_value e;
    napi_get_element(env, v, i, &e);
    if (napi_get_value_int64(env, e, &out[i]) != napi_ok || (!allow_negative && out[i] < 0)) {
      char msg[96];
      snprintf(msg, sizeof msg, "%s[%u] must be a%s integer", name, i, allow_negative ? "n" : " non-negative");
      napi_throw_type_error(env, "R3D_BLAS_ARG", msg);
      return false;
    }
  }
  *rank = len;
  return true;
}

static bool get_dims(napi_env env, napi_value v, const char *name, int64_t *out, uint32_t *rank) {
  return get_ints(env, v, name, out, rank, false);
}

enum { OP_ADD = 0, OP_SUB = 1, OP_MUL = 2, OP_DIV = 3, OP_SQDIFF = 4, OP_MAX = 5, OP_MIN = 6 };

// Separate loops per op and per stride pattern so the compiler vectorises the contiguous cases.
#define INNER(EXPR)                                                                     \
  if (sa == 1 && sb == 1) { for (int64_t j = 0; j < n; j++) { float x = pa[j], y = pb[j]; po[j] = (EXPR); } } \
  else if (sa == 1 && sb == 0) { float y = pb[0]; for (int64_t j = 0; j < n; j++) { float x = pa[j]; po[j] = (EXPR); } } \
  else if (sa == 0 && sb == 1) { float x = pa[0]; for (int64_t j = 0; j < n; j++) { float y = pb[j]; po[j] = (EXPR); } } \
  else { for (int64_t j = 0; j < n; j++) { float x = pa[j * sa], y = pb[j * sb]; po[j] = (EXPR); } }

__attribute__((always_inline)) static inline void binary_inner(int op, const float *pa, int64_t sa, const float *pb, int64_t sb, float *po, int64_t n) {
  switch (op) {
    case OP_ADD: INNER(x + y) break;
    case OP_SUB: INNER(x - y) break;
    case OP_MUL: INNER(x * y) break;
    case OP_DIV: INNER(x / y) break;
    case OP_SQDIFF: INNER((x - y) * (x - y)) break;
    case OP_MAX: INNER((x != x || y != y) ? NAN : (x > y ? x : y)) break;
    case OP_MIN: INNER((x != x || y != y) ? NAN : (x < y ? x : y)) break;
  }
}

typedef struct {
  int op;
  const float *a, *b;
  float *o;
  const int64_t *dims, *stA, *stB;
  uint32_t rank;
  int64_t total, chunk;
} binary_job;

// Output elements [t * chunk, (t + 1) * chunk) of a binary job: the odometer over the outer
// dimensions starts from the chunk's first element, and the first and last rows may be partial.
VECTOR_CLONES static void binary_task(void *ctx, int t) {
  const binary_job *job = (const binary_job *)ctx;
  const uint32_t rank = job->rank;
  const int64_t *dims = job->dims, *stA = job->stA, *stB = job->stB;
  const int64_t n = dims[rank - 1];
  const int64_t start = (int64_t)t * job->chunk;
  const int64_t end = job->total - start < job->chunk ? job->total : start + job->chunk;
  int64_t idx[MAX_RANK] = {0};
  int64_t row = start / n, col = start % n;
  int64_t offA = col * stA[rank - 1], offB = col * stB[rank - 1];
  for (int d = (int)rank - 2; d >= 0; d--) {
    idx[d] = row % dims[d];
    row /= dims[d];
    offA += idx[d] * stA[d];
    offB += idx[d] * stB[d];
  }
  for (int64_t e = start; e < end;) {
    const int64_t len = n - col < end - e ? n - col : end - e;
    binary_inner(job->op, job->a + offA, stA[rank - 1], job->b + offB, stB[rank - 1], job->o + e, len);
    e += len;
    offA -= col * stA[rank - 1];  // back to the start of the row
    offB -= col * stB[rank - 1];
    col = 0;
    odometer_next(idx, dims, (int)rank - 1, -1, &offA, stA, &offB, stB);
  }
}

// binary(op, a, b, out, dims, stridesA, stridesB): out is dense over dims (row-major); a and b are
// read at their strides (0 along broadcast dimensions).
static napi_value Binary(napi_env env, napi_callback_info info) {
  size_t argc = 7;
  napi_value argv[7];
  CHECK(env, napi_get_cb_info(env, info, &argc, argv, NULL, NULL));
  int32_t op;
  float *a, *b, *o;
  size_t la, lb, lo;
  int64_t dims[MAX_RANK], stA[MAX_RANK], stB[MAX_RANK];
  uint32_t rank, ra, rb;
  if (argc != 7 || napi_get_value_int32(env, argv[0], &op) != napi_ok || op < OP_ADD || op > OP_MIN) {
    napi_throw_type_error(env, "R3D_BLAS_ARG", "binary(op, a, b, out, dims, stridesA, stridesB)");
    return NULL;
  }
  if (!get_f32(env, argv[1], "a", &a, &la) || !get_f32(env, argv[2], "b", &b, &lb) ||
      !get_f32(env, argv[3], "out", &o, &lo) || !get_dims(env, argv[4], "dims", dims, &rank) ||
      !get_dims(env, argv[5], "stridesA", stA, &ra) || !get_dims(env, argv[6], "stridesB", stB, &rb))
    return NULL;
  int64_t total = 1, lastA = 0, lastB = 0;
  for (uint32_t i = 0; i < rank; i++) {
    total *= dims[i];
    if (dims[i] > 0) { lastA += (dims[i] - 1) * stA[i]; lastB += (dims[i] - 1) * stB[i]; }
  }
  if (ra != rank || rb != rank || (int64_t)lo < total || (total > 0 && ((int64_t)la <= lastA || (int64_t)lb <= lastB))) {
    napi_throw_range_error(env, "R3D_BLAS_ARG", "binary: dims/strides do not fit the operands");
    return NULL;
  }
  if (total == 0) return NULL;
  if (rank == 0) { binary_inner(op, a, 0, b, 0, o, 1); return NULL; }
  const int tasks = element_tasks(total);
  binary_job job = {op, a, b, o, dims, stA, stB, rank, total, tasks == 1 ? total : PARALLEL_CHUNK};
  r3d_parallel_for(binary_task, &job, tasks, r3d_pool_threads());
  return NULL;
}

// A transpose whose output rows read the input at a large stride touches a new cache line per
// element; walking 32 x 32 tiles of the two dimensions that are contiguous in the input (a) and in
// the output (the last) keeps both sides in cache. The other dimensions are an outer odometer.
#define TILE 32
static void transpose_tiled(const float *x, float *o, const int64_t *dims, const int64_t *st, uint32_t rank, uint32_t a) {
  const uint32_t last = rank - 1;
  int64_t os[MAX_RANK];
  os[last] = 1;
  for (int i = (int)last - 1; i >= 0; i--) os[i] = os[i + 1] * dims[i + 1];
  const int64_t na = dims[a], nb = dims[last], sb = st[last], oa = os[a];
  int64_t outer = 1;
  for (uint32_t i = 0; i < last; i++) if (i != a) outer *= dims[i];
  int64_t idx[MAX_RANK] = {0};
  int64_t offx = 0, offo = 0;
  for (int64_t q = 0; q < outer; q++) {
    for (int64_t a0 = 0; a0 < na; a0 += TILE) {
      const int64_t a1 = a0 + TILE < na ? a0 + TILE : na;
      for (int64_t b0 = 0; b0 < nb; b0 += TILE) {
        const int64_t b1 = b0 + TILE < nb ? b0 + TILE : nb;
        for (int64_t i = a0; i < a1; i++) {
          const float *px = x + offx + i;
          float *po = o + offo + i * oa;
          for (int64_t j = b0; j < b1; j++) po[j] = px[j * sb];
        }
      }
    }
    odometer_next(idx, dims, (int)last, (int)a, &offx, st, &offo, os);  // dimensions other than a and last
  }
}

// transpose(x, out, dims, strides): out is dense over dims, read from x at strides (the input's
// strides permuted into output order).
static napi_value Transpose(napi_env env, napi_callback_info info) {
  size_t argc = 4;
  napi_value argv[4];
  CHECK(env, napi_get_cb_info(env, info, &argc, argv, NULL, NULL));
  float *x, *o;
  size_t lx, lo;
  int64_t dims[MAX_RANK], st[MAX_RANK];
  uint32_t rank, rs;
  if (argc != 4 || !get_f32(env, argv[0], "x", &x, &lx) || !get_f32(env, argv[1], "out", &o, &lo) ||
      !get_dims(env, argv[2], "dims", dims, &rank) || !get_dims(env, argv[3], "strides", st, &rs))
    return NULL;
  int64_t total = 1, last = 0;
  for (uint32_t i = 0; i < rank; i++) { total *= dims[i]; if (dims[i] > 0) last += (dims[i] - 1) * st[i]; }
  if (rs != rank || rank == 0 || (int64_t)lo < total || (total > 0 && (int64_t)lx <= last)) {
    napi_throw_range_error(env, "R3D_BLAS_ARG", "transpose: dims/strides do not fit the operands");
    return NULL;
  }
  if (total == 0) return NULL;
  const int64_t n = dims[rank - 1], s = st[rank - 1];
  if (s != 1 && rank >= 2) {
    for (uint32_t d = 0; d + 1 < rank; d++) {
      if (st[d] == 1 && dims[d] >= 8 && n >= 8) { transpose_tiled(x, o, dims, st, rank, d); return NULL; }
    }
  }
  int64_t idx[MAX_RANK] = {0};
  int64_t off = 0;
  for (int64_t base = 0; base < total; base += n) {
    const float *px = x + off;
    float *po = o + base;
    if (s == 1) memcpy(po, px, (size_t)n * sizeof(float));
    else for (int64_t j = 0; j < n; j++) po[j] = px[j * s];
    odometer_next(idx, dims, (int)rank - 1, -1, &off, st, NULL, NULL);
  }
  return NULL;
}

// softmax(x, out, rows, cols): softmax over the last axis, max-subtracted as tfjs does.
VECTOR_CLONES static void softmax_rows(const float *x, float *o, int64_t rows, int64_t cols) {
  for (int64_t r = 0; r < rows; r++) {
    const float *px = x + r * cols;
    float *po = o + r * cols;
    float mx = -INFINITY;
    for (int64_t j = 0; j < cols; j++) mx = px[j] > mx ? px[j] : mx;
    for (int64_t j = 0; j < cols; j++) po[j] = exp_approx(px[j] - mx);
    const float inv = (float)(1.0 / sum_f64(po, cols));
    for (int64_t j = 0; j < cols; j++) po[j] *= inv;
  }
}

static napi_value Softmax(napi_env env, napi_callback_info info) {
  size_t argc = 4;
  napi_value argv[4];
  CHECK(env, napi_get_cb_info(env, info, &argc, argv, NULL, NULL));
  float *x, *o;
  size_t lx, lo;
  int64_t rows, cols;
  if (argc != 4 || !get_f32(env, argv[0], "x", &x, &lx) || !get_f32(env, argv[1], "out", &o, &lo) ||
      !get_i64(env, argv[2], "rows", &rows) || !get_i64(env, argv[3], "cols", &cols))
    return NULL;
  if ((int64_t)lx < rows * cols || (int64_t)lo < rows * cols) {
    napi_throw_range_error(env, "R3D_BLAS_ARG", "softmax: operands shorter than rows * cols");
    return NULL;
  }
  softmax_rows(x, o, rows, cols);
  return NULL;
}

VECTOR_CLONES static void sum_rows(const float *x, float *o, int64_t rows, int64_t cols) {
  for (int64_t r = 0; r < rows; r++) o[r] = (float)sum_f64(x + r * cols, cols);
}

// sum(x, out, outer, mid, inner): out[o, i] = sum over m of x[o, m, i], accumulated in double.
static napi_value Sum(napi_env env, napi_callback_info info) {
  size_t argc = 5;
  napi_value argv[5];
  CHECK(env, napi_get_cb_info(env, info, &argc, argv, NULL, NULL));
  float *x, *o;
  size_t lx, lo;
  int64_t outer, mid, inner;
  if (argc != 5 || !get_f32(env, argv[0], "x", &x, &lx) || !get_f32(env, argv[1], "out", &o, &lo) ||
      !get_i64(env, argv[2], "outer", &outer) || !get_i64(env, argv[3], "mid", &mid) ||
      !get_i64(env, argv[4], "inner", &inner))
    return NULL;
  if ((int64_t)lx < outer * mid * inner || (int64_t)lo < outer * inner) {
    napi_throw_range_error(env, "R3D_BLAS_ARG", "sum: operands shorter than outer * mid * inner");
    return NULL;
  }
  if (inner == 1) {
    sum_rows(x, o, outer, mid);
    return NULL;
  }
  double *acc = (double *)malloc((size_t)inner * sizeof(double));
  if (!acc) { napi_throw_error(env, "R3D_BLAS_OOM", "sum: out of memory"); return NULL; }
  for (int64_t r = 0; r < outer; r++) {
    for (int64_t i = 0; i < inner; i++) acc[i] = 0;
    for (int64_t m = 0; m < mid; m++) {
      const float *px = x + (r * mid + m) * inner;
      for (int64_t i = 0; i < inner; i++) acc[i] += px[i];
    }
    for (int64_t i = 0; i < inner; i++) o[r * inner + i] = (float)acc[i];
  }
  free(acc);
  return NULL;
}


// ---- data movement ---------------------------------------------------------------------------
// Slice, strided slice, split, unpack, concat, pack, pad and tile are all one strided copy: out[po]
// = x[px] over dims, where px and po walk their own (possibly zero or negative) strides from their
// offsets. Elements are moved as 4-byte words, so float32 and int32 tensors share the loop.

static bool get_words(napi_env env, napi_value v, const char *name, uint32_t **data, size_t *len) {
  void *ptr;
  if (!get_typed(env, v, name, true, &ptr, len)) return false;
  *data = (uint32_t *)ptr;
  return true;
}

// Lowest and highest element offset a walk over dims at strides st reaches from off.
static void reach(const int64_t *dims, const int64_t *st, uint32_t rank, int64_t off, int64_t *lo, int64_t *hi) {
  *lo = off;
  *hi = off;
  for (uint32_t i = 0; i < rank; i++) {
    if (dims[i] == 0) continue;
    const int64_t span = (dims[i] - 1) * st[i];
    if (span < 0) *lo += span; else *hi += span;
  }
}

// copy(x, out, dims, stridesX, stridesOut, offX, offOut)
static napi_value Copy(napi_env env, napi_callback_info info) {
  size_t argc = 7;
  napi_value argv[7];
  CHECK(env, napi_get_cb_info(env, info, &argc, argv, NULL, NULL));
  uint32_t *x, *o;
  size_t lx, lo;
  int64_t dims[MAX_RANK], sx[MAX_RANK], so[MAX_RANK], offX, offO;
  uint32_t rank, rx, ro;
  if (argc != 7) {
    napi_throw_type_error(env, "R3D_BLAS_ARG", "copy(x, out, dims, stridesX, stridesOut, offX, offOut)");
    return NULL;
  }
  if (!get_words(env, argv[0], "x", &x, &lx) || !get_words(env, argv[1], "out", &o, &lo) ||
      !get_dims(env, argv[2], "dims", dims, &rank) || !get_ints(env, argv[3], "stridesX", sx, &rx, true) ||
      !get_ints(env, argv[4], "stridesOut", so, &ro, true) || !get_i64(env, argv[5], "offX", &offX) ||
      !get_i64(env, argv[6], "offOut", &offO))
    return NULL;
  int64_t total = 1;
  for (uint32_t i = 0; i < rank; i++) total *= dims[i];
  if (rx != rank || ro != rank || rank == 0) {
    napi_throw_range_error(env, "R3D_BLAS_ARG", "copy: dims and strides must have the same, non-zero length");
    return NULL;
  }
  if (total == 0) return NULL;
  int64_t xlo, xhi, olo, ohi;
  reach(dims, sx, rank, offX, &xlo, &xhi);
  reach(dims, so, rank, offO, &olo, &ohi);
  if (xlo < 0 || olo < 0 || xhi >= (int64_t)lx || ohi >= (int64_t)lo) {
    napi_throw_range_error(env, "R3D_BLAS_ARG", "copy: dims/strides/offsets reach outside the operands");
    return NULL;
  }
  const int64_t n = dims[rank - 1], s = sx[rank - 1], t = so[rank - 1];
  int64_t idx[MAX_RANK] = {0};
  int64_t px = offX, po = offO;
  for (int64_t base = 0; base < total; base += n) {
    const uint32_t *src = x + px;
    uint32_t *dst = o + po;
    if (s == 1 && t == 1) memcpy(dst, src, (size_t)n * sizeof(uint32_t));
    else if (t == 1 && s == 0) { const uint32_t v = src[0]; for (int64_t j = 0; j < n; j++) dst[j] = v; }
    else if (t == 1) for (int64_t j = 0; j < n; j++) dst[j] = src[j * s];
    else for (int64_t j = 0; j < n; j++) dst[j * t] = src[j * s];
    odometer_next(idx, dims, (int)rank - 1, -1, &px, sx, &po, so);
  }
  return NULL;
}

// ---- unary kernels ---------------------------------------------------------------------------
// The cpu backend calls a closure per element (one shared, megamorphic loop); these are plain loops
// with the same formulas as tfjs-backend-cpu (its Erf is the Abramowitz-Stegun 7.1.26 polynomial).

enum {
  U_NEG = 0, U_SQRT, U_RSQRT, U_SQUARE, U_EXP, U_LOG, U_ERF, U_TANH, U_SIGMOID, U_ABS, U_FLOOR, U_RELU, U_STEP,
  U_RECIPROCAL, U_ELU, U_RELU6, U_LOG1P, U_EXPM1, U_SIGN, U_CEIL, U_ROUND, U_LEAKY_RELU, U_GELU, U_COUNT
};

static inline float erf_as(float xf) {
  const float p = 0.3275911f, a1 = 0.254829592f, a2 = -0.284496736f, a3 = 1.421413741f, a4 = -1.453152027f,
              a5 = 1.061405429f;
  const float sign = xf > 0 ? 1.0f : (xf < 0 ? -1.0f : 0.0f);
  const float v = fabsf(xf);
  const float t = 1.0f / (1.0f + p * v);
  const float y = sign * (1.0f - (((((a5 * t + a4) * t) + a3) * t + a2) * t + a1) * t * exp_approx(-v * v));
  return xf != xf ? xf : y;
}

static float round_half_even(float x) {
  // tfjs Round: banker's rounding
  const float base = floorf(x);
  const float d = x - base;
  if (d < 0.5f) return base;
  if (d > 0.5f) return base + 1.0f;
  return fmodf(base, 2.0f) == 0.0f ? base : base + 1.0f;
}

#define UNARY_LOOP(EXPR) for (int64_t i = 0; i < n; i++) { const float v = x[i]; o[i] = (EXPR); } break;

typedef struct {
  int op;
  const float *x;
  float *o;
  float alpha;
  int64_t n, chunk;
} unary_job;

// Elements [t * chunk, (t + 1) * chunk) of a unary job.
VECTOR_CLONES static void unary_task(void *ctx, int t) {
  const unary_job *job = (const unary_job *)ctx;
  const int64_t start = (int64_t)t * job->chunk;
  const int64_t n = job->n - start < job->chunk ? job->n - start : job->chunk;
  const float *x = job->x + start;
  float *o = job->o + start;
  const float alpha = job->alpha;
  switch (job->op) {
    case U_NEG: UNARY_LOOP(-v)
    case U_SQRT: UNARY_LOOP(sqrtf(v))
    case U_RSQRT: UNARY_LOOP((float)(1.0 / sqrt((double)v)))
    case U_SQUARE: UNARY_LOOP(v * v)
    case U_EXP: UNARY_LOOP(exp_approx(v))
    case U_LOG: UNARY_LOOP(logf(v))
    case U_ERF: UNARY_LOOP(erf_as(v))
    case U_TANH: UNARY_LOOP(tanhf(v))
    case U_SIGMOID: UNARY_LOOP(1.0f / (1.0f + exp_approx(-v)))
    case U_ABS: UNARY_LOOP(fabsf(v))
    case U_FLOOR: UNARY_LOOP(floorf(v))
    case U_RELU: UNARY_LOOP(v < 0 ? 0.0f : v)
    case U_STEP: UNARY_LOOP(v > 0 ? 1.0f : (v != v ? NAN : alpha))
    case U_RECIPROCAL: UNARY_LOOP(1.0f / v)
    case U_ELU: UNARY_LOOP(v >= 0 ? v : exp_approx(v) - 1.0f)
    case U_RELU6: UNARY_LOOP(v != v ? NAN : (v < 0 ? 0.0f : (v > 6 ? 6.0f : v)))
    case U_LOG1P: UNARY_LOOP(log1pf(v))
    case U_EXPM1: UNARY_LOOP(expm1f(v))
    case U_SIGN: UNARY_LOOP(v > 0 ? 1.0f : (v < 0 ? -1.0f : 0.0f))  // NaN -> 0, as tfjs-backend-cpu
    case U_CEIL: UNARY_LOOP(ceilf(v))
    case U_ROUND: UNARY_LOOP(round_half_even(v))
    case U_LEAKY_RELU: UNARY_LOOP(v < 0 ? alpha * v : v)
    case U_GELU: UNARY_LOOP(0.5f * v * (1.0f + erf_as(v * 0.70710678118654752f)))  // exact (erf) GELU
  }
}

// unary(op, x, out, alpha): out[i] = f(x[i]) over min(len(x), len(out)) elements.
static napi_value Unary(napi_env env, napi_callback_info info) {
  size_t argc = 4;
  napi_value argv[4];
  CHECK(env, napi_get_cb_info(env, info, &argc, argv, NULL, NULL));
  int32_t op;
  float *x, *o;
  size_t lx, lo;
  double alpha_d = 0;
  if (argc != 4 || napi_get_value_int32(env, argv[0], &op) != napi_ok || op < 0 || op >= U_COUNT ||
      napi_get_value_double(env, argv[3], &alpha_d) != napi_ok) {
    napi_throw_type_error(env, "R3D_BLAS_ARG", "unary(op, x, out, alpha)");
    return NULL;
  }
  if (!get_f32(env, argv[1], "x", &x, &lx) || !get_f32(env, argv[2], "out", &o, &lo)) return NULL;
  const int64_t n = (int64_t)(lx < lo ? lx : lo);
  const int tasks = element_tasks(n);
  unary_job job = {op, x, o, (float)alpha_d, n, tasks == 1 ? n : PARALLEL_CHUNK};
  r3d_parallel_for(unary_task, &job, tasks, r3d_pool_threads());
  return NULL;
}

typedef struct {
  const float *x, *gamma, *beta;
  float *o;
  int64_t rows, cols, rows_per_task;
  float eps;
} layer_norm_job;

// LayerNorm of rows [t * rows_per_task, ...): statistics in double, biased variance of the
// centred row (as torch.nn.LayerNorm), y = (x - mean) / sqrt(var + eps) * gamma + beta.
VECTOR_CLONES static void layer_norm_task(void *ctx, int t) {
  const layer_norm_job *job = (const layer_norm_job *)ctx;
  const int64_t r0 = (int64_t)t * job->rows_per_task;
  const int64_t r1 = r0 + job->rows_per_task < job->rows ? r0 + job->rows_per_task : job->rows;
  const int64_t n = job->cols;
  for (int64_t r = r0; r < r1; r++) {
    const float *x = job->x + r * n;
    float *o = job->o + r * n;
    const double mean = sum_f64(x, n) / (double)n;
    const float rstd = (float)(1.0 / sqrt(sum_sq_dev_f64(x, n, mean) / (double)n + (double)job->eps));
    const float m = (float)mean;
    for (int64_t j = 0; j < n; j++) o[j] = (x[j] - m) * rstd * job->gamma[j] + job->beta[j];
  }
}

// layerNorm(x, gamma, beta, out, rows, cols, eps): LayerNorm over the last axis of a rows x cols
// matrix, gamma and beta of length cols.
static napi_value LayerNorm(napi_env env, napi_callback_info info) {
  size_t argc = 7;
  napi_value argv[7];
  CHECK(env, napi_get_cb_info(env, info, &argc, argv, NULL, NULL));
  float *x, *g, *b, *o;
  size_t lx, lg, lb, lo;
  int64_t rows, cols;
  double eps;
  if (argc != 7 || !get_f32(env, argv[0], "x", &x, &lx) || !get_f32(env, argv[1], "gamma", &g, &lg) ||
      !get_f32(env, argv[2], "beta", &b, &lb) || !get_f32(env, argv[3], "out", &o, &lo) ||
      !get_i64(env, argv[4], "rows", &rows) || !get_i64(env, argv[5], "cols", &cols))
    return NULL;
  if (napi_get_value_double(env, argv[6], &eps) != napi_ok) {
    napi_throw_type_error(env, "R3D_BLAS_ARG", "layerNorm: eps must be a number");
    return NULL;
  }
  if ((int64_t)lx < rows * cols || (int64_t)lo < rows * cols || (int64_t)lg < cols || (int64_t)lb < cols) {
    napi_throw_range_error(env, "R3D_BLAS_ARG", "layerNorm: operands shorter than rows x cols (gamma, beta: cols)");
    return NULL;
  }
  if (rows == 0 || cols == 0) return NULL;
  const int tasks = element_tasks(rows * cols);
  layer_norm_job job = {x, g, b, o, rows, cols, (rows + tasks - 1) / tasks, (float)eps};
  r3d_parallel_for(layer_norm_task, &job, tasks, r3d_pool_threads());
  return NULL;
}

typedef struct {
  const float *p, *m, *v, *g;
  float *p1, *m1, *v1;
  int64_t n, chunk;
  float keep, b1, one_minus_b1, b2, one_minus_b2, bc2_sqrt, eps, step_size;
} adamw_job;

// One AdamW update (torch.optim.AdamW's order of operations, each rounded to float32 as the
// composed tf ops round it, so the result is the same bit for bit):
// p1 = p * keep - (m1 / (sqrt(v1) / bc2_sqrt + eps)) * step_size, m1 = m * b1 + g * (1 - b1),
// v1 = v * b2 + (g * g) * (1 - b2).
VECTOR_CLONES static void adamw_task(void *ctx, int t) {
  const adamw_job *job = (const adamw_job *)ctx;
  const int64_t start = (int64_t)t * job->chunk;
  const int64_t end = job->n - start < job->chunk ? job->n : start + job->chunk;
  const float keep = job->keep, b1 = job->b1, c1 = job->one_minus_b1, b2 = job->b2, c2 = job->one_minus_b2;
  const float bc2 = job->bc2_sqrt, eps = job->eps, step = job->step_size;
  for (int64_t i = start; i < end; i++) {
    const float g = job->g[i];
    const float m1 = job->m[i] * b1 + g * c1;
    const float v1 = job->v[i] * b2 + (g * g) * c2;
    const float denom = sqrtf(v1) / bc2 + eps;
    const float decayed = keep == 1.0f ? job->p[i] : job->p[i] * keep;
    job->p1[i] = decayed - (m1 / denom) * step;
    job->m1[i] = m1;
    job->v1[i] = v1;
  }
}

// adamw(p, m, v, g, p1, m1, v1, [keep, b1, 1 - b1, b2, 1 - b2, bc2Sqrt, eps, stepSize])
static napi_value AdamW(napi_env env, napi_callback_info info) {
  size_t argc = 8;
  napi_value argv[8];
  CHECK(env, napi_get_cb_info(env, info, &argc, argv, NULL, NULL));
  float *arr[7];
  size_t len[7];
  static const char *names[7] = {"p", "m", "v", "g", "p1", "m1", "v1"};
  if (argc != 8) {
    napi_throw_type_error(env, "R3D_BLAS_ARG", "adamw(p, m, v, g, p1, m1, v1, constants)");
    return NULL;
  }
  for (int k = 0; k < 7; k++)
    if (!get_f32(env, argv[k], names[k], &arr[k], &len[k])) return NULL;
  float c[8];
  size_t nc = 0;
  float *cv;
  if (!get_f32(env, argv[7], "constants", &cv, &nc)) return NULL;
  if (nc != 8) {
    napi_throw_range_error(env, "R3D_BLAS_ARG", "adamw: constants must hold 8 numbers");
    return NULL;
  }
  memcpy(c, cv, sizeof c);
  for (int k = 1; k < 7; k++) {
    if (len[k] != len[0]) {
      napi_throw_range_error(env, "R3D_BLAS_ARG", "adamw: p, m, v, g and the outputs must have the same length");
      return NULL;
    }
  }
  const int64_t n = (int64_t)len[0];
  if (n == 0) return NULL;
  const int tasks = element_tasks(n);
  adamw_job job = {arr[0], arr[1], arr[2], arr[3], arr[4], arr[5], arr[6], n, tasks == 1 ? n : PARALLEL_CHUNK,
                   c[0], c[1], c[2], c[3], c[4], c[5], c[6], c[7]};
  r3d_parallel_for(adamw_task, &job, tasks, r3d_pool_threads());
  return NULL;
}

static napi_value Init(napi_env env, napi_value exports) {
  r3d_pool_set_threads(openblas_get_num_threads()); // OPENBLAS_NUM_THREADS, or OpenBLAS's default
  napi_property_descriptor props[] = {
      {"sgemm", NULL, Sgemm, NULL, NULL, NULL, napi_enumerable, NULL},
      {"setNumThreads", NULL, SetNumThreads, NULL, NULL, NULL, napi_enumerable, NULL},
      {"getNumThreads", NULL, GetNumThreads, NULL, NULL, NULL, napi_enumerable, NULL},
      {"setOwnGemm", NULL, SetOwnGemm, NULL, NULL, NULL, napi_enumerable, NULL},
      {"ownGemm", NULL, OwnGemm, NULL, NULL, NULL, napi_enumerable, NULL},
      {"config", NULL, GetConfig, NULL, NULL, NULL, napi_enumerable, NULL},
      {"binary", NULL, Binary, NULL, NULL, NULL, napi_enumerable, NULL},
      {"transpose", NULL, Transpose, NULL, NULL, NULL, napi_enumerable, NULL},
      {"softmax", NULL, Softmax, NULL, NULL, NULL, napi_enumerable, NULL},
      {"sum", NULL, Sum, NULL, NULL, NULL, napi_enumerable, NULL},
      {"copy", NULL, Copy, NULL, NULL, NULL, napi_enumerable, NULL},
      {"unary", NULL, Unary, NULL, NULL, NULL, napi_enumerable, NULL},
      {"layerNorm", NULL, LayerNorm, NULL, NULL, NULL, napi_enumerable, NULL},
      {"adamw", NULL, AdamW, NULL, NULL, NULL, napi_enumerable, NULL},
  };
  CHECK(env, napi_define_properties(env, exports, sizeof props / sizeof props[0], props));
  return exports;
}

NAPI_MODULE(NODE_GYP_MODULE_NAME, Init)
