import { describe, expect, it } from 'vitest';
import { join } from 'node:path';
import { DatasetFormatError } from './errors.js';
import { encodeNpy, NpyFormatError } from '@r3d-ts/tensor-io';
import { readFeatureNpy } from './node/readers.js';
import { decodeDepthPng, decodeRgbFrame } from './modalities/image.js';
import { resizeBilinear } from './modalities/resize.js';
import { HashedNgramEncoder } from './modalities/text.js';
import { parseTimeSeriesCsv, resampleToTimes, normaliseChannels } from './modalities/timeseries.js';
import { bodyIdBigInt, NtuDataset, parseSampleName, parseSkeleton } from './ntu/index.js';
import { labelFrames, parseActionLabels, parseDepthXml, UtkinectDataset } from './utkinect/index.js';
import { DaraiDataset, daraiSplit, parseAnnotationCsv } from './darai/index.js';
import { FutrDataset, parseGroundTruth, parseMapping } from './futr/index.js';
import { depthXml, flatJpeg, greyPng, skeletonText, tempDir, UTK_LABELS, write } from './test-fixtures.js';

const errorOf = (f: () => unknown): unknown => { try { f(); } catch (e) { return e; } return undefined; };

describe('NTU RGB+D', () => {
  it('parses a skeleton with two bodies, a 0-body frame and a body ID above 2^53', () => {
    const sk = parseSkeleton(skeletonText('18446744073709551615'), 'x.skeleton');
    expect(sk.frames.map((f) => f.bodies.length)).toEqual([2, 0, 1]);
    const b = sk.frames[0]!.bodies[0]!;
    expect(b.id).toBe('18446744073709551615');
    expect(bodyIdBigInt(b)).toBe(2n ** 64n - 1n);
    expect(sk.frames[0]!.bodies[1]!.id).toBe('72057594037931102');
    expect(b.leanX).toBeCloseTo(0.125);
    expect(b.jointCount).toBe(25);
    expect(b.joints[0]).toBeCloseTo(0.1);
    expect(b.joints[12 * 24 + 11]).toBe(24 % 3);
    expect(sk.frames[2]!.bodies[0]!.joints[0]).toBeCloseTo(0.2);
  });

  it('rejects a truncated skeleton with the line and the field', () => {
    const text = skeletonText().split('\n').slice(0, 10).join('\n');
    const e = errorOf(() => parseSkeleton(text, 'cut.skeleton')) as DatasetFormatError;
    expect(e).toBeInstanceOf(DatasetFormatError);
    expect(e.message).toMatch(/^cut\.skeleton:\d+: expected .*joint/);
  });

  it('parses sample names', () => {
    expect(parseSampleName('S017C003P020R002A060.skeleton')).toMatchObject({ setup: 17, camera: 3, performer: 20, replication: 2, action: 60, twoPerson: true });
    expect(parseSampleName('S001C001P001R001A001_rgb.avi').twoPerson).toBe(false);
    expect(() => parseSampleName('S1C1P1R1A1')).toThrow(DatasetFormatError);
  });

  it('loads 16-bit masked depth (1-based MDepth) and skeletons as one sequence', async () => {
    const root = tempDir('ntu');
    const name = 'S001C002P003R001A013';
    const w = 8, h = 6;
    for (let f = 1; f <= 3; f++) {
      const v = Array.from({ length: w * h }, (_, i) => (i === 0 ? 0 : 1000 + 500 * f + i));
      write(join(root, 'depth', name, `MDepth-${String(f).padStart(8, '0')}.png`), greyPng(w, h, v, 16));
    }
    write(join(root, 'skel', `${name}.skeleton`), skeletonText());
    const raw = decodeDepthPng(greyPng(w, h, Array.from({ length: w * h }, (_, i) => 3000 + i * 100), 16));
    expect(raw.bitDepth).toBe(16);
    expect(raw.data[5]).toBe(3500); // millimetres survive, beyond 8 bits
    const ds = new NtuDataset({ depthDir: join(root, 'depth'), skeletonDir: join(root, 'skel'), depthSize: { height: 3, width: 4 } });
    const seqs = [];
    for await (const s of ds.sequences()) seqs.push(s);
    expect(seqs).toHaveLength(1);
    const s = seqs[0]!;
    expect(s.frames).toBe(3);
    expect([...s.labels]).toEqual([12, 12, 12]);
    expect(s.modalities.depth!.dim).toBe(12);
    const d = s.modalities.depth!.data;
    expect(Math.min(...d)).toBe(0);
    expect(Math.max(...d)).toBeCloseTo(1);
    expect(s.modalities.skeleton!.dim).toBe(150);
    expect(s.modalities.skeleton!.data.subarray(150, 300).every((v) => v === 0)).toBe(true);
  });
});

