import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { encodeTorchSave } from '@r3d-ts/tensor-io';
import { readNpy } from '@r3d-ts/tensor-io/node';
import { mutualGain } from '@r3d-ts/rank-metrics';
import { sharedFixture } from '@r3d-ts/tooling/vitest/fixtures';
import { afterAll, describe, expect, it } from 'vitest';
import { analyseDemo, DEMO_KINDS, readDemoTokens, readPtMatrix } from './darai-demo.js';
import { runCli } from './test-helpers.js';

const dir = sharedFixture('darai-demo');
const tmp = mkdtempSync(join(tmpdir(), 'r3d-ablation-darai-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

/** The gain table of the fixture's README, parsed rather than retyped. */
function readmeTable(readme: string): Map<number, [number, number, number]> {
  const rows = new Map<number, [number, number, number]>();
  for (const m of readme.matchAll(/^\| (0\.\d) \| ([\d.]+) \| ([\d.]+) \| ([\d.]+) \|$/gm)) rows.set(Number(m[1]), [Number(m[2]), Number(m[3]), Number(m[4])]);
  return rows;
}

describe.skipIf(!dir)('darai-demo on the authors\u2019 tokens (../shared/fixtures/darai-demo)', () => {
  const table = dir ? readmeTable(readFileSync(join(dir, 'README.md'), 'utf8')) : new Map();

  it('pnpm ablation --dataset darai-demo --data <fixture> reproduces the README table to 1e-3 at all 9 ratios and draws the figure', () => {
    const out = join(tmp, 'npy-out');
    const r = runCli(['--dataset', 'darai-demo', '--data', dir!, '--out', out]);
    expect(r.status, r.stderr).toBe(0);
    const result = JSON.parse(readFileSync(join(out, 'results.json'), 'utf8'));
    expect(result.kind).toBe('darai-demo');
    expect(result.sequences).toEqual(Array.from({ length: 33 }, (_, i) => i));
    expect(result.ranks.map((p: { observationRatio: number }) => p.observationRatio)).toEqual([...table.keys()]);
    expect(table.size).toBe(9);
    for (const p of result.ranks) {
      const [rgb, depth, h] = table.get(p.observationRatio)!;
      expect(Math.abs(p.gainRgb - rgb), `gain RGB at ${p.observationRatio}`).toBeLessThan(1e-3);
      expect(Math.abs(p.gainPartner - depth), `gain depth at ${p.observationRatio}`).toBeLessThan(1e-3);
      expect(Math.abs(p.balance - h), `H at ${p.observationRatio}`).toBeLessThan(1e-3);
    }
    const md = readFileSync(join(out, 'report.md'), 'utf8');
    expect(md).toContain('| 0.9 | 0.6296 | 1.6661 | 0.9139 |');
    const svg = readFileSync(join(out, 'figures', 'erank-gain-darai-demo.svg'), 'utf8');
    expect(svg).toMatch(/^<svg /);
    for (const label of ['RGB gain', 'partner gain', 'harmonic mean H', 'observation (%)']) expect(svg).toContain(label);
    const png = readFileSync(join(out, 'figures', 'erank-gain-darai-demo.png'));
    expect(png.subarray(1, 4).toString('latin1')).toBe('PNG');
    const html = readFileSync(join(out, 'index.html'), 'utf8');
    expect(html).toContain('<table>');
    expect(html).toContain('<svg role="img"');
  });

  it('reads the R3D-demo clone layout (pt_darai_depth/<kind>/<kind>_<seq>_<ratio>.pt, bare tensors with a leading 1) and gets the same row', () => {
    const clone = join(tmp, 'R3D-demo');
    const manifest = JSON.parse(readFileSync(join(dir!, 'manifest.json'), 'utf8'));
    for (const kind of DEMO_KINDS) {
      mkdirSync(join(clone, 'pt_darai_depth', kind), { recursive: true });
      const a = readNpy(join(dir!, `${kind}_obs0.9.npy`));
      for (const e of manifest.ratios['0.9'] as Array<{ sequence: number; offset: number; frames: number }>) {
        const rows = (a.data as Float32Array).slice(e.offset * 128, (e.offset + e.frames) * 128);
        writeFileSync(join(clone, 'pt_darai_depth', kind, `${kind}_${e.sequence}_0.9.pt`), encodeTorchSave({ data: rows, shape: [1, e.frames, 128] }));
      }
    }
    const tokens = readDemoTokens(clone);
    expect(tokens.layout).toBe('pt');
    expect(tokens.ratios).toEqual([0.9]);
    expect(tokens.tokens.get(0.9)!.size).toBe(34);
    const [row] = analyseDemo(tokens).ranks;
    const [rgb, depth, h] = table.get(0.9)!;
    expect(Math.abs(row!.gainRgb - rgb)).toBeLessThan(1e-3);
    expect(Math.abs(row!.gainPartner - depth)).toBeLessThan(1e-3);
    expect(Math.abs(row!.balance - h)).toBeLessThan(1e-3);
  });
});

describe('R3D-demo .pt files without the fixture', () => {
  const values = Float32Array.from({ length: 5 * 8 }, (_, i) => Math.sin(i * 0.7) + (i % 3));

  it('a bare torch.save(tensor) with leading singleton axes reads as a (T, C) matrix', () => {
    const file = join(tmp, 'one.pt');
    writeFileSync(file, encodeTorchSave({ data: values, shape: [1, 1, 5, 8] }));
    const m = readPtMatrix(file);
    expect([m.rows, m.cols]).toEqual([5, 8]);
    expect(Array.from(m.data as Float32Array)).toEqual(Array.from(values));
  });

  it('a tiny clone gives the gains rank-metrics computes on the same matrices', () => {
    const clone = join(tmp, 'tiny-clone', 'pt_darai_depth');
    const mats: Record<string, Float32Array[]> = {};
    for (const [k, kind] of DEMO_KINDS.entries()) {
      mkdirSync(join(clone, kind), { recursive: true });
      mats[kind] = [0, 1, 2].map((s) => {
        const m = Float32Array.from({ length: 6 * 8 }, (_, i) => Math.cos(i * (0.3 + 0.1 * s) + k) * (kind.startsWith('exchanged') ? 1 + (i % 8) / 8 : 1));
        writeFileSync(join(clone, kind, `${kind}_${s}_0.5.pt`), encodeTorchSave({ data: m, shape: [6, 8] }));
        return m;
      });
    }
    const [row] = analyseDemo(readDemoTokens(join(tmp, 'tiny-clone')), [0, 1, 2]).ranks;
    const m = (kind: string) => mats[kind]!.map((data) => ({ data, rows: 6, cols: 8 }));
    const g = mutualGain({ beforeA: m('rgb_raw'), afterA: m('exchanged_rgb'), beforeB: m('depth_raw'), afterB: m('exchanged_depth') });
    expect(row!.observationRatio).toBe(0.5);
    expect(row!.gainRgb).toBeCloseTo(g.gainA, 10);
    expect(row!.gainPartner).toBeCloseTo(g.gainB, 10);
    expect(row!.balance).toBeCloseTo(g.balance, 10);
  });

  const torch = spawnSync('/usr/bin/python3', ['-c', 'import torch, numpy'], { stdio: 'ignore' }).status === 0;
  if (!torch) console.warn('[skip] /usr/bin/python3 cannot import torch: the real torch.save file test is skipped');
  it.skipIf(!torch)('reads a real torch.save(tensor) file (written by /usr/bin/python3 with torch)', () => {
    const pt = join(tmp, 'real.pt');
    const npy = join(tmp, 'real.npy');
    const py = `import torch, numpy as np\nt = torch.randn(1, 7, 128)\ntorch.save(t, '${pt}')\nnp.save('${npy}', t.numpy())`;
    expect(spawnSync('/usr/bin/python3', ['-c', py]).status).toBe(0);
    const m = readPtMatrix(pt);
    expect([m.rows, m.cols]).toEqual([7, 128]);
    expect(Array.from(m.data as Float32Array)).toEqual(Array.from(readNpy(npy).data as Float32Array));
  });

  it('a folder of neither layout is one clear error', () => {
    expect(existsSync(tmp)).toBe(true);
    expect(() => readDemoTokens(tmp)).toThrow(/holds neither manifest\.json .* nor pt_darai_depth/);
  });
});
