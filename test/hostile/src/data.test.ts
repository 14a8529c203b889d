// Damaged data, weight and checkpoint files (issue 14 classes 8, 9, 15): one line naming the file, exit 2.
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { expectUserError, runPiped } from './commands.js';
import { ablationConfig, daraiDemo, futrData, futrLayout, matrixNpy, r3dConfig, removeTempDirs, tempDir, write } from './inputs.js';

afterAll(removeTempDirs);

/** `r3d train` on a FUTR folder with these videos. */
function trainOn(videos: Parameters<typeof futrLayout>[0]) {
  const dir = tempDir('train');
  const out = join(dir, 'run');
  const r = runPiped('r3d', ['train', '-c', r3dConfig(dir, futrData(futrLayout(videos))), '--out', out]);
  return { r, out };
}

const good = { labels: 10 } as const;

describe('feature widths and ranks are checked when the dataset opens, naming the file (class 9)', () => {
  it('a video narrower than the others', () => {
    const { r, out } = trainOn({ a: { split: 'train', ...good }, b: { split: 'train', labels: 10, features: matrixNpy([10, 5]) }, c: { split: 'val', ...good } });
    expectUserError(r, 'r3d', /features\/b\.npy: expected rgb frames of 8 values like .*features\/a\.npy, found "5"/);
    expect(existsSync(out)).toBe(false);
  });

  it('a validation video narrower than the training videos', () => {
    const { r } = trainOn({ a: { split: 'train', ...good }, v: { split: 'val', labels: 10, features: matrixNpy([10, 6]) } });
    expectUserError(r, 'r3d', /features\/v\.npy: expected rgb frames of 8 values like .*features\/a\.npy/);
  });

  it('1-D features', () => {
    const { r } = trainOn({ a: { split: 'train', labels: 10, features: matrixNpy([10]) }, c: { split: 'val', ...good } });
    expectUserError(r, 'r3d', /features\/a\.npy @byte 0: expected an array of shape \(T, D\) with one row per frame, found "a 1-D array of shape \(10\)"/);
  });

  it('r3d-ablation, FUTR layout: a test video narrower than the training videos', () => {
    const root = futrLayout({ a: { split: 'train', ...good }, b: { split: 'train', ...good }, v: { split: 'val', labels: 10, features: matrixNpy([10, 3]) } });
    const dir = tempDir('ablation-futr');
    const cfg = ablationConfig(dir, { dataset: 'futr', data: root, partners: ['text'], futr: { trainSplit: 'train.bundle', testSplit: 'val.bundle' } });
    expectUserError(runPiped('r3d-ablation', ['--config', cfg, '--out', join(dir, 'out')]), 'r3d-ablation', /features\/v\.npy: expected rgb frames of 8 values like/);
  });

  it('r3d-ablation, darai-demo: a token file that is not (T, C)', () => {
    const demo = daraiDemo({ 0: 6, 1: 6 }, { shapeOf: (kind, rows, cols) => (kind === 'exchanged_rgb' ? [rows * cols] : [rows, cols]) });
    expectUserError(runPiped('r3d-ablation', ['--dataset', 'darai-demo', '--data', demo, '--out', join(demo, 'out')]), 'r3d-ablation', /exchanged_rgb_obs0\.5\.npy: expected \(sum of T, C\), found shape \[48\]/);
  });
});

describe('zero-length videos are refused, naming the file, not dropped in silence (class 15)', () => {
  it('r3d: a feature file with no row', () => {
    const { r } = trainOn({ a: { split: 'train', ...good }, z: { split: 'train', labels: 10, features: matrixNpy([0, 8]) }, c: { split: 'val', ...good } });
    expectUserError(r, 'r3d', /features\/z\.npy @byte 0: expected at least one frame \(row\) for the 10 labels/);
  });

  it('r3d-ablation, darai-demo: a sequence of 0 frames in the manifest', () => {
    const demo = daraiDemo({ 0: 6, 1: 0, 2: 6 });
    expectUserError(runPiped('r3d-ablation', ['--dataset', 'darai-demo', '--data', demo, '--out', join(demo, 'out')]), 'r3d-ablation', /manifest\.json: ratio 0\.5: sequence 1 has 0 frames/);
  });

  it('r3d: videos too short for an observation ratio are left out with one warning that counts them', () => {
    const { r } = trainOn({ a: { split: 'train', ...good }, b: { split: 'train', ...good }, s: { split: 'train', labels: 2 }, c: { split: 'val', ...good } });
    expect(r.status, r.stderr).toBe(0);
    expect(r.stderr).toMatch(/^r3d: warning: left out 1 of 3 train videos too short for ratio 0\.2 \(a sample needs 5 frames\): s \(2 frames\)$/m);
  });
});

