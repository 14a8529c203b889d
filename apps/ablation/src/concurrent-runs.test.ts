import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { appDir, cliPath } from './test-helpers.js';

// Two `r3d-ablation run` into one --out at once (issue 14, class 1): 20 seeded trials, with the
// same settings, different settings, or two shards of one grid, and a seeded head start. Every
// run completes or is refused in one line, shards of one grid both complete, and the folder never
// holds cells of two settings.
const tmp = mkdtempSync(join(tmpdir(), 'r3d-ablation-concurrent-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

const TRIALS = 20;
const AT_ONCE = 4;

// Written once per epoch count: rewriting a file that a run started by an earlier trial may be
// reading hands that run a truncated configuration (a failure of this test, not of the app).
const configs = new Map<number, string>();

function configFile(epochs: number): string {
  const written = configs.get(epochs);
  if (written) return written;
  const path = join(tmp, `epochs-${epochs}.json`);
  configs.set(epochs, path);
  writeFileSync(path, JSON.stringify({
    partners: ['rgb', 'depth'], fusers: ['mean'], seeds: [1], epochs, batchSize: 8,
    trainObservationRatios: [0.3], evalObservationRatios: [0.3], predictionRatios: [0.5], rankObservationRatios: [0.5],
    model: { hidden: 8, heads: 2, ffnDim: 16 }, synthetic: { count: 4, sampleRate: 8 }, backend: 'wasm', progress: false,
  }));
  return path;
}

interface Outcome { code: number | null; stderr: string; epochs: number }

function ablation(config: string, out: string, epochs: number, shard?: string): Promise<Outcome> {
  const child = spawn(process.execPath, [cliPath(), 'run', '--config', config, '--out', out, ...(shard ? ['--shard', shard] : [])], {
    cwd: appDir, stdio: ['ignore', 'ignore', 'pipe'], env: { ...process.env, R3D_BACKEND: 'wasm' },
  });
  let stderr = '';
  child.stderr!.on('data', (d) => (stderr += d));
  return new Promise((resolve) => child.on('close', (code) => resolve({ code, stderr, epochs })));
}

// mulberry32: a seeded choice of settings and head start per trial
function seeded(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

async function trial(i: number, random: () => number): Promise<{ outcomes: Outcome[]; problems: string[] }> {
  const out = join(tmp, `trial-${i}`);
  const kind = (['same settings', 'other settings', 'two shards'] as const)[Math.floor(random() * 3)]!;
  const second = kind === 'other settings' ? 3 : 2;
  const delay = Math.floor(random() * 1500);
  const first = ablation(configFile(2), out, 2, kind === 'two shards' ? '1/2' : undefined);
  await new Promise((r) => setTimeout(r, delay));
  const outcomes = await Promise.all([first, ablation(configFile(second), out, second, kind === 'two shards' ? '2/2' : undefined)]);
  const problems: string[] = [];
  if (kind === 'two shards' && outcomes.some((o) => o.code !== 0)) problems.push(`trial ${i} (two shards, head start ${delay} ms): exits ${outcomes.map((o) => o.code)}, stderr:\n${outcomes.map((o) => o.stderr).join('\n')}`);
  for (const o of outcomes) {
    if (o.code === 0) continue;
    const lines = o.stderr.trim().split('\n');
    if (o.code !== 2 || lines.length !== 1) problems.push(`trial ${i} (${kind}, epochs ${o.epochs}, head start ${delay} ms): exit ${o.code}, stderr:\n${o.stderr}`);
  }
  if (!outcomes.some((o) => o.code === 0)) problems.push(`trial ${i}: neither run completed`);
  const grid = JSON.parse(readFileSync(join(out, 'grid.json'), 'utf8')) as { config: { epochs: number } };
  const cells = existsSync(join(out, 'cells')) ? readdirSync(join(out, 'cells')).filter((f) => f.endsWith('.json')) : [];
  for (const f of cells) {
    const cell = JSON.parse(readFileSync(join(out, 'cells', f), 'utf8')) as { trainLoss: number[] };
    if (cell.trainLoss.length !== grid.config.epochs) problems.push(`trial ${i}: grid.json says ${grid.config.epochs} epochs, cells/${f} trained ${cell.trainLoss.length}`);
  }
  const completed = outcomes.filter((o) => o.code === 0);
  if (completed.length > 0 && cells.length !== 2) problems.push(`trial ${i}: a run completed but the folder holds ${cells.length} of 2 cells`);
  for (const o of completed) if (o.epochs !== grid.config.epochs) problems.push(`trial ${i}: a ${o.epochs}-epoch run exited 0 over a ${grid.config.epochs}-epoch folder`);
  return { outcomes, problems };
}

describe('concurrent runs into one output folder', () => {
  it(`${TRIALS} seeded trials: each run completes or is refused in one line; no folder mixes settings`, async () => {
    const random = seeded(14);
    const plans = Array.from({ length: TRIALS }, (_, i) => i);
    const problems: string[] = [];
    const refusals: string[] = [];
    for (let start = 0; start < plans.length; start += AT_ONCE) {
      const batch = await Promise.all(plans.slice(start, start + AT_ONCE).map((i) => trial(i, random)));
      for (const t of batch) {
        problems.push(...t.problems);
        refusals.push(...t.outcomes.filter((o) => o.code === 2).map((o) => o.stderr.trim()));
      }
    }
    expect(problems).toEqual([]);
    // both kinds of refusal happen: a folder in use, and one that holds other settings
    expect(refusals.some((l) => /locked|in use/.test(l))).toBe(true);
  }, 300_000);
});
