import { spawn, spawnSync } from 'node:child_process';
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { extname, join } from 'node:path';
import { decodeRgbFrame } from '@r3d-ts/datasets/node';
import { ImportError } from './errors.js';

/** Video file extensions `import` hands to ffmpeg (anything Debian's ffmpeg decodes; these are the usual ones). */
export const VIDEO_EXTENSIONS = new Set(['.mp4', '.m4v', '.mov', '.avi', '.mkv', '.webm', '.mpg', '.mpeg', '.wmv', '.flv', '.ogv', '.3gp', '.ts', '.mts']);
const IMAGE = /\.(png|jpe?g)$/i;

/** One RGB input: a video file (decoded by ffmpeg) or a folder of PNG/JPEG frames. */
export interface RgbInput {
  id: string;
  kind: 'video' | 'frames';
  path: string;
}

/** Frame size in pixels. */
export interface Size {
  height: number;
  width: number;
}

/**
 * The RGB inputs of a folder, sorted by id: each video file (by extension, see
 * `VIDEO_EXTENSIONS`) is a video named after the file without its extension; each subfolder
 * holding PNG/JPEG files is a video of those frames, named after the folder. Two inputs with one
 * id (`a.mp4` and `a/`) are an error.
 *
 * @example
 * listRgbInputs('my-videos'); // [{ id: 'cooking-01', kind: 'video', path: 'my-videos/cooking-01.mp4' }, ...]
 */
export function listRgbInputs(dir: string): RgbInput[] {
  let names: string[];
  try {
    names = readdirSync(dir);
  } catch (e) {
    throw new ImportError(`${dir}: expected a folder of videos or frame folders (${(e as NodeJS.ErrnoException).code ?? e})`);
  }
  const out = new Map<string, RgbInput>();
  for (const name of names.sort()) {
    const path = join(dir, name);
    let input: RgbInput | undefined;
    if (statSync(path).isDirectory()) {
      if (readdirSync(path).some((f) => IMAGE.test(f))) input = { id: name, kind: 'frames', path };
    } else if (VIDEO_EXTENSIONS.has(extname(name).toLowerCase())) input = { id: name.slice(0, -extname(name).length), kind: 'video', path };
    if (!input) continue;
    if (/\s/.test(input.id)) throw new ImportError(`${path}: a video name without spaces (split files list one name per line)`);
    const other = out.get(input.id);
    if (other) throw new ImportError(`${path}: two inputs named "${input.id}" (also ${other.path})`);
    out.set(input.id, input);
  }
  if (out.size === 0) throw new ImportError(`${dir}: no videos (${[...VIDEO_EXTENSIONS].slice(0, 6).join(' ')} ...) and no folders of PNG/JPEG frames`);
  return [...out.values()];
}

/**
 * Checks that ffmpeg runs, once, before any video: a missing one is a user error with the fix.
 *
 * @example
 * assertFfmpeg('ffmpeg');
 */
export function assertFfmpeg(ffmpeg: string): void {
  const r = spawnSync(ffmpeg, ['-hide_banner', '-version'], { stdio: ['ignore', 'ignore', 'pipe'] });
  if (r.error || r.status !== 0) {
    throw new ImportError(`ffmpeg: cannot run "${ffmpeg}" (${r.error ? (r.error as NodeJS.ErrnoException).code ?? r.error.message : `exit ${r.status}`}); install it (bash scripts/system-deps.sh, or apt-get install ffmpeg) or pass --ffmpeg <path>`);
  }
}

/**
 * The frames of a video at `fps`, scaled to `size`, one at a time as RGB in [0, 1] (H x W x 3):
 * ffmpeg runs as a child process writing raw rgb24 frames to a pipe, and only the frame being
 * assembled is held, so memory does not grow with the video's length. ffmpeg's `fps` filter picks
 * the frames (frame i is the one showing time i / fps) and `scale` resizes them bilinearly. A
 * video ffmpeg cannot decode is a user error naming the file and ffmpeg's message.
 *
 * @example
 * for await (const frame of videoFrames('clip.mp4', { fps: 15, size: { height: 224, width: 224 } })) extract(frame);
 */
export async function* videoFrames(path: string, options: { fps: number; size: Size; ffmpeg?: string }): AsyncGenerator<Float32Array> {
  yield* openVideo(path, options).frames;
}

/** Frames whose source may already be running (a video's ffmpeg), and a way to stop it unread. */
export interface FrameSource {
  frames: AsyncGenerator<Float32Array>;
  /** Stops the source if its frames will not be read (kills a started ffmpeg); idempotent. */
  cancel(): void;
}

