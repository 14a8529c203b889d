import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
// @ts-expect-error: a plain .mjs build script without typings
import { compileWat, wasmModuleSource } from '../../../scripts/wasm-module.mjs';
import { adamWSimd } from './adamw-simd.js';

const fr = Math.fround;

// ES2022 without the DOM library has no WebAssembly types
declare const WebAssembly: { Memory: new (descriptor: { initial: number; maximum?: number; shared?: boolean }) => { buffer: ArrayBufferLike } };

describe('the WebAssembly SIMD AdamW loop', () => {
  it('is the compiled adamw.wat (the committed module never drifts from its source)', async () => {
    const committed = readFileSync(new URL('./adamw-module.ts', import.meta.url), 'utf8');
    const wat = new URL('./adamw.wat', import.meta.url).pathname;
    expect(committed).toBe(wasmModuleSource('adamw.wat', 'ADAMW_WASM_BASE64', await compileWat(wat, new URL('..', import.meta.url).pathname)));
  });

  // a heap as tfjs-backend-wasm's single-threaded build has one, and as its threaded build does
  const heaps = [new WebAssembly.Memory({ initial: 64 }), new WebAssembly.Memory({ initial: 64, maximum: 256, shared: true })];

  it.each([['an unshared', 0], ['a shared', 1]] as const)('gives the Math.fround loop bit for bit on %s heap, and leaves the last n mod 4 weights to the caller', (_, h) => {
    const heap = heaps[h]!;
    let offset = 64;
    // views on the heap, as the kernel gets tensors, each 20 bytes past the last one's end: most are
    // not 16-byte aligned, and the loop's v128 loads and stores must take that
    const onHeap = (a: Float32Array): Float32Array => {
      const view = new Float32Array(heap.buffer, offset, a.length);
      view.set(a);
      offset += 4 * a.length + 20;
      return view;
    };
    let seed = 7;
    const random = () => ((seed = (seed * 16807) % 2147483647) / 2147483647 - 0.5) * 2;
    for (const n of [3, 4, 1001, 40_000]) {
      const [p, m, g] = [0, 1, 2].map(() => Float32Array.from({ length: n }, () => random() * 10));
      const v = Float32Array.from({ length: n }, () => Math.abs(random()) * 1e-3);
      // zeros, a subnormal and a huge gradient among the weights
      if (n > 8) [g[0], g[1], v[2], g[3]] = [0, 1e-40, 0, 3e30];
      const c = Float32Array.of(1 - 1e-4 * 5e-3, 0.9, 1 - 0.9, 0.999, 1 - 0.999, Math.sqrt(1 - 0.999 ** 3), 1e-8, 1e-4 / (1 - 0.9 ** 3));
      const [keep, b1, c1, b2, c2, bc2, eps, step] = c;
      offset = 64;
      const [hp, hm, hv, hg] = [p, m, v, g].map(onHeap);
      const out = [0, 1, 2].map(() => onHeap(new Float32Array(n).fill(-1)));
      const done = adamWSimd(heap, hp!, hm!, hv!, hg!, out[0]!, out[1]!, out[2]!, c);
      expect(done).toBe(n - (n % 4));
      const want = [0, 1, 2].map(() => new Float32Array(n).fill(-1));
      for (let i = 0; i < done; i++) {
        const m1 = fr(fr(m[i]! * b1!) + fr(g[i]! * c1!));
        const v1 = fr(fr(v[i]! * b2!) + fr(fr(g[i]! * g[i]!) * c2!));
        const denom = fr(fr(fr(Math.sqrt(v1)) / bc2!) + eps!);
        want[0]![i] = fr(fr(p[i]! * keep!) - fr(fr(m1 / denom) * step!));
        want[1]![i] = m1;
        want[2]![i] = v1;
      }
      out.forEach((o, k) => expect(Buffer.from(o.slice().buffer).equals(Buffer.from(want[k]!.buffer)), `n ${n}, output ${k}`).toBe(true));
      // the inputs are left as they were
      expect([hp, hm, hv, hg].map((a) => Array.from(a!))).toEqual([p, m, v, g].map((a) => Array.from(a)));
    }
  });

  it('does nothing for arrays that are not on the heap it is given (the caller\'s loop serves)', () => {
    const a = new Float32Array(8);
    expect(adamWSimd(heaps[0]!, a, a, a, a, a, a, a, new Float32Array(8))).toBe(0);
  });
});
