// Writes assets/synthetic-strip.png: RGB frames (top row) and depth (bottom row, near = bright)
// of one synthetic sequence, every few frames, each labelled by its action in the README.
import { renameSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { PNG } from 'pngjs';
import { SyntheticDataset } from '../src/synthetic/index.js';

const ds = new SyntheticDataset({ seed: 3, count: 1, includeFrames: true });
const seq = ds.generate(0);
const [H, W] = seq.modalities.rgbFrames!.shape!.slice(0, 2) as [number, number];
const picks = 10;
const step = Math.floor(seq.frames / picks);
const scale = 3;
const gap = 2;
const out = new PNG({ width: picks * (W * scale + gap), height: 2 * H * scale + gap });
out.data.fill(255);
const labels: string[] = [];
for (let k = 0; k < picks; k++) {
  const t = k * step + Math.floor(step / 2);
  labels.push(ds.classNames[seq.labels[t]!]!);
  const rgb = seq.modalities.rgbFrames!.data.subarray(t * H * W * 3);
  const depth = seq.modalities.depth!.data.subarray(t * H * W);
  for (let y = 0; y < H * scale; y++) for (let x = 0; x < W * scale; x++) {
    const sy = Math.floor(y / scale), sx = Math.floor(x / scale);
    const ox = k * (W * scale + gap) + x;
    const top = (y * out.width + ox) * 4;
    for (let c = 0; c < 3; c++) out.data[top + c] = Math.round(255 * rgb[(sy * W + sx) * 3 + c]!);
    const bottom = ((y + H * scale + gap) * out.width + ox) * 4;
    const v = Math.round(255 * (1 - depth[sy * W + sx]!));
    out.data[bottom] = v; out.data[bottom + 1] = v; out.data[bottom + 2] = v;
  }
}
const path = join(import.meta.dirname, '..', 'assets', 'synthetic-strip.png');
writeFileSync(`${path}.tmp`, PNG.sync.write(out));
renameSync(`${path}.tmp`, path);
console.log(`wrote ${path}: ${labels.join(' | ')}`);
