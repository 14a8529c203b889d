;; Kernels in WebAssembly SIMD on tfjs-backend-wasm's own heap (imported, so tensors are read and
;; written in place): a transpose of 4-byte elements and float32 column sums.
;; scripts/wasm-module.mjs compiles it for a shared heap (the threaded build) and an unshared one;
;; src/heap-kernels-wasm.ts is the result.
(module
  (import "env" "memory" (memory 1 65536 shared))
  ;; out (n, m) = x (m, n) for the first m - m % 4 rows and n - n % 4 columns; x and out are byte
  ;; offsets on the heap. Columns go in blocks of `block` (a multiple of 4): inside one, four rows
  ;; of x are read four columns at a time, transposed in registers (four pairs of shuffles) and
  ;; written as four neighbours of four output rows, so the output lines a block touches stay in
  ;; L1 until the next four rows fill them.
  (func (export "transpose4") (param $x i32) (param $out i32) (param $m i32) (param $n i32) (param $block i32)
    (local $i i32) (local $j i32) (local $j0 i32) (local $j1 i32) (local $m4 i32) (local $n4 i32)
    (local $rb i32) (local $ob i32) (local $p i32) (local $q i32)
    (local $r0 v128) (local $r1 v128) (local $r2 v128) (local $r3 v128)
    (local $t0 v128) (local $t1 v128) (local $t2 v128) (local $t3 v128)
    (local.set $rb (i32.shl (local.get $n) (i32.const 2)))
    (local.set $ob (i32.shl (local.get $m) (i32.const 2)))
    (local.set $m4 (i32.and (local.get $m) (i32.const -4)))
    (local.set $n4 (i32.and (local.get $n) (i32.const -4)))
    (local.set $j0 (i32.const 0))
    (block $done_blocks (loop $blocks
      (br_if $done_blocks (i32.ge_u (local.get $j0) (local.get $n4)))
      (local.set $j1 (i32.add (local.get $j0) (local.get $block)))
      (if (i32.gt_u (local.get $j1) (local.get $n4)) (then (local.set $j1 (local.get $n4))))
      (local.set $i (i32.const 0))
      (block $done_rows (loop $rows
        (br_if $done_rows (i32.ge_u (local.get $i) (local.get $m4)))
        (local.set $j (local.get $j0))
        (local.set $p (i32.add (local.get $x) (i32.shl (i32.add (i32.mul (local.get $i) (local.get $n)) (local.get $j0)) (i32.const 2))))
        (local.set $q (i32.add (local.get $out) (i32.shl (i32.add (i32.mul (local.get $j0) (local.get $m)) (local.get $i)) (i32.const 2))))
        (block $done_cols (loop $cols
          (br_if $done_cols (i32.ge_u (local.get $j) (local.get $j1)))
          (local.set $r0 (v128.load (local.get $p)))
          (local.set $r1 (v128.load (i32.add (local.get $p) (local.get $rb))))
          (local.set $r2 (v128.load (i32.add (local.get $p) (i32.shl (local.get $rb) (i32.const 1)))))
          (local.set $r3 (v128.load (i32.add (local.get $p) (i32.mul (local.get $rb) (i32.const 3)))))
          (local.set $t0 (i8x16.shuffle 0 1 2 3 16 17 18 19 4 5 6 7 20 21 22 23 (local.get $r0) (local.get $r1)))
          (local.set $t1 (i8x16.shuffle 8 9 10 11 24 25 26 27 12 13 14 15 28 29 30 31 (local.get $r0) (local.get $r1)))
          (local.set $t2 (i8x16.shuffle 0 1 2 3 16 17 18 19 4 5 6 7 20 21 22 23 (local.get $r2) (local.get $r3)))
          (local.set $t3 (i8x16.shuffle 8 9 10 11 24 25 26 27 12 13 14 15 28 29 30 31 (local.get $r2) (local.get $r3)))
          (v128.store (local.get $q) (i8x16.shuffle 0 1 2 3 4 5 6 7 16 17 18 19 20 21 22 23 (local.get $t0) (local.get $t2)))
          (v128.store (i32.add (local.get $q) (local.get $ob)) (i8x16.shuffle 8 9 10 11 12 13 14 15 24 25 26 27 28 29 30 31 (local.get $t0) (local.get $t2)))
          (v128.store (i32.add (local.get $q) (i32.shl (local.get $ob) (i32.const 1))) (i8x16.shuffle 0 1 2 3 4 5 6 7 16 17 18 19 20 21 22 23 (local.get $t1) (local.get $t3)))
          (v128.store (i32.add (local.get $q) (i32.mul (local.get $ob) (i32.const 3))) (i8x16.shuffle 8 9 10 11 12 13 14 15 24 25 26 27 28 29 30 31 (local.get $t1) (local.get $t3)))
          (local.set $p (i32.add (local.get $p) (i32.const 16)))
          (local.set $q (i32.add (local.get $q) (i32.shl (local.get $ob) (i32.const 2))))
          (local.set $j (i32.add (local.get $j) (i32.const 4)))
          (br $cols)))
        (local.set $i (i32.add (local.get $i) (i32.const 4)))
        (br $rows)))
      (local.set $j0 (local.get $j1))
      (br $blocks)))
  )

  ;; out (cols) = the float32 column sums of x (rows, cols), each from +0 and top to bottom: the
  ;; order of tfjs's Sum over the leading axes, and f32 additions lane by lane, so the same bits.
  (func (export "sum_rows") (param $x i32) (param $out i32) (param $rows i32) (param $cols i32)
    (local $i i32) (local $j i32) (local $c4 i32) (local $p i32) (local $q i32) (local $end i32)
    (local.set $c4 (i32.and (local.get $cols) (i32.const -4)))
    ;; zero the output
    (local.set $q (local.get $out))
    (local.set $end (i32.add (local.get $out) (i32.shl (local.get $cols) (i32.const 2))))
    (block $zeroed (loop $zero
      (br_if $zeroed (i32.ge_u (local.get $q) (local.get $end)))
      (f32.store (local.get $q) (f32.const 0))
      (local.set $q (i32.add (local.get $q) (i32.const 4)))
      (br $zero)))
    (local.set $p (local.get $x))
    (local.set $i (i32.const 0))
    (block $done_rows (loop $rows_loop
      (br_if $done_rows (i32.ge_u (local.get $i) (local.get $rows)))
      (local.set $q (local.get $out))
      (local.set $j (i32.const 0))
      (block $done_vec (loop $vec
        (br_if $done_vec (i32.ge_u (local.get $j) (local.get $c4)))
        (v128.store (local.get $q) (f32x4.add (v128.load (local.get $q)) (v128.load (local.get $p))))
        (local.set $p (i32.add (local.get $p) (i32.const 16)))
        (local.set $q (i32.add (local.get $q) (i32.const 16)))
        (local.set $j (i32.add (local.get $j) (i32.const 4)))
        (br $vec)))
      (block $done_tail (loop $tail
        (br_if $done_tail (i32.ge_u (local.get $j) (local.get $cols)))
        (f32.store (local.get $q) (f32.add (f32.load (local.get $q)) (f32.load (local.get $p))))
        (local.set $p (i32.add (local.get $p) (i32.const 4)))
        (local.set $q (i32.add (local.get $q) (i32.const 4)))
        (local.set $j (i32.add (local.get $j) (i32.const 1)))
        (br $tail)))
      (local.set $i (i32.add (local.get $i) (i32.const 1)))
      (br $rows_loop)))
  )
)
