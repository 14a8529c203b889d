// Matrix products: our kernels (gemm.c: AVX-512, or AVX2 + FMA with the same bits) where they apply,
// a CBLAS (OpenBLAS) for the rest.
#include <stdio.h>
#include <string.h>

#include "common.h"
#include <cblas.h>
#include "gemm.h"

#define SMALL_GEMM_FLOPS 1e8

// Whether products go to our kernels first (gemm.c); set from JS (R3D_NATIVE_GEMM).
static bool own_gemm = false;

// Writes the row bias (n floats) into every row of an m x n matrix: what BLAS then accumulates into.
static void fill_rows(float *c, const float *bias, int64_t rows, int64_t n) {
  for (int64_t i = 0; i < rows; i++) memcpy(c + i * n, bias, (size_t)n * sizeof(float));
}

// sgemm(a, b, c, batch, batchA, batchB, m, n, k, transA, transB, alpha, beta[, bias[, bPanels]])
// For bi in [0, batch): C[bi] = alpha * op(A[bi % batchA]) * op(B[bi % batchB]) + beta * C[bi],
// row-major, A[i] is m x k (k x m when transA), B[i] is k x n (n x k when transB), C[i] is m x n.
// The modulo is TensorFlow.js's batch broadcasting rule for BatchMatMul. With a bias (n floats;
// alpha 1 and beta 0 only), C[bi] = op(A) * op(B) + bias on every row: the same float32 sums as
// C prefilled with the bias and beta 1, which is what BLAS gets. bPanels: B packed by
// packWeightPanels(b, n, k), read instead of packing B where the product runs as C^T = B A^T
// (rowsPath); the same bits either way.
napi_value r3d_js_sgemm(napi_env env, napi_callback_info info) {
  GET_ARGS(env, info, 15);
  if (argc < 13 || argc > 15) {
    napi_throw_type_error(env, "R3D_BLAS_ARG", "sgemm expects 13 to 15 arguments");
    return NULL;
  }
  float *a, *b, *c;
  size_t la, lb, lc;
  int64_t batch, batch_a, batch_b, m, n, k;
  bool ta, tb;
  double alpha, beta;
  if (!r3d_get_f32(env, argv[0], "a", &a, &la) || !r3d_get_f32(env, argv[1], "b", &b, &lb) ||
      !r3d_get_f32(env, argv[2], "c", &c, &lc))
    return NULL;
  if (!r3d_get_i64(env, argv[3], "batch", &batch) || !r3d_get_i64(env, argv[4], "batchA", &batch_a) ||
      !r3d_get_i64(env, argv[5], "batchB", &batch_b) || !r3d_get_i64(env, argv[6], "m", &m) ||
      !r3d_get_i64(env, argv[7], "n", &n) || !r3d_get_i64(env, argv[8], "k", &k))
    return NULL;
  if (napi_get_value_bool(env, argv[9], &ta) != napi_ok || napi_get_value_bool(env, argv[10], &tb) != napi_ok ||
      napi_get_value_double(env, argv[11], &alpha) != napi_ok ||
      napi_get_value_double(env, argv[12], &beta) != napi_ok) {
    napi_throw_type_error(env, "R3D_BLAS_ARG", "transA/transB must be booleans, alpha/beta numbers");
    return NULL;
  }
  float *bias = NULL;
  size_t lbias = 0;
  napi_valuetype bias_type = napi_undefined;
  if (argc >= 14) CHECK(env, napi_typeof(env, argv[13], &bias_type));
  if (bias_type != napi_undefined && bias_type != napi_null) {
    if (!r3d_get_f32(env, argv[13], "bias", &bias, &lbias)) return NULL;
    if ((int64_t)lbias != n || alpha != 1.0 || beta != 0.0) {
      napi_throw_range_error(env, "R3D_BLAS_ARG", "a bias must have n elements, with alpha 1 and beta 0");
      return NULL;
    }
  }
  float *b_panels = NULL;
  size_t lpanels = 0;
  napi_valuetype panels_type = napi_undefined;
  if (argc == 15) CHECK(env, napi_typeof(env, argv[14], &panels_type));
  if (panels_type != napi_undefined && panels_type != napi_null) {
    if (!r3d_get_f32(env, argv[14], "bPanels", &b_panels, &lpanels)) return NULL;
    if (n > INT32_MAX || k > INT32_MAX || batch_b != 1 || lpanels != r3d_weight_panels_floats((int)n, (int)k)) {
      char msg[160];
      snprintf(msg, sizeof msg, "bPanels must be packWeightPanels(b, n, k) of one B: %zu floats for n %lld, k %lld, got %zu",
               n > INT32_MAX || k > INT32_MAX ? (size_t)0 : r3d_weight_panels_floats((int)n, (int)k), (long long)n,
               (long long)k, lpanels);
      napi_throw_range_error(env, "R3D_BLAS_ARG", msg);
      return NULL;
    }
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
    if (bias) fill_rows(c, bias, batch * m, n);
    else for (int64_t i = 0; i < batch * sc; i++) c[i] = beta == 0.0 ? 0.0f : (float)(beta * c[i]);
    return NULL;
  }
  const int lda = ta ? (int)m : (int)k, ldb = tb ? (int)k : (int)n;
  // Our kernels (gemm.c) take every product they handle; the rest, and every product on a CPU
  // with neither AVX-512 nor AVX2 + FMA, goes to BLAS.
  int64_t first_blas = 0;
  if (own_gemm && alpha == 1.0) {
    for (; first_blas < batch; first_blas++) {
      const int64_t bi = first_blas;
      if (!r3d_sgemm(ta, tb, (int)m, (int)n, (int)k, a + (bi % batch_a) * sa, lda, b + (bi % batch_b) * sb, ldb,
                     (float)beta, c + bi * sc, (int)n, bias, b_panels))
        break;
    }
    if (first_blas == batch) return NULL;
  }
  // Small products run on the calling thread: waking OpenBLAS's other threads costs more than it
  // saves below ~100 MFLOP, and far more (milliseconds) when other processes hold the cores.
  const int threads = openblas_get_num_threads();
  const bool narrow = threads > 1 && 2.0 * (double)m * (double)n * (double)k < SMALL_GEMM_FLOPS;
  if (narrow) openblas_set_num_threads(1);
  if (bias) {
    fill_rows(c + first_blas * sc, bias, (batch - first_blas) * m, n);
    beta = 1.0;
  }
  for (int64_t bi = first_blas; bi < batch; bi++) {
    cblas_sgemm(CblasRowMajor, ta ? CblasTrans : CblasNoTrans, tb ? CblasTrans : CblasNoTrans, (int)m, (int)n,
                (int)k, (float)alpha, a + (bi % batch_a) * sa, lda, b + (bi % batch_b) * sb, ldb, (float)beta,
                c + bi * sc, (int)n);
  }
  if (narrow) openblas_set_num_threads(threads);
  return NULL;
}

