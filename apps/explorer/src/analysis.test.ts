import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { analyseDemo, readDemoTokens } from '@r3d-ts/ablation';
import { sharedFixture } from '@r3d-ts/tooling/vitest/fixtures';
import { describe, expect, it } from 'vitest';
import { chosenSamples, gainTable } from './analysis.js';
import { gainFigure } from './charts.js';
import { tableCsv } from './export.js';
import { loadFiles } from './workspace.js';

const dir = sharedFixture('darai-demo');

describe('the sequences a row averages', () => {
  const m = { data: Float32Array.of(1, 0, 0, 1), rows: 2, cols: 2 };
  const group = (ratio: number, seqs: number[]) => ({ ratio, samples: seqs.map((seq) => ({ seq, a: m, b: m })) });

  it('the authors\u2019 range takes 0..32 in order, and names a sequence a ratio lacks', () => {
    const groups = [group(0.1, [0, 1, 2, 40]), group(0.2, [2, 1, 0, 40])];
    expect(chosenSamples(groups, true).map((g) => g.map((s) => s.seq))).toEqual([[0, 1, 2], [0, 1, 2]]);
    expect(chosenSamples(groups, false).map((g) => g.length)).toEqual([4, 4]);
    expect(() => chosenSamples([group(0.1, [0, 1]), group(0.2, [0])], true)).toThrow('sequences 1 have no tokens at observation ratio 0.2 (other ratios have them)');
    expect(() => chosenSamples([group(0.1, [40])], true)).toThrow(/none of the authors' sequences 0\.\.32/);
  });
});

describe.skipIf(!dir)('the page\u2019s analysis of the authors\u2019 demo folder (../shared/fixtures/darai-demo)', () => {
  it('equals the ablation\u2019s analyseDemo bit for bit at all 9 ratios, and draws and exports them', async () => {
    const files = readdirSync(dir!).map((name) => ({ path: `darai-demo/${name}`, read: async () => new Uint8Array(readFileSync(join(dir!, name))) }));
    const { workspace, errors } = await loadFiles(files);
    expect(errors).toEqual([]);
    const [set] = workspace!.sets;
    expect(set!.demo && set!.hasAfter).toBe(true);
    const rows = await gainTable(set!.groups, (s) => ({ a: s.aAfter!, b: s.bAfter! }), { variant: 'authors', authorsRange: true });
    const node = analyseDemo(readDemoTokens(dir!)).ranks;
    expect(rows.map((r) => r.ratio)).toEqual(node.map((p) => p.observationRatio));
    for (const [i, r] of rows.entries()) {
      const p = node[i]!;
      expect([r.samples, r.erank.beforeA, r.erank.afterA, r.erank.beforeB, r.erank.afterB, r.gainA, r.gainB, r.balance]).toEqual([
        p.samples, p.erank.rgbBefore, p.erank.rgbAfter, p.erank.partnerBefore, p.erank.partnerAfter, p.gainRgb, p.gainPartner, p.balance,
      ]);
    }
    const svg = gainFigure({ labels: set!.labels, files: rows });
    expect(svg).toMatch(/^<svg xmlns="http:\/\/www\.w3\.org\/2000\/svg"/);
    for (const label of ['rgb gain', 'depth gain', 'harmonic mean H', 'observation (%)']) expect(svg).toContain(label);
    const csv = tableCsv({ labels: set!.labels, set: set!.name, files: rows }).split('\n');
    expect(csv[1]).toBe('source,observation_ratio,samples,erank_A_before,erank_A_after,erank_B_before,erank_B_after,gain_A,gain_B,H');
    expect(csv[10]!.split(',').slice(0, 3)).toEqual(['files', '0.9', '33']);
    expect(Number(csv[10]!.split(',')[9])).toBe(node[8]!.balance);
  });
});
