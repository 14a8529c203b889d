import * as tf from '@tensorflow/tfjs-core';
import type { DataId, DataType, KernelBackend, KernelConfig, KernelFunc, NamedAttrMap, TensorInfo } from '@tensorflow/tfjs-core';

/** Where a kernel's input (or one of the step's outputs) comes from. */
export type Source =
  | { kind: 'slot'; slot: number } // an output of an earlier recorded kernel call
  | { kind: 'input'; index: number } // the step's input tensor at this index
  | { kind: 'variable'; variable: tf.Variable } // read at replay time: its value changes between steps
  // A tensor the step did not compute: created inside it from JavaScript values (`values`, e.g. a
  // tf.scalar inside an op), or one that existed before it and the step closes over (`values` null).
  | { kind: 'constant'; dataId: DataId; values: ArrayLike<number | string> | null };

export interface Operand {
  source: Source;
  shape: number[];
  dtype: DataType;
}

export interface RecordedCall {
  /** The registry entry (its kernelName), and the function it held, called directly on replay. */
  config: KernelConfig;
  kernelFunc: KernelFunc;
  attrs: NamedAttrMap;
  /** Input names in call order, or null where the kernel takes an array (Concat, AddN, ...). */
  keys: string[] | null;
  inputs: (Operand | null | undefined)[];
  /** Slots its outputs fill. */
  outputs: number[];
  /**
   * The input whose data its one output shares (Reshape, Identity, a Cast to the same dtype: the
   * output is the input's data id under another shape), or undefined when it computed new data.
   */
  alias?: number;
}

export interface Recording {
  backend: KernelBackend;
  backendName: string;
  calls: RecordedCall[];
  outputs: Operand[];
  /** Variables the step assigns (batch-norm running statistics, say), with their final value. */
  assigns: { variable: tf.Variable; value: Operand }[];
  slots: number;
  /** Constants this recording holds a reference to (released by `releaseRecording`). */
  held: DataId[];
  /** Why this step cannot be replayed, when it cannot. */
  failure?: string;
}

function copyValues(values: unknown): ArrayLike<number | string> | null {
  if (values == null) return null;
  if (ArrayBuffer.isView(values)) return (values as unknown as Float32Array).slice();
  if (Array.isArray(values)) return values.slice() as (number | string)[];
  return null;
}

type Hooked = Pick<KernelBackend, 'write' | 'readSync' | 'read'>;

/**
 * Runs `fn(inputs)` eagerly while recording every kernel call the registry dispatches on the
 * current backend at the top level (kernels that call other kernels replay those themselves),
 * where each input came from, and the tensors the step creates from JavaScript values. The
 * registry's functions and the backend's write/read methods are wrapped only for the duration of
 * the call and restored after it, even when `fn` throws.
 */
