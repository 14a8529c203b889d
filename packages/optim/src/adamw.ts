import * as tf from '@tensorflow/tfjs-core';
import { R3DAdamW, type R3DAdamWAttrs, type R3DAdamWInputs } from '@r3d-ts/kernel-names';
import { registerWasmAdamW } from './adamw-wasm.js';

// The fused update a backend may register (@r3d-ts/native-blas does; ./adamw-wasm.ts for wasm): 14 kernels become one.
const hasFusedAdamW = (): boolean => {
  if (tf.getBackend() === 'wasm') registerWasmAdamW();
  return tf.getKernel(R3DAdamW, tf.getBackend()) !== undefined;
};

/** Hyper-parameters of AdamW, with PyTorch's defaults for the ones the recipe does not set. */
export interface AdamWOptions {
  /** Weight decay factor, decoupled from the gradient (released: 5e-3; torch default 1e-2). */
  weightDecay: number;
  beta1?: number;
  beta2?: number;
  epsilon?: number;
  /** Parameters (by name) that get no weight decay; torch's released recipe decays everything. */
  noDecay?: (name: string) => boolean;
}

/** What a checkpoint stores of the optimiser: the step count and both moments per parameter. */
export interface AdamWState {
  step: number;
  /** `exp_avg.<name>` and `exp_avg_sq.<name>` for every parameter that has received a gradient. */
  moments: tf.NamedTensorMap;
}

/**
 * AdamW exactly as `torch.optim.AdamW` (amsgrad off) computes it: the weight decay is decoupled
 * (p <- p * (1 - lr * wd), applied before the Adam step, not added to the gradient as tfjs's Adam
 * and L2 regularisation do), then m and v moving averages, bias correction, and
 * p <- p - lr / (1 - b1^t) * m / (sqrt(v) / sqrt(1 - b2^t) + eps). The learning rate is given per
 * step so a schedule can drive it. Parameters without a gradient are left untouched (no decay),
 * as torch skips them. On a backend with the fused `R3DAdamW` kernel (native-blas, and wasm through
 * `registerWasmAdamW`) each update is one pass with the same float32 operations, so the numbers
 * are the same bit for bit.
 *
 * @example
 * const opt = new AdamW({ weightDecay: 5e-3 });
 * const { grads } = tf.variableGrads(() => loss(), [w]);
 * opt.applyGradients({ w: grads[w.name] }, { w }, 1e-3);
 */
export class AdamW {
  readonly weightDecay: number;
  readonly beta1: number;
  readonly beta2: number;
  readonly epsilon: number;
  private readonly noDecay: (name: string) => boolean;
  private stepCount = 0;
  private readonly m = new Map<string, tf.Variable>();
  private readonly v = new Map<string, tf.Variable>();

  constructor(options: AdamWOptions) {
    this.weightDecay = options.weightDecay;
    this.beta1 = options.beta1 ?? 0.9;
    this.beta2 = options.beta2 ?? 0.999;
    this.epsilon = options.epsilon ?? 1e-8;
    this.noDecay = options.noDecay ?? (() => false);
  }

  /** Number of updates applied so far (torch's `state['step']`). */
  get step(): number {
    return this.stepCount;
  }

