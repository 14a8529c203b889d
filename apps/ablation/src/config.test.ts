import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { parseAblationConfig, shardOf, withPreset } from './config.js';
import { AblationConfigError } from './errors.js';
import { gridCells, shardCells } from './grid.js';
import { runCli } from './test-helpers.js';

const tmp = mkdtempSync(join(tmpdir(), 'r3d-ablation-config-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

describe('configuration', () => {
  it('fills the default grid: rgb alone + depth, text, imu with rtf-variance and mean, 5 seeds', () => {
    const c = parseAblationConfig({});
    expect(c.dataset).toBe('synthetic');
    const seeds = (group: string) => [1, 2, 3, 4, 5].map((s) => `${group}.s${s}`);
    expect(gridCells(c).map((x) => x.id)).toEqual([
      ...seeds('rgb.none'),
      ...seeds('depth.rtf-variance.r0.3'), ...seeds('depth.mean'),
      ...seeds('text.rtf-variance.r0.3'), ...seeds('text.mean'),
      ...seeds('imu.rtf-variance.r0.3'), ...seeds('imu.mean'),
    ]);
  });

  it('--preset planted: RGB alone and the planted partners with rtf-variance; flags and the file win over it', () => {
    const c = parseAblationConfig(withPreset('planted', { seeds: [1, 2, 3, 4, 5, 6] }));
    expect(c.partners).toEqual(['rgb', 'informative', 'redundant', 'noise']);
    expect(c.fusers).toEqual(['rtf-variance']);
    expect(c.synthetic.planted).toEqual(['informative', 'redundant', 'noise']);
    expect(c.seeds).toHaveLength(6);
    expect(parseAblationConfig(withPreset('planted', { synthetic: { count: 60 } })).synthetic).toMatchObject({ count: 60, planted: ['informative', 'redundant', 'noise'] });
    expect(() => withPreset('nope', {})).toThrow(/unknown preset "nope" \(expected one of planted\)/);
    expect(() => parseAblationConfig({ partners: ['rgb', 'informative'] })).toThrow(/partners: informative is a planted partner of the synthetic world: use --preset planted/);
  });

  it('the default grid: the by-object world with a standardised RGB clip, trained to anticipate', () => {
    const c = parseAblationConfig({});
    expect(c.synthetic).toMatchObject({ count: 260, testFraction: 0.2, sampleRate: 5, grammar: 'by-object', rgb: 'clip', standardiseRgb: true });
    expect({ epochs: c.epochs, batchSize: c.batchSize, lr: c.lr, transitionWeight: c.transitionWeight, dropout: c.model.dropout, workers: c.workers }).toEqual({ epochs: 7, batchSize: 64, lr: 8e-3, transitionWeight: 1, dropout: 0, workers: 'auto' });
  });

  it('--preset planted keeps the world and training it was tuned with, whatever the default grid uses', () => {
    const c = parseAblationConfig(withPreset('planted', {}));
    expect(c.synthetic).toMatchObject({ count: 40, testFraction: 0.3, sampleRate: 3, grammar: 'random', rgb: 'frame', standardiseRgb: false });
    expect({ epochs: c.epochs, batchSize: c.batchSize, lr: c.lr, transitionWeight: c.transitionWeight, trainObservationRatios: c.trainObservationRatios, model: c.model })
      .toEqual({ epochs: 20, batchSize: 8, lr: 5e-3, transitionWeight: 10, trainObservationRatios: [0.2, 0.3, 0.5], model: { hidden: 64, heads: 4, ffnDim: 128, dropout: 0.1, encoderLayers: 0 } });
  });

  it.each([
    [{ partners: ['depth', 'audio'] }, /partners\[1\]: expected one of rgb, depth, text, imu \(got "audio"\)/],
    [{ exchangeRatios: [0.3, 1.2] }, /exchangeRatios\[1\]: must be inside \(0, 1\) \(got 1.2\)/],
    [{ exchangeRatios: [0] }, /exchangeRatios\[0\]: must be inside \(0, 1\)/],
    [{ fusers: ['rtf'] }, /fusers\[0\]: expected one of rtf-variance/],
    [{ dataset: 'futr' }, /data: dataset futr needs --data <folder>/],
    [{ dataset: 'darai-demo', data: '/no/such/folder' }, /data: folder \/no\/such\/folder does not exist/],
    [{ shard: '3/2' }, /shard: expected "i\/n" with 1 <= i <= n/],
    [{ epoch: 3 }, /Unrecognized key/],
  ])('rejects %j with a message naming the field', (input, message) => {
    expect(() => parseAblationConfig(input)).toThrow(AblationConfigError);
    expect(() => parseAblationConfig(input)).toThrow(message);
  });

  it('shards partition the grid: every cell in exactly one shard', () => {
    const cells = gridCells(parseAblationConfig({ seeds: [1, 2, 3] }));
    const shards = [0, 1, 2].map((index) => shardCells(cells, { index, count: 3 }).map((c) => c.id));
    expect(shards.flat().sort()).toEqual(cells.map((c) => c.id).sort());
    expect(new Set(shards.flat()).size).toBe(cells.length);
    expect(shardOf('2/3')).toEqual({ index: 1, count: 3 });
  });
});

describe('the CLI refuses bad configurations before any work', () => {
  const out = join(tmp, 'never');
  it.each([
    ['unknown partner', ['--partners', 'depth,audio'], /partners\[1\]: expected one of rgb, depth, text, imu \(got "audio"\)/],
    ['ratio outside (0, 1)', ['--ratios', '1.5'], /exchangeRatios\[0\]: must be inside \(0, 1\) \(got 1.5\)/],
    ['missing dataset path', ['--dataset', 'darai-demo'], /data: dataset darai-demo needs --data <folder>/],
    ['dataset path that does not exist', ['--dataset', 'futr', '--data', join(tmp, 'nope')], /data: folder .* does not exist/],
  ])('%s: one line on stderr, exit code 2, no output folder', (_name, args, message) => {
    const r = runCli([...args, '--out', out]);
    expect(r.status, r.stderr).toBe(2);
    const lines = r.stderr.trim().split('\n');
    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatch(/^r3d-ablation: /);
    expect(lines[0]).toMatch(message);
    expect(r.stdout).toBe('');
    expect(existsSync(out)).toBe(false);
  });

  it('reads a JSON config file; flags win over it; a bad file is one line too', () => {
    const file = join(tmp, 'bad.json');
    writeFileSync(file, JSON.stringify({ partners: ['depth'], seeds: [1], exchangeRatios: [2] }));
    const r = runCli(['--config', file, '--out', out]);
    expect(r.status, r.stderr).toBe(2);
    expect(r.stderr.trim()).toMatch(/^r3d-ablation: .*bad\.json: exchangeRatios\[0\]: must be inside \(0, 1\) \(got 2\)$/);
    const broken = join(tmp, 'broken.json');
    writeFileSync(broken, '{ partners: ');
    const r2 = runCli(['--config', broken, '--out', out]);
    expect(r2.status, r2.stderr).toBe(2);
    expect(r2.stderr.trim().split('\n')).toHaveLength(1);
    expect(r2.stderr).toMatch(/broken\.json is not valid JSON/);
    expect(existsSync(out)).toBe(false);
  });
});
