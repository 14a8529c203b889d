// Bad command lines and configurations (issue 14 classes 11, 12, 13): one line, exit 2, at once.
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { expectUserError, runPiped } from './commands.js';
import { ablationConfig, daraiDemo, r3dConfig, removeTempDirs, tempDir, TINY_SYNTHETIC, write } from './inputs.js';

const tmp = tempDir('flags');
afterAll(removeTempDirs);
const out = join(tmp, 'never');

describe('flag-parse errors: one line with a hint to --help, never the usage (class 13)', () => {
  it.each([
    ['r3d', ['train', '--epoch', '3'], /unknown option '--epoch'.*\(see r3d train --help\)$/],
    ['r3d', ['train', '--epochs', 'three'], /'--epochs <n>' argument 'three' is invalid.*\(see r3d train --help\)$/],
    ['r3d', ['trian'], /unknown command 'trian'.*\(see r3d --help\)$/],
    ['r3d', ['eval'], /required option '--checkpoint <dir>' not specified \(see r3d eval --help\)$/],
    ['r3d', ['eval', '--checkpoint', 'x', '--protocol', 'fast'], /expected released or corrected, got "fast".*\(see r3d eval --help\)$/],
    ['r3d-ablation', ['--bogus'], /unknown option '--bogus' \(see r3d-ablation run --help\)$/],
    ['r3d-ablation', ['--seeds', '1,x'], /--seeds: "x" is not a number \(see r3d-ablation run --help\)$/],
    ['r3d-ablation', ['merge'], /missing required argument 'out' \(see r3d-ablation merge --help\)$/],
  ] as const)('%s %j', (cli, args, message) => {
    expectUserError(runPiped(cli, args), cli, message);
  });
});

describe('configuration values out of range: one line naming the field (class 12)', () => {
  it.each([
    [['--set', 'data.count=-3'], /config: invalid training configuration: data\.count: Too small/],
    [['--set', 'data.count=99999999'], /data\.count: at most 5000/],
    [['--set', 'data.height=25'], /data\.height: expected an even number of pixels/],
    [['--set', 'data.kind=video'], /data(\.kind)?: expected "synthetic" or "futr"/],
    [['--set', 'lr=-1', '--set', 'epochs=0'], /invalid training configuration: epochs: [^;]+; lr: [^;]+/],
  ])('r3d train %j', (args, message) => {
    expectUserError(runPiped('r3d', ['train', '--out', out, ...args]), 'r3d', message);
    expect(existsSync(out)).toBe(false);
  });

  it('a YAML file that does not parse', () => {
    const file = write(join(tmp, 'broken.yaml'), 'epochs: [1, 2\nlr: 0.1\n');
    expectUserError(runPiped('r3d', ['train', '-c', file, '--out', out]), 'r3d', /broken\.yaml: invalid training configuration: not valid YAML/);
  });

  it('a file of several problems is still one line', () => {
    const file = r3dConfig(tmp, { ...TINY_SYNTHETIC, count: 0, colour: 'red' }, { epochs: -1 });
    expectUserError(runPiped('r3d', ['train', '-c', file, '--out', out]), 'r3d', /r3d\.json: invalid training configuration: .*; .*/);
  });

  it('r3d-ablation: a synthetic count far beyond memory', () => {
    const file = ablationConfig(tmp, { synthetic: { count: 1e9 } });
    expectUserError(runPiped('r3d-ablation', ['--config', file, '--out', out]), 'r3d-ablation', /synthetic\.count: at most 5000/);
  });
});

describe('--sequences ranges are bounded before they are expanded, and must exist (class 11)', () => {
  const demo = daraiDemo({ 0: 6, 1: 6, 2: 6 });
  it('0..99999999 is refused at once', () => {
    const r = runPiped('r3d-ablation', ['--dataset', 'darai-demo', '--data', demo, '--sequences', '0..99999999', '--out', out]);
    expectUserError(r, 'r3d-ablation', /"0\.\.99999999": sequence numbers go from 0 to 999999/);
    expect(r.ms).toBeLessThan(20_000);
  });

  it.each([
    [['5..2'], /"5\.\.2" is an empty range/],
    [['0..20000'], /"0\.\.20000" lists more than 10000 sequences/],
    [['a..b'], /"a\.\.b" is neither a sequence number nor a range/],
  ])('%j', (args, message) => {
    expectUserError(runPiped('r3d-ablation', ['--dataset', 'darai-demo', '--data', demo, '--sequences', ...args, '--out', out]), 'r3d-ablation', message);
  });

  it('naming sequences the data does not hold is an error, not a silent drop', () => {
    const r = runPiped('r3d-ablation', ['--dataset', 'darai-demo', '--data', demo, '--sequences', '1..5', '--out', out]);
    expectUserError(r, 'r3d-ablation', /sequences: 3\.\.5 not found in .* \(it holds sequences 0\.\.2\)/);
    expect(existsSync(out)).toBe(false);
  });
});
