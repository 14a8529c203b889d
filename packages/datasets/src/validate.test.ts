import { join } from 'node:path';
import { encodeNpy } from '@r3d-ts/tensor-io';
import { describe, expect, it } from 'vitest';
import { DatasetFormatError } from './errors.js';
import { FutrDataset } from './futr/index.js';
import { SyntheticDataset } from './synthetic/index.js';
import { UtkinectDataset } from './utkinect/index.js';
import { tempDir, UTK_LABELS, write } from './test-fixtures.js';
import { SequenceChecker } from './validate.js';
import type { Sequence } from './sequence.js';

const features = (frames: number, dim: number) => encodeNpy({ shape: [frames, dim], data: new Float32Array(frames * dim).fill(0.5) });

/** A FUTR layout with one video per entry: its label count and its feature array. */
function futr(videos: Record<string, { labels: number; npy: Uint8Array }>): string {
  const root = tempDir('futr-validate');
  write(join(root, 'mapping.txt'), '0 Mixing\n1 Pouring\n');
  write(join(root, 'splits', 'all.bundle'), Object.keys(videos).map((v) => `${v}.txt`).join('\n'));
  for (const [id, v] of Object.entries(videos)) {
    write(join(root, 'groundTruth', `${id}.txt`), Array.from({ length: v.labels }, (_, i) => `f${i},${i % 2 ? 'Pouring' : 'Mixing'},x`).join('\n'));
    write(join(root, 'features', `${id}.npy`), v.npy);
  }
  return root;
}

async function all(ds: { sequences(): AsyncGenerator<Sequence> }): Promise<Sequence[]> {
  const out: Sequence[] = [];
  for await (const s of ds.sequences()) out.push(s);
  return out;
}

describe('datasets are validated when opened, naming the file (issue 14, classes 9 and 15)', () => {
  it('a video whose features are narrower than the first video is refused, naming both files', async () => {
    const root = futr({ a: { labels: 6, npy: features(6, 8) }, b: { labels: 6, npy: features(6, 5) } });
    const error = await all(new FutrDataset({ root, split: 'all.bundle' })).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(DatasetFormatError);
    expect((error as Error).message).toMatch(/features\/b\.npy: expected rgb frames of 8 values like .*features\/a\.npy, found "5"/);
  });

  it('one checker shared by the readers of two splits catches widths that differ between the splits', async () => {
    const root = futr({ a: { labels: 6, npy: features(6, 8) }, b: { labels: 6, npy: features(6, 4) } });
    write(join(root, 'splits', 'train.bundle'), 'a.txt\n');
    write(join(root, 'splits', 'test.bundle'), 'b.txt\n');
    const checker = new SequenceChecker();
    await all(new FutrDataset({ root, split: 'train.bundle', checker }));
    await expect(all(new FutrDataset({ root, split: 'test.bundle', checker }))).rejects.toThrow(/b\.npy: expected rgb frames of 8 values like/);
  });

  it('1-D features are refused as ambiguous, naming the file', async () => {
    const root = futr({ a: { labels: 6, npy: encodeNpy({ shape: [6], data: new Float32Array(6) }) } });
    await expect(all(new FutrDataset({ root, split: 'all.bundle' }))).rejects.toThrow(/a\.npy @byte 0: expected an array of shape \(T, D\) with one row per frame, found "a 1-D array of shape \(6\)"/);
  });

  it('features with zero columns are refused', async () => {
    const root = futr({ a: { labels: 6, npy: encodeNpy({ shape: [6, 0], data: new Float32Array(0) }) } });
    await expect(all(new FutrDataset({ root, split: 'all.bundle' }))).rejects.toThrow(/a\.npy @byte 0: expected at least one feature value per frame/);
  });

  it('a zero-length video (features with no row) is an error naming the file, not a silently dropped video', async () => {
    const root = futr({ a: { labels: 6, npy: features(6, 4) }, z: { labels: 6, npy: features(0, 4) } });
    await expect(all(new FutrDataset({ root, split: 'all.bundle' }))).rejects.toThrow(/z\.npy @byte 0: expected at least one frame \(row\) for the 6 labels/);
  });

  it('videos truncated to their shortest modality are counted in one warning at the end of the stream', async () => {
    const root = futr({ a: { labels: 6, npy: features(5, 4) }, b: { labels: 6, npy: features(6, 4) }, c: { labels: 9, npy: features(6, 4) } });
    const warnings: string[] = [];
    const seqs = await all(new FutrDataset({ root, split: 'all.bundle', warn: (m) => warnings.push(m) }));
    expect(seqs.map((s) => s.frames)).toEqual([5, 6, 6]);
    expect(warnings).toHaveLength(1);
    expect(warnings[0]).toMatch(/2 of 3 videos truncated to their shortest modality \(4 frames dropped in all\): a \(6 labels, rgb 5\); c \(9 labels, rgb 6\)/);
  });

  it('a UTKinect session with no frame on disk is an error naming its folder', () => {
    const root = tempDir('utk-empty');
    write(join(root, 'actionLabel.txt'), UTK_LABELS);
    write(join(root, 'depth', 's01_e01', 'readme.txt'), 'no frames here');
    const ds = new UtkinectDataset({ root, modalities: ['depth'] });
    expect(() => ds.load('s01_e01')).toThrow(/depth\/s01_e01: expected frames .* of s01_e01 present for every requested modality, found "none"/);
  });

  it('the checker refuses a sequence without frames or with a label count that is not its frame count', () => {
    const checker = new SequenceChecker();
    const seq = (frames: number, labels: number): Sequence => ({ id: 'v', frames, labels: new Int32Array(labels), modalities: { rgb: { dim: 2, data: new Float32Array(frames * 2) } } });
    expect(() => checker.check(seq(0, 0), { labels: 'gt/v.txt' })).toThrow(/gt\/v\.txt: expected a video with at least one frame \(v\), found "0 frames"/);
    expect(() => checker.check(seq(3, 2), { labels: 'gt/v.txt' })).toThrow(/gt\/v\.txt: expected one label per frame of v \(3\), found "2 labels"/);
    expect(checker.check(seq(3, 3), { labels: 'gt/v.txt' }).frames).toBe(3);
  });

  it('the synthetic dataset refuses counts and sizes that are not positive integers before allocating', () => {
    expect(() => new SyntheticDataset({ count: -3 })).toThrow(/count must be a non-negative integer, got -3/);
    expect(() => new SyntheticDataset({ count: 1.5 })).toThrow(/count must be a non-negative integer/);
    expect(() => new SyntheticDataset({ featureDim: 0 })).toThrow(/featureDim must be a positive integer/);
  });
});
