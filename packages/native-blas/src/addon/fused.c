// Fused kernels (@r3d-ts/kernel-names): LayerNorm and AdamW, each one pass over memory instead
// of 8-14 tf kernels. The third, GELU, is a unary op (U_GELU in elementwise.c).
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "common.h"
#include "gemm.h"

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
    double sq_dev; // sum of (x - mean)^2 in double
    LANED_SUM(sq_dev, n, (x[i] - mean) * (x[i] - mean));
    const float rstd = (float)(1.0 / sqrt(sq_dev / (double)n + (double)job->eps));
    const float m = (float)mean;
    for (int64_t j = 0; j < n; j++) o[j] = (x[j] - m) * rstd * job->gamma[j] + job->beta[j];
  }
}

// layerNorm(x, gamma, beta, out, rows, cols, eps): LayerNorm over the last axis of a rows x cols
// matrix, gamma and beta of length cols.
napi_value r3d_js_layer_norm(napi_env env, napi_callback_info info) {
  GET_ARGS(env, info, 7);
  float *x, *g, *b, *o;
  size_t lx, lg, lb, lo;
  int64_t rows, cols;
  double eps;
  if (argc != 7 || !r3d_get_f32(env, argv[0], "x", &x, &lx) || !r3d_get_f32(env, argv[1], "gamma", &g, &lg) ||
      !r3d_get_f32(env, argv[2], "beta", &b, &lb) || !r3d_get_f32(env, argv[3], "out", &o, &lo) ||
      !r3d_get_i64(env, argv[4], "rows", &rows) || !r3d_get_i64(env, argv[5], "cols", &cols))
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
  const int tasks = r3d_element_tasks(rows * cols);
  layer_norm_job job = {x, g, b, o, rows, cols, (rows + tasks - 1) / tasks, (float)eps};
  r3d_parallel_for(layer_norm_task, &job, tasks, r3d_pool_threads());
  return NULL;
}

// ---- LayerNorm's backward pass ----------------------------------------------------------------
// The closed form @r3d-ts/rtf-fuser composes from tf ops, with xhat = (x - mean) * rstd and
// g = dy * gamma: dx = rstd * ((g - mean(g)) - xhat * mean(g * xhat)), dgamma = sum over rows of
// dy * xhat, dbeta = sum over rows of dy. Every float32 operation is the one the composed kernels
// of this addon do, in their order (a mean is the double sum of sum_f64 rounded to float32, then
// divided by the count in double and rounded again, as the Mean kernel; rsqrt in double, as
// U_RSQRT; the column sums in double in row order, as the Sum kernel), so the result is the
// composed gradient bit for bit: one kernel and three passes over memory instead of 17 kernels.

typedef struct {
  const float *dy, *x, *gamma;
  float *dx, *mean, *rstd;
  int64_t rows, cols, rows_per_task;
  float eps;
} ln_grad_rows_job;

// Rows [t * rows_per_task, ...): dx, and each row's mean and rstd for the column pass. The
// composed gradient's intermediate rows ((x - mean)^2, g = dy * gamma, g * xhat) are summed as
// they are computed, in sum_f64's order, instead of being written to scratch and summed after.
VECTOR_CLONES static void ln_grad_rows_task(void *ctx, int t) {
  const ln_grad_rows_job *job = (const ln_grad_rows_job *)ctx;
  const int64_t r0 = (int64_t)t * job->rows_per_task;
  const int64_t r1 = r0 + job->rows_per_task < job->rows ? r0 + job->rows_per_task : job->rows;
  const int64_t n = job->cols;
  const float *gamma = job->gamma, eps = job->eps;
  for (int64_t r = r0; r < r1; r++) {
    const float *x = job->x + r * n, *dy = job->dy + r * n;
    float *dx = job->dx + r * n;
    double s, sgx;
    LANED_SUM(s, n, x[i]);
    const float mean = mean_of_sum(s, n);
    LANED_SUM(s, n, (x[i] - mean) * (x[i] - mean));
    const float rstd = (float)(1.0 / sqrt((double)(mean_of_sum(s, n) + eps)));
    LANED_SUM(s, n, dy[i] * gamma[i]);
    LANED_SUM(sgx, n, (dy[i] * gamma[i]) * ((x[i] - mean) * rstd));
    const float mg = mean_of_sum(s, n), mgx = mean_of_sum(sgx, n);
    for (int64_t j = 0; j < n; j++) {
      const float xhat = (x[j] - mean) * rstd;
      dx[j] = rstd * ((dy[j] * gamma[j] - mg) - xhat * mgx);
    }
    job->mean[r] = mean;
    job->rstd[r] = rstd;
  }
}

