// The pool glue: how element-wise kernels split their work into tasks, and the thread count JS
// sets for the pool and OpenBLAS together (threads.ts).
#include "common.h"

int r3d_element_tasks(int64_t n) {
  if (n < PARALLEL_ELEMENTS || r3d_pool_threads() < 2) return 1;
  return (int)((n + PARALLEL_CHUNK - 1) / PARALLEL_CHUNK);
}

napi_value r3d_js_set_num_threads(napi_env env, napi_callback_info info) {
  GET_ARGS(env, info, 1);
  int32_t n = 0;
  if (argc < 1 || napi_get_value_int32(env, argv[0], &n) != napi_ok || n < 1) {
    napi_throw_range_error(env, "R3D_BLAS_ARG", "thread count must be an integer >= 1");
    return NULL;
  }
  r3d_pool_set_threads(n);
  r3d_blas_follow_pool();
  return NULL;
}

napi_value r3d_js_get_num_threads(napi_env env, napi_callback_info info) {
  napi_value out;
  CHECK(env, napi_create_int32(env, r3d_pool_threads(), &out));
  return out;
}
