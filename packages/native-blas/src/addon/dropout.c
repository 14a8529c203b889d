// The multiplier of tf.dropout's mask, drawn from seedrandom's alea generator as tfjs draws it
// (dropoutMultiplier in @r3d-ts/backend's dropout-kernel.ts is the reference, bit for bit).
#include "common.h"

// Why integers: alea's state is three numbers s = x * 2^-32 (x a 32-bit integer) and a carry c,
// and its step t = 2091639 * s0 + c * 2^-32, c' = t | 0, s2' = t - c' is exact in double
// arithmetic (2091639 * x0 + c < 2^53): it is the multiply-with-carry recurrence
// X = 2091639 * x0 + c, c' = X >> 32, x2' = X mod 2^32, with u = x2' * 2^-32. In 64-bit integers
// the dependency from one draw to the next is an add and a shift (JavaScript's doubles: about
// 7 ns a draw; here under 1). The multiplier then follows the reference's roundings: u to
// float32, plus keep in double rounded to float32, floored, divided by keep in double and rounded
// to float32. The floor is 0, 1 or 2 (u <= 1 once rounded, keep <= 1), so the three quotients are
// computed once (and floorf, a library call on baseline x86-64, is two comparisons).
VECTOR_CLONES static void alea_dropout(uint64_t c, uint64_t x0, uint64_t x1, uint64_t x2, float keep, float *out, int64_t n) {
  const float multiplier[3] = {(float)(0.0 / (double)keep), (float)(1.0 / (double)keep), (float)(2.0 / (double)keep)};
  uint32_t draws[256];
  for (int64_t i0 = 0; i0 < n; i0 += 256) {
    const int w = n - i0 < 256 ? (int)(n - i0) : 256;
    // the recurrence alone (an add and a shift per draw), then the conversions vectorised
    for (int i = 0; i < w; i++) {
      const uint64_t t = 2091639u * x0 + c;
      c = t >> 32;
      x0 = x1;
      x1 = x2;
      x2 = t & 0xFFFFFFFFu;
      draws[i] = (uint32_t)x2;
    }
    for (int i = 0; i < w; i++) {
      const float u = (float)((double)draws[i] * 2.3283064365386963e-10);
      const float kept = (float)((double)u + (double)keep);
      out[i0 + i] = kept >= 2.0f ? multiplier[2] : kept >= 1.0f ? multiplier[1] : multiplier[0]; // floor(kept), kept in (0, 2]
    }
  }
}

// dropoutMask(state, keep, out): state is a Uint32Array [c, x0, x1, x2] (alea's carry and its
// three numbers times 2^32), keep the float32 1 - rate in (0, 1]; fills all of out.
napi_value r3d_js_dropout_mask(napi_env env, napi_callback_info info) {
  GET_ARGS(env, info, 3);
  uint32_t *state;
  float *out;
  size_t ls, lo;
  double keep;
  if (argc != 3 || !r3d_get_words(env, argv[0], "state", &state, &ls) || !r3d_get_f32(env, argv[2], "out", &out, &lo)) return NULL;
  if (napi_get_value_double(env, argv[1], &keep) != napi_ok || !(keep > 0.0 && keep <= 1.0) || (double)(float)keep != keep) {
    napi_throw_type_error(env, "R3D_BLAS_ARG", "dropoutMask: keep must be a float32 number in (0, 1]");
    return NULL;
  }
  if (ls != 4) {
    napi_throw_range_error(env, "R3D_BLAS_ARG", "dropoutMask: state must hold 4 words (c, x0, x1, x2)");
    return NULL;
  }
  alea_dropout(state[0], state[1], state[2], state[3], (float)keep, out, (int64_t)lo);
  return NULL;
}
