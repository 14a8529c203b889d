// Element-wise kernels: broadcasting binary ops, unary ops, softmax and sums. The cpu backend
// computes an index vector per element in JavaScript, or calls a closure per element; these loops
// do the same work over precomputed strides.
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "common.h"

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

// ---- binary kernels --------------------------------------------------------------------------
// Broadcasting Add, Sub, Multiply, RealDiv, SquaredDifference, Maximum, Minimum.

enum { OP_ADD = 0, OP_SUB = 1, OP_MUL = 2, OP_DIV = 3, OP_SQDIFF = 4, OP_MAX = 5, OP_MIN = 6, OP_GELU_GRAD = 7 };

static inline float erf_as(float xf);

// GELU's backward pass, dy * (cdf + x pdf) with cdf = (1 + erf(x * sqrt 1/2)) * 0.5 and
// pdf = exp(x^2 * -0.5) * (1 / sqrt(2 pi)): each float32 operation of the composed tf ops of
// @r3d-ts/rtf-fuser's gelu gradient (on this addon's Erf and Exp), in their order, so the same bits
// in one pass instead of ten.
static inline float gelu_grad(float dy, float x) {
  const float cdf = (1.0f + erf_as(x * (float)0.70710678118654752)) * 0.5f;
  const float pdf = exp_approx((x * x) * -0.5f) * (float)0.3989422804014327;
  return dy * (cdf + x * pdf);
}

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
    case OP_GELU_GRAD: INNER(gelu_grad(x, y)) break;
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
napi_value r3d_js_binary(napi_env env, napi_callback_info info) {
  GET_ARGS(env, info, 7);
  int32_t op;
  float *a, *b, *o;
  size_t la, lb, lo;
  int64_t dims[MAX_RANK], stA[MAX_RANK], stB[MAX_RANK];
  uint32_t rank, ra, rb;
  if (argc != 7 || napi_get_value_int32(env, argv[0], &op) != napi_ok || op < OP_ADD || op > OP_GELU_GRAD) {
    napi_throw_type_error(env, "R3D_BLAS_ARG", "binary(op, a, b, out, dims, stridesA, stridesB)");
    return NULL;
  }
  if (!r3d_get_f32(env, argv[1], "a", &a, &la) || !r3d_get_f32(env, argv[2], "b", &b, &lb) ||
      !r3d_get_f32(env, argv[3], "out", &o, &lo) || !r3d_get_dims(env, argv[4], "dims", dims, &rank) ||
      !r3d_get_dims(env, argv[5], "stridesA", stA, &ra) || !r3d_get_dims(env, argv[6], "stridesB", stB, &rb))
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
  const int tasks = r3d_element_tasks(total);
  binary_job job = {op, a, b, o, dims, stA, stB, rank, total, tasks == 1 ? total : PARALLEL_CHUNK};
  r3d_parallel_for(binary_task, &job, tasks, r3d_pool_threads());
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
napi_value r3d_js_unary(napi_env env, napi_callback_info info) {
  GET_ARGS(env, info, 4);
  int32_t op;
  float *x, *o;
  size_t lx, lo;
  double alpha_d = 0;
  if (argc != 4 || napi_get_value_int32(env, argv[0], &op) != napi_ok || op < 0 || op >= U_COUNT ||
      napi_get_value_double(env, argv[3], &alpha_d) != napi_ok) {
    napi_throw_type_error(env, "R3D_BLAS_ARG", "unary(op, x, out, alpha)");
    return NULL;
  }
  if (!r3d_get_f32(env, argv[1], "x", &x, &lx) || !r3d_get_f32(env, argv[2], "out", &o, &lo)) return NULL;
  const int64_t n = (int64_t)(lx < lo ? lx : lo);
  const int tasks = r3d_element_tasks(n);
  unary_job job = {op, x, o, (float)alpha_d, n, tasks == 1 ? n : PARALLEL_CHUNK};
  r3d_parallel_for(unary_task, &job, tasks, r3d_pool_threads());
  return NULL;
}

// ---- softmax and sums ------------------------------------------------------------------------

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

napi_value r3d_js_softmax(napi_env env, napi_callback_info info) {
  GET_ARGS(env, info, 4);
  float *x, *o;
  size_t lx, lo;
  int64_t rows, cols;
  if (argc != 4 || !r3d_get_f32(env, argv[0], "x", &x, &lx) || !r3d_get_f32(env, argv[1], "out", &o, &lo) ||
      !r3d_get_i64(env, argv[2], "rows", &rows) || !r3d_get_i64(env, argv[3], "cols", &cols))
    return NULL;
  if ((int64_t)lx < rows * cols || (int64_t)lo < rows * cols) {
    napi_throw_range_error(env, "R3D_BLAS_ARG", "softmax: operands shorter than rows * cols");
    return NULL;
  }
  softmax_rows(x, o, rows, cols);
  return NULL;
}

// The sum rounded to float32, or a mean's (mean_of_sum, divisor the count).
static inline float sum_result(double acc, double divisor) { return divisor == 1.0 ? (float)acc : mean_of_sum(acc, divisor); }

VECTOR_CLONES static void sum_rows(const float *x, float *o, int64_t rows, int64_t cols, double divisor) {
  for (int64_t r = 0; r < rows; r++) o[r] = sum_result(sum_f64(x + r * cols, cols), divisor);
}

// Column sums over blocks of SUM_COLS columns: the block's double accumulators stay in registers
// for all rows (8 AVX-512 vectors), where one accumulator array over all columns was reloaded and
// stored every row (a single thread, ~20 us for the 800 x 128 bias gradients of the R3D step).
// Every column is still summed in double over the rows in order, so blocks and threads change no bit.
#define SUM_COLS 64

typedef struct {
  const float *x;
  float *o;
  int64_t mid, inner, blocks; // blocks of columns per outer index
  int64_t units, per_task;    // (outer index, block) pairs, and how many one task takes
  double divisor;             // 1, or the count of a mean
} sum_cols_job;

// One (outer index, block of columns) pair; `full` (a constant after inlining) fixes the width.
__attribute__((always_inline)) static inline void sum_cols_unit(const sum_cols_job *job, int64_t u, const bool full) {
  const int64_t r = u / job->blocks, i0 = (u % job->blocks) * SUM_COLS, n = job->inner;
  const float *x = job->x + r * job->mid * n + i0;
  float *o = job->o + r * n + i0;
  const int w = full ? SUM_COLS : (int)(n - i0);
  double acc[SUM_COLS];
  for (int i = 0; i < w; i++) acc[i] = 0;
  for (int64_t m = 0; m < job->mid; m++)
    for (int i = 0; i < w; i++) acc[i] += x[m * n + i];
  for (int i = 0; i < w; i++) o[i] = sum_result(acc[i], job->divisor);
}

VECTOR_CLONES static void sum_cols_task(void *ctx, int t) {
  const sum_cols_job *job = (const sum_cols_job *)ctx;
  const int64_t u1 = ((int64_t)t + 1) * job->per_task < job->units ? ((int64_t)t + 1) * job->per_task : job->units;
  for (int64_t u = (int64_t)t * job->per_task; u < u1; u++) {
    if (job->inner - (u % job->blocks) * SUM_COLS >= SUM_COLS) sum_cols_unit(job, u, true);
    else sum_cols_unit(job, u, false);
  }
}

// sum(x, out, outer, mid, inner, divisor?): out[o, i] = sum over m of x[o, m, i], accumulated in
// double, rounded to float32, and with a divisor (a mean's count) divided by it in double and
// rounded again.
napi_value r3d_js_sum(napi_env env, napi_callback_info info) {
  GET_ARGS(env, info, 6);
  float *x, *o;
  size_t lx, lo;
  int64_t outer, mid, inner;
  double divisor = 1.0;
  if (argc < 5 || !r3d_get_f32(env, argv[0], "x", &x, &lx) || !r3d_get_f32(env, argv[1], "out", &o, &lo) ||
      !r3d_get_i64(env, argv[2], "outer", &outer) || !r3d_get_i64(env, argv[3], "mid", &mid) ||
      !r3d_get_i64(env, argv[4], "inner", &inner))
    return NULL;
  napi_valuetype type = napi_undefined;
  if (argc > 5) CHECK(env, napi_typeof(env, argv[5], &type));
  if (type != napi_undefined && (napi_get_value_double(env, argv[5], &divisor) != napi_ok || !(divisor >= 0))) {
    napi_throw_type_error(env, "R3D_BLAS_ARG", "sum: divisor must be a number >= 0");
    return NULL;
  }
  if ((int64_t)lx < outer * mid * inner || (int64_t)lo < outer * inner) {
    napi_throw_range_error(env, "R3D_BLAS_ARG", "sum: operands shorter than outer * mid * inner");
    return NULL;
  }
  if (inner == 1) {
    sum_rows(x, o, outer, mid, divisor);
    return NULL;
  }
  if (outer == 0 || inner == 0) return NULL;
  const int64_t blocks = (inner + SUM_COLS - 1) / SUM_COLS, units = outer * blocks;
  // tasks of at least PARALLEL_CHUNK elements each: a task per (row, block) of a [800, 2, 128]
  // mean was 1600 tasks of 128 additions, and the shared task counter cost more than the sums
  const int64_t chunks = r3d_element_tasks(outer * mid * inner);
  const int64_t tasks = chunks < units ? chunks : units;
  sum_cols_job job = {x, o, mid, inner, blocks, units, (units + tasks - 1) / tasks, divisor};
  const int threads = tasks > 1 ? r3d_pool_threads() : 1;
  r3d_parallel_for(sum_cols_task, &job, (int)((units + job.per_task - 1) / job.per_task), threads);
  return NULL;
}
