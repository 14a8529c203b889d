import * as tf from '@tensorflow/tfjs-core';
import { FuserError, shapeText } from './errors.js';

/** A weight's values as loaded from an .npy file or a checkpoint: PyTorch layout, row-major. */
export interface WeightData {
  shape: readonly number[];
  data: ArrayLike<number>;
}

/** What `setWeights` accepts: a record or a map of PyTorch-named weights. */
export type WeightSource = Record<string, WeightData | tf.Tensor> | Map<string, WeightData | tf.Tensor>;

export interface SetWeightsOptions {
  /** Require every weight of the fuser to be present (default false: load what is given). */
  strict?: boolean;
}

/**
 * How a stored variable maps to its PyTorch state_dict entry: `plain` (same shape and layout; a
 * Linear weight too, stored (out, in) as PyTorch keeps it), `reshape` (same values, the PyTorch
 * shape differs, e.g. alpha (C) vs (1, 1, C)).
 */
export type WeightLayout = 'plain' | 'reshape';

interface Entry {
  name: string;
  variable: tf.Variable;
  layout: WeightLayout;
  torchShape: number[];
  trainable: boolean;
}

/**
 * The named weights of one fuser, with conversion to and from PyTorch names and layouts. Names
 * are the authors' state_dict keys without the `fuser.` prefix.
 */
export class WeightRegistry {
  private readonly entries = new Map<string, Entry>();

  add(name: string, variable: tf.Variable, layout: WeightLayout = 'plain', trainable = true): tf.Variable {
    const shape = variable.shape;
    const torchShape = layout === 'reshape' ? [1, 1, ...shape] : [...shape];
    this.entries.set(name, { name, variable, layout, torchShape, trainable });
    return variable;
  }

  names(): string[] {
    return [...this.entries.keys()];
  }

  /** PyTorch shapes by name. */
  shapes(): Map<string, number[]> {
    return new Map([...this.entries.values()].map((e) => [e.name, e.torchShape]));
  }

  trainable(): tf.Variable[] {
    return [...this.entries.values()].filter((e) => e.trainable).map((e) => e.variable);
  }

  /** Trainable variables by weight name (the variable's own layout, not PyTorch's). */
  trainableByName(): Map<string, tf.Variable> {
    return new Map([...this.entries.values()].filter((e) => e.trainable).map((e) => [e.name, e.variable]));
  }

  /** New tensors in PyTorch layout, owned by the caller. */
  get(): Map<string, tf.Tensor> {
    const out = new Map<string, tf.Tensor>();
    for (const e of this.entries.values()) {
      out.set(
        e.name,
        tf.tidy(() => tf.reshape(e.variable, e.torchShape)),
      );
    }
    return out;
  }

  set(source: WeightSource, options: SetWeightsOptions = {}): void {
    const items = source instanceof Map ? [...source.entries()] : Object.entries(source);
    const seen = new Set<string>();
    const pending: Array<[Entry, tf.Tensor]> = [];
    try {
      for (const [name, value] of items) {
        if (name.endsWith('num_batches_tracked')) continue; // a BatchNorm counter nothing here reads
        const e = this.entries.get(name);
        if (!e) {
          throw new FuserError({ field: `weight '${name}'`, expected: `one of ${this.names().join(', ')}`, found: 'an unknown name' });
        }
        const shape = value instanceof tf.Tensor ? value.shape : [...value.shape];
        const fits = sameShape(shape, e.torchShape) || (e.layout === 'reshape' && sameShape(shape, e.variable.shape));
        if (!fits) {
          throw new FuserError({ field: `weight '${name}'`, expected: `shape ${shapeText(e.torchShape)}`, found: shapeText(shape) });
        }
        if (!(value instanceof tf.Tensor) && value.data.length !== e.variable.size) {
          throw new FuserError({ field: `weight '${name}'`, expected: `${e.variable.size} values for shape ${shapeText(shape)}`, found: `${value.data.length}` });
        }
        seen.add(name);
        pending.push([
          e,
          tf.tidy(() => {
            const t = value instanceof tf.Tensor ? tf.cast(value, 'float32') : tf.tensor(Float32Array.from(value.data), [...shape], 'float32');
            return tf.reshape(t, e.variable.shape);
          }),
        ]);
      }
      if (options.strict) {
        const missing = this.names().filter((n) => !seen.has(n));
        if (missing.length > 0) throw new FuserError({ field: 'weights', expected: 'every weight of the fuser (strict)', found: `missing ${missing.join(', ')}` });
      }
      for (const [e, t] of pending) e.variable.assign(t);
    } finally {
      for (const [, t] of pending) t.dispose();
    }
  }

  dispose(): void {
    for (const e of this.entries.values()) e.variable.dispose();
    this.entries.clear();
  }
}

function sameShape(a: readonly number[], b: readonly number[]): boolean {
  return a.length === b.length && a.every((d, i) => d === b[i]);
}

/**
 * Creates one fuser weight from its initial value (which it must not keep): the functional fusers
 * make a plain `tf.variable`, a fuser Layer makes a Layers weight (`addWeight`) and hands back the
 * variable inside it, so both run the same fuser code on their own variables.
 */
export type VariableFactory = (init: tf.Tensor, name: string, trainable: boolean) => tf.Variable;

let activeFactory: VariableFactory | undefined;

/**
 * Runs `build` (a fuser constructor) with every weight it makes coming from `factory`.
 *
 * @example
 * const fuser = withVariableFactory((init, name, trainable) => layerWeight(init, name, trainable), () => createFuser('rtf'));
 */
export function withVariableFactory<T>(factory: VariableFactory, build: () => T): T {
  const previous = activeFactory;
  activeFactory = factory;
  try {
    return build();
  } finally {
    activeFactory = previous;
  }
}

let uid = 0;
/** A float32 variable with a process-unique name (tfjs requires unique variable names), or the active factory's. */
export function makeVariable(init: tf.Tensor, name: string, trainable = true): tf.Variable {
  const v = activeFactory ? activeFactory(init, name, trainable) : tf.variable(init, trainable, `${name}_${uid++}`);
  init.dispose();
  return v;
}