  /** One update of every parameter in `variables` that has an entry in `grads`. */
  applyGradients(grads: Record<string, tf.Tensor | null | undefined>, variables: Record<string, tf.Variable>, lr: number): void {
    this.stepCount += 1;
    const t = this.stepCount;
    const bc1 = 1 - this.beta1 ** t;
    const bc2Sqrt = Math.sqrt(1 - this.beta2 ** t);
    const stepSize = lr / bc1;
    for (const name of Object.keys(variables)) {
      const g = grads[name];
      if (g == null) continue;
      const p = variables[name];
      if (!arraysEqual(g.shape, p.shape)) throw new Error(`AdamW: gradient of ${name} has shape [${g.shape}], parameter has [${p.shape}]`);
      const m = this.moment(this.m, name, p);
      const v = this.moment(this.v, name, p);
      const decay = this.noDecay(name) ? 0 : lr * this.weightDecay;
      if (hasFusedAdamW() && p.dtype === 'float32' && g.dtype === 'float32') {
        // one native pass, the same float32 operations in the same order as below
        const attrs = { keep: 1 - decay, beta1: this.beta1, beta2: this.beta2, epsilon: this.epsilon, bc2Sqrt, stepSize } satisfies R3DAdamWAttrs;
        const [p1, m1, v1] = tf.engine().runKernel(R3DAdamW, { param: p, m, v, grad: g } satisfies R3DAdamWInputs, attrs) as tf.Tensor[];
        m.assign(m1!);
        v.assign(v1!);
        p.assign(p1!);
        tf.dispose([p1!, m1!, v1!]);
        continue;
      }
      tf.tidy(() => {
        const decayed = decay === 0 ? p : tf.mul(p, tf.scalar(1 - decay));
        const m1 = tf.add(tf.mul(m, tf.scalar(this.beta1)), tf.mul(g, tf.scalar(1 - this.beta1)));
        const v1 = tf.add(tf.mul(v, tf.scalar(this.beta2)), tf.mul(tf.mul(g, g), tf.scalar(1 - this.beta2)));
        const denom = tf.add(tf.div(tf.sqrt(v1), tf.scalar(bc2Sqrt)), tf.scalar(this.epsilon));
        const p1 = tf.sub(decayed, tf.mul(tf.div(m1, denom), tf.scalar(stepSize)));
        m.assign(m1);
        v.assign(v1);
        p.assign(p1);
      });
    }
  }

  /** A copy of the state, for a checkpoint; the caller disposes the tensors. */
  getState(): AdamWState {
    const moments: tf.NamedTensorMap = {};
    for (const [name, m] of this.m) moments[`exp_avg.${name}`] = tf.clone(m);
    for (const [name, v] of this.v) moments[`exp_avg_sq.${name}`] = tf.clone(v);
    return { step: this.stepCount, moments };
  }

  /** Restores a state saved by `getState`; moments are copied, the caller keeps ownership. */
  setState(state: AdamWState): void {
    this.disposeMoments();
    this.stepCount = state.step;
    for (const [key, value] of Object.entries(state.moments)) {
      const dot = key.indexOf('.');
      const kind = key.slice(0, dot);
      const name = key.slice(dot + 1);
      const target = kind === 'exp_avg' ? this.m : kind === 'exp_avg_sq' ? this.v : undefined;
      if (!target || dot < 0) throw new Error(`AdamW.setState: unexpected moment key "${key}" (expected exp_avg.<name> or exp_avg_sq.<name>)`);
      target.set(name, tf.tidy(() => tf.variable(tf.cast(value, 'float32'), false)));
    }
  }

  dispose(): void {
    this.disposeMoments();
  }

  private disposeMoments(): void {
    for (const m of this.m.values()) m.dispose();
    for (const v of this.v.values()) v.dispose();
    this.m.clear();
    this.v.clear();
  }

  private moment(store: Map<string, tf.Variable>, name: string, like: tf.Variable): tf.Variable {
    let value = store.get(name);
    if (!value) {
      value = tf.tidy(() => tf.variable(tf.zerosLike(like), false));
      store.set(name, value);
    }
    return value;
  }
}

/**
 * Scales all gradients together so their global L2 norm is at most `maxNorm` (as
 * `torch.nn.utils.clip_grad_norm_`: coefficient maxNorm / (norm + 1e-6), applied only when below
 * 1). Returns the new gradients (the inputs are disposed when replaced) and the norm before
 * clipping.
 *
 * @example
 * const { grads, norm } = clipByGlobalNorm(rawGrads, 1.0);
 */
export function clipByGlobalNorm(grads: Record<string, tf.Tensor>, maxNorm: number): { grads: Record<string, tf.Tensor>; norm: number } {
  const names = Object.keys(grads);
  if (names.length === 0) return { grads, norm: 0 };
  const norm = tf.tidy(() => tf.sqrt(tf.addN(names.map((n) => tf.sum(tf.square(grads[n]))))).dataSync()[0]);
  const coef = maxNorm / (norm + 1e-6);
  if (!(coef < 1)) return { grads, norm };
  const out: Record<string, tf.Tensor> = {};
  for (const n of names) {
    out[n] = tf.tidy(() => tf.mul(grads[n], tf.scalar(coef)));
    grads[n].dispose();
  }
  return { grads: out, norm };
}

function arraysEqual(a: readonly number[], b: readonly number[]): boolean {
  return a.length === b.length && a.every((x, i) => x === b[i]);
}
