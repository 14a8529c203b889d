{
  "targets": [
    {
      "target_name": "r3d_blas",
      "sources": ["src/addon/r3d_blas.c"],
      "include_dirs": ["<!@(node scripts/blas-paths.mjs include)"],
      "libraries": ["<!@(node scripts/blas-paths.mjs libs)"],
      "cflags": ["-O3", "-std=c11"],
      "xcode_settings": { "OTHER_CFLAGS": ["-O3"] },
      "defines": ["NAPI_VERSION=8"]
    }
  ]
}
