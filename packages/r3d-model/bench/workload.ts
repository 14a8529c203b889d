/**
 * The R3D workload the benches time, on the current backend: a training step (forward + loss +
 * backward + the trainer's AdamW step, lr 1e-4, weight decay 5e-3 as released) at B=8, T=100,
 * C=128, RGB 2048, depth 120x160, 20 classes, and an evaluation forward at B=1, T=300. Used by
 * this package's bench (against PyTorch) and by its kernel profile (`profile.ts`). The model's
 * modules are imported directly: the package index also loads the weight readers, which the step
 * does not need.
 */
import * as tf from '@tensorflow/tfjs-core';
import { AdamW } from '@r3d-ts/optim';
import { captureStep, type CaptureStatus } from '@r3d-ts/step-capture';
import { depthEncoder, rgbEncoder } from '../src/config.js';
import { r3dLoss } from '../src/losses.js';
import { createR3DModel } from '../src/r3d.js';

export interface R3DWorkload {
  /** One training step; reads the loss back, so the step has finished when it returns. */
  step(): void;
  /** One evaluation forward; reads the action logits back. */
  evaluate(): void;
  /** What the captured step and forward did last (when `capture` is on). */
  captureStatus(): { step: CaptureStatus; evaluate: CaptureStatus } | undefined;
  dispose(): void;
}

export interface WorkloadOptions {
  /** Run the step and the forward through `captureStep` (@r3d-ts/step-capture): recorded, then replayed. */
  capture?: boolean;
  /** Dropout rate of the model (default 0.1, as released). */
  dropout?: number;
}

export function r3dWorkload(options: WorkloadOptions = {}): R3DWorkload {
  const N = 20;
  const B = 8;
  const T = 100;
  const model = createR3DModel({ numClasses: N, rgb: rgbEncoder(2048), partner: depthEncoder(120, 160), fuser: { name: 'rtf' }, seed: 1, ...(options.dropout !== undefined ? { dropout: options.dropout } : {}) });
  const rgb = tf.randomUniform([B, T, 2048], 0, 1, 'float32', 1);
  const depth = tf.randomUniform([B, T, 120, 160], 0, 1, 'float32', 2);
  const rgb1 = tf.randomUniform([1, 300, 2048], 0, 1, 'float32', 3);
  const depth1 = tf.randomUniform([1, 300, 120, 160], 0, 1, 'float32', 4);
  const labels = Array.from({ length: B * T }, (_, i) => (i * 7) % N);
  const action = Array.from({ length: B * 8 }, (_, i) => (i * 3) % N);
  const duration = new Array(B * 8).fill(1 / 8);
  // the trainer's optimiser (one fused R3DAdamW pass per weight on native-blas), not tf.train.adam:
  // the bench times the update training runs
  const optimizer = new AdamW({ weightDecay: 5e-3 });
  const vars = model.trainableVariables();
  const byName = Object.fromEntries(vars.map((v) => [v.name, v]));
  const padIndex = model.config.padIndex;
  // the step's dropout seed comes in as a tensor, as the trainer's does: new masks every step, and
  // a captured step can replay them
  const gradients = ([x, partner, seed]: tf.Tensor[]): tf.Tensor[] => {
    const { value, grads } = tf.variableGrads(
      () => r3dLoss(model.apply({ rgb: x!, partner: partner! }, { training: true, seed: seed as tf.Scalar }), { labels, action, duration }, { padIndex }).total,
      vars,
    );
    return [value, ...vars.map((v) => grads[v.name]!)];
  };
  const forward = ([x, partner]: tf.Tensor[]): tf.Tensor[] => tf.tidy(() => [model.apply({ rgb: x!, partner: partner! }).action]);
  let steps = 0;
  const capturedGradients = options.capture ? captureStep(gradients) : undefined;
  const capturedForward = options.capture ? captureStep(forward) : undefined;
  return {
    step() {
      const seed = tf.scalar(steps++, 'int32');
      const [value, ...g] = capturedGradients ? capturedGradients.run([rgb, depth, seed]) : gradients([rgb, depth, seed]);
      seed.dispose();
      optimizer.applyGradients(Object.fromEntries(vars.map((v, i) => [v.name, g[i]!])), byName, 1e-4);
      value!.dataSync();
      tf.dispose([value!, ...g]);
    },
    evaluate() {
      const [action] = capturedForward ? capturedForward.run([rgb1, depth1]) : forward([rgb1, depth1]);
      action!.dataSync();
      tf.dispose(action!);
    },
    captureStatus() {
      return capturedGradients && capturedForward ? { step: capturedGradients.status, evaluate: capturedForward.status } : undefined;
    },
    dispose() {
      tf.dispose([rgb, depth, rgb1, depth1]);
      optimizer.dispose();
      capturedGradients?.dispose();
      capturedForward?.dispose();
      model.dispose();
    },
  };
}