typedef struct {
  const float *dy, *x, *mean, *rstd;
  float *dgamma, *dbeta;
  int64_t rows, cols, cols_per_task;
} ln_grad_cols_job;

// Columns summed at a time: their double accumulators (8 AVX-512 vectors for both sums) stay in
// registers for all rows, where accumulators in memory were reloaded and stored every row.
#define LN_GRAD_COLS 32

// The sums of columns [c0, c0 + w) of dgamma and dbeta, w <= LN_GRAD_COLS; `full` (a constant
// after inlining) fixes w at LN_GRAD_COLS so the loops unroll into registers.
__attribute__((always_inline)) static inline void ln_grad_col_block(const ln_grad_cols_job *job, int64_t c0, int w, const bool full) {
  if (full) w = LN_GRAD_COLS;
  const int64_t n = job->cols;
  double ag[LN_GRAD_COLS], ab[LN_GRAD_COLS];
  for (int j = 0; j < w; j++) ag[j] = ab[j] = 0.0;
  for (int64_t r = 0; r < job->rows; r++) {
    const float *x = job->x + r * n + c0, *dy = job->dy + r * n + c0;
    const float mean = job->mean[r], rstd = job->rstd[r];
    for (int j = 0; j < w; j++) {
      ag[j] += dy[j] * ((x[j] - mean) * rstd);
      ab[j] += dy[j];
    }
  }
  for (int j = 0; j < w; j++) {
    job->dgamma[c0 + j] = (float)ag[j];
    job->dbeta[c0 + j] = (float)ab[j];
  }
}

// dgamma and dbeta for a block of columns: every column's sum runs over the rows in order, so
// neither the blocks nor the thread count can change a bit.
VECTOR_CLONES static void ln_grad_cols_task(void *ctx, int t) {
  const ln_grad_cols_job *job = (const ln_grad_cols_job *)ctx;
  const int64_t c0 = (int64_t)t * job->cols_per_task;
  const int64_t c1 = c0 + job->cols_per_task < job->cols ? c0 + job->cols_per_task : job->cols;
  for (int64_t c = c0; c < c1; c += LN_GRAD_COLS) {
    if (c1 - c >= LN_GRAD_COLS) ln_grad_col_block(job, c, LN_GRAD_COLS, true);
    else ln_grad_col_block(job, c, (int)(c1 - c), false);
  }
}

// layerNormGrad(dy, x, gamma, dx, dgamma, dbeta, rows, cols, eps)
napi_value r3d_js_layer_norm_grad(napi_env env, napi_callback_info info) {
  GET_ARGS(env, info, 9);
  float *dy, *x, *g, *dx, *dg, *db;
  size_t ldy, lx, lg, ldx, ldg, ldb;
  int64_t rows, cols;
  double eps;
  if (argc != 9 || !r3d_get_f32(env, argv[0], "dy", &dy, &ldy) || !r3d_get_f32(env, argv[1], "x", &x, &lx) ||
      !r3d_get_f32(env, argv[2], "gamma", &g, &lg) || !r3d_get_f32(env, argv[3], "dx", &dx, &ldx) ||
      !r3d_get_f32(env, argv[4], "dgamma", &dg, &ldg) || !r3d_get_f32(env, argv[5], "dbeta", &db, &ldb) ||
      !r3d_get_i64(env, argv[6], "rows", &rows) || !r3d_get_i64(env, argv[7], "cols", &cols))
    return NULL;
  if (napi_get_value_double(env, argv[8], &eps) != napi_ok) {
    napi_throw_type_error(env, "R3D_BLAS_ARG", "layerNormGrad: eps must be a number");
    return NULL;
  }
  const int64_t size = rows * cols;
  if ((int64_t)ldy < size || (int64_t)lx < size || (int64_t)ldx < size || (int64_t)lg < cols || (int64_t)ldg < cols ||
      (int64_t)ldb < cols) {
    napi_throw_range_error(env, "R3D_BLAS_ARG", "layerNormGrad: dy, x, dx shorter than rows x cols (gamma, dgamma, dbeta: cols)");
    return NULL;
  }
  if (cols == 0) return NULL;
  const int threads = r3d_pool_threads();
  const int tasks = r3d_element_tasks(size);
  // column blocks of a multiple of 16 (one vector), about two per thread
  int64_t per = cols;
  if (tasks > 1) per = ((cols + 2 * threads - 1) / (2 * threads) + 15) / 16 * 16;
  const int col_tasks = (int)((cols + per - 1) / per);
  float *stats = (float *)malloc(((size_t)rows * 2 + 1) * sizeof(float)); // each row's mean, then each rstd
  if (!stats) {
    napi_throw_error(env, "R3D_BLAS_OOM", "layerNormGrad: out of memory");
    return NULL;
  }
  ln_grad_rows_job rj = {dy, x, g, dx, stats, stats + rows, rows, cols, (rows + tasks - 1) / tasks, (float)eps};
  if (rows > 0) r3d_parallel_for(ln_grad_rows_task, &rj, tasks, threads);
  ln_grad_cols_job cj = {dy, x, stats, stats + rows, dg, db, rows, cols, per};
  r3d_parallel_for(ln_grad_cols_task, &cj, col_tasks, threads);
  free(stats);
  return NULL;
}

