{
  "targets": [
    {
      "target_name": "r3d_blas",
      "sources": ["src/addon/r3d_blas.c"],
      "include_dirs": ["<!@(node scripts/blas-paths.mjs include)"],
      "libraries": ["<!@(node scripts/blas-paths.mjs libs)"],
      "cflags": ["-O3", "-std=c11", "-fno-math-errno", "-fno-trapping-math"],
      "xcode_settings": { "OTHER_CFLAGS": ["-O3", "-fno-math-errno", "-fno-trapping-math"] },
      "defines": ["NAPI_VERSION=8"]
    }
  ]
}
