import { describe, expect, it } from 'vitest';
import { cpSync, readFileSync, rmSync, truncateSync } from 'node:fs';
import { join } from 'node:path';
import { encodeNpy } from '@r3d-ts/tensor-io';
import { Rng } from '../random.js';
import { tempDir, write } from '../test-fixtures.js';
import { checkFutrDataset, type DatasetCheckReport } from './check.js';
import { formatCheckReport } from './check-report.js';
import { FutrDataset } from './dataset.js';
import { majorityMoc } from './majority-moc.js';

const CLASSES = ['reach', 'pour', 'stir'];
const T = 20;

const npy = (shape: number[]) => encodeNpy({ shape, data: Float32Array.from({ length: shape.reduce((a, b) => a * b, 1) }, (_, i) => (i % 7) / 7) });
const labels = (n: number, offset = 0) => Array.from({ length: n }, (_, t) => CLASSES[Math.floor((t + offset) / 7) % 3]!);

/** Writes one video: its ground truth and a file in every modality folder (rgb 8, depth 4x6, imu 3, text 5). */
function writeVideo(root: string, id: string, names: string[], frames = names.length): void {
  write(join(root, 'groundTruth', `${id}.txt`), `${names.join('\n')}\n`);
  write(join(root, 'features', `${id}.npy`), npy([frames, 8]));
  write(join(root, 'features_depth', `${id}.npy`), npy([frames, 4, 6]));
  write(join(root, 'features_imu', `${id}.npy`), npy([frames, 3]));
  write(join(root, 'features_text', `${id}.npy`), npy([frames, 5]));
}

/** A small valid FUTR dataset with every modality: 3 train and 2 test videos of 20 frames. */
function validDataset(): string {
  const root = tempDir('futr-check');
  write(join(root, 'mapping.txt'), CLASSES.map((c, i) => `${i} ${c}`).join('\n') + '\n');
  write(join(root, 'splits', 'train.split1.bundle'), 'a.txt\nb.txt\nc.txt\n');
  write(join(root, 'splits', 'test.split1.bundle'), 'd.txt\ne.txt\n');
  ['a', 'b', 'c', 'd', 'e'].forEach((id, i) => writeVideo(root, id, labels(T, i)));
  return root;
}

const VALID = validDataset();

/** A copy of the valid dataset, broken by `breakIt`. */
function broken(breakIt: (root: string) => void): string {
  const root = tempDir('futr-check-broken');
  cpSync(VALID, root, { recursive: true });
  breakIt(root);
  return root;
}

const only = (report: DatasetCheckReport) => {
  expect(report.problems).toHaveLength(1);
  return report.problems[0]!;
};