typedef struct {
  const float *p, *m, *v, *g;
  float *p1, *m1, *v1;
  int64_t n, chunk;
  float keep, b1, one_minus_b1, b2, one_minus_b2, bc2_sqrt, eps, step_size;
  bool stream; // outputs written with non-temporal stores (see adamw_stream)
} adamw_job;

// One AdamW update (torch.optim.AdamW's order of operations, each rounded to float32 as the
// composed tf ops round it, so the result is the same bit for bit):
// p1 = p * keep - (m1 / (sqrt(v1) / bc2_sqrt + eps)) * step_size, m1 = m * b1 + g * (1 - b1),
// v1 = v * b2 + (g * g) * (1 - b2).
// The loop takes the arrays and constants as restrict parameters: written against the job's
// fields, GCC 12 left it scalar (vsqrtss, vdivss: about 3 ns an element, so every update below
// the streaming size was compute-bound at 7-10 GB/s), with restrict locals too. Vectorised, each
// lane performs the same IEEE float32 operations (vsqrtps and vdivps round as the scalar ones),
// and p * keep is p itself when keep is 1, so the bits do not change.
VECTOR_CLONES __attribute__((noinline)) static void adamw_loop(
    const float *restrict p, const float *restrict m, const float *restrict v, const float *restrict grad,
    float *restrict p1, float *restrict m1, float *restrict v1, int64_t start, int64_t end, float keep, float b1,
    float c1, float b2, float c2, float bc2, float eps, float step) {
  for (int64_t i = start; i < end; i++) {
    const float g = grad[i];
    const float mi = m[i] * b1 + g * c1;
    const float vi = v[i] * b2 + (g * g) * c2;
    const float denom = sqrtf(vi) / bc2 + eps;
    p1[i] = p[i] * keep - (mi / denom) * step;
    m1[i] = mi;
    v1[i] = vi;
  }
}

static void adamw_range(const adamw_job *job, int64_t start, int64_t end) {
  adamw_loop(job->p, job->m, job->v, job->g, job->p1, job->m1, job->v1, start, end, job->keep, job->b1,
             job->one_minus_b1, job->b2, job->one_minus_b2, job->bc2_sqrt, job->eps, job->step_size);
}

#if defined(__x86_64__) && (defined(__GNUC__) || defined(__clang__))
#include <immintrin.h>
#define ADAMW_STREAM 1
#define ADAMW_STREAM_MIN (1 << 20)
// Sixteen floats to a 16-byte aligned address with non-temporal stores: Float32Arrays are 16-byte
// aligned but seldom 64, and four 128-bit streams to one line fill it as one 512-bit stream would.
__attribute__((target("avx512f"), always_inline)) static inline void stream16(float *dst, __m512 v) {
  _mm_stream_ps(dst, _mm512_castps512_ps128(v));
  _mm_stream_ps(dst + 4, _mm512_extractf32x4_ps(v, 1));
  _mm_stream_ps(dst + 8, _mm512_extractf32x4_ps(v, 2));
  _mm_stream_ps(dst + 12, _mm512_extractf32x4_ps(v, 3));
}

