/**
 * Matrices per second for effective rank of (T x 128) float32 token matrices, T in {16, 64, 128,
 * 300}, side by side with numpy's np.linalg.svd(..., compute_uv=False) on the same matrices
 * (written to .npy and read by /usr/bin/python3) as a ratio. Run: pnpm --filter @r3d-ts/rank-metrics bench
 * Each T is measured in ROUNDS alternating ours and numpy, keeping each side's best round, so
 * load from other processes hits both sides alike.
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { writeNpy } from '@r3d-ts/tensor-io/node';
import { effectiveRank } from '../src/index.js';

const SIZES = [16, 64, 128, 300];
const C = 128;
const COUNT = 64;
const SECONDS = Number(process.env.BENCH_SECONDS ?? 1);
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 5);

function gaussian(seed: number): () => number {
  let s = seed >>> 0;
  const u = () => {
    s = (s + 0x6d2b79f5) >>> 0;
    let t = s;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
  return () => Math.sqrt(-2 * Math.log(u() + 1e-12)) * Math.cos(2 * Math.PI * u());
}

function rate(fn: () => void, perCall: number): number {
  for (let i = 0; i < 3; i++) fn();
  const start = performance.now();
  let calls = 0;
  while (performance.now() - start < SECONDS * 1000) {
    fn();
    calls++;
  }
  return (calls * perCall) / ((performance.now() - start) / 1000);
}

const PY = `
import sys, time, numpy as np
ms = np.load(sys.argv[1])
for m in ms[:4]: np.linalg.svd(m, compute_uv=False)
calls, t0 = 0, time.perf_counter()
while time.perf_counter() - t0 < ${SECONDS}:
    for m in ms: np.linalg.svd(m, compute_uv=False)
    calls += len(ms)
print(f"{calls / (time.perf_counter() - t0):.1f}")
`;

const dir = mkdtempSync(join(tmpdir(), 'erank-bench-'));
const batches = SIZES.map((t, i) => {
  const g = gaussian(1000 + i);
  const data = Float32Array.from({ length: COUNT * t * C }, g);
  const path = join(dir, `t${t}.npy`);
  writeNpy(path, { shape: [COUNT, t, C], data });
  const matrices = Array.from({ length: COUNT }, (_, k) => ({ data: data.subarray(k * t * C, (k + 1) * t * C), rows: t, cols: C }));
  return { t, path, matrices };
});

// OPENBLAS_CORETYPE / OPENBLAS_L2_SIZE are set on some machines to work around old OpenBLAS
// bugs; they slow a current numpy, so the peer runs without them.
const env = { ...process.env };
delete env.OPENBLAS_CORETYPE;
delete env.OPENBLAS_L2_SIZE;
let peerError: string | undefined;
const numpyRate = (path: string): number | undefined => {
  if (peerError) return undefined;
  const py = spawnSync('/usr/bin/python3', ['-c', PY, path], { env, encoding: 'utf8' });
  if (py.status === 0) return Number(py.stdout.trim());
  peerError = (py.stderr || py.error?.message || '').split('\n').filter(Boolean).pop() ?? 'no /usr/bin/python3';
  return undefined;
};

const ours: number[] = [];
const peer: Array<number | undefined> = [];
for (const { matrices, path } of batches) {
  let best = 0;
  let bestPeer: number | undefined;
  for (let r = 0; r < ROUNDS; r++) {
    best = Math.max(best, rate(() => { for (const m of matrices) effectiveRank(m); }, COUNT));
    const p = numpyRate(path);
    if (p != null) bestPeer = Math.max(bestPeer ?? 0, p);
  }
  ours.push(best);
  peer.push(bestPeer);
}
rmSync(dir, { recursive: true, force: true });

console.log(`effective rank (authors form) of T x ${C} float32 matrices, matrices/s, best of ${ROUNDS} alternating rounds of ${SECONDS} s, node ${process.version}`);
console.log('    T | rank-metrics |   numpy svd | ratio (ours / numpy)');
batches.forEach(({ t }, i) => {
  const p = peer[i];
  const cells = [String(t).padStart(5), ours[i]!.toFixed(0).padStart(12), p ? p.toFixed(0).padStart(11) : '        n/a', p ? `${(ours[i]! / p).toFixed(2)}x` : 'peer unavailable'];
  console.log(cells.join(' | '));
});
if (peerError) console.log(`numpy peer unavailable: ${peerError}`);