export function record(fn: (inputs: tf.Tensor[]) => tf.Tensor[], inputs: tf.Tensor[]): { outputs: tf.Tensor[]; recording: Recording } {
  const engine = tf.engine();
  const backendName = tf.getBackend();
  const backend = tf.backend();
  const configs = tf.getKernelsForBackend(backendName);
  const originals = new Map<KernelConfig, KernelFunc>();
  const inputIds = new Map<DataId, number>();
  inputs.forEach((t, i) => {
    if (!inputIds.has(t.dataId)) inputIds.set(t.dataId, i);
  });
  const variablesBefore = new Map<tf.Variable, DataId>();
  const variableIds = new Map<DataId, tf.Variable>();
  for (const v of Object.values(engine.registeredVariables)) {
    variablesBefore.set(v, v.dataId);
    variableIds.set(v.dataId, v);
  }

  const recording: Recording = { backend, backendName, calls: [], outputs: [], assigns: [], slots: 0, held: [] };
  const slotOf = new Map<DataId, number>();
  const written = new Map<DataId, ArrayLike<number | string> | null>();
  const heldSet = new Set<DataId>();
  let depth = 0;
  const fail = (reason: string): void => {
    recording.failure ??= reason;
  };

  const sourceOf = (t: TensorInfo): Source => {
    const id = t.dataId;
    const slot = slotOf.get(id);
    if (slot !== undefined) return { kind: 'slot', slot };
    const index = inputIds.get(id);
    if (index !== undefined) return { kind: 'input', index };
    const variable = variableIds.get(id);
    if (variable) return { kind: 'variable', variable };
    if (!heldSet.has(id)) {
      // the step may dispose it when it ends: the replay keeps its own reference
      backend.incRef(id);
      heldSet.add(id);
      recording.held.push(id);
    }
    return { kind: 'constant', dataId: id, values: written.has(id) ? written.get(id)! : null };
  };
  // null and undefined stay apart: kernels test optional inputs with `!== undefined`
  const operand = (t: TensorInfo | null | undefined): Operand | null | undefined =>
    t == null ? t : { source: sourceOf(t), shape: t.shape.slice(), dtype: t.dtype };

  const wrap = (config: KernelConfig, original: KernelFunc): KernelFunc =>
    ((args: Parameters<KernelFunc>[0]) => {
      if (depth > 0) {
        depth++;
        try {
          return original(args);
        } finally {
          depth--;
        }
      }
      const keys = Array.isArray(args.inputs) ? null : Object.keys(args.inputs);
      const list = (keys === null ? (args.inputs as unknown as TensorInfo[]) : keys.map((k) => args.inputs[k])) as (TensorInfo | null)[];
      const operands = list.map(operand);
      depth++;
      let result: TensorInfo | TensorInfo[];
      try {
        result = original(args);
      } finally {
        depth--;
      }
      const outs = Array.isArray(result) ? result : [result];
      const outputs = outs.map((o) => {
        const slot = recording.slots++;
        slotOf.set(o.dataId, slot);
        return slot;
      });
      const call: RecordedCall = { config, kernelFunc: original, attrs: args.attrs ?? {}, keys, inputs: operands, outputs };
      if (outs.length === 1) {
        const alias = list.findIndex((t) => t != null && t.dataId === outs[0]!.dataId);
        if (alias >= 0) call.alias = alias;
      }
      recording.calls.push(call);
      return result;
    }) as KernelFunc;

  const hooked = backend as unknown as Hooked;
  const own = { write: Object.getOwnPropertyDescriptor(backend, 'write'), readSync: Object.getOwnPropertyDescriptor(backend, 'readSync'), read: Object.getOwnPropertyDescriptor(backend, 'read') };
  const { write, readSync, read } = hooked;
  try {
    for (const config of configs) {
      originals.set(config, config.kernelFunc);
      config.kernelFunc = wrap(config, config.kernelFunc);
    }
    hooked.write = function (this: KernelBackend, ...args: Parameters<KernelBackend['write']>) {
      const id = write.apply(this, args);
      if (depth === 0) written.set(id, copyValues(args[0]));
      return id;
    };
    hooked.readSync = function (this: KernelBackend, ...args: Parameters<KernelBackend['readSync']>) {
      if (depth === 0) fail('it reads a tensor back (dataSync, arraySync) inside the step, so its JavaScript may depend on the values');
      return readSync.apply(this, args);
    };
    hooked.read = function (this: KernelBackend, ...args: Parameters<KernelBackend['read']>) {
      if (depth === 0) fail('it reads a tensor back (data, array) inside the step, so its JavaScript may depend on the values');
      return read.apply(this, args);
    };
    const outputs = fn(inputs);
    recording.outputs = outputs.map((t) => operand(t)!);
    for (const config of tf.getKernelsForBackend(backendName)) {
      if (!originals.has(config)) fail(`kernel ${config.kernelName} was registered during the step, so its calls were not recorded`);
    }
    for (const v of Object.values(engine.registeredVariables)) {
      const before = variablesBefore.get(v);
      if (before === undefined) fail(`it creates variable ${v.name} inside the step`);
      else if (before !== v.dataId) {
        // the replay assigns it the same value at the end of the step; reads after the assignment
        // inside the step already refer to the kernel output that became its value
        const value = operand(v)!;
        if (value.source.kind === 'variable') fail(`it assigns variable ${v.name} the value of another variable inside the step`);
        recording.assigns.push({ variable: v, value });
      }
    }
    return { outputs, recording };
  } catch (err) {
    releaseRecording(recording);
    throw err;
  } finally {
    for (const [config, original] of originals) config.kernelFunc = original;
    for (const key of ['write', 'readSync', 'read'] as const) {
      const descriptor = own[key];
      if (descriptor) Object.defineProperty(backend, key, descriptor);
      else delete (hooked as Partial<Hooked>)[key];
    }
  }
}

/** Drops the references a recording holds. */
/**
 * Drops one reference to a buffer, and the engine's record of it when that was the last: a tensor
 * the engine made (a constant the recording holds, a kernel's output that was an engine tensor)
 * would otherwise stay in its bookkeeping, counted by tf.memory() though freed.
 */
