(module
  ;; AdamW's update, four weights per instruction: f32x4 operations are IEEE single precision,
  ;; correctly rounded, so each result has the bits of the Math.fround chain of adamw-wasm.ts.
  ;; It works on tfjs-backend-wasm's own heap (imported), reading the tensors and writing the
  ;; outputs in place. Compiled by scripts/wasm-module.mjs (wabt), for a shared heap (the threaded
  ;; build) and an unshared one, into src/adamw-module.ts.
  (import "env" "memory" (memory 1 65536 shared))
  ;; adamw(p, m, v, g, p1, m1, v1, bytes, keep, beta1, 1 - beta1, beta2, 1 - beta2, bc2Sqrt,
  ;; epsilon, stepSize): byte addresses on the heap, bytes a multiple of 16.
  ;; m1 = m beta1 + g (1 - beta1); v1 = v beta2 + (g g)(1 - beta2);
  ;; p1 = p keep - (m1 / (sqrt(v1) / bc2Sqrt + epsilon)) stepSize.
  (func (export "adamw")
    (param $p i32) (param $m i32) (param $v i32) (param $g i32) (param $p1 i32) (param $m1 i32) (param $v1 i32) (param $bytes i32)
    (param $keepS f32) (param $b1S f32) (param $c1S f32) (param $b2S f32) (param $c2S f32) (param $bc2S f32) (param $epsS f32) (param $stepS f32)
    (local $i i32)
    (local $keep v128) (local $b1 v128) (local $c1 v128) (local $b2 v128) (local $c2 v128)
    (local $bc2 v128) (local $eps v128) (local $step v128)
    (local $gi v128) (local $mNew v128) (local $vNew v128)
    (local.set $keep (f32x4.splat (local.get $keepS)))
    (local.set $b1 (f32x4.splat (local.get $b1S)))
    (local.set $c1 (f32x4.splat (local.get $c1S)))
    (local.set $b2 (f32x4.splat (local.get $b2S)))
    (local.set $c2 (f32x4.splat (local.get $c2S)))
    (local.set $bc2 (f32x4.splat (local.get $bc2S)))
    (local.set $eps (f32x4.splat (local.get $epsS)))
    (local.set $step (f32x4.splat (local.get $stepS)))
    (block $done (loop $next
      (br_if $done (i32.ge_u (local.get $i) (local.get $bytes)))
      (local.set $gi (v128.load (i32.add (local.get $g) (local.get $i))))
      (local.set $mNew (f32x4.add
        (f32x4.mul (v128.load (i32.add (local.get $m) (local.get $i))) (local.get $b1))
        (f32x4.mul (local.get $gi) (local.get $c1))))
      (local.set $vNew (f32x4.add
        (f32x4.mul (v128.load (i32.add (local.get $v) (local.get $i))) (local.get $b2))
        (f32x4.mul (f32x4.mul (local.get $gi) (local.get $gi)) (local.get $c2))))
      (v128.store (i32.add (local.get $p1) (local.get $i))
        (f32x4.sub
          (f32x4.mul (v128.load (i32.add (local.get $p) (local.get $i))) (local.get $keep))
          (f32x4.mul
            (f32x4.div (local.get $mNew)
              (f32x4.add (f32x4.div (f32x4.sqrt (local.get $vNew)) (local.get $bc2)) (local.get $eps)))
            (local.get $step))))
      (v128.store (i32.add (local.get $m1) (local.get $i)) (local.get $mNew))
      (v128.store (i32.add (local.get $v1) (local.get $i)) (local.get $vNew))
      (local.set $i (i32.add (local.get $i) (i32.const 16)))
      (br $next)))))