// With our kernels on, OpenBLAS only sees small products (and A^T B^T): one thread, so its workers
// never spin on the cores our pool needs.
void r3d_blas_follow_pool(void) { openblas_set_num_threads(own_gemm ? 1 : r3d_pool_threads()); }

// setOwnGemm(on[, isa]): route products to our kernels (where the CPU has AVX-512 or AVX2 + FMA);
// isa 'avx2' runs the AVX2 ones even on an AVX-512 CPU (the same bits), 'best' (the default) the
// widest the CPU has. Returns whether they are now in use.
napi_value r3d_js_set_own_gemm(napi_env env, napi_callback_info info) {
  GET_ARGS(env, info, 2);
  napi_value out;
  bool on = false;
  if (argc < 1 || napi_get_value_bool(env, argv[0], &on) != napi_ok) {
    napi_throw_type_error(env, "R3D_BLAS_ARG", "setOwnGemm expects a boolean");
    return NULL;
  }
  char isa[8] = "best";
  if (argc >= 2) {
    size_t len = 0;
    if (napi_get_value_string_utf8(env, argv[1], isa, sizeof isa, &len) != napi_ok || (strcmp(isa, "best") && strcmp(isa, "avx2"))) {
      napi_throw_type_error(env, "R3D_BLAS_ARG", "setOwnGemm: isa must be 'best' or 'avx2'");
      return NULL;
    }
  }
  r3d_gemm_cap_isa(strcmp(isa, "avx2") == 0 ? 1 : 2);
  own_gemm = on && r3d_gemm_supported();
  r3d_blas_follow_pool();
  CHECK(env, napi_get_boolean(env, own_gemm, &out));
  return out;
}