describe('checkFutrDataset', () => {
  it('passes a valid dataset with every modality, and the loader reads it', async () => {
    const report = await checkFutrDataset(VALID);
    expect(report.problems).toEqual([]);
    expect(report.exitCode).toBe(0);
    expect(report.splits).toEqual([{ name: 'test.split1.bundle', videos: 2 }, { name: 'train.split1.bundle', videos: 3 }]);
    expect(report.videos).toBe(5);
    expect(report.modalities).toEqual([
      { name: 'rgb', width: 8, videos: 5 },
      { name: 'depth', width: [4, 6], videos: 5 },
      { name: 'imu', width: 3, videos: 5 },
      { name: 'text', width: 5, videos: 5 },
    ]);
    const frames = (ids: number[]) => CLASSES.map((_, k) => ids.reduce((n, i) => n + labels(T, i).filter((l) => l === CLASSES[k]).length, 0));
    expect(report.classes.map((c) => c.trainFrames)).toEqual(frames([0, 1, 2]));
    expect(report.classes.map((c) => c.totalFrames)).toEqual(frames([0, 1, 2, 3, 4]));
    expect(report.majority).toMatchObject({ train: 'train.split1.bundle', test: 'test.split1.bundle' });
    expect(report.majorityClassMoc).toBeGreaterThan(0);
    expect(report.tooShort).toEqual([]);
    const text = formatCheckReport(report);
    expect(text).toMatch(/train\.split1\.bundle\s+3/);
    expect(text).toMatch(/depth\s+4x6\s+5/);
    expect(text).toMatch(/majority-class MoC: 0\.\d{4}/);
    expect(text.split('\n').at(-1)).toBe('no problems');
    const seqs = [];
    for await (const s of new FutrDataset({ root: VALID, split: 'test.split1.bundle', modalities: ['rgb', 'depth', 'imu', 'text'] }).sequences()) seqs.push(s);
    expect(seqs.map((s) => [s.frames, s.modalities.imu!.dim, s.modalities.text!.dim])).toEqual([[T, 3, 5], [T, 3, 5]]);
  });

  it('a split entry without its files: error naming each missing file', async () => {
    const root = broken((r) => {
      rmSync(join(r, 'features_depth', 'b.npy'));
      rmSync(join(r, 'groundTruth', 'd.txt'));
    });
    const report = await checkFutrDataset(root);
    expect(report.exitCode).toBe(2);
    // videos in split-file order: test.split1.bundle (d, e), then train.split1.bundle (a, b, c)
    expect(report.problems.map((p) => [p.severity, p.code, p.file])).toEqual([
      ['error', 'missing-file', join(root, 'groundTruth', 'd.txt')],
      ['error', 'missing-file', join(root, 'features_depth', 'b.npy')],
    ]);
    expect(report.problems[0]!.message).toMatch(/listed in splits\/test\.split1\.bundle:1/);
    expect(report.problems[1]!.message).toMatch(/listed in splits\/train\.split1\.bundle:2/);
    expect(formatCheckReport(report)).toContain(`error ${join(root, 'features_depth', 'b.npy')}: missing`);
  });

  it('a feature width that disagrees with the other videos: error on that file', async () => {
    const root = broken((r) => write(join(r, 'features', 'c.npy'), npy([T, 7])));
    const report = await checkFutrDataset(root);
    expect(report.exitCode).toBe(2);
    expect(only(report)).toMatchObject({ severity: 'error', code: 'width-mismatch', file: join(root, 'features', 'c.npy') });
    expect(report.problems[0]!.message).toMatch(/rgb width 7, but 4 of 5 videos have 8/);
    expect(report.modalities[0]).toEqual({ name: 'rgb', width: 8, videos: 5 });
  });

  it('frame counts beyond the tolerance: error naming the odd file; within it: warning saying what is trimmed', async () => {
    const far = broken((r) => write(join(r, 'features_imu', 'a.npy'), npy([T + 5, 3])));
    const report = await checkFutrDataset(far);
    expect(report.exitCode).toBe(2);
    expect(only(report)).toMatchObject({ severity: 'error', code: 'frame-mismatch', file: join(far, 'features_imu', 'a.npy') });
    expect(report.problems[0]!.message).toMatch(/differ by 5, more than the tolerance of 1 \(labels 20, rgb 20, depth 20, imu 25, text 20\)/);
    // the same file is fine with a larger tolerance: the loader cuts imu to 20 frames
    const tolerant = await checkFutrDataset(far, { frameTolerance: 5 });
    expect(tolerant.exitCode).toBe(1);
    expect(only(tolerant)).toMatchObject({ severity: 'warning', code: 'frames-trimmed', file: join(far, 'groundTruth', 'a.txt') });
    expect(tolerant.problems[0]!.message).toMatch(/trims every stream to 20 frames \(drops the last 5 of imu\)/);

    const near = broken((r) => write(join(r, 'features', 'b.npy'), npy([T - 1, 8])));
    const trimmed = await checkFutrDataset(near);
    expect(trimmed.exitCode).toBe(1);
    expect(only(trimmed)).toMatchObject({ severity: 'warning', code: 'frames-trimmed', file: join(near, 'groundTruth', 'b.txt') });
    expect(trimmed.problems[0]!.message).toMatch(/drops the last 1 of labels, 1 of depth, 1 of imu, 1 of text/);
  });

  it('a label not in the mapping: error at the first offending line', async () => {
    const root = broken((r) => {
      const names = labels(T, 1);
      names[6] = 'whisk';
      names[9] = 'whisk';
      write(join(r, 'groundTruth', 'b.txt'), names.join('\n'));
    });
    const report = await checkFutrDataset(root);
    expect(report.exitCode).toBe(2);
    expect(only(report)).toMatchObject({ severity: 'error', code: 'unknown-label', file: join(root, 'groundTruth', 'b.txt'), line: 7 });
    expect(formatCheckReport(report)).toContain(`error ${join(root, 'groundTruth', 'b.txt')}:7: label "whisk" is not in the mapping (2 lines in all)`);
  });

  it('a class absent from the train split: warning at its mapping line', async () => {
    const root = broken((r) => write(join(r, 'mapping.txt'), `${CLASSES.map((c, i) => `${i} ${c}`).join('\n')}\n3 whisk\n`));
    const report = await checkFutrDataset(root);
    expect(report.exitCode).toBe(1);
    expect(only(report)).toMatchObject({ severity: 'warning', code: 'class-not-in-train', file: join(root, 'mapping.txt'), line: 4 });
    expect(report.classes[3]).toEqual({ index: 3, name: 'whisk', trainFrames: 0, totalFrames: 0 });
    // a class only the test videos use: the same warning, saying the frames exist
    const testOnly = broken((r) => {
      write(join(r, 'mapping.txt'), `${CLASSES.map((c, i) => `${i} ${c}`).join('\n')}\n3 whisk\n`);
      write(join(r, 'groundTruth', 'e.txt'), [...labels(T - 2), 'whisk', 'whisk'].join('\n'));
    });
    expect(only(await checkFutrDataset(testOnly)).message).toMatch(/class 3 "whisk" has no frame in the train split \(train\.split1\.bundle\); its 2 frames in other videos cannot be learned/);
  });

  it('videos too short for the observation ratios: listed, with a warning each', async () => {
    const root = broken((r) => {
      write(join(r, 'splits', 'test.split1.bundle'), 'd.txt\ne.txt\nf.txt\ng.txt\n');
      writeVideo(r, 'f', labels(4));
      writeVideo(r, 'g', labels(8));
    });
    const report = await checkFutrDataset(root);
    expect(report.exitCode).toBe(1);
    // int(0.2 L) >= 1 needs L >= 5
    expect(report.tooShort).toEqual([{ video: 'f', frames: 4, minFrames: 5 }]);
    expect(only(report)).toMatchObject({ severity: 'warning', code: 'too-short', file: join(root, 'groundTruth', 'f.txt') });
    expect(report.problems[0]!.message).toMatch(/4 frames give no sample at observation ratio 0\.2/);
    // keeping 1 frame in 2, ceil(L / 2) >= 5 needs L >= 9
    const halved = await checkFutrDataset(root, { sampleRate: 2 });
    expect(halved.tooShort).toEqual([{ video: 'f', frames: 4, minFrames: 9 }, { video: 'g', frames: 8, minFrames: 9 }]);
    expect(formatCheckReport(halved)).toMatch(/2 videos too short for the observation ratios:\nvideo\s+frames\s+needs\nf\s+4\s+9\ng\s+8\s+9/);
  });

  it('malformed files are problems naming the file, not crashes', async () => {
    const cases: [string, (r: string) => void, string, string, number | undefined][] = [
      ['npy with a bad magic string', (r) => write(join(r, 'features_depth', 'c.npy'), 'not a numpy file at all'), 'bad-npy', join('features_depth', 'c.npy'), undefined],
      ['npy whose data is cut short', (r) => write(join(r, 'features', 'a.npy'), npy([T, 8]).subarray(0, 300)), 'bad-npy', join('features', 'a.npy'), undefined],
      ['1-D features', (r) => write(join(r, 'features_imu', 'e.npy'), npy([T])), 'bad-npy', join('features_imu', 'e.npy'), undefined],
      ['a mapping line without an index', (r) => write(join(r, 'mapping.txt'), '0 reach\npour\n2 stir\n'), 'bad-mapping', 'mapping.txt', 2],
      ['a missing mapping', (r) => rmSync(join(r, 'mapping.txt')), 'missing-file', 'mapping.txt', undefined],
      ['ground truth mixing bare and csv lines', (r) => write(join(r, 'groundTruth', 'd.txt'), 'reach\nreach\nf3,pour,x\n'), 'bad-labels', join('groundTruth', 'd.txt'), 3],
      ['no features/ folder', (r) => rmSync(join(r, 'features'), { recursive: true }), 'missing-folder', 'features', undefined],
    ];
    for (const [what, breakIt, code, file, line] of cases) {
      const root = broken(breakIt);
      const report = await checkFutrDataset(root);
      expect(report.exitCode, what).toBe(2);
      const p = report.problems.find((q) => q.severity === 'error')!;
      expect({ code: p.code, file: p.file, line: p.line }, what).toEqual({ code, file: join(root, file), line });
    }
    const missing = await checkFutrDataset(join(VALID, 'nope'));
    expect([missing.exitCode, missing.problems[0]!.code]).toEqual([2, 'missing-folder']);
  });

  it('without split files: warns and checks every ground-truth file, cut 70/30 like the ablation', async () => {
    const root = broken((r) => rmSync(join(r, 'splits'), { recursive: true }));
    const report = await checkFutrDataset(root);
    expect(report.exitCode).toBe(1);
    expect(only(report)).toMatchObject({ severity: 'warning', code: 'no-splits', file: join(root, 'splits') });
    expect(report.videos).toBe(5);
    expect(report.majority).toMatchObject({ train: 'first 70% of the ids', test: 'last 30% of the ids' });
    expect(report.classes.reduce((n, c) => n + c.trainFrames, 0)).toBe(4 * T); // round(0.7 x 5) = 4: a, b, c, d | e
  });

  it('a dataset without the optional modality folders: rgb only, text derived from labels', async () => {
    const root = broken((r) => ['features_depth', 'features_imu', 'features_text'].forEach((d) => rmSync(join(r, d), { recursive: true })));
    const report = await checkFutrDataset(root);
    expect(report.exitCode).toBe(0);
    expect(report.modalities).toEqual([{ name: 'rgb', width: 8, videos: 5 }, { name: 'text', width: null, videos: 5 }]);
    expect(formatCheckReport(report)).toMatch(/text\s+from labels\s+5/);
  });
});

