/** Target size of a resized frame. */
export interface FrameSize {
  height: number;
  width: number;
}

/**
 * Bilinear resize with half-pixel centres (the convention of OpenCV `INTER_LINEAR`, PIL
 * `BILINEAR` without antialiasing, and PyTorch `interpolate(align_corners=False)`): output pixel
 * (y, x) samples the source at ((y + 0.5) * H / h - 0.5, (x + 0.5) * W / w - 0.5), clamped to the
 * edges. No antialiasing: strong downscales alias, as in the released R3D preprocessing.
 *
 * @example
 * const small = resizeBilinear(frame, 424, 512, 1, { height: 120, width: 160 });
 */
export function resizeBilinear(src: ArrayLike<number>, height: number, width: number, channels: number, size: FrameSize): Float32Array {
  const { height: oh, width: ow } = size;
  const out = new Float32Array(oh * ow * channels);
  if (oh === height && ow === width) {
    for (let i = 0; i < out.length; i++) out[i] = src[i]!;
    return out;
  }
  const sy = height / oh;
  const sx = width / ow;
  const x0s = new Int32Array(ow);
  const x1s = new Int32Array(ow);
  const fxs = new Float32Array(ow);
  for (let x = 0; x < ow; x++) {
    const fx = Math.min(Math.max((x + 0.5) * sx - 0.5, 0), width - 1);
    x0s[x] = Math.floor(fx);
    x1s[x] = Math.min(x0s[x]! + 1, width - 1);
    fxs[x] = fx - x0s[x]!;
  }
  for (let y = 0; y < oh; y++) {
    const fy = Math.min(Math.max((y + 0.5) * sy - 0.5, 0), height - 1);
    const y0 = Math.floor(fy);
    const y1 = Math.min(y0 + 1, height - 1);
    const wy = fy - y0;
    for (let x = 0; x < ow; x++) {
      const x0 = x0s[x]!;
      const x1 = x1s[x]!;
      const wx = fxs[x]!;
      for (let c = 0; c < channels; c++) {
        const a = src[(y0 * width + x0) * channels + c]!;
        const b = src[(y0 * width + x1) * channels + c]!;
        const d = src[(y1 * width + x0) * channels + c]!;
        const e = src[(y1 * width + x1) * channels + c]!;
        const top = a + (b - a) * wx;
        const bottom = d + (e - d) * wx;
        out[(y * ow + x) * channels + c] = top + (bottom - top) * wy;
      }
    }
  }
  return out;
}

/**
 * Min-max normalises one frame to [0, 1] in place (what R3D's depth encoder expects). A constant
 * frame (e.g. all background) becomes all zeros rather than NaN.
 *
 * @example
 * minMaxNormalise(depthFrame); // min -> 0, max -> 1
 */
export function minMaxNormalise(frame: Float32Array): Float32Array {
  let lo = Infinity;
  let hi = -Infinity;
  for (let i = 0; i < frame.length; i++) {
    const v = frame[i]!;
    if (v < lo) lo = v;
    if (v > hi) hi = v;
  }
  const range = hi - lo;
  if (!(range > 0) || !Number.isFinite(range)) {
    frame.fill(0);
    return frame;
  }
  for (let i = 0; i < frame.length; i++) frame[i] = (frame[i]! - lo) / range;
  return frame;
}

/** Normalises a depth volume (T frames of H x W) frame by frame and resizes it; returns T*h*w values. */
export function prepareDepthFrames(frames: Float32Array, count: number, height: number, width: number, size?: FrameSize): Float32Array {
  const oh = size?.height ?? height;
  const ow = size?.width ?? width;
  const out = new Float32Array(count * oh * ow);
  for (let t = 0; t < count; t++) {
    const src = frames.subarray(t * height * width, (t + 1) * height * width);
    const r = size ? resizeBilinear(src, height, width, 1, size) : Float32Array.from(src);
    out.set(minMaxNormalise(r), t * oh * ow);
  }
  return out;
}
