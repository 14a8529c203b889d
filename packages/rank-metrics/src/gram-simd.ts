import { wasmExports } from './gram-wasm.js';

interface GramKernel {
  memory: { buffer: ArrayBuffer; grow(pages: number): number };
  gram(a: number, n: number, len: number, out: number): void;
}

/** The f64x2 Gram kernel of gram.wat, or null where WebAssembly SIMD is unavailable (the JavaScript loops of spectrum.ts serve). */
const gramKernel = (): GramKernel | null => wasmExports() as GramKernel | null;

let disabled = false;

/** Turns the SIMD kernel off (tests compare it with the JavaScript loops). */
export function useSimdGram(enabled: boolean): void {
  disabled = !enabled;
}

/**
 * The Gram matrix of the smaller side of the row-major T x C matrix `z` (Z^T Z when `side` is
 * `channels`, Z Z^T when `tokens`), n x n and symmetric, in WebAssembly f64x2 SIMD: about 4x the
 * scalar JavaScript loops. The n vectors are copied straight into the module's memory,
 * zero-padded to even sizes (which leaves every dot product unchanged). Returns undefined when
 * the kernel is unavailable.
 */
export function simdGram(z: Float64Array, t: number, c: number, side: 'channels' | 'tokens'): Float64Array | undefined {
  const k = disabled ? null : gramKernel();
  if (!k) return undefined;
  const n = side === 'channels' ? c : t;
  const len = side === 'channels' ? t : c;
  const nP = n + (n & 1);
  const lenP = len + (len & 1);
  const aBytes = nP * lenP * 8;
  const need = aBytes + nP * nP * 8;
  const have = k.memory.buffer.byteLength;
  if (have < need) k.memory.grow(Math.ceil((need - have) / 65536));
  const a = new Float64Array(k.memory.buffer, 0, nP * lenP);
  if (side === 'tokens') {
    for (let i = 0; i < t; i++) {
      const src = i * c;
      const dst = i * lenP;
      for (let j = 0; j < c; j++) a[dst + j] = z[src + j]!;
      if (lenP !== len) a[dst + len] = 0;
    }
  } else {
    for (let r = 0; r < t; r++) {
      const src = r * c;
      for (let j = 0; j < c; j++) a[j * lenP + r] = z[src + j]!;
    }
    if (lenP !== len) for (let j = 0; j < c; j++) a[j * lenP + len] = 0;
  }
  if (nP !== n) a.fill(0, n * lenP, nP * lenP);
  k.gram(0, nP, lenP, aBytes);
  const out = new Float64Array(k.memory.buffer, aBytes, nP * nP);
  const g = new Float64Array(n * n);
  for (let i = 0; i < n; i++) {
    for (let j = i; j < n; j++) {
      const v = out[i * nP + j]!;
      g[i * n + j] = v;
      g[j * n + i] = v;
    }
  }
  return g;
}