napi_value r3d_js_own_gemm(napi_env env, napi_callback_info info) {
  napi_value out;
  CHECK(env, napi_get_boolean(env, own_gemm, &out));
  return out;
}

napi_value r3d_js_config(napi_env env, napi_callback_info info) {
  char buf[512];
  const char *isa = r3d_gemm_isa() == 2 ? "AVX-512" : "AVX2";
  if (r3d_gemm_supported())
    snprintf(buf, sizeof buf, "%s (core %s); own %s GEMM %s", openblas_get_config(), openblas_get_corename(), isa,
             own_gemm ? "on" : "off");
  else
    snprintf(buf, sizeof buf, "%s (core %s); own GEMM unsupported on this CPU (no AVX-512, no AVX2 + FMA)",
             openblas_get_config(), openblas_get_corename());
  napi_value out;
  CHECK(env, napi_create_string_utf8(env, buf, NAPI_AUTO_LENGTH, &out));
  return out;
}

// rowsPath(transA, transB, m, n, k): whether sgemm runs this product as C^T = B A^T on our kernels
// (the only case that reads bPanels).
napi_value r3d_js_rows_path(napi_env env, napi_callback_info info) {
  GET_ARGS(env, info, 5);
  bool ta = false, tb = false;
  int64_t m = 0, n = 0, k = 0;
  if (argc != 5 || napi_get_value_bool(env, argv[0], &ta) != napi_ok || napi_get_value_bool(env, argv[1], &tb) != napi_ok) {
    napi_throw_type_error(env, "R3D_BLAS_ARG", "rowsPath expects (transA, transB, m, n, k)");
    return NULL;
  }
  if (!r3d_get_i64(env, argv[2], "m", &m) || !r3d_get_i64(env, argv[3], "n", &n) || !r3d_get_i64(env, argv[4], "k", &k)) return NULL;
  napi_value out;
  const bool fits = m <= INT32_MAX && n <= INT32_MAX && k <= INT32_MAX;
  CHECK(env, napi_get_boolean(env, own_gemm && fits && r3d_rows_path(ta, tb, (int)m, (int)n, (int)k), &out));
  return out;
}

// packWeightPanels(w, rows, k): a new Float32Array holding the row-major rows x k matrix w packed as
// sgemm's bPanels.
napi_value r3d_js_pack_weight_panels(napi_env env, napi_callback_info info) {
  GET_ARGS(env, info, 3);
  float *w;
  size_t lw;
  int64_t rows = 0, k = 0;
  if (argc != 3) {
    napi_throw_type_error(env, "R3D_BLAS_ARG", "packWeightPanels expects (w, rows, k)");
    return NULL;
  }
  if (!r3d_get_f32(env, argv[0], "w", &w, &lw) || !r3d_get_i64(env, argv[1], "rows", &rows) || !r3d_get_i64(env, argv[2], "k", &k))
    return NULL;
  if (rows < 1 || k < 1 || rows > INT32_MAX || k > INT32_MAX || (int64_t)lw != rows * k) {
    napi_throw_range_error(env, "R3D_BLAS_ARG", "packWeightPanels: w must hold rows x k floats, rows and k >= 1");
    return NULL;
  }
  if (!r3d_gemm_supported()) {
    napi_throw_error(env, "R3D_BLAS_UNSUPPORTED", "packWeightPanels: this CPU runs none of our GEMM kernels (see rowsPath)");
    return NULL;
  }
  const size_t floats = r3d_weight_panels_floats((int)rows, (int)k);
  napi_value buffer, out;
  void *data = NULL;
  CHECK(env, napi_create_arraybuffer(env, floats * sizeof(float), &data, &buffer));
  r3d_pack_weight_panels(w, (int)rows, (int)k, (float *)data);
  CHECK(env, napi_create_typedarray(env, napi_float32_array, floats, buffer, 0, &out));
  return out;
}