describe('never throws on a bad file', () => {
  it('300 seeded byte mutations of the mapping, ground truth, splits and .npy files each give a report', async () => {
    const rng = new Rng(20);
    const targets = ['mapping.txt', join('groundTruth', 'a.txt'), join('splits', 'train.split1.bundle'), join('features', 'b.npy'), join('features_depth', 'c.npy'), join('features_text', 'd.npy')];
    const root = tempDir('futr-check-fuzz');
    cpSync(VALID, root, { recursive: true });
    for (let i = 0; i < 300; i++) {
      const rel = targets[i % targets.length]!;
      const bytes = new Uint8Array(readFileSync(join(VALID, rel)));
      // flip a few bytes of the head (where headers and first lines are), or cut the file short
      const mutated = rng.next() < 0.3 ? bytes.subarray(0, rng.int(0, bytes.length)) : bytes;
      for (let k = rng.int(1, 4); k > 0; k--) if (mutated.length > 0) mutated[rng.int(0, Math.min(mutated.length, 140) - 1)] = rng.int(0, 255);
      write(join(root, rel), mutated);
      const report = await checkFutrDataset(root);
      expect([0, 1, 2]).toContain(report.exitCode);
      for (const p of report.problems) expect(p.file.startsWith(root), `${rel}: ${p.file}`).toBe(true);
      write(join(root, rel), readFileSync(join(VALID, rel)));
    }
  });
});

