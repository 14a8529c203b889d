import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { defaultCandidates } from '@r3d-ts/backend';
import { ConfigError, parseTrainConfig } from '@r3d-ts/trainer';
import { afterAll, describe, expect, it } from 'vitest';
import { BACKEND_NAMES, loadRunConfig, parseRunConfig } from './config.js';
import { cliPath } from './test-helpers.js';

const app = join(dirname(fileURLToPath(import.meta.url)), '..');
const tmp = mkdtempSync(join(tmpdir(), 'r3d-train-config-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

function issuesOf(input: unknown): string[] {
  try {
    parseRunConfig(input, 'run.yaml');
  } catch (err) {
    expect(err).toBeInstanceOf(ConfigError);
    expect((err as ConfigError).source).toBe('run.yaml');
    return (err as ConfigError).issues;
  }
  throw new Error('expected a ConfigError');
}

describe('the run configuration', () => {
  it('is the released recipe on the synthetic dataset when empty', () => {
    const config = parseRunConfig({});
    expect(config.data).toEqual({ kind: 'synthetic', seed: 1, count: 60, height: 24, width: 32, featureDim: 256, sampleRate: 1 });
    expect(config.model).toEqual({});
    // the loop's options are the trainer's, defaults included
    const { data: _d, model: _m, ...loop } = config;
    expect(loop).toEqual(parseTrainConfig({}));
  });

  it('reads a data section without kind as synthetic and fills the FUTR defaults', () => {
    expect(parseRunConfig({ data: { count: 12 } }).data).toMatchObject({ kind: 'synthetic', count: 12, height: 24 });
    expect(parseRunConfig({ data: { kind: 'futr', root: 'data/darai', trainSplit: 'train.split1.bundle', depthSize: [120, 160] } }).data)
      .toEqual({ kind: 'futr', root: 'data/darai', trainSplit: 'train.split1.bundle', depthSize: [120, 160], partner: 'depth', sampleRate: 1 });
  });

  it.each([
    [{ data: { kind: 'futr', trainSplit: 'a' } }, 'data.root: expected the folder of the FUTR layout'],
    [{ data: { kind: 'futr', root: 'r' } }, 'data.trainSplit: expected a split file'],
    [{ data: { kind: 'futr', root: 'r', trainSplit: 'a', partner: 'imu' } }, 'data.partner: expected depth or text'],
    [{ data: { kind: 'futr', root: 'r', trainSplit: 'a', depthSize: [120] } }, 'data.depthSize: expected [height, width]'],
    [{ data: { kind: 'kinetics' } }, 'data.kind: expected "synthetic" or "futr"'],
    [{ data: { count: 'many' } }, 'data.count: Invalid input: expected number'],
    [{ data: { kind: 'synthetic', root: 'r' } }, 'data: Unrecognized key: "root"'],
    [{ lr: -1 }, 'lr: Too small'],
  ])('%j is one ConfigError naming the field', (input, issue) => {
    const issues = issuesOf(input);
    expect(issues).toHaveLength(1);
    expect(issues[0]).toContain(issue);
  });

  it('re-parses what a checkpoint stores (the validated configuration) to the same configuration', () => {
    const config = parseRunConfig({ epochs: 3, warmupEpochs: 1, data: { kind: 'futr', root: 'r', trainSplit: 't' } });
    expect(parseRunConfig(JSON.parse(JSON.stringify(config)))).toEqual(config);
  });

  it('loads YAML and applies dotted overrides', () => {
    const file = join(tmp, 'run.yaml');
    writeFileSync(file, 'epochs: 5\nwarmupEpochs: 1\ndata:\n  kind: synthetic\n  count: 20\nmodel:\n  hidden: 16\n');
    const config = loadRunConfig(file, { lr: 3e-4, 'data.count': 30, 'rankMonitor.samples': 4 });
    expect([config.epochs, config.lr, config.data.kind === 'synthetic' && config.data.count, config.rankMonitor.samples, config.model]).toEqual([5, 3e-4, 30, 4, { hidden: 16 }]);
  });
});

describe('--backend', () => {
  it('lists auto, tensorflow and every candidate selectBackend knows, in its order', () => {
    expect([...BACKEND_NAMES]).toEqual(['auto', 'tensorflow', ...defaultCandidates.map((c) => c.name)]);
  });
});

describe('r3d train with a bad data section', () => {
  it('exits 2 before any work, naming the field and what was expected', () => {
    const file = join(tmp, 'bad.json');
    writeFileSync(file, JSON.stringify({ data: { kind: 'futr', trainSplit: 'a', partner: 'imu' } }));
    const r = spawnSync(process.execPath, [cliPath(), 'train', '-c', file, '--no-progress'], { cwd: app, encoding: 'utf8', timeout: 60_000 });
    expect(r.status).toBe(2);
    expect(r.stderr).toContain(`r3d: ${file}: invalid training configuration:`);
    expect(r.stderr).toContain('data.root: expected the folder of the FUTR layout');
    expect(r.stderr).toContain('data.partner: expected depth or text');
  });
});
