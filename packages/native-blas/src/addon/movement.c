// Data movement: transpose, and the one strided copy behind slice, split, concat, pad and tile.
// The cpu backend computes an index vector per element in JavaScript; these loops walk
// precomputed strides.
#include <string.h>

#include "common.h"

// ---- transpose -------------------------------------------------------------------------------
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
napi_value r3d_js_transpose(napi_env env, napi_callback_info info) {
  GET_ARGS(env, info, 4);
  float *x, *o;
  size_t lx, lo;
  int64_t dims[MAX_RANK], st[MAX_RANK];
  uint32_t rank, rs;
  if (argc != 4 || !r3d_get_f32(env, argv[0], "x", &x, &lx) || !r3d_get_f32(env, argv[1], "out", &o, &lo) ||
      !r3d_get_dims(env, argv[2], "dims", dims, &rank) || !r3d_get_dims(env, argv[3], "strides", st, &rs))
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

// ---- strided copy ----------------------------------------------------------------------------
// Slice, strided slice, split, unpack, concat, pack, pad and tile are all one strided copy: out[po]
// = x[px] over dims, where px and po walk their own (possibly zero or negative) strides from their
// offsets. Elements are moved as 4-byte words (float32 and int32 tensors share the loop) or bytes
// (bool tensors: the RTF fuser tiles its frame masks over the channels).

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

// The walk for one element type T: rows of the last dimension, the others an odometer.
#define STRIDED_COPY(T)                                                                            \
  static void strided_copy_##T(const T *x, T *o, int64_t total, const int64_t *dims, uint32_t rank, \
                               const int64_t *sx, const int64_t *so, int64_t px, int64_t po) {      \
    const int64_t n = dims[rank - 1], s = sx[rank - 1], t = so[rank - 1];                          \
    int64_t idx[MAX_RANK] = {0};                                                                   \
    for (int64_t base = 0; base < total; base += n) {                                              \
      const T *src = x + px;                                                                       \
      T *dst = o + po;                                                                             \
      if (s == 1 && t == 1) memcpy(dst, src, (size_t)n * sizeof(T));                               \
      else if (t == 1 && s == 0) { const T v = src[0]; for (int64_t j = 0; j < n; j++) dst[j] = v; } \
      else if (t == 1) for (int64_t j = 0; j < n; j++) dst[j] = src[j * s];                        \
      else for (int64_t j = 0; j < n; j++) dst[j * t] = src[j * s];                                \
      odometer_next(idx, dims, (int)rank - 1, -1, &px, sx, &po, so);                               \
    }                                                                                              \
  }
STRIDED_COPY(uint32_t)
STRIDED_COPY(uint8_t)

// copy(x, out, dims, stridesX, stridesOut, offX, offOut): x and out both 4-byte arrays or both Uint8Arrays.
napi_value r3d_js_copy(napi_env env, napi_callback_info info) {
  GET_ARGS(env, info, 7);
  void *x, *o;
  size_t lx, lo, ex, eo;
  int64_t dims[MAX_RANK], sx[MAX_RANK], so[MAX_RANK], offX, offO;
  uint32_t rank, rx, ro;
  if (argc != 7) {
    napi_throw_type_error(env, "R3D_BLAS_ARG", "copy(x, out, dims, stridesX, stridesOut, offX, offOut)");
    return NULL;
  }
  if (!r3d_get_elements(env, argv[0], "x", &x, &lx, &ex) || !r3d_get_elements(env, argv[1], "out", &o, &lo, &eo) ||
      !r3d_get_dims(env, argv[2], "dims", dims, &rank) || !r3d_get_ints(env, argv[3], "stridesX", sx, &rx, true) ||
      !r3d_get_ints(env, argv[4], "stridesOut", so, &ro, true) || !r3d_get_i64(env, argv[5], "offX", &offX) ||
      !r3d_get_i64(env, argv[6], "offOut", &offO))
    return NULL;
  if (ex != eo) {
    napi_throw_type_error(env, "R3D_BLAS_ARG", "copy: x and out must have the same element size (bytes or 4-byte words)");
    return NULL;
  }
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
  if (ex == 1) strided_copy_uint8_t((const uint8_t *)x, (uint8_t *)o, total, dims, rank, sx, so, offX, offO);
  else strided_copy_uint32_t((const uint32_t *)x, (uint32_t *)o, total, dims, rank, sx, so, offX, offO);
  return NULL;
}

// ---- select ----------------------------------------------------------------------------------
// select(condition, t, e, out): out[i] = condition[i] == 1 ? t[i] : e[i] over condition's length,
// 4-byte words (float32 or int32, moved bit for bit), as the cpu kernel's Select with a condition
// of the values' shape.
napi_value r3d_js_select(napi_env env, napi_callback_info info) {
  GET_ARGS(env, info, 4);
  uint8_t *c;
  uint32_t *t, *e, *o;
  size_t n, lt, le, lo;
  if (argc != 4 || !r3d_get_bytes(env, argv[0], "condition", &c, &n) || !r3d_get_words(env, argv[1], "t", &t, &lt) ||
      !r3d_get_words(env, argv[2], "e", &e, &le) || !r3d_get_words(env, argv[3], "out", &o, &lo))
    return NULL;
  if (lt < n || le < n || lo < n) {
    napi_throw_range_error(env, "R3D_BLAS_ARG", "select: t, e and out must hold at least as many elements as condition");
    return NULL;
  }
  // a mask, not a branch: conditions such as a random dropout pattern would mispredict half the time
  for (size_t i = 0; i < n; i++) {
    const uint32_t m = 0u - (uint32_t)(c[i] == 1);
    o[i] = (t[i] & m) | (e[i] & ~m);
  }
  return NULL;
}