describe('majority-class MoC', () => {
  it('equals the hand-computed value on a tiny example', async () => {
    const root = tempDir('futr-check-moc');
    write(join(root, 'mapping.txt'), '0 A\n1 B\n2 C\n');
    write(join(root, 'splits', 'train.bundle'), 'tr\n');
    write(join(root, 'splits', 'test.bundle'), 'te\n');
    // train: 6 A, 4 B -> majority A (C never in train: one warning)
    write(join(root, 'groundTruth', 'tr.txt'), 'A\nA\nA\nA\nA\nA\nB\nB\nB\nB\n');
    write(join(root, 'features', 'tr.npy'), npy([10, 2]));
    // test, L = 10: B B B A C C C C C C
    write(join(root, 'groundTruth', 'te.txt'), 'B\nB\nB\nA\nC\nC\nC\nC\nC\nC\n');
    write(join(root, 'features', 'te.npy'), npy([10, 2]));
    const report = await checkFutrDataset(root, { observationRatios: [0.2, 0.3], predictionRatios: [0.1, 0.5] });
    // obs 0.2 (frames from 2): pred 0.1 scores frame 2 {B} -> 0; pred 0.5 frames 2..6 {B, A, C} -> 1/3
    // obs 0.3 (frames from 3): pred 0.1 scores frame 3 {A} -> 1; pred 0.5 frames 3..7 {A, C} -> 1/2
    expect(report.majority).toEqual({ index: 0, name: 'A', train: 'train.bundle', test: 'test.bundle' });
    expect(report.majorityClassMoc).toBeCloseTo((0 + 1 / 3 + 1 + 1 / 2) / 4, 12);
    expect(report.problems.map((p) => p.code)).toEqual(['class-not-in-train']);
  });

  it('scores UNDEFINED (-1) as a class, as the released evaluation does, and skips videos too short for a ratio', () => {
    // window of obs 0.2 / pred 0.5 on L = 10: frames 2..6 = {0, -1} -> 1/2; the 4-frame video gives no sample at 0.2
    expect(majorityMoc([Int32Array.of(0, 0, 0, -1, -1, 0, 0, 1, 1, 1), Int32Array.of(1, 1, 1, 1)], 0, [0.2], [0.5])).toBe(1 / 2);
    expect(majorityMoc([Int32Array.of(1, 1, 1)], 0, [0.2], [0.5])).toBeNaN();
  });
});