/** Starts ffmpeg on a video now: its start-up (a fifth of a second of linking) overlaps other work. */
function openVideo(path: string, options: { fps: number; size: Size; ffmpeg?: string }): FrameSource {
  const { height, width } = options.size;
  const args = ['-hide_banner', '-nostdin', '-v', 'error', '-i', path, '-an', '-sn', '-vf', `fps=${options.fps},scale=${width}:${height}:flags=bilinear`, '-f', 'rawvideo', '-pix_fmt', 'rgb24', '-'];
  const child = spawn(options.ffmpeg ?? 'ffmpeg', args, { stdio: ['ignore', 'pipe', 'pipe'] });
  // A listener from the start: Node resumes (and so drops) an exited child's unread stdout unless
  // something listens. Unread, the stream holds its high-water mark and ffmpeg waits on the pipe.
  child.stdout.on('readable', () => {});
  let stderr = '';
  child.stderr.setEncoding('utf8');
  child.stderr.on('data', (s: string) => {
    stderr = (stderr + s).slice(-2000);
  });
  const exited = new Promise<{ code: number | null; error?: Error }>((resolve) => {
    child.on('error', (error) => resolve({ code: null, error }));
    child.on('close', (code) => resolve({ code }));
  });
  const cancel = (): void => {
    if (child.exitCode == null && child.signalCode == null) child.kill('SIGKILL');
  };
  async function* frames(): AsyncGenerator<Float32Array> {
    const frameBytes = height * width * 3;
    const buf = new Uint8Array(frameBytes);
    let filled = 0;
    let complete = false;
    try {
      for await (const chunk of child.stdout as AsyncIterable<Buffer>) {
        let off = 0;
        while (off < chunk.length) {
          const n = Math.min(frameBytes - filled, chunk.length - off);
          buf.set(chunk.subarray(off, off + n), filled);
          filled += n;
          off += n;
          if (filled === frameBytes) {
            const frame = new Float32Array(frameBytes);
            for (let i = 0; i < frameBytes; i++) frame[i] = buf[i]! / 255;
            filled = 0;
            yield frame;
          }
        }
      }
      complete = true;
    } finally {
      // the consumer stopped early (an error downstream): stop ffmpeg too
      if (!complete) cancel();
    }
    const { code, error } = await exited;
    if (error) throw new ImportError(`${path}: cannot run ffmpeg (${(error as NodeJS.ErrnoException).code ?? error.message}); pass --ffmpeg <path>`);
    if (code !== 0) throw new ImportError(`${path}: ffmpeg could not decode it (exit ${code}): ${stderr.trim().split('\n').pop() ?? ''}`);
    if (filled !== 0) throw new ImportError(`${path}: ffmpeg ended inside a frame (${filled} of ${frameBytes} bytes)`);
  }
  return { frames: frames(), cancel };
}

/**
 * The frames of a folder of PNG/JPEG images, in numeric order of the digits in their names
 * (`img9` before `img10`), decoded and resized bilinearly to `size`, as RGB in [0, 1]. Every
 * image is one frame: the folder is taken to be at the import's fps already.
 *
 * @example
 * for await (const frame of folderFrames('frames/cooking-01', { height: 224, width: 224 })) extract(frame);
 */
export async function* folderFrames(dir: string, size: Size): AsyncGenerator<Float32Array> {
  for (const name of imageFiles(dir)) {
    const path = join(dir, name);
    yield decodeRgbFrame(readFileSync(path), size, path).data;
  }
}

/**
 * Image files of a folder in numeric order of the last run of digits in their names (then by
 * name), so `frame10.png` follows `frame9.png`.
 *
 * @example
 * imageFiles('frames/clip-01'); // ['frame1.png', 'frame2.png', ..., 'frame10.png']
 */
export function imageFiles(dir: string, pattern = IMAGE): string[] {
  const key = (n: string): number => Number(/(\d+)(?!.*\d)/.exec(n)?.[1] ?? NaN);
  return readdirSync(dir).filter((f) => pattern.test(f)).sort((a, b) => {
    const ka = key(a), kb = key(b);
    if (Number.isFinite(ka) && Number.isFinite(kb) && ka !== kb) return ka - kb;
    return a < b ? -1 : a > b ? 1 : 0;
  });
}

/**
 * The frames of one RGB input, RGB in [0, 1] at `size`: a video through ffmpeg
 * (`videoFrames`), a frame folder through the PNG/JPEG decoders (`folderFrames`).
 *
 * @example
 * for await (const frame of rgbFrames(listRgbInputs('videos')[0]!, { fps: 15, size: { height: 24, width: 32 } })) use(frame);
 */
export function rgbFrames(input: RgbInput, options: { fps: number; size: Size; ffmpeg?: string }): AsyncGenerator<Float32Array> {
  return input.kind === 'video' ? videoFrames(input.path, options) : folderFrames(input.path, options.size);
}

/**
 * `rgbFrames`, started now: a video's ffmpeg begins decoding at once (into its pipe's buffer, so
 * nothing piles up), a frame folder is read as its frames are asked for. `import` opens the next
 * video while it extracts the current one, so ffmpeg's start-up is off the critical path; a source
 * that will not be read must be `cancel`led.
 *
 * @example
 * const next = openRgbFrames(inputs[1]!, { fps: 15, size: { height: 24, width: 32 } });
 * for await (const frame of next.frames) use(frame);
 */
export function openRgbFrames(input: RgbInput, options: { fps: number; size: Size; ffmpeg?: string }): FrameSource {
  return input.kind === 'video' ? openVideo(input.path, options) : { frames: folderFrames(input.path, options.size), cancel: () => {} };
}
