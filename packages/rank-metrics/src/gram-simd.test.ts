import { readFileSync } from 'node:fs';
import { afterEach, describe, expect, it } from 'vitest';
// @ts-expect-error: a plain .mjs build script without typings
import { compileWat, wasmModuleSource } from '../../../scripts/wasm-module.mjs';
import { useSimdGram } from './gram-simd.js';
import { singularValues } from './index.js';

const random = (seed: number) => () => {
  seed = (seed * 16807) % 2147483647;
  return seed / 2147483647 - 0.5;
};

describe('the WebAssembly SIMD Gram kernel', () => {
  afterEach(() => useSimdGram(true));

  it('is the compiled gram.wat (the committed module never drifts from its source)', async () => {
    const committed = readFileSync(new URL('./gram-wasm.ts', import.meta.url), 'utf8');
    const wat = new URL('./gram.wat', import.meta.url).pathname;
    expect(committed).toBe(wasmModuleSource('gram.wat', 'GRAM_WASM_BASE64', await compileWat(wat, new URL('..', import.meta.url).pathname)));
  });

  it.each([
    [64, 128],
    [300, 128],
    [7, 5],
    [5, 7],
    [1, 3],
    [33, 17],
  ])('gives the singular values of the JavaScript loops for a %i x %i matrix, odd sizes padded', (t, c) => {
    const r = random(t * 1000 + c);
    const m = { data: Float64Array.from({ length: t * c }, r), rows: t, cols: c };
    const simd = singularValues(m);
    useSimdGram(false);
    const js = singularValues(m);
    expect(simd.length).toBe(js.length);
    for (let i = 0; i < js.length; i++) expect(Math.abs(simd[i]! - js[i]!)).toBeLessThanOrEqual(1e-12 * js[0]!);
  });
});
