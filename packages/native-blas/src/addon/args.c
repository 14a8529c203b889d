// N-API argument parsing: typed arrays, integers and integer arrays, each checked and named in the
// TypeError JS sees when it is wrong.
#include <stdarg.h>
#include <stdio.h>

#include "common.h"

// Throws a TypeError (code R3D_BLAS_ARG) with a formatted message; returns false for the caller.
__attribute__((format(printf, 2, 3))) static bool arg_error(napi_env env, const char *fmt, ...) {
  char msg[96];
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(msg, sizeof msg, fmt, ap);
  va_end(ap);
  napi_throw_type_error(env, "R3D_BLAS_ARG", msg);
  return false;
}

// The kinds of typed array an argument may be, and the TypeError that names what was expected.
enum { F32 = 1, WORDS = 2 /* Int32Array, Uint32Array */, BYTES = 4 /* Uint8Array */ };

static const char *expected(int kinds) {
  switch (kinds) {
    case F32: return "%s must be a Float32Array";
    case F32 | WORDS: return "%s must be a Float32Array, Int32Array or Uint32Array";
    case BYTES: return "%s must be a Uint8Array";
    default: return "%s must be a Uint8Array, Float32Array, Int32Array or Uint32Array";
  }
}

// The data of a typed-array argument of one of `kinds`, its length and its element size (1 or 4
// bytes); a TypeError naming it otherwise.
static bool get_typed(napi_env env, napi_value v, const char *name, int kinds, void **data, size_t *len, size_t *size) {
  bool is_ta = false;
  napi_is_typedarray(env, v, &is_ta);
  napi_typedarray_type type;
  void *ptr = NULL;
  if (is_ta) napi_get_typedarray_info(env, v, &type, len, &ptr, NULL, NULL);
  const int kind = !is_ta ? 0
                   : type == napi_float32_array                               ? F32
                   : type == napi_int32_array || type == napi_uint32_array    ? WORDS
                   : type == napi_uint8_array                                 ? BYTES
                                                                              : 0;
  if (!(kind & kinds)) return arg_error(env, expected(kinds), name);
  *data = ptr;
  *size = kind == BYTES ? 1 : 4;
  return true;
}

bool r3d_get_f32(napi_env env, napi_value v, const char *name, float **data, size_t *len) {
  void *ptr = NULL;
  size_t size;
  if (!get_typed(env, v, name, F32, &ptr, len, &size)) return false;
  *data = (float *)ptr;
  return true;
}

bool r3d_get_i64(napi_env env, napi_value v, const char *name, int64_t *out) {
  if (napi_get_value_int64(env, v, out) != napi_ok || *out < 0) return arg_error(env, "%s must be a non-negative integer", name);
  return true;
}

bool r3d_get_words(napi_env env, napi_value v, const char *name, uint32_t **data, size_t *len) {
  void *ptr = NULL;
  size_t size;
  if (!get_typed(env, v, name, F32 | WORDS, &ptr, len, &size)) return false;
  *data = (uint32_t *)ptr;
  return true;
}

bool r3d_get_elements(napi_env env, napi_value v, const char *name, void **data, size_t *len, size_t *size) {
  return get_typed(env, v, name, F32 | WORDS | BYTES, data, len, size);
}

bool r3d_get_bytes(napi_env env, napi_value v, const char *name, uint8_t **data, size_t *len) {
  void *ptr = NULL;
  size_t size;
  if (!get_typed(env, v, name, BYTES, &ptr, len, &size)) return false;
  *data = (uint8_t *)ptr;
  return true;
}

bool r3d_get_ints(napi_env env, napi_value v, const char *name, int64_t *out, uint32_t *rank, bool allow_negative) {
  bool is_array = false;
  napi_is_array(env, v, &is_array);
  uint32_t len = 0;
  if (is_array) napi_get_array_length(env, v, &len);
  if (!is_array || len > MAX_RANK) return arg_error(env, "%s must be an array of at most %d integers", name, MAX_RANK);
  for (uint32_t i = 0; i < len; i++) {
    napi_value e;
    napi_get_element(env, v, i, &e);
    if (napi_get_value_int64(env, e, &out[i]) != napi_ok || (!allow_negative && out[i] < 0))
      return arg_error(env, "%s[%u] must be a%s integer", name, i, allow_negative ? "n" : " non-negative");
  }
  *rank = len;
  return true;
}

bool r3d_get_dims(napi_env env, napi_value v, const char *name, int64_t *out, uint32_t *rank) {
  return r3d_get_ints(env, v, name, out, rank, false);
}
