/** The label of a frame that has none (UNDEFINED in the annotations); losses ignore it. */
export const UNDEFINED_LABEL = -1;

/**
 * One modality of a sequence: `frames` rows of `dim` values, row-major in `data`. `shape` gives
 * the per-frame layout when it is an image (e.g. `[H, W]` for depth, `[H, W, 3]` for RGB frames).
 */
export interface FrameModality {
  dim: number;
  data: Float32Array;
  shape?: number[];
}

/** Modality names the loaders fill; other names (e.g. `skeleton`, `rgbFrames`) may appear too. */
export type ModalityName = 'rgb' | 'depth' | 'text' | 'imu';

/**
 * A video with its aligned per-frame modalities and frame labels: the common currency of every
 * loader in this package. `labels[t]` is a class index or `UNDEFINED_LABEL` (-1).
 *
 * @example
 * for await (const seq of dataset.sequences()) console.log(seq.id, seq.frames, seq.modalities.rgb?.dim);
 */
export interface Sequence {
  id: string;
  frames: number;
  labels: Int32Array;
  modalities: Partial<Record<ModalityName, FrameModality>> & Record<string, FrameModality | undefined>;
  /** Free-form facts a loader knows (subject, split, camera...). */
  meta?: Record<string, unknown>;
}

/** Builds a `FrameModality`, checking that `data` holds whole frames. */
export function frameModality(frames: number, dim: number, data: Float32Array, shape?: number[]): FrameModality {
  if (data.length !== frames * dim) {
    throw new RangeError(`modality data holds ${data.length} values, expected ${frames} frames x ${dim}`);
  }
  return shape ? { dim, data, shape } : { dim, data };
}

/** Returns the rows [start, end) of a modality (a copy). */
export function sliceFrames(m: FrameModality, start: number, end: number, step = 1): FrameModality {
  const rows: number[] = [];
  for (let t = start; t < end; t += step) rows.push(t);
  const out = new Float32Array(rows.length * m.dim);
  rows.forEach((t, i) => out.set(m.data.subarray(t * m.dim, (t + 1) * m.dim), i * m.dim));
  return m.shape ? { dim: m.dim, data: out, shape: m.shape.slice() } : { dim: m.dim, data: out };
}

/**
 * Every `rate`-th frame of a sequence from the first (labels and every modality; a copy), as a
 * lower frame rate samples it; `rate` 1 returns the sequence itself.
 *
 * @example
 * subsampleSequence(seq, 5).frames; // Math.ceil(seq.frames / 5): frames 0, 5, 10, ...
 */
export function subsampleSequence(seq: Sequence, rate: number): Sequence {
  if (!(Number.isInteger(rate) && rate >= 1)) throw new RangeError(`subsampleSequence: rate must be a positive integer, got ${rate}`);
  if (rate === 1) return seq;
  const modalities: Sequence['modalities'] = {};
  for (const [name, m] of Object.entries(seq.modalities)) if (m) modalities[name] = sliceFrames(m, 0, seq.frames, rate);
  const labels = Int32Array.from({ length: Math.ceil(seq.frames / rate) }, (_, i) => seq.labels[i * rate]!);
  return { ...seq, frames: labels.length, labels, modalities };
}