/**
 * The kernels of a `tf.profile` without custom-gradient scopes ('unnamed scope') and op wrappers
 * ('fusedMatMul__op'): those enclose kernels that are listed too, and would be counted twice.
 */
export function ownKernels<K extends { name: string }>(kernels: K[]): K[] {
  return kernels.filter((k) => k.name !== 'unnamed scope' && !k.name.endsWith('__op'));
}

/**
 * Floating-point operations of the matrix products among profiled kernels (2 m n k per product,
 * `BatchMatMul`, `_FusedMatMul` and the depth projection's `R3DLinearNormRelu`), from their input and output shapes: the reduction length is
 * the dimension of the first operand that is not the output's row count (transposed or not, the
 * shapes say which). Element-wise work is left out: the products are the compute bound.
 *
 * @example
 * const gflop = matmulFlops(ownKernels((await tf.profile(step)).kernels)) / 1e9;
 */
export function matmulFlops(kernels: { name: string; inputShapes: (number[] | null)[]; outputShapes: (number[] | null)[] }[]): number {
  let flops = 0;
  for (const k of kernels) {
    if (k.name !== 'BatchMatMul' && k.name !== '_FusedMatMul' && k.name !== 'R3DLinearNormRelu') continue;
    const a = k.inputShapes[0];
    const out = k.outputShapes[0];
    if (!a || !out || a.length < 2 || out.length < 2) continue;
    const m = out[out.length - 2]!;
    const [r, c] = [a[a.length - 2]!, a[a.length - 1]!];
    const reduction = c !== m ? c : r;
    flops += 2 * out.reduce((p, d) => p * d, 1) * reduction;
  }
  return flops;
}

/** A product's shape, m x k times k x n. */
export interface GemmShape {
  m: number;
  k: number;
  n: number;
}

/**
 * The shapes `measureGemmPeak` tries: 512^3, where @r3d-ts/native-blas's kernels run fastest, and
 * the step's depth projection (800 x 19200 times 19200 x 128, 70% of its FLOPs), where wasm's
 * XNNPACK runs fastest (about 1.3x its 512^3 rate). A peak from one of them alone would let the
 * other backend's step pass 100% of it.
 */
export const PEAK_SHAPES: readonly GemmShape[] = [
  { m: 512, k: 512, n: 512 },
  { m: 800, k: 19200, n: 128 },
];

/**
 * The current backend's GEMM peak as this machine gives it now, in FLOP/s: the best rate of `runs`
 * products at each of `shapes` (after one warm-up each). Measured beside the step, under the same
 * load, so the step's achieved fraction compares like with like.
 *
 * @example
 * console.log(`${(measureGemmPeak() / 1e9).toFixed(0)} GFLOP/s`);
 */
export function measureGemmPeak(runs = 10, shapes: readonly GemmShape[] = PEAK_SHAPES): number {
  let peak = 0;
  for (const { m, k, n } of shapes) {
    const a = tf.randomUniform([m, k], -1, 1, 'float32', 5);
    const b = tf.randomUniform([k, n], -1, 1, 'float32', 6);
    let best = Infinity;
    for (let i = 0; i <= runs; i++) {
      const t0 = performance.now();
      const c = tf.matMul(a, b);
      c.dataSync();
      const ms = performance.now() - t0;
      c.dispose();
      if (i > 0) best = Math.min(best, ms); // the first run warms the kernels and the pool
    }
    tf.dispose([a, b]);
    peak = Math.max(peak, (2 * m * k * n) / (best / 1e3));
  }
  return peak;
}
