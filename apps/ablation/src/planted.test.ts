import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Comparison } from './analysis/comparisons.js';
import type { Verdict } from './analysis/verdict.js';
import { runCli } from './test-helpers.js';

// The app's self-check: `r3d-ablation run --preset planted` trains RGB alone and RGB with the
// synthetic world's informative (the next actions), redundant (the same frames again) and noise
// partners, and the report's own statistics must recover what was planted.
const tmp = mkdtempSync(join(tmpdir(), 'r3d-ablation-planted-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

describe('--preset planted recovers the planted truth', () => {
  const out = join(tmp, 'planted');
  let comparisons: Comparison[] = [];
  let groups: Array<{ group: string; H: { mean: number; ci95: [number, number] } }> = [];
  let verdict: Verdict = { claims: [], caveats: [], text: '' };
  // on a failure, what the run trained: the backend and every cell's mean MoC
  let trained = '';
  let run: ReturnType<typeof runCli>;
  let seconds = 0;
  beforeAll(() => {
    const started = Date.now();
    // the app's default backend (native-blas where it loads), as a user runs it
    run = runCli(['run', '--preset', 'planted', '--out', out, '--no-progress'], { timeout: 200_000, defaultBackend: true });
    seconds = (Date.now() - started) / 1000;
    if (run.status === 0) {
      const results = JSON.parse(readFileSync(join(out, 'results.json'), 'utf8')) as { comparisons: Comparison[]; groups: typeof groups; verdict: Verdict; backend: string; cells: Array<{ cell: { id: string }; meanMoc: number; backend?: string }> };
      ({ comparisons, groups, verdict } = results);
      trained = `backend ${results.backend}; ${results.cells.map((c) => `${c.cell.id} ${c.meanMoc.toFixed(4)}${c.backend && c.backend !== results.backend ? ` (${c.backend})` : ''}`).join(', ')}; ${run.stderr.split('\n').filter((l) => /worker|warn|backend/i.test(l)).join(' / ')}`;
    }
  }, 210_000);
  const find = (a: string, b: string, metric: Comparison['metric']) => comparisons.find((c) => c.a === a && c.b === b && c.metric === metric);
  const [informative, redundant, noise, rgb] = ['informative.rtf-variance.r0.3', 'redundant.rtf-variance.r0.3', 'noise.rtf-variance.r0.3', 'rgb.none'];

  it('runs within 3 minutes', () => {
    expect(run.status, run.stderr).toBe(0);
    expect(seconds).toBeLessThan(180);
  });

  it('the informative partner beats RGB alone significantly (Holm-adjusted p < 0.05)', () => {
    const c = find(informative, rgb, 'meanMoc')!;
    expect(c.meanDiff).toBeGreaterThan(0);
    expect(c.pAdjusted, trained).toBeLessThan(0.05);
    expect(verdict.claims.some((s) => s.startsWith('**informative** + rtf-variance (0.3) anticipates better than RGB alone'))).toBe(true);
  });

  it('noise does not beat RGB alone significantly', () => {
    const c = find(noise, rgb, 'meanMoc')!;
    expect(c.meanDiff > 0 && c.pAdjusted < 0.05).toBe(false);
    expect(verdict.claims.some((s) => s.startsWith('**noise** + rtf-variance (0.3) anticipates better'))).toBe(false);
  });

  it('H ranks the informative partner above the redundant one', () => {
    // the groups' mean H over seeds, and the paired comparison's mean difference, agree on the order
    const h = (id: string) => groups.find((g) => g.group === id)!.H.mean;
    expect(h(informative)).toBeGreaterThan(h(redundant));
    expect(find(informative, redundant, 'H')!.meanDiff).toBeGreaterThan(0);
    // and both planted partners balance the ranks significantly better than noise
    for (const a of [informative, redundant]) {
      const c = find(a, noise, 'H')!;
      expect(c.meanDiff).toBeGreaterThan(0);
      expect(c.pAdjusted).toBeLessThan(0.05);
    }
  });
});