describe('reads headers only', () => {
  it('reports width and length of feature files far larger than memory, in bounded time and memory', async () => {
    const root = tempDir('futr-check-headers');
    write(join(root, 'mapping.txt'), '0 A\n1 B\n');
    write(join(root, 'splits', 'train.bundle'), 'a\n');
    write(join(root, 'splits', 'test.bundle'), 'b\n');
    const frames = 50;
    const width = 16_000_000; // 50 x 16M float32 = 3.2 GB per file, sparse on disk: reading the data would take seconds and gigabytes
    for (const id of ['a', 'b']) {
      write(join(root, 'groundTruth', `${id}.txt`), Array.from({ length: frames }, (_, t) => (t < 30 ? 'A' : 'B')).join('\n'));
      const path = join(root, 'features', `${id}.npy`);
      const head = encodeNpy({ shape: [0, width], data: new Float32Array(0) });
      const header = new TextDecoder('latin1').decode(head).replace(`(0, ${width})`, `(${frames},${width})`); // same length: the header's padding stays valid
      write(path, Uint8Array.from(header, (c) => c.charCodeAt(0)));
      truncateSync(path, head.length + frames * width * 4);
    }
    const before = process.memoryUsage().rss;
    const start = performance.now();
    const report = await checkFutrDataset(root);
    const ms = performance.now() - start;
    expect(report.problems).toEqual([]);
    expect(report.modalities[0]).toEqual({ name: 'rgb', width, videos: 2 });
    expect(report.classes.map((c) => c.totalFrames)).toEqual([60, 40]);
    expect(process.memoryUsage().rss - before).toBeLessThan(200 * 2 ** 20);
    expect(ms).toBeLessThan(2000);
  });
});
