import { spawnSync } from 'node:child_process';
import { cpSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { FutrDataset } from '@r3d-ts/datasets/futr';
import { HashedNgramEncoder } from '@r3d-ts/datasets';
import { readNpy, writeNpy } from '@r3d-ts/tensor-io/node';
import { hashTree } from '@r3d-ts/tooling/vitest/hash-tree';
import { makeExample } from './example.js';
import { fileSystem } from '@r3d-ts/r3d-model/node';
import { SPLIT_FILES } from './import.js';
import { runData, startData } from './test-helpers.js';

const tmp = mkdtempSync(join(tmpdir(), 'r3d-data-import-'));
const example = join(tmp, 'example');
const common = (out: string): string[] => ['import', '--videos', join(example, 'videos'), '--labels', join(example, 'labels.csv'), '--out', out, '--fps', '5', '--no-progress'];
const modalities = ['--depth', join(example, 'depth'), '--depth-fps', '15', '--depth-size', '24x32', '--imu', join(example, 'imu'), '--text', join(example, 'narrations.csv'), '--text-dim', '32'];

/** The error lines of stderr: `r3d-data: ...` lines that are not a note or warning (progress lines precede them); no stack trace. */
const errorLines = (stderr: string): string[] => {
  expect(stderr).not.toMatch(/^\s+at /m);
  return stderr.split('\n').filter((l) => l.startsWith('r3d-data: ') && !/^r3d-data: (note|warning): /.test(l));
};

beforeAll(() => {
  makeExample(example, { videos: 6, seed: 1 });
});
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

describe('r3d-data import', () => {
  it('turns the generated example into a FUTR dataset that check passes and the loader reads', async () => {
    const out = join(tmp, 'baseline');
    const r = runData([...common(out), ...modalities, '--split-by', 'subject']);
    expect(r.status, r.stderr).toBe(0);
    expect(r.stdout).toContain('BASELINE');
    expect(r.stdout).toMatch(/FUTR dataset .*: 6 videos/); // check's report follows the summary
    expect(r.stdout.trim().split('\n').at(-1)).toBe('no problems');
    const check = runData(['check', out]);
    expect(check.status, check.stdout).toBe(0);
    expect(check.stdout).toMatch(/imu\s+6\s+6/);
    expect(check.stdout).toMatch(/text\s+32\s+6/);
    expect(readFileSync(join(out, 'mapping.txt'), 'utf8').split('\n')[0]).toMatch(/^0 \S+$/);
    const loaded: string[] = [];
    const subjects = new Map<string, string>();
    const labelsCsv = readFileSync(join(example, 'labels.csv'), 'utf8').trim().split('\n').slice(1).map((l) => l.split(','));
    for (const row of labelsCsv) subjects.set(row[0]!, row[4]!);
    const splitOfSubject = new Map<string, string>();
    for (const split of Object.values(SPLIT_FILES).filter((s) => existsSync(join(out, 'splits', s)))) {
      const ds = new FutrDataset({ root: out, split, modalities: ['rgb', 'depth', 'imu', 'text'], lengthMismatch: 'error' });
      for await (const seq of ds.sequences()) {
        loaded.push(seq.id);
        expect(seq.modalities.rgb!.dim).toBe(256);
        expect(seq.modalities.depth!.dim).toBe(24 * 32);
        expect(seq.modalities.imu!.dim).toBe(6);
        expect(seq.modalities.text!.dim).toBe(32);
        expect(readNpy(join(out, 'features_imu', `${seq.id}.npy`)).dtype).toBe('float32');
        // every frame of the example is annotated, so every label is a class
        expect(Array.from(seq.labels).every((l) => l >= 0)).toBe(true);
        const d = seq.modalities.depth!.data;
        expect(Math.min(...d.subarray(0, 768))).toBe(0);
        expect(Math.max(...d.subarray(0, 768))).toBe(1);
        const s = subjects.get(seq.id)!;
        expect(splitOfSubject.get(s) ?? split).toBe(split); // subjects kept apart
        splitOfSubject.set(s, split);
      }
    }
    expect(loaded.sort()).toEqual(['clip-01', 'clip-02', 'clip-03', 'clip-04', 'clip-05', 'clip-06']);
    // the labels follow the annotation: clip-01 starts idle for 0.333 s (frames 0 and 1 at 5 fps), then reach
    const gt = readFileSync(join(out, 'groundTruth', 'clip-01.txt'), 'utf8').split('\n');
    expect(gt.slice(0, 3)).toEqual(['idle', 'idle', 'reach']);
    // a rerun finds everything done and changes nothing
    const before = hashTree(out);
    const again = runData([...common(out), ...modalities, '--split-by', 'subject']);
    expect(again.status, again.stderr).toBe(0);
    expect(again.stdout).toContain('imported 0 video(s), 6 already done');
    expect(hashTree(out)).toEqual(before);
  });

  it('with a TF.js model as extractor, writes what the model gives on the decoded frames (1e-5)', async () => {
    const tf = await import('@tensorflow/tfjs-core');
    await import('@tensorflow/tfjs-backend-cpu');
    await tf.setBackend('cpu');
    const tfl = await import('@tensorflow/tfjs-layers');
    const model = tfl.sequential({
      layers: [
        tfl.layers.conv2d({ inputShape: [24, 32, 3], filters: 4, kernelSize: 3, strides: 2, activation: 'relu', kernelInitializer: tfl.initializers.glorotUniform({ seed: 1 }) }),
        tfl.layers.conv2d({ filters: 8, kernelSize: 3, strides: 2, activation: 'relu', kernelInitializer: tfl.initializers.glorotUniform({ seed: 2 }) }),
        tfl.layers.globalAveragePooling2d({}),
      ],
    });
    const modelDir = join(tmp, 'tiny-cnn');
    await model.save(fileSystem(modelDir));
    const out = join(tmp, 'model');
    const r = runData([...common(out), '--rgb-model', modelDir, '--rgb-normalise', '-1-1', '--backend', 'cpu', '--rgb-batch', '5']);
    expect(r.status, r.stderr).toBe(0);
    expect(readdirSync(out).sort()).toEqual(['features', 'groundTruth', 'import.json', 'mapping.txt', 'splits']); // no empty modality folders
    expect(r.stdout).toContain('LayersModel');
    expect(r.stdout).not.toContain('BASELINE');
    // decode the video independently of the importer: ffmpeg, rgb24, the same fps and size
    const raw = spawnSync('ffmpeg', ['-v', 'error', '-i', join(example, 'videos', 'clip-02.mp4'), '-vf', 'fps=5,scale=32:24:flags=bilinear', '-f', 'rawvideo', '-pix_fmt', 'rgb24', '-'], { maxBuffer: 1 << 26 }).stdout;
    const T = raw.length / (24 * 32 * 3);
    const x = tf.tensor4d(Float32Array.from(raw, (v) => (v / 255) * 2 - 1), [T, 24, 32, 3]);
    const want = (model.predict(x) as import('@tensorflow/tfjs-core').Tensor).dataSync();
    const got = readNpy(join(out, 'features', 'clip-02.npy'));
    expect(got.shape).toEqual([T, 8]);
    let worst = 0;
    for (let i = 0; i < want.length; i++) worst = Math.max(worst, Math.abs((got.data as Float32Array)[i]! - want[i]!));
    expect(worst).toBeLessThan(1e-5);
    expect(Math.max(...want)).toBeGreaterThan(0); // not a dead network
  });

  it('resumes after a SIGKILL: the same files as an uninterrupted run', async () => {
    const full = join(tmp, 'full');
    const args = (out: string): string[] => [...common(out), '--fps', '15', ...modalities, '--depth-size', '120x160'];
    const r = runData(args(full));
    expect(r.status, r.stderr).toBe(0);
    const killed = join(tmp, 'killed');
    const child = startData(args(killed));
    const done = (): number => (existsSync(join(killed, 'groundTruth')) ? readdirSync(join(killed, 'groundTruth')).filter((f) => f.endsWith('.txt')).length : 0);
    const exited = new Promise<NodeJS.Signals | null>((resolve) => child.on('exit', (_code, signal) => resolve(signal)));
    let atKill = -1;
    for (;;) {
      await new Promise((res) => setTimeout(res, 5));
      if (done() >= 2) {
        atKill = done();
        child.kill('SIGKILL');
        break;
      }
    }
    expect(await exited).toBe('SIGKILL');
    expect(atKill).toBeLessThan(6);
    expect(existsSync(join(killed, 'mapping.txt'))).toBe(false);
    const again = runData(args(killed));
    expect(again.status, again.stderr).toBe(0);
    expect(again.stdout).toMatch(new RegExp(`imported ${6 - atKill} video\\(s\\), ${atKill} already done`));
    expect(hashTree(killed)).toEqual(hashTree(full));
  });

  it('check on a broken copy exits 2 naming the file; import exits 2 when its check finds errors', () => {
    const out = join(tmp, 'broken');
    expect(runData([...common(out), '--no-check']).status).toBe(0);
    // this seed's 70/15/15 cut leaves two classes out of train: warnings, exit 1
    const warned = runData(['check', out]);
    expect(warned.status, warned.stdout).toBe(1);
    expect(warned.stdout).toMatch(/warning .*mapping\.txt:\d+: class \d+ "\w+" has no frame in the train split/);
    rmSync(join(out, 'features', 'clip-02.npy'));
    const r = runData(['check', out]);
    expect(r.status).toBe(2);
    expect(r.stdout).toContain(join(out, 'features', 'clip-02.npy'));
    expect(runData(['check', out, '--json']).stdout).toMatch(/^\{"event":"check",.*"exitCode":2\}\n$/);
    // a rerun takes clip-02 as done (its ground truth is there) and its check reports the hole
    const again = runData(common(out));
    expect(again.status).toBe(2);
    expect(again.stdout).toContain('clip-02.npy');
  });

  it('text from per-frame phrase files and from precomputed embeddings', () => {
    const base = join(tmp, 'text-base');
    expect(runData([...common(base), '--no-check']).status).toBe(0);
    const phrases = join(tmp, 'phrases');
    const npy = join(tmp, 'embeddings');
    mkdirSync(phrases);
    mkdirSync(npy);
    const frames = new Map<string, number>();
    for (const f of readdirSync(join(base, 'groundTruth'))) {
      const labels = readFileSync(join(base, 'groundTruth', f), 'utf8').trim().split('\n');
      const id = f.slice(0, -4);
      frames.set(id, labels.length);
      writeFileSync(join(phrases, `${id}.txt`), `${labels.map((l) => `someone doing ${l}`).join('\n')}\n`);
      writeNpy(join(npy, `${id}.npy`), { shape: [labels.length, 3], data: Float32Array.from({ length: labels.length * 3 }, (_, i) => i / 7) });
    }
    const a = join(tmp, 'text-phrases');
    expect(runData([...common(a), '--text', phrases, '--text-dim', '16', '--no-check']).status).toBe(0);
    const encoder = new HashedNgramEncoder({ dim: 16 });
    const labels01 = readFileSync(join(base, 'groundTruth', 'clip-01.txt'), 'utf8').trim().split('\n');
    expect(readNpy(join(a, 'features_text', 'clip-01.npy')).data).toEqual(encoder.encode(labels01.map((l) => `someone doing ${l}`)));
    const b = join(tmp, 'text-npy');
    expect(runData([...common(b), '--text-npy', npy, '--no-check']).status).toBe(0);
    expect(readNpy(join(b, 'features_text', 'clip-03.npy'))).toMatchObject({ shape: [frames.get('clip-03'), 3] });
    expect(readFileSync(join(b, 'features_text', 'clip-03.npy'))).toEqual(readFileSync(join(npy, 'clip-03.npy')));
    // a phrase file one line short: exit 2 naming it
    writeFileSync(join(phrases, 'clip-02.txt'), `${'x\n'.repeat(frames.get('clip-02')! - 1)}`);
    const short = runData([...common(join(tmp, 'text-short')), '--text', phrases]);
    expect(short.status).toBe(2);
    expect(errorLines(short.stderr)[0]).toMatch(/phrases\/clip-02\.txt:\d+: expected \d+ phrases \(one per frame\)/);
  });

  it('refuses a rerun with other settings unless --overwrite', () => {
    const out = join(tmp, 'settings');
    expect(runData([...common(out), '--no-check']).status).toBe(0);
    const r = runData([...common(out), '--fps', '4', '--no-check']);
    expect(r.status).toBe(2);
    expect(errorLines(r.stderr)).toHaveLength(1);
    expect(errorLines(r.stderr)[0]).toContain('import.json');
    expect(runData([...common(out), '--fps', '4', '--no-check', '--overwrite']).status).toBe(0);
  });
});

describe('r3d-data import: user errors exit 2 with one line naming the file', () => {
  const oneLine = (r: { status: number | null; stderr: string }, pattern: RegExp): void => {
    expect(r.status, r.stderr).toBe(2);
    const lines = errorLines(r.stderr);
    expect(lines, r.stderr).toHaveLength(1);
    expect(lines[0]).toMatch(pattern);
  };
  const labels = (name: string, text: string): string => {
    const p = join(tmp, name);
    writeFileSync(p, text);
    return p;
  };
  const run = (labelFile: string, extra: string[] = []) => runData(['import', '--videos', join(example, 'videos'), '--labels', labelFile, '--out', join(tmp, 'err'), '--no-progress', ...extra]);

  it('a bad CSV line', () => {
    const p = labels('bad.csv', 'video,start,end,label\nclip-01,0,1,a\nclip-01,2,1,b\n');
    oneLine(run(p), /^r3d-data: .*bad\.csv:3: expected an end time after the start/);
  });
  it('an unknown video in the annotations', () => {
    const p = labels('unknown.csv', 'video,start,end,label\nclip-01,0,1,a\nclip-99,0,1,b\n');
    oneLine(run(p), /^r3d-data: .*unknown\.csv:3: video "clip-99" is not among the inputs/);
  });
  it('a missing ffmpeg', () => {
    oneLine(run(join(example, 'labels.csv'), ['--ffmpeg', '/nonexistent/ffmpeg']), /^r3d-data: ffmpeg: cannot run "\/nonexistent\/ffmpeg" .*install it/);
  });
  it('a missing split column and a missing label file', () => {
    oneLine(run(join(example, 'labels.csv'), ['--split-by', 'session']), /labels\.csv:1: --split-by session: no such column/);
    oneLine(run(join(tmp, 'nope.csv')), /nope\.csv: cannot read it \(ENOENT\)/);
  });
  it('a bad IMU row, found when its video comes', () => {
    const imu = join(tmp, 'imu-bad');
    cpSync(join(example, 'imu'), imu, { recursive: true });
    const p = join(imu, 'clip-01.csv');
    const rows = readFileSync(p, 'utf8').split('\n');
    rows[4] = '0.2667,1,2,x,4,5,6';
    writeFileSync(p, rows.join('\n'));
    oneLine(run(join(example, 'labels.csv'), ['--imu', imu, '--out', join(tmp, 'err-imu')]), /imu-bad\/clip-01\.csv:5: expected a finite number in column "az", found "x"/);
  });
  it('a bad flag value', () => {
    oneLine(run(join(example, 'labels.csv'), ['--depth-size', '120by160']), /expected HEIGHTxWIDTH/);
  });
});
