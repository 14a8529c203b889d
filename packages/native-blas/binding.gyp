{
  "targets": [
    {
      "target_name": "r3d_blas",
      "sources": [
        "src/addon/module.c",
        "src/addon/args.c",
        "src/addon/matmul.c",
        "src/addon/elementwise.c",
        "src/addon/movement.c",
        "src/addon/fused.c",
        "src/addon/dropout.c",
        "src/addon/threads.c",
        "src/addon/gemm.c",
        "src/addon/gemm_avx2.c",
        "src/addon/pool.c",
        "src/addon/scratch.c"
      ],
      "include_dirs": ["<!@(node scripts/blas-paths.mjs include)"],
      "libraries": ["<!@(node scripts/blas-paths.mjs libs)", "-lpthread"],
      "cflags": ["-O3", "-std=gnu11", "-pthread", "-fno-math-errno", "-fno-trapping-math", "-ffp-contract=off"],
      "xcode_settings": { "OTHER_CFLAGS": ["-O3", "-fno-math-errno", "-fno-trapping-math", "-ffp-contract=off"] },
      "defines": ["NAPI_VERSION=8"]
    }
  ]
}
