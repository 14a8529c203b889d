// Prints how long the synthetic dataset takes to generate (300 sequences by default), at the full
// 15 fps and with `keepEvery` 3 and 5 (the ablation's planted and default frame rates), which
// render only the frames they keep.
import { SyntheticDataset } from '../src/synthetic/index.js';

const count = Number(process.argv[2] ?? 300);
const t0 = performance.now();
const ds = new SyntheticDataset({ seed: 1, count });
let frames = 0;
const perClass = new Array(ds.classNames.length).fill(0);
for (const i of ds.indices()) {
  const s = ds.generate(i);
  frames += s.frames;
  for (const l of s.labels) perClass[l]++;
}
const ms = performance.now() - t0;
console.log(`synthetic: ${count} sequences, ${frames} frames (${(frames / count).toFixed(1)} per sequence) in ${(ms / 1000).toFixed(2)} s (${(ms / count).toFixed(1)} ms per sequence)`);
for (const keepEvery of [3, 5]) {
  const t1 = performance.now();
  let kept = 0;
  for (const i of ds.indices()) kept += ds.generate(i, { keepEvery }).frames;
  const s = (performance.now() - t1) / 1000;
  console.log(`  keepEvery ${keepEvery}: ${kept} frames in ${s.toFixed(2)} s (${((ms / 1000) / s).toFixed(1)}x faster than all frames)`);
}
console.log('frames per class:', Object.fromEntries(ds.classNames.map((c, k) => [c, perClass[k]])));