export function freeData(backend: KernelBackend, id: DataId): void {
  if (backend.disposeData(id)) tf.engine().removeDataId(id, backend);
}

export function releaseRecording(recording: Recording): void {
  for (const id of recording.held) freeData(recording.backend, id);
  recording.held = [];
}

function sameValues(a: ArrayLike<unknown>, b: ArrayLike<unknown>): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (!Object.is(a[i], b[i])) return false;
  return true;
}

function sameAttr(a: unknown, b: unknown): boolean {
  if (Object.is(a, b)) return true;
  if (typeof a !== 'object' || typeof b !== 'object' || a === null || b === null) return false;
  if (ArrayBuffer.isView(a) || ArrayBuffer.isView(b) || Array.isArray(a) || Array.isArray(b)) {
    if (Array.isArray(a) !== Array.isArray(b)) return false;
    const x = a as unknown as ArrayLike<unknown>;
    const y = b as unknown as ArrayLike<unknown>;
    if (x.length !== y.length) return false;
    for (let i = 0; i < x.length; i++) if (!sameAttr(x[i], y[i])) return false;
    return true;
  }
  const ka = Object.keys(a);
  const kb = Object.keys(b);
  if (ka.length !== kb.length) return false;
  return ka.every((k) => sameAttr((a as Record<string, unknown>)[k], (b as Record<string, unknown>)[k]));
}

function sameOperand(a: Operand | null | undefined, b: Operand | null | undefined): boolean {
  if (a == null || b == null) return a === b;
  if (a.dtype !== b.dtype || !sameValues(a.shape, b.shape)) return false;
  const x = a.source;
  const y = b.source;
  switch (x.kind) {
    case 'slot':
      return y.kind === 'slot' && x.slot === y.slot;
    case 'input':
      return y.kind === 'input' && x.index === y.index;
    case 'variable':
      return y.kind === 'variable' && x.variable === y.variable;
    case 'constant':
      if (y.kind !== 'constant') return false;
      if (x.values === null || y.values === null) return x.values === y.values && x.dataId === y.dataId;
      return sameValues(x.values, y.values);
  }
}

/**
 * Why two recordings of the same step differ (undefined when they are the same program): the
 * replay is only trusted for a step whose kernels, attributes, wiring and JavaScript-made
 * constants did not change from one call to the next.
 */
export function difference(a: Recording, b: Recording): string | undefined {
  if (a.backend !== b.backend) return 'the backend changed between the first two steps';
  if (a.calls.length !== b.calls.length) return `the first two steps ran ${a.calls.length} and ${b.calls.length} kernels`;
  for (let i = 0; i < a.calls.length; i++) {
    const x = a.calls[i]!;
    const y = b.calls[i]!;
    const where = `kernel call ${i} (${y.config.kernelName})`;
    if (x.config !== y.config || x.kernelFunc !== y.kernelFunc) return `${where} differs between the first two steps (${x.config.kernelName} before)`;
    if (!sameAttr(x.attrs, y.attrs)) return `the attributes of ${where} differ between the first two steps (a number computed in JavaScript from something other than the inputs?)`;
    if (!sameAttr(x.keys, y.keys) || x.inputs.length !== y.inputs.length || !sameValues(x.outputs, y.outputs) || x.alias !== y.alias) {
      return `the operands of ${where} differ between the first two steps`;
    }
    for (let j = 0; j < x.inputs.length; j++) {
      if (!sameOperand(x.inputs[j]!, y.inputs[j]!)) {
        const s = y.inputs[j]?.source;
        return s?.kind === 'constant' && s.values !== null
          ? `input ${j} of ${where} is a tensor made in JavaScript inside the step whose values differ between the first two steps (random numbers drawn in JavaScript, as tf.dropout does, or values computed from something other than the inputs)`
          : `input ${j} of ${where} comes from a different place in the first two steps`;
      }
    }
  }
  if (a.outputs.length !== b.outputs.length || a.outputs.some((o, i) => !sameOperand(o, b.outputs[i]!))) return 'the step returns different outputs in the first two steps';
  if (a.assigns.length !== b.assigns.length || a.assigns.some((x, i) => x.variable !== b.assigns[i]!.variable || !sameOperand(x.value, b.assigns[i]!.value))) {
    return 'the step assigns different variables, or different values, in the first two steps';
  }
  return undefined;
}
