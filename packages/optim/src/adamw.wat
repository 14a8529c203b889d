(module
  ;; AdamW's update, four weights per instruction: f32x4 operations are IEEE single precision,
  ;; correctly rounded, so each result has the bits of the Math.fround chain of adamw-wasm.ts.
  ;; Compiled by scripts/wasm-module.mjs (wabt) into src/adamw-module.ts.
  (memory (export "memory") 1)
  ;; adamw(p, m, v, g, bytes, constants): in place over [p | m | v] (byte addresses, 16-aligned;
  ;; bytes a multiple of 16); constants: 8 floats keep, beta1, 1 - beta1, beta2, 1 - beta2,
  ;; bc2Sqrt, epsilon, stepSize. m1 = m beta1 + g (1 - beta1); v1 = v beta2 + (g g)(1 - beta2);
  ;; p1 = p keep - (m1 / (sqrt(v1) / bc2Sqrt + epsilon)) stepSize.
  (func (export "adamw") (param $p i32) (param $m i32) (param $v i32) (param $g i32) (param $bytes i32) (param $c i32)
    (local $i i32)
    (local $keep v128) (local $b1 v128) (local $c1 v128) (local $b2 v128) (local $c2 v128)
    (local $bc2 v128) (local $eps v128) (local $step v128)
    (local $gi v128) (local $m1 v128) (local $v1 v128)
    (local.set $keep (f32x4.splat (f32.load offset=0 (local.get $c))))
    (local.set $b1 (f32x4.splat (f32.load offset=4 (local.get $c))))
    (local.set $c1 (f32x4.splat (f32.load offset=8 (local.get $c))))
    (local.set $b2 (f32x4.splat (f32.load offset=12 (local.get $c))))
    (local.set $c2 (f32x4.splat (f32.load offset=16 (local.get $c))))
    (local.set $bc2 (f32x4.splat (f32.load offset=20 (local.get $c))))
    (local.set $eps (f32x4.splat (f32.load offset=24 (local.get $c))))
    (local.set $step (f32x4.splat (f32.load offset=28 (local.get $c))))
    (block $done (loop $next
      (br_if $done (i32.ge_u (local.get $i) (local.get $bytes)))
      (local.set $gi (v128.load (i32.add (local.get $g) (local.get $i))))
      (local.set $m1 (f32x4.add
        (f32x4.mul (v128.load (i32.add (local.get $m) (local.get $i))) (local.get $b1))
        (f32x4.mul (local.get $gi) (local.get $c1))))
      (local.set $v1 (f32x4.add
        (f32x4.mul (v128.load (i32.add (local.get $v) (local.get $i))) (local.get $b2))
        (f32x4.mul (f32x4.mul (local.get $gi) (local.get $gi)) (local.get $c2))))
      (v128.store (i32.add (local.get $m) (local.get $i)) (local.get $m1))
      (v128.store (i32.add (local.get $v) (local.get $i)) (local.get $v1))
      (v128.store (i32.add (local.get $p) (local.get $i))
        (f32x4.sub
          (f32x4.mul (v128.load (i32.add (local.get $p) (local.get $i))) (local.get $keep))
          (f32x4.mul
            (f32x4.div (local.get $m1)
              (f32x4.add (f32x4.div (f32x4.sqrt (local.get $v1)) (local.get $bc2)) (local.get $eps)))
            (local.get $step))))
      (local.set $i (i32.add (local.get $i) (i32.const 16)))
      (br $next)))))
