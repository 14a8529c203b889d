import { spawnSync } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { SyntheticDataset } from '@r3d-ts/datasets/synthetic';
import { assertFfmpeg } from './sources.js';
import { ImportError } from './errors.js';

/** Settings of the generated example. */
export interface ExampleOptions {
  /** Number of videos (default 6). */
  videos?: number;
  /** Seed of the synthetic world (default 1). */
  seed?: number;
  /** Frame size of the videos and depth frames (default 48 x 64). */
  height?: number;
  width?: number;
  ffmpeg?: string;
}

/**
 * Writes a tiny dataset in the shapes people have, for the README walkthrough and the tests:
 * `videos/<id>.mp4` (MPEG-4 at 15 fps, encoded by ffmpeg from frames of the synthetic world:
 * a table-top arm reaching, lifting, pouring ...), `depth/<id>/NNNN.png` (16-bit PNG
 * millimetres, one per video frame), `imu/<id>.csv` (`time,ax,ay,az,gx,gy,gz`, seconds),
 * `labels.csv` (`video,start,end,label,subject`, seconds) and `narrations.csv`
 * (`video,start,end,text`). Deterministic for the seed; about 10 s of video each.
 *
 * @example
 * makeExample('example'); // then: r3d-data import --videos example/videos --labels example/labels.csv ...
 */
export function makeExample(dir: string, options: ExampleOptions = {}): { videos: string[] } {
  const n = options.videos ?? 6;
  const H = options.height ?? 48;
  const W = options.width ?? 64;
  const ffmpeg = options.ffmpeg ?? 'ffmpeg';
  assertFfmpeg(ffmpeg);
  const world = new SyntheticDataset({ seed: options.seed ?? 1, count: n, height: H, width: W, includeFrames: true });
  const fps = world.options.fps;
  for (const d of ['videos', 'depth', 'imu']) mkdirSync(join(dir, d), { recursive: true });
  const labels = ['video,start,end,label,subject'];
  const narrations = ['video,start,end,text'];
  const ids: string[] = [];
  for (let i = 0; i < n; i++) {
    const seq = world.generate(i);
    const id = `clip-${String(i + 1).padStart(2, '0')}`;
    ids.push(id);
    const T = seq.frames;
    const rgb = seq.modalities.rgbFrames!.data;
    const bytes = new Uint8Array(rgb.length);
    for (let k = 0; k < rgb.length; k++) bytes[k] = Math.round(Math.min(1, Math.max(0, rgb[k]!)) * 255);
    encode(ffmpeg, ['-f', 'rawvideo', '-pix_fmt', 'rgb24', '-s', `${W}x${H}`, '-r', String(fps), '-i', '-', '-c:v', 'mpeg4', '-q:v', '2', '-threads', '1', '-fflags', '+bitexact', '-flags', '+bitexact', '-y', join(dir, 'videos', `${id}.mp4`)], bytes);
    // depth: millimetres as big-endian 16-bit grey, one PNG per frame
    const depth = seq.modalities.depthMetres!.data;
    const mm = new Uint8Array(depth.length * 2);
    for (let k = 0; k < depth.length; k++) {
      const v = Math.min(65535, Math.max(0, Math.round(depth[k]! * 1000)));
      mm[2 * k] = v >> 8;
      mm[2 * k + 1] = v & 0xff;
    }
    mkdirSync(join(dir, 'depth', id), { recursive: true });
    encode(ffmpeg, ['-f', 'rawvideo', '-pix_fmt', 'gray16be', '-s', `${W}x${H}`, '-i', '-', '-c:v', 'png', '-pix_fmt', 'gray16be', '-fflags', '+bitexact', '-y', join(dir, 'depth', id, '%04d.png')], mm);
    const imu = seq.modalities.imu!;
    const rows = ['time,ax,ay,az,gx,gy,gz'];
    for (let t = 0; t < T; t++) rows.push([(t / fps).toFixed(4), ...Array.from(imu.data.subarray(t * imu.dim, (t + 1) * imu.dim), (v) => v.toFixed(5))].join(','));
    writeFileSync(join(dir, 'imu', `${id}.csv`), `${rows.join('\n')}\n`);
    const phrases = (seq.meta?.phrases ?? []) as string[];
    for (let a = 0; a < T;) {
      let b = a;
      while (b < T && seq.labels[b] === seq.labels[a]) b++;
      const start = (a / fps).toFixed(4);
      const end = (b / fps).toFixed(4);
      labels.push(`${id},${start},${end},${world.classNames[seq.labels[a]!]},s${i % 3}`);
      narrations.push(`${id},${start},${end},"${phrases[a]!.replace(/"/g, '""')}"`);
      a = b;
    }
  }
  writeFileSync(join(dir, 'labels.csv'), `${labels.join('\n')}\n`);
  writeFileSync(join(dir, 'narrations.csv'), `${narrations.join('\n')}\n`);
  return { videos: ids };
}

function encode(ffmpeg: string, args: string[], input: Uint8Array): void {
  const r = spawnSync(ffmpeg, ['-hide_banner', '-v', 'error', ...args], { input, stdio: ['pipe', 'ignore', 'pipe'], maxBuffer: 1 << 26 });
  if (r.error || r.status !== 0) throw new ImportError(`ffmpeg ${args.at(-1)}: ${r.error?.message ?? r.stderr.toString().trim().split('\n').pop()}`);
}