describe('data, weight and checkpoint files that are damaged (class 8)', () => {
  it('r3d: a truncated feature .npy', () => {
    const { r } = trainOn({ a: { split: 'train', labels: 10, features: matrixNpy([10, 8]).subarray(0, 100) }, c: { split: 'val', ...good } });
    expectUserError(r, 'r3d', /features\/a\.npy @byte \d+: expected/);
  });

  it('r3d: a label the mapping does not list', () => {
    const root = futrLayout({ a: { split: 'train', ...good }, c: { split: 'val', ...good } });
    write(join(root, 'groundTruth', 'a.txt'), 'f0,Mixing,x\nf1,Juggling,x\n');
    const dir = tempDir('train-label');
    expectUserError(runPiped('r3d', ['train', '-c', r3dConfig(dir, futrData(root)), '--out', join(dir, 'run')]), 'r3d', /groundTruth\/a\.txt:2: expected a label listed in the mapping file/);
  });

  it('r3d: a missing split file', () => {
    const dir = tempDir('train-split');
    const root = futrLayout({ a: { split: 'train', ...good } });
    expectUserError(runPiped('r3d', ['train', '-c', r3dConfig(dir, { ...futrData(root), trainSplit: 'nope.bundle' }), '--out', join(dir, 'run')]), 'r3d', /splits\/nope\.bundle: expected a readable file/);
  });

  it('r3d eval: a checkpoint whose state.json is not JSON', () => {
    const dir = tempDir('ckpt');
    write(join(dir, 'best', 'state.json'), '{"format": ');
    write(join(dir, 'best', 'weights.safetensors'), new Uint8Array(16));
    expectUserError(runPiped('r3d', ['eval', '--checkpoint', join(dir, 'best')]), 'r3d', /best.*state\.json/);
  });

  it('r3d eval: a checkpoint folder that does not exist', () => {
    expectUserError(runPiped('r3d', ['eval', '--checkpoint', join(tempDir('nock'), 'best')]), 'r3d', /best/);
  });

  it('r3d-ablation, R3D-demo clone: a .pt token file that is not a torch.save zip', () => {
    const clone = join(tempDir('clone'), 'pt_darai_depth');
    for (const kind of ['rgb_raw', 'depth_raw', 'exchanged_rgb', 'exchanged_depth']) write(join(clone, kind, `${kind}_0_0.5.pt`), kind === 'depth_raw' ? 'not a zip at all' : new Uint8Array(0));
    expectUserError(runPiped('r3d-ablation', ['--dataset', 'darai-demo', '--data', clone, '--out', join(clone, 'out')]), 'r3d-ablation', /_0_0\.5\.pt/);
  });

  it('r3d-ablation, darai-demo: a truncated .npy', () => {
    const demo = daraiDemo({ 0: 6, 1: 6 });
    write(join(demo, 'depth_raw_obs0.5.npy'), matrixNpy([12, 4]).subarray(0, 90));
    expectUserError(runPiped('r3d-ablation', ['--dataset', 'darai-demo', '--data', demo, '--out', join(demo, 'out')]), 'r3d-ablation', /depth_raw_obs0\.5\.npy/);
  });

  it('r3d-ablation merge: an input that is not a result folder', () => {
    const dir = tempDir('merge');
    expectUserError(runPiped('r3d-ablation', ['merge', join(dir, 'merged'), join(dir, 'nothing-here')]), 'r3d-ablation');
  });

  it('a backend that is not installed', () => {
    expectUserError(runPiped('r3d', ['train', '--backend', 'tensorflow-gpu', '--out', join(tempDir('be'), 'run')]), 'r3d', /backend 'tensorflow-gpu' is unavailable/);
  });
});
