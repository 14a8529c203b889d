import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { encodeNpy } from '@r3d-ts/tensor-io';
import { samplesFromSequences } from '@r3d-ts/datasets';
import { checkFutrDataset } from '@r3d-ts/datasets/node';
import { evaluateAnticipation } from '@r3d-ts/trainer';
import { afterAll, describe, expect, it } from 'vitest';
import { constantTranscriptModel } from './analysis/baselines.js';
import { parseAblationConfig } from './config.js';
import { cellSequences, labelSpace, loadAblationData } from './data.js';
import { runAblation } from './run.js';
import { tinyConfig } from './test-helpers.js';

// `--dataset futr` trains every partner from a FUTR-layout folder: depth from features_depth/,
// IMU from features_imu/, text from features_text/ (stored embeddings) or label phrases.
const tmp = mkdtempSync(join(tmpdir(), 'r3d-ablation-futr-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));
const quiet = { write: () => true } as unknown as NodeJS.WritableStream;

/**
 * 8 videos (6 train, 2 test), 3 classes, with the given modality folders; values from a fixed LCG.
 * `varied`: lengths 30..51 and an UNDEFINED stretch in every video, else 40 frames each.
 */
function futrFolder(name: string, folders: { depth?: boolean; imu?: boolean; text?: boolean; varied?: boolean }): string {
  const root = join(tmp, name);
  const file = (path: string, content: string | Uint8Array) => {
    mkdirSync(join(path, '..'), { recursive: true });
    writeFileSync(path, content);
  };
  let state = 12345;
  const values = (n: number) => Float32Array.from({ length: n }, () => ((state = (state * 1103515245 + 12345) % 2 ** 31) / 2 ** 31) - 0.5);
  file(join(root, 'mapping.txt'), '0 reach\n1 pour\n2 stir\n');
  const ids = Array.from({ length: 8 }, (_, i) => `v${i}`);
  file(join(root, 'splits', 'train.split1.bundle'), ids.slice(0, 6).map((id) => `${id}.txt`).join('\n'));
  file(join(root, 'splits', 'test.split1.bundle'), ids.slice(6).map((id) => `${id}.txt`).join('\n'));
  ids.forEach((id, i) => {
    const T = folders.varied ? 30 + 3 * i : 40;
    const label = (t: number) => (folders.varied && t >= 12 + i && t < 16 + i ? 'UNDEFINED' : ['reach', 'pour', 'stir'][Math.floor((t + 3 * i) / (folders.varied ? 9 + i : 14)) % 3]);
    file(join(root, 'groundTruth', `${id}.txt`), Array.from({ length: T }, (_, t) => label(t)).join('\n'));
    file(join(root, 'features', `${id}.npy`), encodeNpy({ shape: [T, 16], data: values(T * 16) }));
    if (folders.depth) file(join(root, 'features_depth', `${id}.npy`), encodeNpy({ shape: [T, 6, 8], data: values(T * 48) }));
    if (folders.imu) file(join(root, 'features_imu', `${id}.npy`), encodeNpy({ shape: [T, 6], data: values(T * 6) }));
    if (folders.text) file(join(root, 'features_text', `${id}.npy`), encodeNpy({ shape: [T, 12], data: values(T * 12) }));
  });
  return root;
}

const futrConfig = (data: string, out: string, partners: string[], sampleRate = 1) =>
  parseAblationConfig(tinyConfig(out, { dataset: 'futr', data, partners: partners as never, fusers: ['mean'], futr: { trainSplit: 'train.split1.bundle', testSplit: 'test.split1.bundle', sampleRate } }));

describe('--dataset futr partners', () => {
  it('reads imu from features_imu/ and text from features_text/ when they exist, else text from label phrases', async () => {
    const full = futrFolder('full', { depth: true, imu: true, text: true });
    const data = await loadAblationData(futrConfig(full, join(tmp, 'out-full'), ['depth', 'text', 'imu']));
    expect([data.train.length, data.test.length]).toEqual([6, 2]);
    const m = data.train[0]!.modalities;
    expect([m.rgb!.dim, m.depth!.dim, m.imu!.dim, m.text!.dim]).toEqual([16, 48, 6, 12]);
    const bare = futrFolder('bare', {});
    const derived = await loadAblationData(futrConfig(bare, join(tmp, 'out-bare'), ['text']));
    expect(derived.train[0]!.modalities.text!.dim).toBe(128);
  });

  it('a partner whose folder is missing is refused before any video is read, naming the folder', async () => {
    const bare = futrFolder('no-imu', { depth: true });
    await expect(loadAblationData(futrConfig(bare, join(tmp, 'out-no-imu'), ['depth', 'imu']))).rejects.toThrow(/imu partner needs .*features_imu\/<video>\.npy/);
  });

  it('trains rgb alone and the depth, text and imu partners from such a folder; check\u2019s majority MoC is the trainer\u2019s', async () => {
    const full = futrFolder('train', { depth: true, imu: true, text: true, varied: true });
    const out = join(tmp, 'out-train');
    const config = futrConfig(full, out, ['rgb', 'depth', 'text', 'imu'], 2);
    const report = await checkFutrDataset(full, { observationRatios: config.evalObservationRatios, predictionRatios: config.predictionRatios, sampleRate: config.futr.sampleRate });
    expect(report.exitCode).toBe(0);
    const summary = await runAblation(config, { log: quiet, results: null });
    expect(summary.ran.sort()).toEqual(['depth.mean.s1', 'imu.mean.s1', 'rgb.none.s1', 'text.mean.s1']);
    const results = JSON.parse(readFileSync(join(out, 'results.json'), 'utf8')) as { cells: { meanMoc: number }[] };
    expect(results.cells).toHaveLength(4);
    for (const c of results.cells) expect(Number.isFinite(c.meanMoc)).toBe(true);
    // the report names the file each partner came from, and what the text partner falls back to
    const md = readFileSync(join(out, 'report.md'), 'utf8');
    expect(md).toContain(`imu = features_imu/<video>.npy of ${full}`);
    expect(md).toContain('else phrases made from the ground-truth labels');
    // the trainer's evaluation of "always the majority class" on the test samples the cells are scored on (backend set by the run)
    const data = await loadAblationData(config);
    const labels = labelSpace(data.classNames.length);
    const test = samplesFromSequences(cellSequences(data.test, 'rgb'), { observationRatios: config.evalObservationRatios, labels });
    const majority = constantTranscriptModel(() => report.majority!.index, labels);
    const scored = evaluateAnticipation(majority, test, { labels, observationRatios: config.evalObservationRatios, predictionRatios: config.predictionRatios });
    expect(scored.protocol).toBe('released');
    expect(report.majorityClassMoc).toBeGreaterThan(0);
    expect(report.majorityClassMoc).toBeCloseTo(scored.meanMoc, 12);
  }, 120_000);
});
