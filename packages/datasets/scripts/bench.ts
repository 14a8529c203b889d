// Prints how long the synthetic dataset takes to generate (300 sequences by default).
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
console.log('frames per class:', Object.fromEntries(ds.classNames.map((c, k) => [c, perClass[k]])));