describe('UTKinect', () => {
  it('parses the label file quirks', () => {
    const s = parseActionLabels(UTK_LABELS + '\r\n\n', 'actionLabel.txt');
    const e1 = s.get('s01_e01')!;
    expect(e1.ranges).toHaveLength(8); // 9 actions, throw is NaN NaN
    expect(e1.absent).toEqual(['throw']);
    expect(e1.ranges[1]).toMatchObject({ action: 'sitDown', start: 572, end: 686 });
    // First range wins: carry (390..600) overlaps walk's end 390 and sitDown; standUp/pickUp share 752.
    expect([...labelFrames(e1.ranges, [251, 252, 390, 391, 572, 752, 753, 900, 1150])]).toEqual([-1, 0, 0, 4, 1, 2, 3, -1, 7]);
    expect([...labelFrames(s.get('s01_e02')!.ranges, [16, 25])]).toEqual([0, 9]);
    // No final newline parses the same.
    expect(parseActionLabels(UTK_LABELS).get('s01_e02')!.ranges).toHaveLength(2);
  });

  it.each([
    ['walk: 1 2\n', /session header/],
    ['s01_e01\nfly: 1 2', /one of the actions/],
    ['s01_e01\nwalk: 5 2', /end frame >= the start frame 5/],
    ['s01_e01\nwalk: 1 x', /integer frame numbers/],
  ])('rejects %j', (text, pattern) => {
    const e = errorOf(() => parseActionLabels(text, 'a.txt')) as Error;
    expect(e).toBeInstanceOf(DatasetFormatError);
    expect(e.message).toMatch(pattern);
    expect(e.message).toMatch(/^a\.txt:\d+/);
  });

  it('tokenises OpenCV depth XML and loads a session with numeric frame order', async () => {
    const vals = Array.from({ length: 12 }, (_, i) => i * 10);
    const d = parseDepthXml(depthXml('depthImg190', 4, 3, vals), 'depthImg190.xml');
    expect(d).toMatchObject({ width: 4, height: 3 });
    expect([...d.data]).toEqual(vals);
    expect(() => parseDepthXml(depthXml('depthImg1', 4, 3, vals.slice(0, 11)))).toThrow(/12 numbers in <data>/);
    // a header claiming 8192 x 8192 over a few numbers is refused before a 256 MB array is allocated
    expect(() => parseDepthXml(depthXml('depthImg2', 8192, 8192, vals), 'huge.xml')).toThrow(/huge\.xml.*67108864 numbers in <data>.*fewer \(<data> holds \d+ characters\)/);
    const root = tempDir('utk');
    write(join(root, 'actionLabel.txt'), 's01_e01\nwalk: 9 10\nsitDown: 11 11');
    for (const n of [10, 9, 100, 11]) {
      write(join(root, 'depth', 's01_e01', `depthImg${n}.xml`), depthXml(`depthImg${n}`, 4, 3, vals.map((v) => v + n)));
      write(join(root, 'RGB', 's01_e01', `colorImg${n}.jpg`), flatJpeg(8, 6, [200, 100, 50]));
    }
    const ds = new UtkinectDataset({ root, depthSize: { height: 3, width: 4 }, rgbSize: { height: 3, width: 4 } });
    const s = ds.load('s01_e01');
    expect(s.meta!.frameNumbers).toEqual([9, 10, 11, 100]);
    expect([...s.labels]).toEqual([0, 0, 1, -1]);
    expect(s.modalities.depth!.data[11]).toBeCloseTo(1);
    expect(s.modalities.rgb!.data[0]).toBeCloseTo(200 / 255, 1);
  });
});

