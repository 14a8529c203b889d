// N-API addon: single-precision GEMM through our own AVX-512 kernels or a CBLAS (OpenBLAS), and
// element-wise, data-movement and fused kernels, on typed arrays owned by JS. Nothing allocates
// memory that outlives a call: the tensors' data stays in JS typed arrays, so disposing a tensor
// in TensorFlow.js frees it. This file registers the functions the other files define.
#include "common.h"

static napi_value Init(napi_env env, napi_value exports) {
  r3d_pool_set_threads(openblas_get_num_threads()); // OPENBLAS_NUM_THREADS, or OpenBLAS's default
  napi_property_descriptor props[] = {
      {"sgemm", NULL, r3d_js_sgemm, NULL, NULL, NULL, napi_enumerable, NULL},
      {"rowsPath", NULL, r3d_js_rows_path, NULL, NULL, NULL, napi_enumerable, NULL},
      {"packWeightPanels", NULL, r3d_js_pack_weight_panels, NULL, NULL, NULL, napi_enumerable, NULL},
      {"setNumThreads", NULL, r3d_js_set_num_threads, NULL, NULL, NULL, napi_enumerable, NULL},
      {"getNumThreads", NULL, r3d_js_get_num_threads, NULL, NULL, NULL, napi_enumerable, NULL},
      {"setOwnGemm", NULL, r3d_js_set_own_gemm, NULL, NULL, NULL, napi_enumerable, NULL},
      {"ownGemm", NULL, r3d_js_own_gemm, NULL, NULL, NULL, napi_enumerable, NULL},
      {"config", NULL, r3d_js_config, NULL, NULL, NULL, napi_enumerable, NULL},
      {"binary", NULL, r3d_js_binary, NULL, NULL, NULL, napi_enumerable, NULL},
      {"transpose", NULL, r3d_js_transpose, NULL, NULL, NULL, napi_enumerable, NULL},
      {"softmax", NULL, r3d_js_softmax, NULL, NULL, NULL, napi_enumerable, NULL},
      {"sum", NULL, r3d_js_sum, NULL, NULL, NULL, napi_enumerable, NULL},
      {"copy", NULL, r3d_js_copy, NULL, NULL, NULL, napi_enumerable, NULL},
      {"select", NULL, r3d_js_select, NULL, NULL, NULL, napi_enumerable, NULL},
      {"unary", NULL, r3d_js_unary, NULL, NULL, NULL, napi_enumerable, NULL},
      {"layerNorm", NULL, r3d_js_layer_norm, NULL, NULL, NULL, napi_enumerable, NULL},
      {"layerNormGrad", NULL, r3d_js_layer_norm_grad, NULL, NULL, NULL, napi_enumerable, NULL},
      {"adamw", NULL, r3d_js_adamw, NULL, NULL, NULL, napi_enumerable, NULL},
      {"dropoutMask", NULL, r3d_js_dropout_mask, NULL, NULL, NULL, napi_enumerable, NULL},
  };
  CHECK(env, napi_define_properties(env, exports, sizeof props / sizeof props[0], props));
  return exports;
}

NAPI_MODULE(NODE_GYP_MODULE_NAME, Init)
