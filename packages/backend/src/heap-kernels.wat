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

  ;; ---------------------------------------------------------------------------------------------
  ;; Exp, Erf and GELU with tfjs-backend-wasm's bits. Its Exp and Erf call musl's expf (ARM's
  ;; optimized-routines: double arithmetic around a 32-entry table of 2^(i/32)) and erff once per
  ;; element; these are the same operations in the same order, four elements at a time where all
  ;; four take the same kind of path, so every result is the same float. $tab is the byte offset
  ;; on the heap of exp2f_data's table (32 u64, written there by wasm-kernels.ts).

  ;; expf for one float, every case (the special ones: |x| >= 88, infinities, NaN)
  (func $expf (param $x f32) (param $tab i32) (result f32)
    (local $abstop i32) (local $z f64) (local $kd f64) (local $r f64) (local $ki i64)
    (local.set $abstop (i32.and (i32.shr_u (i32.reinterpret_f32 (local.get $x)) (i32.const 20)) (i32.const 2047)))
    (if (i32.ge_u (local.get $abstop) (i32.const 0x42b)) (then
      (if (i32.eq (i32.reinterpret_f32 (local.get $x)) (i32.const 0xff800000)) (then (return (f32.const 0))))
      (if (i32.ge_u (local.get $abstop) (i32.const 0x7f8)) (then (return (f32.add (local.get $x) (local.get $x)))))
      ;; musl's __math_oflowf / __math_uflowf: 0x1p97 * 0x1p97 and 0x1p-95 * 0x1p-95
      (if (f32.gt (local.get $x) (f32.const 0x1.62e42ep+6)) (then (return (f32.const inf))))
      (if (f32.lt (local.get $x) (f32.const -0x1.9fe368p+6)) (then (return (f32.const 0))))))
    (local.set $z (f64.mul (f64.const 0x1.71547652b82fep+5) (f64.promote_f32 (local.get $x))))
    (local.set $kd (f64.add (local.get $z) (f64.const 0x1.8p+52)))
    (local.set $ki (i64.reinterpret_f64 (local.get $kd)))
    (local.set $r (f64.sub (local.get $z) (f64.sub (local.get $kd) (f64.const 0x1.8p+52))))
    (f32.demote_f64 (f64.mul
      (f64.add
        (f64.mul (f64.add (f64.mul (f64.const 0x1.c6af84b912394p-20) (local.get $r)) (f64.const 0x1.ebfce50fac4f3p-13))
                 (f64.mul (local.get $r) (local.get $r)))
        (f64.add (f64.mul (f64.const 0x1.62e42ff0c52d6p-6) (local.get $r)) (f64.const 1)))
      (f64.reinterpret_i64 (i64.add (i64.shl (local.get $ki) (i64.const 47))
        (i64.load (i32.add (local.get $tab) (i32.shl (i32.and (i32.wrap_i64 (local.get $ki)) (i32.const 31)) (i32.const 3)))))))))

  ;; expf of four floats: two pairs of doubles through the same operations, side by side (as one
  ;; function: V8 does not inline wasm calls, and each call spills the vectors live across it)
  (func $expf4 (param $v v128) (param $tab i32) (result v128)
    (local $z0 v128) (local $z1 v128) (local $k0 v128) (local $k1 v128) (local $r0 v128) (local $r1 v128)
    (local $shift v128) (local $c0 v128) (local $c1 v128) (local $c2 v128) (local $one v128)
    (if (v128.any_true (i32x4.ge_u (v128.and (i32x4.shr_u (local.get $v) (i32.const 20)) (i32x4.splat (i32.const 2047))) (i32x4.splat (i32.const 0x42b))))
      (then (return (f32x4.replace_lane 3 (f32x4.replace_lane 2 (f32x4.replace_lane 1
        (f32x4.splat (call $expf (f32x4.extract_lane 0 (local.get $v)) (local.get $tab)))
        (call $expf (f32x4.extract_lane 1 (local.get $v)) (local.get $tab)))
        (call $expf (f32x4.extract_lane 2 (local.get $v)) (local.get $tab)))
        (call $expf (f32x4.extract_lane 3 (local.get $v)) (local.get $tab))))))
    (local.set $shift (f64x2.splat (f64.const 0x1.8p+52)))
    ;; z = x 32 / ln 2; kd = z + shift holds k = round(z) in its low bits; r = z - k
    (local.set $z0 (f64x2.mul (f64x2.splat (f64.const 0x1.71547652b82fep+5)) (f64x2.promote_low_f32x4 (local.get $v))))
    (local.set $z1 (f64x2.mul (f64x2.splat (f64.const 0x1.71547652b82fep+5))
      (f64x2.promote_low_f32x4 (i8x16.shuffle 8 9 10 11 12 13 14 15 8 9 10 11 12 13 14 15 (local.get $v) (local.get $v)))))
    (local.set $k0 (f64x2.add (local.get $z0) (local.get $shift)))
    (local.set $k1 (f64x2.add (local.get $z1) (local.get $shift)))
    (local.set $r0 (f64x2.sub (local.get $z0) (f64x2.sub (local.get $k0) (local.get $shift))))
    (local.set $r1 (f64x2.sub (local.get $z1) (f64x2.sub (local.get $k1) (local.get $shift))))
    ;; 2^(r/32) ~ (c0 r + c1) r^2 + (c2 r + 1), times 2^(k/32) = the table's word for k % 32 plus k << 47
    (local.set $c0 (f64x2.splat (f64.const 0x1.c6af84b912394p-20)))
    (local.set $c1 (f64x2.splat (f64.const 0x1.ebfce50fac4f3p-13)))
    (local.set $c2 (f64x2.splat (f64.const 0x1.62e42ff0c52d6p-6)))
    (local.set $one (f64x2.splat (f64.const 1)))
    (i8x16.shuffle 0 1 2 3 4 5 6 7 16 17 18 19 20 21 22 23
      (f32x4.demote_f64x2_zero (f64x2.mul
        (f64x2.add
          (f64x2.mul (f64x2.add (f64x2.mul (local.get $c0) (local.get $r0)) (local.get $c1)) (f64x2.mul (local.get $r0) (local.get $r0)))
          (f64x2.add (f64x2.mul (local.get $c2) (local.get $r0)) (local.get $one)))
        (i64x2.add (i64x2.shl (local.get $k0) (i32.const 47))
          (i64x2.replace_lane 1
            (i64x2.splat (i64.load (i32.add (local.get $tab) (i32.shl (i32.and (i32.wrap_i64 (i64x2.extract_lane 0 (local.get $k0))) (i32.const 31)) (i32.const 3)))))
            (i64.load (i32.add (local.get $tab) (i32.shl (i32.and (i32.wrap_i64 (i64x2.extract_lane 1 (local.get $k0))) (i32.const 31)) (i32.const 3))))))))
      (f32x4.demote_f64x2_zero (f64x2.mul
        (f64x2.add
          (f64x2.mul (f64x2.add (f64x2.mul (local.get $c0) (local.get $r1)) (local.get $c1)) (f64x2.mul (local.get $r1) (local.get $r1)))
          (f64x2.add (f64x2.mul (local.get $c2) (local.get $r1)) (local.get $one)))
        (i64x2.add (i64x2.shl (local.get $k1) (i32.const 47))
          (i64x2.replace_lane 1
            (i64x2.splat (i64.load (i32.add (local.get $tab) (i32.shl (i32.and (i32.wrap_i64 (i64x2.extract_lane 0 (local.get $k1))) (i32.const 31)) (i32.const 3)))))
            (i64.load (i32.add (local.get $tab) (i32.shl (i32.and (i32.wrap_i64 (i64x2.extract_lane 1 (local.get $k1))) (i32.const 31)) (i32.const 3))))))))))


  ;; erff of four floats. Each kind of path runs only when a lane takes it, on all four lanes,
  ;; and each lane keeps its own path's result; lanes with NaN or an infinity go one by one. The
  ;; polynomials are erff's, each evaluated in its order (Horner's, from the highest power).
  (func $erff4 (param $x v128) (param $tab i32) (result v128)
    (local $a v128) (local $ax v128) (local $res v128) (local $m v128) (local $y v128) (local $z v128)
    (local $s v128) (local $near v128) (local $p v128) (local $q v128) (local $r v128) (local $t v128) (local $sign v128)
    (local.set $a (v128.and (local.get $x) (i32x4.splat (i32.const 0x7fffffff))))
    (local.set $ax (local.get $a))
    (if (v128.any_true (i32x4.ge_u (local.get $a) (i32x4.splat (i32.const 0x7f800000))))
      (then (return (f32x4.replace_lane 3 (f32x4.replace_lane 2 (f32x4.replace_lane 1
        (f32x4.splat (call $erff (f32x4.extract_lane 0 (local.get $x)) (local.get $tab)))
        (call $erff (f32x4.extract_lane 1 (local.get $x)) (local.get $tab)))
        (call $erff (f32x4.extract_lane 2 (local.get $x)) (local.get $tab)))
        (call $erff (f32x4.extract_lane 3 (local.get $x)) (local.get $tab))))))
    ;; the paths below 0.84375 keep x's sign; the others negate a positive result for negative x
    (local.set $sign (v128.and (local.get $x) (i32x4.splat (i32.const 0x80000000))))
    ;; |x| >= 6: 1
    (local.set $res (f32x4.splat (f32.const 1)))
    ;; |x| < 0.84375: x + x (pp / qq) of z = x^2; below 2^-28, (8x + efx8 x) / 8
    (local.set $m (i32x4.lt_u (local.get $a) (i32x4.splat (i32.const 0x3f580000))))
    (if (v128.any_true (local.get $m)) (then
      (local.set $z (f32x4.mul (local.get $x) (local.get $x)))
      (local.set $p (f32x4.add (f32x4.splat (f32.const 0x1.06eba8p-3)) (f32x4.mul (local.get $z)
        (f32x4.add (f32x4.splat (f32.const -0x1.4cd7d6p-2)) (f32x4.mul (local.get $z)
        (f32x4.add (f32x4.splat (f32.const -0x1.d2a51ep-6)) (f32x4.mul (local.get $z)
        (f32x4.add (f32x4.splat (f32.const -0x1.7a2912p-8)) (f32x4.mul (local.get $z)
        (f32x4.splat (f32.const -0x1.8ead62p-16)))))))))))
      (local.set $q (f32x4.add (f32x4.splat (f32.const 1)) (f32x4.mul (local.get $z)
        (f32x4.add (f32x4.splat (f32.const 0x1.97779cp-2)) (f32x4.mul (local.get $z)
        (f32x4.add (f32x4.splat (f32.const 0x1.0a54c6p-4)) (f32x4.mul (local.get $z)
        (f32x4.add (f32x4.splat (f32.const 0x1.4d022cp-8)) (f32x4.mul (local.get $z)
        (f32x4.add (f32x4.splat (f32.const 0x1.15dc92p-13)) (f32x4.mul (local.get $z)
        (f32x4.splat (f32.const -0x1.09c434p-18)))))))))))))
      (local.set $y (f32x4.add (f32x4.mul (local.get $x) (f32x4.div (local.get $p) (local.get $q))) (local.get $x)))
      (local.set $y (v128.bitselect
        (f32x4.mul (f32x4.add (f32x4.mul (local.get $x) (f32x4.splat (f32.const 8))) (f32x4.mul (local.get $x) (f32x4.splat (f32.const 0x1.06eba8p+0)))) (f32x4.splat (f32.const 0x1p-3)))
        (local.get $y)
        (i32x4.lt_u (local.get $a) (i32x4.splat (i32.const 0x31800000)))))))
    ;; 0.84375 <= |x| < 1.25: 1 - ((1 - erx) - pa / qa) of s = |x| - 1
    (local.set $m (v128.andnot (i32x4.lt_u (local.get $a) (i32x4.splat (i32.const 0x3fa00000))) (i32x4.lt_u (local.get $a) (i32x4.splat (i32.const 0x3f580000)))))
    (if (v128.any_true (local.get $m)) (then
      (local.set $s (f32x4.add (local.get $ax) (f32x4.splat (f32.const -1))))
      (local.set $p (f32x4.add (f32x4.splat (f32.const -0x1.359b8cp-9)) (f32x4.mul (local.get $s)
        (f32x4.add (f32x4.splat (f32.const 0x1.a8d00ap-2)) (f32x4.mul (local.get $s)
        (f32x4.add (f32x4.splat (f32.const -0x1.7d241p-2)) (f32x4.mul (local.get $s)
        (f32x4.add (f32x4.splat (f32.const 0x1.45fca8p-2)) (f32x4.mul (local.get $s)
        (f32x4.add (f32x4.splat (f32.const -0x1.c63984p-4)) (f32x4.mul (local.get $s)
        (f32x4.add (f32x4.splat (f32.const 0x1.22a366p-5)) (f32x4.mul (local.get $s)
        (f32x4.splat (f32.const -0x1.1bf38p-9)))))))))))))))
      (local.set $q (f32x4.add (f32x4.splat (f32.const 1)) (f32x4.mul (local.get $s)
        (f32x4.add (f32x4.splat (f32.const 0x1.b3e662p-4)) (f32x4.mul (local.get $s)
        (f32x4.add (f32x4.splat (f32.const 0x1.14af0ap-1)) (f32x4.mul (local.get $s)
        (f32x4.add (f32x4.splat (f32.const 0x1.2635cep-4)) (f32x4.mul (local.get $s)
        (f32x4.add (f32x4.splat (f32.const 0x1.02660ep-3)) (f32x4.mul (local.get $s)
        (f32x4.add (f32x4.splat (f32.const 0x1.bedc26p-7)) (f32x4.mul (local.get $s)
        (f32x4.splat (f32.const 0x1.88b546p-7)))))))))))))))
      (local.set $res (v128.bitselect
        (f32x4.sub (f32x4.splat (f32.const 1)) (f32x4.sub (f32x4.splat (f32.const 0x1.3d4fa8p-3)) (f32x4.div (local.get $p) (local.get $q))))
        (local.get $res) (local.get $m)))))
    ;; 1.25 <= |x| < 6: 1 - expf(-0.5625 - z^2) expf((z - |x|)(|x| + z) + R / (1 + s T)) / |x| of
    ;; s = 1 / x^2, with R, T = ra, sa below 1 / 0.35 and rb, sb above (T: S's polynomial without
    ;; its leading 1), z = |x| with the low 13 bits of its mantissa cleared. Other lanes compute on
    ;; 2, a value of this range.
    (local.set $m (v128.andnot (i32x4.lt_u (local.get $a) (i32x4.splat (i32.const 0x40c00000))) (i32x4.lt_u (local.get $a) (i32x4.splat (i32.const 0x3fa00000)))))
    (if (v128.any_true (local.get $m)) (then
      (local.set $ax (v128.bitselect (local.get $ax) (f32x4.splat (f32.const 2)) (local.get $m)))
      (local.set $s (f32x4.div (f32x4.splat (f32.const 1)) (f32x4.mul (local.get $ax) (local.get $ax))))
      (local.set $near (i32x4.le_u (local.get $ax) (i32x4.splat (i32.const 0x4036db6c))))
      (if (v128.any_true (local.get $near)) (then
        (local.set $r (f32x4.add (f32x4.splat (f32.const -0x1.434126p-7)) (f32x4.mul (local.get $s)
          (f32x4.add (f32x4.splat (f32.const -0x1.63416ep-1)) (f32x4.mul (local.get $s)
          (f32x4.add (f32x4.splat (f32.const -0x1.51e044p+3)) (f32x4.mul (local.get $s)
          (f32x4.add (f32x4.splat (f32.const -0x1.f300aep+5)) (f32x4.mul (local.get $s)
          (f32x4.add (f32x4.splat (f32.const -0x1.44cb18p+7)) (f32x4.mul (local.get $s)
          (f32x4.add (f32x4.splat (f32.const -0x1.7135cep+7)) (f32x4.mul (local.get $s)
          (f32x4.add (f32x4.splat (f32.const -0x1.452656p+6)) (f32x4.mul (local.get $s)
          (f32x4.splat (f32.const -0x1.3a0efcp+3)))))))))))))))))
        (local.set $t (f32x4.add (f32x4.splat (f32.const 0x1.3a6b9cp+4)) (f32x4.mul (local.get $s)
          (f32x4.add (f32x4.splat (f32.const 0x1.1350c6p+7)) (f32x4.mul (local.get $s)
          (f32x4.add (f32x4.splat (f32.const 0x1.b290dep+8)) (f32x4.mul (local.get $s)
          (f32x4.add (f32x4.splat (f32.const 0x1.42b192p+9)) (f32x4.mul (local.get $s)
          (f32x4.add (f32x4.splat (f32.const 0x1.ad0216p+8)) (f32x4.mul (local.get $s)
          (f32x4.add (f32x4.splat (f32.const 0x1.b28a3ep+6)) (f32x4.mul (local.get $s)
          (f32x4.add (f32x4.splat (f32.const 0x1.a47ef8p+2)) (f32x4.mul (local.get $s)
          (f32x4.splat (f32.const -0x1.eeff2ep-5)))))))))))))))))
      ))
      (if (v128.any_true (v128.andnot (local.get $m) (local.get $near))) (then
        (local.set $p (f32x4.add (f32x4.splat (f32.const -0x1.434124p-7)) (f32x4.mul (local.get $s)
          (f32x4.add (f32x4.splat (f32.const -0x1.993ba8p-1)) (f32x4.mul (local.get $s)
          (f32x4.add (f32x4.splat (f32.const -0x1.1c2096p+4)) (f32x4.mul (local.get $s)
          (f32x4.add (f32x4.splat (f32.const -0x1.4145d4p+7)) (f32x4.mul (local.get $s)
          (f32x4.add (f32x4.splat (f32.const -0x1.3ec882p+9)) (f32x4.mul (local.get $s)
          (f32x4.add (f32x4.splat (f32.const -0x1.004616p+10)) (f32x4.mul (local.get $s)
          (f32x4.splat (f32.const -0x1.e384eap+8)))))))))))))))
        (local.set $q (f32x4.add (f32x4.splat (f32.const 0x1.e568b2p+4)) (f32x4.mul (local.get $s)
          (f32x4.add (f32x4.splat (f32.const 0x1.45cae2p+8)) (f32x4.mul (local.get $s)
          (f32x4.add (f32x4.splat (f32.const 0x1.802eb2p+10)) (f32x4.mul (local.get $s)
          (f32x4.add (f32x4.splat (f32.const 0x1.8ffb76p+11)) (f32x4.mul (local.get $s)
          (f32x4.add (f32x4.splat (f32.const 0x1.3f219cp+11)) (f32x4.mul (local.get $s)
          (f32x4.add (f32x4.splat (f32.const 0x1.da874ep+8)) (f32x4.mul (local.get $s)
          (f32x4.splat (f32.const -0x1.670e24p+4)))))))))))))))
        (local.set $r (v128.bitselect (local.get $r) (local.get $p) (local.get $near)))
        (local.set $t (v128.bitselect (local.get $t) (local.get $q) (local.get $near)))))
      (local.set $z (v128.and (local.get $ax) (i32x4.splat (i32.const 0xffffe000))))
      (local.set $res (v128.bitselect
        (f32x4.sub (f32x4.splat (f32.const 1)) (f32x4.div
          (f32x4.mul
            (call $expf4 (f32x4.sub (f32x4.splat (f32.const -0x1.2p-1)) (f32x4.mul (local.get $z) (local.get $z))) (local.get $tab))
            (call $expf4 (f32x4.add
              (f32x4.mul (f32x4.sub (local.get $z) (local.get $ax)) (f32x4.add (local.get $ax) (local.get $z)))
              (f32x4.div (local.get $r) (f32x4.add (f32x4.mul (local.get $s) (local.get $t)) (f32x4.splat (f32.const 1))))) (local.get $tab)))
          (local.get $ax)))
        (local.get $res) (local.get $m)))))
    (local.set $res (v128.xor (local.get $res) (local.get $sign)))
    (v128.bitselect (local.get $y) (local.get $res) (i32x4.lt_u (local.get $a) (i32x4.splat (i32.const 0x3f580000)))))

  ;; erff of one float (the tails of the loops, and lanes with NaN or an infinity)
  (func $erff (param $x f32) (param $tab i32) (result f32)
    (local $ix i32) (local $a i32) (local $v v128)
    (local.set $ix (i32.reinterpret_f32 (local.get $x)))
    (local.set $a (i32.and (local.get $ix) (i32.const 0x7fffffff)))
    ;; erf(NaN) = NaN, erf(+-inf) = +-1: 1 / x + (1 - 2 sign)
    (if (i32.ge_u (local.get $a) (i32.const 0x7f800000))
      (then (return (f32.add (f32.div (f32.const 1) (local.get $x))
        (f32.convert_i32_s (i32.sub (i32.const 1) (i32.and (i32.shr_u (local.get $ix) (i32.const 30)) (i32.const 2))))))))
    (f32x4.extract_lane 0 (call $erff4 (f32x4.splat (local.get $x)) (local.get $tab))))

  ;; out[i] = expf(x[i]), out[i] = erff(x[i]) for n floats (x, out byte offsets). The loops are
  ;; written out per function: one loop calling through a table (call_indirect) ran exp 6% and
  ;; erf 6-25% slower on the Zen 1, V8 not inlining either call.
  (func (export "exp_f32") (param $x i32) (param $out i32) (param $n i32) (param $tab i32)
    (local $end i32) (local $end4 i32)
    (local.set $end (i32.add (local.get $x) (i32.shl (local.get $n) (i32.const 2))))
    (local.set $end4 (i32.add (local.get $x) (i32.shl (i32.and (local.get $n) (i32.const -4)) (i32.const 2))))
    (block $v (loop $vl
      (br_if $v (i32.ge_u (local.get $x) (local.get $end4)))
      (v128.store (local.get $out) (call $expf4 (v128.load (local.get $x)) (local.get $tab)))
      (local.set $x (i32.add (local.get $x) (i32.const 16)))
      (local.set $out (i32.add (local.get $out) (i32.const 16)))
      (br $vl)))
    (block $s (loop $sl
      (br_if $s (i32.ge_u (local.get $x) (local.get $end)))
      (f32.store (local.get $out) (call $expf (f32.load (local.get $x)) (local.get $tab)))
      (local.set $x (i32.add (local.get $x) (i32.const 4)))
      (local.set $out (i32.add (local.get $out) (i32.const 4)))
      (br $sl))))
  (func (export "erf_f32") (param $x i32) (param $out i32) (param $n i32) (param $tab i32)
    (local $end i32) (local $end4 i32)
    (local.set $end (i32.add (local.get $x) (i32.shl (local.get $n) (i32.const 2))))
    (local.set $end4 (i32.add (local.get $x) (i32.shl (i32.and (local.get $n) (i32.const -4)) (i32.const 2))))
    (block $v (loop $vl
      (br_if $v (i32.ge_u (local.get $x) (local.get $end4)))
      (v128.store (local.get $out) (call $erff4 (v128.load (local.get $x)) (local.get $tab)))
      (local.set $x (i32.add (local.get $x) (i32.const 16)))
      (local.set $out (i32.add (local.get $out) (i32.const 16)))
      (br $vl)))
    (block $s (loop $sl
      (br_if $s (i32.ge_u (local.get $x) (local.get $end)))
      (f32.store (local.get $out) (call $erff (f32.load (local.get $x)) (local.get $tab)))
      (local.set $x (i32.add (local.get $x) (i32.const 4)))
      (local.set $out (i32.add (local.get $out) (i32.const 4)))
      (br $sl))))

  ;; GELU, (x * 0.5) (1 + erf(x * fround(sqrt 1/2))): the float32 operations of
  ;; @r3d-ts/rtf-fuser's composed gelu on tfjs's kernels, in their order
  (func $gelu4 (param $x v128) (param $tab i32) (result v128)
    (f32x4.mul (f32x4.mul (local.get $x) (f32x4.splat (f32.const 0.5)))
      (f32x4.add (f32x4.splat (f32.const 1)) (call $erff4 (f32x4.mul (local.get $x) (f32x4.splat (f32.reinterpret_i32 (i32.const 0x3f3504f3)))) (local.get $tab)))))
  ;; its gradient, dy (cdf + x pdf) with cdf = (1 + erf(x * fround(sqrt 1/2))) * 0.5 and
  ;; pdf = exp((x * x) * -0.5) * fround(1 / sqrt(2 pi)): rtf-fuser's composed closed form
  (func $gelu_grad4 (param $dy v128) (param $x v128) (param $tab i32) (result v128)
    (f32x4.mul (local.get $dy) (f32x4.add
      (f32x4.mul (f32x4.add (f32x4.splat (f32.const 1)) (call $erff4 (f32x4.mul (local.get $x) (f32x4.splat (f32.reinterpret_i32 (i32.const 0x3f3504f3)))) (local.get $tab))) (f32x4.splat (f32.const 0.5)))
      (f32x4.mul (local.get $x)
        (f32x4.mul (call $expf4 (f32x4.mul (f32x4.mul (local.get $x) (local.get $x)) (f32x4.splat (f32.const -0.5))) (local.get $tab))
          (f32x4.splat (f32.reinterpret_i32 (i32.const 0x3ecc422a))))))))
  ;; out = gelu(x) for n floats; the last n % 4 one by one, each in all four lanes of a vector
  (func (export "gelu_f32") (param $x i32) (param $out i32) (param $n i32) (param $tab i32)
    (local $i i32) (local $n4 i32) (local $v v128)
    (local.set $n4 (i32.and (local.get $n) (i32.const -4)))
    (block $v (loop $vl
      (br_if $v (i32.ge_u (local.get $i) (local.get $n4)))
      (v128.store (i32.add (local.get $out) (i32.shl (local.get $i) (i32.const 2)))
        (call $gelu4 (v128.load (i32.add (local.get $x) (i32.shl (local.get $i) (i32.const 2)))) (local.get $tab)))
      (local.set $i (i32.add (local.get $i) (i32.const 4)))
      (br $vl)))
    (block $s (loop $sl
      (br_if $s (i32.ge_u (local.get $i) (local.get $n)))
      (f32.store (i32.add (local.get $out) (i32.shl (local.get $i) (i32.const 2)))
        (f32x4.extract_lane 0 (call $gelu4 (f32x4.splat (f32.load (i32.add (local.get $x) (i32.shl (local.get $i) (i32.const 2))))) (local.get $tab))))
      (local.set $i (i32.add (local.get $i) (i32.const 1)))
      (br $sl))))
  ;; out = gelu'(x) dy for n floats
  (func (export "gelu_grad_f32") (param $dy i32) (param $x i32) (param $out i32) (param $n i32) (param $tab i32)
    (local $i i32) (local $n4 i32) (local $o i32)
    (local.set $n4 (i32.and (local.get $n) (i32.const -4)))
    (block $v (loop $vl
      (br_if $v (i32.ge_u (local.get $i) (local.get $n4)))
      (local.set $o (i32.shl (local.get $i) (i32.const 2)))
      (v128.store (i32.add (local.get $out) (local.get $o))
        (call $gelu_grad4 (v128.load (i32.add (local.get $dy) (local.get $o))) (v128.load (i32.add (local.get $x) (local.get $o))) (local.get $tab)))
      (local.set $i (i32.add (local.get $i) (i32.const 4)))
      (br $vl)))
    (block $s (loop $sl
      (br_if $s (i32.ge_u (local.get $i) (local.get $n)))
      (local.set $o (i32.shl (local.get $i) (i32.const 2)))
      (f32.store (i32.add (local.get $out) (local.get $o))
        (f32x4.extract_lane 0 (call $gelu_grad4 (f32x4.splat (f32.load (i32.add (local.get $dy) (local.get $o)))) (f32x4.splat (f32.load (i32.add (local.get $x) (local.get $o)))) (local.get $tab))))
      (local.set $i (i32.add (local.get $i) (i32.const 1)))
      (br $sl))))

  ;; ---------------------------------------------------------------------------------------------
  ;; LayerNorm over the last axis and its closed-form gradient, in the float32 operations of
  ;; @r3d-ts/rtf-fuser's composed ops on tfjs's wasm kernels, in their order: its Mean sums a row
  ;; from +0 left to right and divides by the count, Rsqrt is 1 / sqrt, and Sum over the rows
  ;; (the channel sums) adds each column from +0 top to bottom (sum_rows above).

  ;; the mean of n floats at p, as tfjs's Mean
  (func $row_mean (param $p i32) (param $n i32) (result f32)
    (local $s f32) (local $end i32)
    (local.set $end (i32.add (local.get $p) (i32.shl (local.get $n) (i32.const 2))))
    (block $d (loop $l
      (br_if $d (i32.ge_u (local.get $p) (local.get $end)))
      (local.set $s (f32.add (local.get $s) (f32.load (local.get $p))))
      (local.set $p (i32.add (local.get $p) (i32.const 4)))
      (br $l)))
    (f32.div (local.get $s) (f32.convert_i32_u (local.get $n))))

  ;; 1 / sqrt(mean((x - mean)^2) + eps) of n floats at p
  (func $row_rstd (param $p i32) (param $n i32) (param $mean f32) (param $eps f32) (result f32)
    (local $s f32) (local $c f32) (local $end i32)
    (local.set $end (i32.add (local.get $p) (i32.shl (local.get $n) (i32.const 2))))
    (block $d (loop $l
      (br_if $d (i32.ge_u (local.get $p) (local.get $end)))
      (local.set $c (f32.sub (f32.load (local.get $p)) (local.get $mean)))
      (local.set $s (f32.add (local.get $s) (f32.mul (local.get $c) (local.get $c))))
      (local.set $p (i32.add (local.get $p) (i32.const 4)))
      (br $l)))
    (f32.div (f32.const 1) (f32.sqrt (f32.add (f32.div (local.get $s) (f32.convert_i32_u (local.get $n))) (local.get $eps)))))

  ;; out (rows, cols) = ((x - mean) rstd) gamma + beta, row by row
  (func (export "layer_norm_f32") (param $x i32) (param $gamma i32) (param $beta i32) (param $out i32) (param $rows i32) (param $cols i32) (param $eps f32)
    (local $r i32) (local $j i32) (local $o i32) (local $c4 i32) (local $mean f32) (local $rstd f32) (local $vm v128) (local $vr v128)
    (local.set $c4 (i32.and (local.get $cols) (i32.const -4)))
    (block $done (loop $row
      (br_if $done (i32.ge_u (local.get $r) (local.get $rows)))
      (local.set $mean (call $row_mean (local.get $x) (local.get $cols)))
      (local.set $rstd (call $row_rstd (local.get $x) (local.get $cols) (local.get $mean) (local.get $eps)))
      (local.set $vm (f32x4.splat (local.get $mean)))
      (local.set $vr (f32x4.splat (local.get $rstd)))
      (local.set $j (i32.const 0))
      (block $v (loop $vl
        (br_if $v (i32.ge_u (local.get $j) (local.get $c4)))
        (local.set $o (i32.shl (local.get $j) (i32.const 2)))
        (v128.store (i32.add (local.get $out) (local.get $o)) (f32x4.add
          (f32x4.mul (f32x4.mul (f32x4.sub (v128.load (i32.add (local.get $x) (local.get $o))) (local.get $vm)) (local.get $vr))
            (v128.load (i32.add (local.get $gamma) (local.get $o))))
          (v128.load (i32.add (local.get $beta) (local.get $o)))))
        (local.set $j (i32.add (local.get $j) (i32.const 4)))
        (br $vl)))
      (block $t (loop $tl
        (br_if $t (i32.ge_u (local.get $j) (local.get $cols)))
        (local.set $o (i32.shl (local.get $j) (i32.const 2)))
        (f32.store (i32.add (local.get $out) (local.get $o)) (f32.add
          (f32.mul (f32.mul (f32.sub (f32.load (i32.add (local.get $x) (local.get $o))) (local.get $mean)) (local.get $rstd))
            (f32.load (i32.add (local.get $gamma) (local.get $o))))
          (f32.load (i32.add (local.get $beta) (local.get $o)))))
        (local.set $j (i32.add (local.get $j) (i32.const 1)))
        (br $tl)))
      (local.set $x (i32.add (local.get $x) (i32.shl (local.get $cols) (i32.const 2))))
      (local.set $out (i32.add (local.get $out) (i32.shl (local.get $cols) (i32.const 2))))
      (local.set $r (i32.add (local.get $r) (i32.const 1)))
      (br $row)))
  )

  ;; LayerNorm's gradient, row by row: with xhat = (x - mean) rstd and g = dy gamma,
  ;; dx = rstd ((g - mean(g)) - xhat mean(g xhat)), and the channel sums dgamma += dy xhat and
  ;; dbeta += dy from +0 (scratch: cols floats for g, then cols for xhat)
  (func (export "layer_norm_grad_f32") (param $dy i32) (param $x i32) (param $gamma i32) (param $dx i32) (param $dgamma i32) (param $dbeta i32)
    (param $scratch i32) (param $rows i32) (param $cols i32) (param $eps f32)
    (local $r i32) (local $j i32) (local $o i32) (local $mean f32) (local $rstd f32) (local $mg f32) (local $mgx f32) (local $s f32)
    (local $xh f32) (local $xhat i32) (local $c4 i32) (local $vm v128) (local $vr v128) (local $vx v128) (local $vd v128) (local $vg v128) (local $vgx v128)
    (local.set $c4 (i32.and (local.get $cols) (i32.const -4)))
    (local.set $xhat (i32.add (local.get $scratch) (i32.shl (local.get $cols) (i32.const 2))))
    (local.set $j (i32.const 0))
    (block $z (loop $zl
      (br_if $z (i32.ge_u (local.get $j) (local.get $cols)))
      (local.set $o (i32.shl (local.get $j) (i32.const 2)))
      (f32.store (i32.add (local.get $dgamma) (local.get $o)) (f32.const 0))
      (f32.store (i32.add (local.get $dbeta) (local.get $o)) (f32.const 0))
      (local.set $j (i32.add (local.get $j) (i32.const 1)))
      (br $zl)))
    (block $done (loop $row
      (br_if $done (i32.ge_u (local.get $r) (local.get $rows)))
      (local.set $mean (call $row_mean (local.get $x) (local.get $cols)))
      (local.set $rstd (call $row_rstd (local.get $x) (local.get $cols) (local.get $mean) (local.get $eps)))
      ;; g and xhat of the row into the scratch, with the channel sums: four columns at a time, then the rest
      (local.set $vm (f32x4.splat (local.get $mean)))
      (local.set $vr (f32x4.splat (local.get $rstd)))
      (local.set $j (i32.const 0))
      (block $a (loop $al
        (br_if $a (i32.ge_u (local.get $j) (local.get $c4)))
        (local.set $o (i32.shl (local.get $j) (i32.const 2)))
        (local.set $vx (f32x4.mul (f32x4.sub (v128.load (i32.add (local.get $x) (local.get $o))) (local.get $vm)) (local.get $vr)))
        (local.set $vd (v128.load (i32.add (local.get $dy) (local.get $o))))
        (v128.store (i32.add (local.get $xhat) (local.get $o)) (local.get $vx))
        (v128.store (i32.add (local.get $scratch) (local.get $o)) (f32x4.mul (local.get $vd) (v128.load (i32.add (local.get $gamma) (local.get $o)))))
        (v128.store (i32.add (local.get $dgamma) (local.get $o)) (f32x4.add (v128.load (i32.add (local.get $dgamma) (local.get $o))) (f32x4.mul (local.get $vd) (local.get $vx))))
        (v128.store (i32.add (local.get $dbeta) (local.get $o)) (f32x4.add (v128.load (i32.add (local.get $dbeta) (local.get $o))) (local.get $vd)))
        (local.set $j (i32.add (local.get $j) (i32.const 4)))
        (br $al)))
      (block $at (loop $atl
        (br_if $at (i32.ge_u (local.get $j) (local.get $cols)))
        (local.set $o (i32.shl (local.get $j) (i32.const 2)))
        (local.set $xh (f32.mul (f32.sub (f32.load (i32.add (local.get $x) (local.get $o))) (local.get $mean)) (local.get $rstd)))
        (f32.store (i32.add (local.get $xhat) (local.get $o)) (local.get $xh))
        (f32.store (i32.add (local.get $scratch) (local.get $o))
          (f32.mul (f32.load (i32.add (local.get $dy) (local.get $o))) (f32.load (i32.add (local.get $gamma) (local.get $o)))))
        (f32.store (i32.add (local.get $dgamma) (local.get $o)) (f32.add (f32.load (i32.add (local.get $dgamma) (local.get $o)))
          (f32.mul (f32.load (i32.add (local.get $dy) (local.get $o))) (local.get $xh))))
        (f32.store (i32.add (local.get $dbeta) (local.get $o)) (f32.add (f32.load (i32.add (local.get $dbeta) (local.get $o)))
          (f32.load (i32.add (local.get $dy) (local.get $o)))))
        (local.set $j (i32.add (local.get $j) (i32.const 1)))
        (br $atl)))
      (local.set $mg (call $row_mean (local.get $scratch) (local.get $cols)))
      ;; mean(g xhat)
      (local.set $s (f32.const 0))
      (local.set $j (i32.const 0))
      (block $b (loop $bl
        (br_if $b (i32.ge_u (local.get $j) (local.get $cols)))
        (local.set $o (i32.shl (local.get $j) (i32.const 2)))
        (local.set $s (f32.add (local.get $s) (f32.mul (f32.load (i32.add (local.get $scratch) (local.get $o))) (f32.load (i32.add (local.get $xhat) (local.get $o))))))
        (local.set $j (i32.add (local.get $j) (i32.const 1)))
        (br $bl)))
      (local.set $mgx (f32.div (local.get $s) (f32.convert_i32_u (local.get $cols))))
      ;; dx = rstd ((g - mean(g)) - xhat mean(g xhat))
      (local.set $vg (f32x4.splat (local.get $mg)))
      (local.set $vgx (f32x4.splat (local.get $mgx)))
      (local.set $j (i32.const 0))
      (block $c (loop $cl
        (br_if $c (i32.ge_u (local.get $j) (local.get $c4)))
        (local.set $o (i32.shl (local.get $j) (i32.const 2)))
        (v128.store (i32.add (local.get $dx) (local.get $o)) (f32x4.mul (local.get $vr)
          (f32x4.sub (f32x4.sub (v128.load (i32.add (local.get $scratch) (local.get $o))) (local.get $vg))
            (f32x4.mul (v128.load (i32.add (local.get $xhat) (local.get $o))) (local.get $vgx)))))
        (local.set $j (i32.add (local.get $j) (i32.const 4)))
        (br $cl)))
      (block $ct (loop $ctl
        (br_if $ct (i32.ge_u (local.get $j) (local.get $cols)))
        (local.set $o (i32.shl (local.get $j) (i32.const 2)))
        (f32.store (i32.add (local.get $dx) (local.get $o)) (f32.mul (local.get $rstd)
          (f32.sub (f32.sub (f32.load (i32.add (local.get $scratch) (local.get $o))) (local.get $mg))
            (f32.mul (f32.load (i32.add (local.get $xhat) (local.get $o))) (local.get $mgx)))))
        (local.set $j (i32.add (local.get $j) (i32.const 1)))
        (br $ctl)))
      (local.set $x (i32.add (local.get $x) (i32.shl (local.get $cols) (i32.const 2))))
      (local.set $dy (i32.add (local.get $dy) (i32.shl (local.get $cols) (i32.const 2))))
      (local.set $dx (i32.add (local.get $dx) (i32.shl (local.get $cols) (i32.const 2))))
      (local.set $r (i32.add (local.get $r) (i32.const 1)))
      (br $row)))
  )
)
