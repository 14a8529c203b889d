import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { minMaxNormalise, resizeBilinear } from '@r3d-ts/datasets';
import { writeNpy } from '@r3d-ts/tensor-io/node';
import { depthForFrames, imuForFrames, textForFrames } from './modalities.js';
import { folderFrames, listRgbInputs, openRgbFrames, videoFrames } from './sources.js';

const tmp = mkdtempSync(join(tmpdir(), 'r3d-data-modalities-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

async function collect(frames: AsyncGenerator<Float32Array>): Promise<Float32Array[]> {
  const out: Float32Array[] = [];
  for await (const f of frames) out.push(f);
  return out;
}

describe('RGB sources', () => {
  it('a folder of PNG frames gives the same frames as the video they came from', async () => {
    // 12 frames of a moving gradient, 16 x 24, lossless (PNG) so decoding is exact
    const H = 16, W = 24, T = 12;
    const raw = new Uint8Array(T * H * W * 3);
    for (let t = 0; t < T; t++) for (let i = 0; i < H * W * 3; i++) raw[t * H * W * 3 + i] = (i * 7 + t * 19) % 256;
    const videos = join(tmp, 'videos');
    mkdirSync(join(videos, 'b'), { recursive: true });
    const ff = (args: string[]): void => {
      const r = spawnSync('ffmpeg', ['-v', 'error', '-f', 'rawvideo', '-pix_fmt', 'rgb24', '-s', `${W}x${H}`, '-r', '10', '-i', '-', ...args], { input: raw });
      expect(r.status, r.stderr.toString()).toBe(0);
    };
    ff(['-c:v', 'ffv1', '-pix_fmt', 'bgr0', join(videos, 'a.mkv')]);
    ff([join(videos, 'b', 'frame%d.png')]);
    writeFileSync(join(videos, 'notes.txt'), 'not a video');
    expect(listRgbInputs(videos).map((i) => [i.id, i.kind])).toEqual([['a', 'video'], ['b', 'frames']]);
    const fromVideo = await collect(videoFrames(join(videos, 'a.mkv'), { fps: 10, size: { height: H, width: W } }));
    const fromFolder = await collect(folderFrames(join(videos, 'b'), { height: H, width: W }));
    expect(fromVideo).toHaveLength(T);
    expect(fromFolder).toHaveLength(T); // frame10.png after frame9.png
    for (let t = 0; t < T; t++) {
      expect(fromFolder[t]).toEqual(fromVideo[t]);
      expect(Array.from(fromVideo[t]!.subarray(0, 6), (v) => Math.round(v * 255))).toEqual(Array.from(raw.subarray(t * H * W * 3, t * H * W * 3 + 6)));
    }

    // opened ahead (as import opens the next video): ffmpeg finishes before anyone reads, and every
    // frame is still there; a source that is never read is cancelled without leaving ffmpeg behind
    const ahead = openRgbFrames({ id: 'a', kind: 'video', path: join(videos, 'a.mkv') }, { fps: 10, size: { height: H, width: W } });
    await new Promise((r) => setTimeout(r, 1500));
    expect(await collect(ahead.frames)).toEqual(fromVideo);
    const unread = openRgbFrames({ id: 'a', kind: 'video', path: join(videos, 'a.mkv') }, { fps: 10, size: { height: H, width: W } });
    unread.cancel();
    unread.cancel();
  });
});

describe('depth, IMU and text per frame', () => {
  it('depth from NPY frames and from a (T, H, W) volume: picked by time, resized, min-max normalised', () => {
    const frames = join(tmp, 'depth', 'v');
    mkdirSync(frames, { recursive: true });
    const vol = new Float32Array(4 * 6 * 8);
    for (let i = 0; i < vol.length; i++) vol[i] = 500 + ((i * 37) % 101);
    for (let j = 0; j < 4; j++) writeNpy(join(frames, `d${j}.npy`), { shape: [6, 8], data: vol.slice(j * 48, (j + 1) * 48) });
    writeNpy(join(tmp, 'depth', 'w.npy'), { shape: [4, 6, 8], data: vol });
    const size = { height: 3, width: 4 };
    // depth at 10 fps, frames at 5 fps: frame i takes depth frame 2i; past the end the last one
    const want = (j: number): Float32Array => minMaxNormalise(resizeBilinear(vol.subarray(j * 48, (j + 1) * 48), 6, 8, 1, size));
    for (const source of [frames, join(tmp, 'depth', 'w.npy')]) {
      const d = depthForFrames(source, 3, { fps: 5, depthFps: 10, size });
      expect(d.subarray(0, 12)).toEqual(want(0));
      expect(d.subarray(12, 24)).toEqual(want(2));
      expect(d.subarray(24, 36)).toEqual(want(3));
    }
  });

  it('depth from UTKinect XML frames', () => {
    const dir = join(tmp, 'depth-xml', 'v');
    mkdirSync(dir, { recursive: true });
    const xml = (values: number[]) => `<?xml version="1.0"?>\n<opencv_storage>\n<depthImg1 type_id="opencv-matrix"><rows>2</rows><cols>3</cols><dt>u</dt>\n<data>${values.join(' ')}</data></depthImg1>\n</opencv_storage>\n`;
    writeFileSync(join(dir, 'depthImg190.xml'), xml([1000, 1100, 1200, 1300, 1400, 1500]));
    writeFileSync(join(dir, 'depthImg191.xml'), xml([2000, 2000, 2000, 2000, 2000, 3000]));
    const d = depthForFrames(dir, 2, { fps: 15, depthFps: 15, size: { height: 2, width: 3 } });
    expect(Array.from(d)).toEqual([0, 0.2, 0.4, 0.6, 0.8, 1, 0, 0, 0, 0, 0, 1].map((v) => Math.fround(v)));
  });

  it('IMU interpolated at the frame times, from the first timestamp or from zero, seconds or ms', () => {
    const p = join(tmp, 'imu.csv');
    writeFileSync(p, 'time,a,b\n100,0,10\n101,1,20\n102,2,30\n');
    expect(Array.from(imuForFrames(p, 3, { fps: 2, timeScale: 1, align: 'start' }).data)).toEqual([0, 10, 0.5, 15, 1, 20]);
    expect(Array.from(imuForFrames(p, 1, { fps: 2, timeScale: 1, align: 'zero' }).data)).toEqual([0, 10]); // before the log: its first value
    const ms = join(tmp, 'imu-ms.csv');
    writeFileSync(ms, 't_ms,a\n0,0\n1000,4\n');
    expect(Array.from(imuForFrames(ms, 3, { fps: 4, timeScale: 1000, align: 'zero' }).data)).toEqual([0, 1, 2]);
  });

  it('narrations become one text vector per frame, zero where none is said', async () => {
    const seg = (start: number, end: number, label: string) => ({ video: 'v', start, end, label, line: 2, extra: {} });
    const t = await textForFrames([seg(0, 1, 'pour the milk'), seg(2, 3, 'pour the milk')], 3, { unit: 'frames', fps: 1, dim: 16 });
    expect(t.dim).toBe(16);
    expect(t.data.subarray(0, 16)).toEqual(t.data.subarray(32, 48));
    expect(Array.from(t.data.subarray(16, 32)).every((v) => v === 0)).toBe(true);
    expect(Math.hypot(...t.data.subarray(0, 16))).toBeCloseTo(1, 5);
  });
});