describe('DARai', () => {
  it('parses annotations, including empty files, and assigns subject splits', () => {
    expect(parseAnnotationCsv('', 'e.csv')).toEqual([]);
    expect(parseAnnotationCsv('Activity,start_frame,end_frame\n', 'h.csv')).toEqual([]);
    expect(parseAnnotationCsv('start_frame,Activity,end_frame\r\n3,Mixing batter,9.0\n')).toEqual([{ activity: 'Mixing batter', start: 3, end: 9, line: 2 }]);
    expect(() => parseAnnotationCsv('Activity,start_frame,end_frame\nA,5,2\n', 'b.csv')).toThrow(/b\.csv:2: expected end_frame/);
    expect([10, 16, 19, 2, 20, 1].map(daraiSplit)).toEqual(['test', 'test', 'test', 'val', 'val', 'train']);
  });

  it('loads camera k with depth k, labels, text and IMU aligned to frames', async () => {
    const root = tempDir('darai');
    const act = 'Making pancake';
    for (const subj of ['01', '10']) {
      for (let f = 0; f < 4; f++) {
        const fr = String(f).padStart(5, '0');
        write(join(root, 'RGB', act, 'camera_1_fps_15', `${subj}_1_${fr}.jpg`), flatJpeg(8, 6, [10 * f, 0, 0]));
        write(join(root, 'Depth', act, 'depth_1', `${subj}_1_${fr}.png`), greyPng(4, 2, [0, 1, 2, 3, 4, 5, 6, 7 + f], 8));
      }
      write(join(root, 'RGB', act, 'camera_2_fps_15', `${subj}_1_00000.jpg`), flatJpeg(8, 6, [0, 0, 0]));
      write(join(root, 'IMU', act, `${subj}_1.csv`), 'time,ax,ay\n0.0,0,10\n0.1,1,10\n0.2,2,10\n0.3,3,10\n');
    }
    write(join(root, 'Annotations', `${act}_S01_session01_Level_2_Annotations.csv`), 'Activity,start_frame,end_frame\nGetting ingredients,0,1\nMixing,3,3\n');
    write(join(root, 'Annotations', `${act}_S10_session01_Level_2_Annotations.csv`), '');
    write(join(root, 'Annotations', `${act}_S01_session01_Level_3_Annotations.csv`), '');
    const ds = new DaraiDataset({ root, modalities: ['rgb', 'depth', 'text', 'imu'], rgbSize: { height: 3, width: 4 }, depthSize: { height: 2, width: 4 } });
    expect(ds.classNames()).toEqual(['Getting ingredients', 'Mixing']);
    const all = [];
    for await (const s of ds.sequences()) all.push(s);
    expect(all.map((s) => s.id)).toEqual(['Making pancake_S01_session01', 'Making pancake_S10_session01']);
    const [a, b] = all;
    expect([...a!.labels]).toEqual([0, 0, -1, 1]);
    expect([...b!.labels]).toEqual([-1, -1, -1, -1]);
    expect(b!.meta!.split).toBe('test');
    const enc = new HashedNgramEncoder({ dim: 128 });
    expect([...a!.modalities.text!.data.subarray(0, 128)]).toEqual([...enc.encodeOne('Getting ingredients for Making pancake')]);
    expect(a!.modalities.text!.data.subarray(256, 384).every((v) => v === 0)).toBe(true);
    // IMU: 15 fps frames at 0, 1/15, 2/15, 3/15 s interpolate ax = 10 t; z-scored; a constant channel is 0.
    const imu = a!.modalities.imu!;
    expect(imu.dim).toBe(2);
    expect(imu.data[1]).toBe(0);
    expect(imu.data[2]! - imu.data[0]!).toBeCloseTo(imu.data[6]! - imu.data[4]!, 5);
    expect(new DaraiDataset({ root, split: 'train' }).recordings()).toHaveLength(1);
  });
});

