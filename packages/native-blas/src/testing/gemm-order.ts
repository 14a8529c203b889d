// The order in which the addon's GEMM kernels sum each element of C (src/addon/gemm_kernels.h),
// written out in float32 arithmetic, so a test can hold the kernels of whichever instruction set
// the CPU runs (AVX2 + FMA or AVX-512) to the bit without a second CPU to compare them with.

const f32 = new Float32Array(1);
const bits = new Int32Array(f32.buffer);

/**
 * fmaf(a, b, c) for float32 a, b, c: a * b + c rounded once to float32, as the FMA instruction
 * computes it. a * b is exact in a double; a * b + c in a double and then to float32 would round
 * twice, which differs where the double sum lands exactly on a float32 midpoint while the exact
 * sum does not. That case is found and settled by the exact sum's remainder (TwoSum).
 *
 * @example fmaf(3, 1 / 3, -1) // the FMA's residual, not 0
 */
export function fmaf(a: number, b: number, c: number): number {
  const p = a * b;
  const s = p + c;
  const r = Math.fround(s);
  const d = s - r; // exact
  if (d === 0 || !Number.isFinite(s)) return r;
  const t = r + 2 * d; // the other float32 neighbour if s is a midpoint between two
  if (Math.fround(t) !== t) return r;
  const bb = s - p;
  const err = p - (s - bb) + (c - bb); // p + c = s + err exactly
  if (err === 0) return r; // a true tie: fround already broke it to even
  return err > 0 ? Math.max(r, t) : Math.min(r, t);
}

/** The float32 sum of two float32s. */
const add = (x: number, y: number): number => Math.fround(x + y);

/** The reduction block of the kernels (DOT_KC, OUT_KC). */
const BLOCK = 1024;
/** Lanes of a dot-kernel partial sum (one AVX-512 register). */
const LANES = 16;

/** Which kernel sums a product, by gemm.c's rules (r3d_sgemm). */
export type GemmKernel = 'dot' | 'outer';

/** The kernel gemm.c runs a product on where our kernels run at all (flops past its floor). */
export function kernelFor(m: number, n: number, k: number, ta: boolean, tb: boolean): GemmKernel {
  const rows = !ta && tb && k >= 8192 && m >= 256 && n >= 96; // C^T = B A^T on the outer kernel
  const flops = 2 * m * n * k;
  return !rows && !ta && tb && (k >= 256 || flops < 8e6) ? 'dot' : 'outer';
}

/**
 * C = op(A) op(B) + beta C (or + a row bias, beta 0) summed element by element as the addon's
 * kernels sum it, every operation in float32: per 1024-long block of the reduction, the dot kernel
 * takes 16 FMA chains from +0 (element p in chain p mod 16) and adds them in
 * `_mm512_reduce_add_ps`'s tree; the outer kernel takes one FMA chain from +0. The first block is
 * stored by the mode (C = s; C + s; beta C + s, fused in the outer kernel, a product and a sum in
 * the dot kernel; bias + s), later ones added to C. One more detail decides only the sign of a
 * zero: the AVX-512 dot kernel starts a block's steps `aLineOffset` elements early (A's floats
 * past a 64-byte line, where k is a multiple of 16), and the masked lanes of its last step
 * (elements past the block) add 0 * 0, turning a chain that underflowed to -0 into +0.
 *
 * @example gemmInKernelOrder(a, b, c, 45, 70, 1300, false, true, 0) // what the dot kernel stores
 */
export function gemmInKernelOrder(
  a: Float32Array, b: Float32Array, c: Float32Array, m: number, n: number, k: number,
  ta: boolean, tb: boolean, beta: number, bias: Float32Array | null = null, aLineOffset = 0,
): Float32Array {
  const kernel = kernelFor(m, n, k, ta, tb);
  const out = Float32Array.from(c);
  const opA = (i: number, p: number) => (ta ? a[p * m + i]! : a[i * k + p]!);
  const opB = (p: number, j: number) => (tb ? b[j * k + p]! : b[p * n + j]!);
  const lanes = new Float64Array(LANES);
  for (let i = 0; i < m; i++) {
    for (let j = 0; j < n; j++) {
      let v = out[i * n + j]!;
      for (let p0 = 0; p0 < k; p0 += BLOCK) {
        const p1 = Math.min(k, p0 + BLOCK);
        let s: number;
        if (kernel === 'dot') {
          lanes.fill(0);
          for (let p = p0; p < p1; p++) lanes[(p - p0) % LANES] = fmaf(opA(i, p), opB(p, j), lanes[(p - p0) % LANES]!);
          const shift = k % LANES === 0 ? aLineOffset % LANES : 0;
          const kc = p1 - p0;
          for (let p = kc; p < kc + ((LANES - ((kc + shift) % LANES)) % LANES); p++) lanes[p % LANES] = add(lanes[p % LANES]!, 0);
          const t3 = Array.from({ length: 8 }, (_, l) => add(lanes[8 + l]!, lanes[l]!));
          const t6 = Array.from({ length: 4 }, (_, l) => add(t3[4 + l]!, t3[l]!));
          s = add(add(t6[0]!, t6[2]!), add(t6[1]!, t6[3]!));
        } else {
          s = 0;
          for (let p = p0; p < p1; p++) s = fmaf(opA(i, p), opB(p, j), s);
        }
        if (p0 > 0) v = add(v, s);
        else if (bias) v = add(bias[j]!, s);
        else if (beta === 0) v = s;
        else if (beta === 1) v = add(v, s);
        else v = kernel === 'outer' ? fmaf(beta, v, s) : add(Math.fround(beta * v), s);
      }
      out[i * n + j] = v;
    }
  }
  return out;
}

/** The float32 bit pattern of x (for messages naming the first element that differs). */
export function float32Bits(x: number): number {
  f32[0] = x;
  return bits[0]!;
}
