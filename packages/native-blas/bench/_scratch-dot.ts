import { gemmIsaWanted, loadAddon } from '../src/addon.js';
import { randomArray } from '../src/testing/random-array.js';
const st = loadAddon(); if (!st.ok) throw new Error('no addon');
const addon = st.addon; const isa = gemmIsaWanted();
const products: Array<[number, number, number, boolean, boolean]> = [
  [800, 128, 2048, false, true], [1600, 128, 512, false, true], [128, 19200, 800, true, false], [800, 128, 19200, false, true]];
const only = process.env.ONLY ? Number(process.env.ONLY) : -1;
const reps = Number(process.env.REPS ?? 30);
const median = (xs: number[]) => [...xs].sort((p, q) => p - q)[xs.length >> 1]!;
products.forEach(([m, n, k, ta, tb], idx) => {
  if (only >= 0 && idx !== only) return;
  const a = randomArray(m * k, 1), b = randomArray(k * n, 2), c = new Float32Array(m * n);
  const t = { ours: [] as number[], blas: [] as number[] };
  for (let i = 0; i < reps; i++) for (const side of ['ours', 'blas'] as const) {
    if (process.env.OURS_ONLY && side === 'blas') continue;
    addon.setOwnGemm(side === 'ours', isa);
    const t0 = performance.now(); addon.sgemm(a, b, c, 1, 1, 1, m, n, k, ta, tb, 1, 0); t[side].push(performance.now() - t0);
  }
  addon.setOwnGemm(true, isa);
  const r = (ms: number) => ((2 * m * n * k) / ms / 1e6).toFixed(0);
  console.log(`${m}x${n}x${k} ours ${median(t.ours).toFixed(2)} (${r(median(t.ours))})  blas ${median(t.blas ?? [0])?.toFixed?.(2)} (${t.blas.length ? r(median(t.blas)) : '-'})`);
});