describe('FUTR layout', () => {
  it('reads mapping and both ground-truth forms', () => {
    expect(parseMapping('0 Getting ingredients\n1 Mixing\n').names).toEqual(['Getting ingredients', 'Mixing']);
    expect(() => parseMapping('0 A\n2 B\n', 'm.txt')).toThrow(/without gaps/);
    const gt = parseGroundTruth('a/0001.jpg, Mixing, Pour\na/0002.jpg,UNDEFINED,UNDEFINED\n');
    expect(gt).toEqual({ format: 'csv', l2: ['Mixing', 'UNDEFINED'], l3: ['Pour', 'UNDEFINED'], framePaths: ['a/0001.jpg', 'a/0002.jpg'] });
    expect(parseGroundTruth('SIL\nSIL\ncrack_egg').l2).toEqual(['SIL', 'SIL', 'crack_egg']);
    expect(() => parseGroundTruth('SIL\na,b,c\n', 'g.txt')).toThrow(/g\.txt:2: expected a bare label/);
  });

  it('streams features, depth and labels with UNDEFINED as -1', async () => {
    const root = tempDir('futr');
    write(join(root, 'mapping.txt'), '0 Mixing\n1 Pouring\n');
    write(join(root, 'splits', 'train.bundle'), 'v1.txt\n');
    write(join(root, 'groundTruth', 'v1.txt'), 'f1,Mixing,x\nf2, UNDEFINED ,x\nf3,Pouring,x\n');
    write(join(root, 'features', 'v1.npy'), encodeNpy({ shape: [3, 5], data: Float32Array.from({ length: 15 }, (_, i) => i) }));
    write(join(root, 'features_depth', 'v1.npy'), encodeNpy({ shape: [3, 1, 2, 2], data: Float32Array.from([0, 1, 2, 3, 5, 5, 5, 5, 4, 3, 2, 1]) }));
    const ds = new FutrDataset({ root, split: 'train.bundle', modalities: ['rgb', 'depth', 'text'] });
    const s = await ds.load(ds.ids()[0]!);
    expect([...s.labels]).toEqual([0, -1, 1]);
    expect(s.modalities.rgb!.dim).toBe(5);
    expect([...s.modalities.depth!.data]).toEqual([0, 1 / 3, 2 / 3, 1, 0, 0, 0, 0, 1, 2 / 3, 1 / 3, 0].map((v) => Math.fround(v)));
    expect(s.modalities.text!.dim).toBe(128);
    write(join(root, 'groundTruth', 'v1.txt'), 'f1,Mixing,x\nf2,Stirring,x\n');
    await expect(ds.load('v1')).rejects.toThrow(/v1\.txt:2: expected a label listed in the mapping/);
  });

  it('reads IMU from features_imu/ and stored text embeddings from features_text/ instead of derived phrases', async () => {
    const root = tempDir('futr-imu-text');
    write(join(root, 'mapping.txt'), '0 Mixing\n1 Pouring\n');
    write(join(root, 'groundTruth', 'v1.txt'), 'Mixing\nMixing\nPouring\n');
    write(join(root, 'features', 'v1.npy'), encodeNpy({ shape: [3, 2], data: new Float32Array(6) }));
    write(join(root, 'features_imu', 'v1.npy'), encodeNpy({ shape: [3, 6], data: Float32Array.from({ length: 18 }, (_, i) => i / 2) }));
    const derived = await new FutrDataset({ root, modalities: ['rgb', 'imu', 'text'] }).load('v1');
    expect(derived.modalities.imu!.dim).toBe(6);
    expect([...derived.modalities.imu!.data]).toEqual(Array.from({ length: 18 }, (_, i) => i / 2));
    expect(derived.modalities.text!.dim).toBe(128); // phrases from the labels, hashed
    // a text embedding with one extra frame: used as stored, and trimmed like any feature file
    write(join(root, 'features_text', 'v1.npy'), encodeNpy({ shape: [4, 3], data: Float32Array.from({ length: 12 }, (_, i) => i) }));
    const warnings: string[] = [];
    const ds = new FutrDataset({ root, modalities: ['rgb', 'imu', 'text'], warn: (m) => warnings.push(m) });
    const seqs = [];
    for await (const q of ds.sequences()) seqs.push(q);
    const s = seqs[0];
    expect(s!.modalities.text!.dim).toBe(3);
    expect([...s!.modalities.text!.data]).toEqual([0, 1, 2, 3, 4, 5, 6, 7, 8]);
    expect(s!.meta!.truncatedFrom).toEqual({ labels: 3, rgb: 3, imu: 3, text: 4 });
    expect(warnings.join()).toMatch(/1 of 1 videos truncated/);
  });

  it('a broken feature .npy is a DatasetFormatError naming the file and byte, its cause the NpyFormatError', () => {
    const file = join(tempDir('futr-bad-npy'), 'v1.npy');
    write(file, encodeNpy({ shape: [3, 5], data: new Float32Array(15) }).subarray(0, 40));
    const e = errorOf(() => readFeatureNpy(file)) as DatasetFormatError;
    expect(e).toBeInstanceOf(DatasetFormatError);
    expect(e.cause).toBeInstanceOf(NpyFormatError);
    expect(e.message).toMatch(/v1\.npy @byte 8: expected a header of \d+ bytes inside the file/);
  });
});