// The same update with AVX-512 and non-temporal stores, for weights far larger than the L2 (the
// depth projection's 2.46M): a plain store first reads each output line into the cache, which
// for three fresh output arrays is 30 MB of the 100 MB a step's largest update moves. The
// operations are adamw_range's, one IEEE float32 operation each (vsqrtps and vdivps round
// correctly), so the bits do not change.
__attribute__((target("avx512f"))) static void adamw_stream(const adamw_job *job, int64_t start, int64_t end) {
  const __m512 keep = _mm512_set1_ps(job->keep), b1 = _mm512_set1_ps(job->b1), c1 = _mm512_set1_ps(job->one_minus_b1);
  const __m512 b2 = _mm512_set1_ps(job->b2), c2 = _mm512_set1_ps(job->one_minus_b2), bc2 = _mm512_set1_ps(job->bc2_sqrt);
  const __m512 eps = _mm512_set1_ps(job->eps), step = _mm512_set1_ps(job->step_size);
  const bool decay = job->keep != 1.0f;
  int64_t i = start; // a multiple of 4 (tasks start at multiples of PARALLEL_CHUNK): 16-byte aligned
  for (; i + 16 <= end; i += 16) {
    const __m512 g = _mm512_loadu_ps(job->g + i);
    const __m512 m1 = _mm512_add_ps(_mm512_mul_ps(_mm512_loadu_ps(job->m + i), b1), _mm512_mul_ps(g, c1));
    const __m512 v1 = _mm512_add_ps(_mm512_mul_ps(_mm512_loadu_ps(job->v + i), b2), _mm512_mul_ps(_mm512_mul_ps(g, g), c2));
    const __m512 denom = _mm512_add_ps(_mm512_div_ps(_mm512_sqrt_ps(v1), bc2), eps);
    const __m512 p = _mm512_loadu_ps(job->p + i);
    const __m512 decayed = decay ? _mm512_mul_ps(p, keep) : p;
    stream16(job->p1 + i, _mm512_sub_ps(decayed, _mm512_mul_ps(_mm512_div_ps(m1, denom), step)));
    stream16(job->m1 + i, m1);
    stream16(job->v1 + i, v1);
  }
  adamw_range(job, i, end);
  _mm_sfence(); // the streamed lines are visible before the task counts as done
}
#endif

static void adamw_task(void *ctx, int t) {
  const adamw_job *job = (const adamw_job *)ctx;
  const int64_t start = (int64_t)t * job->chunk;
  const int64_t end = job->n - start < job->chunk ? job->n : start + job->chunk;
#ifdef ADAMW_STREAM
  if (job->stream) {
    adamw_stream(job, start, end);
    return;
  }
#endif
  adamw_range(job, start, end);
}

// adamw(p, m, v, g, p1, m1, v1, [keep, b1, 1 - b1, b2, 1 - b2, bc2Sqrt, eps, stepSize])
napi_value r3d_js_adamw(napi_env env, napi_callback_info info) {
  GET_ARGS(env, info, 8);
  float *arr[7];
  size_t len[7];
  static const char *names[7] = {"p", "m", "v", "g", "p1", "m1", "v1"};
  if (argc != 8) {
    napi_throw_type_error(env, "R3D_BLAS_ARG", "adamw(p, m, v, g, p1, m1, v1, constants)");
    return NULL;
  }
  for (int k = 0; k < 7; k++)
    if (!r3d_get_f32(env, argv[k], names[k], &arr[k], &len[k])) return NULL;
  float c[8];
  size_t nc = 0;
  float *cv;
  if (!r3d_get_f32(env, argv[7], "constants", &cv, &nc)) return NULL;
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
  const int tasks = r3d_element_tasks(n);
  adamw_job job = {arr[0], arr[1], arr[2], arr[3], arr[4], arr[5], arr[6], n, tasks == 1 ? n : PARALLEL_CHUNK,
                   c[0], c[1], c[2], c[3], c[4], c[5], c[6], c[7], false};
#ifdef ADAMW_STREAM
  // Streaming pays only for outputs that would not stay in cache anyway: 7 arrays of n floats
  // against a 2 MB L2 per core.
  job.stream = n >= ADAMW_STREAM_MIN && r3d_cpu_avx512() &&
               (((uintptr_t)arr[4] | (uintptr_t)arr[5] | (uintptr_t)arr[6]) & 15) == 0;
#endif
  r3d_parallel_for(adamw_task, &job, tasks, r3d_pool_threads());
  return NULL;
}