describe('modalities', () => {
  it('resizes bilinearly with half-pixel centres', () => {
    // 1x4 -> 1x2: outputs sample at x = 0.5 and 2.5.
    expect([...resizeBilinear([0, 10, 20, 30], 1, 4, 1, { height: 1, width: 2 })]).toEqual([5, 25]);
    // 1x2 -> 1x4: x = -0.25 (clamped to 0), 0.25, 0.75, 1.25 (clamped to 1).
    expect([...resizeBilinear([0, 8], 1, 2, 1, { height: 1, width: 4 })]).toEqual([0, 2, 6, 8]);
  });

  it('decodes JPEG frames to RGB in [0, 1]', () => {
    const f = decodeRgbFrame(flatJpeg(16, 8, [255, 128, 0]), { height: 2, width: 4 });
    expect(f.data).toHaveLength(24);
    expect(f.data[0]).toBeGreaterThan(0.95);
    expect(f.data[1]).toBeCloseTo(0.5, 1);
  });

  it('interpolates a time series at frame times and normalises channels', () => {
    const ts = parseTimeSeriesCsv('t,a,b\n0,0,1\n1,10,1\n1,20,1\n3,40,1\n', 's.csv');
    expect([...resampleToTimes(ts, [-1, 0.5, 1, 2, 9])].filter((_, i) => i % 2 === 0)).toEqual([0, 5, 20, 30, 40]);
    const z = normaliseChannels(Float32Array.from([1, 5, 3, 5]), 2);
    expect([...z]).toEqual([-1, 0, 1, 0]);
    expect(() => parseTimeSeriesCsv('t,a\n0,1\n1,\n', 'x.csv')).toThrow(/x\.csv:3: expected a finite number/);
    expect(() => parseTimeSeriesCsv('t,a\n2,1\n1,1\n', 'y.csv')).toThrow(/non-decreasing times/);
  });

  it('encodes text deterministically, normalised, similar phrases closer', () => {
    const enc = new HashedNgramEncoder({ dim: 64 });
    const [a, b, c] = [enc.encodeOne('Getting ingredients for Making pancake'), enc.encodeOne('Getting ingredients for Making coffee'), enc.encodeOne('Cleaning dishes')];
    const dot = (x: Float32Array, y: Float32Array) => x.reduce((s, v, i) => s + v * y[i]!, 0);
    expect(dot(a, a)).toBeCloseTo(1, 5);
    expect(dot(a, b)).toBeGreaterThan(dot(a, c) + 0.2);
    expect([...new HashedNgramEncoder({ dim: 64 }).encodeOne('Getting ingredients for Making pancake')]).toEqual([...a]);
  });
});
