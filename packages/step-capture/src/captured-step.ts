import * as tf from '@tensorflow/tfjs-core';
import type { TensorInfo } from '@tensorflow/tfjs-core';
import { type Operand, type RecordedCall, type Recording, type Source, difference, freeData, record, releaseRecording } from './recording.js';

/** What a `CapturedStep` did on its last call, and why it ran eagerly when it did. */
export interface CaptureStatus {
  mode: 'recording' | 'replay' | 'eager';
  /** Why the step is not replayed (set in 'eager' mode). */
  reason?: string;
  /**
   * In 'replay' mode: the kernel calls the step was recorded with, and those the replay makes
   * (aliases such as Reshape and calls whose outputs nothing reads are left out).
   */
  kernels?: { recorded: number; replayed: number };
}

/** A kernel call as the replay makes it. */
interface PlannedCall {
  call: RecordedCall;
  /** The recorded inputs, read through the aliases the plan removed. */
  inputs: (Operand | null | undefined)[];
  /** Slots to dispose after it (their last use); the step's outputs are never freed. */
  free: number[];
}

interface Plan {
  recording: Recording;
  calls: PlannedCall[];
  outputs: Operand[];
  assigns: { variable: tf.Variable; value: Operand }[];
  kernels: [tf.KernelConfig, tf.KernelFunc][];
  /** Each variable the step reads, once, as recorded (checked before every replay). */
  variables: [tf.Variable, Operand][];
}

interface Entry {
  first?: Recording;
  plan?: Plan;
  eager?: string;
}

/** Step shapes kept at a time (each holds the constants of its recording). */
const MAX_SIGNATURES = 8;

function signature(inputs: tf.Tensor[]): string {
  return inputs.map((t) => `${t.dtype}[${t.shape.join(',')}]`).join(' ');
}

/**
 * The calls a replay makes, from a recording. Two kinds of recorded calls are left out, since
 * neither changes a bit of what the step returns:
 * - aliases (Reshape, Identity, a Cast to the same dtype): their output is their input's data
 *   under another shape, so the calls that read it read the input instead, with the shape they
 *   recorded. They are half the calls of R3D's training step, each costing the replay's
 *   per-call bookkeeping for no arithmetic;
 * - dead calls, whose outputs neither the step's outputs, nor the values it assigns, nor any
 *   later live call reads (the heads an evaluation forward computes but does not return, the
 *   tape's gradients of non-trainable inputs). Kernels are pure functions of their inputs and
 *   attributes, which the replay already relies on.
 */
function buildPlan(recording: Recording): Plan {
  const root = new Map<number, Source>();
  const through = (o: Operand | null | undefined): Operand | null | undefined => {
    if (o == null || o.source.kind !== 'slot') return o;
    const r = root.get(o.source.slot);
    return r ? { source: r, shape: o.shape, dtype: o.dtype } : o;
  };
  const kept: PlannedCall[] = [];
  for (const call of recording.calls) {
    const inputs = call.inputs.map(through);
    const aliased = call.alias === undefined ? undefined : inputs[call.alias];
    if (aliased != null) root.set(call.outputs[0]!, aliased.source);
    else kept.push({ call, inputs, free: [] });
  }
  const outputs = recording.outputs.map((o) => through(o)!);
  const assigns = recording.assigns.map(({ variable, value }) => ({ variable, value: through(value)! }));

  const read = new Set<number>();
  const mark = (o: Operand | null | undefined): void => {
    if (o?.source.kind === 'slot') read.add(o.source.slot);
  };
  outputs.forEach(mark);
  assigns.forEach((a) => mark(a.value));
  const calls: PlannedCall[] = [];
  for (let i = kept.length - 1; i >= 0; i--) {
    const c = kept[i]!;
    if (!c.call.outputs.some((slot) => read.has(slot))) continue;
    c.inputs.forEach(mark);
    calls.push(c);
  }
  calls.reverse();

  const last = new Array<number>(recording.slots).fill(-1);
  calls.forEach((c, i) => {
    for (const operand of c.inputs) if (operand?.source.kind === 'slot') last[operand.source.slot] = i;
    for (const slot of c.call.outputs) if (last[slot] === -1) last[slot] = i; // never read: freed at once
  });
  // handed to the caller, or to an assigned variable
  for (const o of [...outputs, ...assigns.map((a) => a.value)]) if (o.source.kind === 'slot') last[o.source.slot] = -2;
  last.forEach((i, slot) => {
    if (i >= 0) calls[i]!.free.push(slot);
  });

  // as recorded, removed calls included: a re-registered Reshape or a resized variable makes the
  // step another program
  const kernels = new Map<tf.KernelConfig, tf.KernelFunc>();
  const variables = new Map<tf.Variable, Operand>();
  for (const call of recording.calls) {
    kernels.set(call.config, call.kernelFunc);
    for (const o of call.inputs) if (o?.source.kind === 'variable') variables.set(o.source.variable, o);
  }
  for (const o of recording.outputs) if (o.source.kind === 'variable') variables.set(o.source.variable, o);
  return { recording, calls, outputs, assigns, kernels: [...kernels], variables: [...variables] };
}

/**
 * A training (or evaluation) step recorded once as the sequence of kernel calls it makes, then
 * replayed by calling those kernels directly: none of the engine's per-op work (the gradient tape,
 * tensor tracking, scopes, kernel lookup) nor the model's JavaScript runs again. Each replayed
 * kernel gets the same inputs and attributes as in the eager step, so the outputs are the eager
 * outputs bit for bit. Create it with `captureStep`.
 */
export class CapturedStep {
  private readonly entries = new Map<string, Entry>();
  private last: CaptureStatus = { mode: 'recording' };

  constructor(private readonly fn: (inputs: tf.Tensor[]) => tf.Tensor[]) {}

  /** What the last call did: recorded, replayed, or ran eagerly (with the reason). */
  get status(): CaptureStatus {
    return this.last;
  }

  /**
   * Runs the step on `inputs`: eagerly while it records the first two calls of a new input
   * signature (shapes and dtypes), then by replay once the two recordings agree. Returns new
   * tensors the caller owns, exactly as the eager step would.
   */
  run(inputs: tf.Tensor[]): tf.Tensor[] {
    const key = signature(inputs);
    let entry = this.entries.get(key);
    if (!entry) {
      if (this.entries.size >= MAX_SIGNATURES) return this.eager(inputs, `more than ${MAX_SIGNATURES} input shapes`);
      entry = {};
      this.entries.set(key, entry);
    }
    if (entry.eager !== undefined) return this.eager(inputs, entry.eager);
    const engineState = tf.engine().state as unknown as { activeTape: unknown; profiling: boolean };
    if (engineState.activeTape != null) return this.eager(inputs, 'called inside a gradient computation');
    if (engineState.profiling) return this.eager(inputs, 'called inside tf.profile');
    if (tf.env().getBool('DEBUG')) return this.eager(inputs, 'tf debug mode is on');
    if (entry.plan) {
      const stale = this.staleness(entry.plan);
      if (stale === undefined) {
        this.last = { mode: 'replay', kernels: { recorded: entry.plan.recording.calls.length, replayed: entry.plan.calls.length } };
        return this.replay(entry.plan, inputs);
      }
      // a kernel or variable changed under the plan: record the step anew
      releaseRecording(entry.plan.recording);
      entry.plan = undefined;
    }
    const { outputs, recording } = record(this.fn, inputs);
    this.last = { mode: 'recording' };
    if (recording.failure !== undefined) {
      releaseRecording(recording);
      if (entry.first) releaseRecording(entry.first);
      entry.first = undefined;
      entry.eager = recording.failure;
      this.last = { mode: 'eager', reason: recording.failure };
    } else if (!entry.first) {
      entry.first = recording;
    } else {
      const diff = difference(entry.first, recording);
      releaseRecording(entry.first);
      entry.first = undefined;
      if (diff === undefined) entry.plan = buildPlan(recording);
      else {
        releaseRecording(recording);
        entry.eager = diff;
        this.last = { mode: 'eager', reason: diff };
      }
    }
    return outputs;
  }

  /** Releases the constants the recordings hold. The step still runs (it records again). */
  dispose(): void {
    for (const entry of this.entries.values()) {
      if (entry.first) releaseRecording(entry.first);
      if (entry.plan) releaseRecording(entry.plan.recording);
    }
    this.entries.clear();
  }

  private eager(inputs: tf.Tensor[], reason: string): tf.Tensor[] {
    this.last = { mode: 'eager', reason };
    return this.fn(inputs);
  }

  /** Why the plan may no longer describe the eager step (undefined when it still does). */
  private staleness(plan: Plan): string | undefined {
    const { recording } = plan;
    if (tf.backend() !== recording.backend) return 'the backend changed';
    for (const [config, func] of plan.kernels) {
      if (config.kernelFunc !== func || tf.getKernel(config.kernelName, recording.backendName) !== config) return `kernel ${config.kernelName} was re-registered`;
    }
    for (const [v, operand] of plan.variables) {
      if (v.isDisposed || v.dtype !== operand.dtype || v.shape.join() !== operand.shape.join()) return `variable ${v.name} changed`;
    }
    return undefined;
  }

  private replay(plan: Plan, inputs: tf.Tensor[]): tf.Tensor[] {
    const { backend } = plan.recording;
    const slots = new Array<TensorInfo | undefined>(plan.recording.slots);
    const resolve = (operand: Operand | null | undefined): TensorInfo | null | undefined => {
      if (operand == null) return operand;
      const s = operand.source;
      const dataId =
        s.kind === 'slot' ? slots[s.slot]!.dataId : s.kind === 'input' ? inputs[s.index]!.dataId : s.kind === 'variable' ? s.variable.dataId : s.dataId;
      return { dataId, shape: operand.shape, dtype: operand.dtype };
    };
    try {
      for (const { call, inputs: operands, free } of plan.calls) {
        let args: tf.NamedTensorInfoMap | TensorInfo[];
        if (call.keys === null) args = operands.map(resolve) as TensorInfo[];
        else {
          const named: Record<string, TensorInfo | null | undefined> = {};
          for (let j = 0; j < operands.length; j++) named[call.keys[j]!] = resolve(operands[j]);
          args = named as tf.NamedTensorInfoMap;
        }
        const result = call.kernelFunc({ inputs: args as tf.NamedTensorInfoMap, backend, attrs: call.attrs });
        const outs = Array.isArray(result) ? result : [result];
        for (let j = 0; j < call.outputs.length; j++) {
          const out = outs[j]!;
          if (out instanceof tf.Tensor) {
            // some kernels (tfjs-backend-cpu's Abs) return an engine tensor, which no scope will
            // dispose here: keep its buffer as a plain slot and let the tensor go
            backend.incRef(out.dataId);
            out.dispose();
            slots[call.outputs[j]!] = { dataId: out.dataId, shape: out.shape, dtype: out.dtype };
          } else slots[call.outputs[j]!] = out;
        }
        for (const slot of free) {
          freeData(backend, slots[slot]!.dataId);
          slots[slot] = undefined;
        }
      }
    } catch (err) {
      for (const info of slots) if (info) freeData(backend, info.dataId);
      throw err;
    }
    const engine = tf.engine();
    const handed = new Set<number>();
    const wrap = (o: Operand): tf.Tensor => {
      const info = resolve(o)!;
      // a slot's reference passes to its first tensor; any other gets a reference of its own
      if (o.source.kind !== 'slot' || handed.has(o.source.slot)) backend.incRef(info.dataId);
      else handed.add(o.source.slot);
      return engine.makeTensorFromTensorInfo(info, backend);
    };
    const outputs = plan.outputs.map(wrap);
    for (const { variable, value } of plan.assigns) {
      const t = wrap(value);
      variable.assign(t);
      t.dispose();
    }
    return outputs;
  }
}

/**
 * Captures a step: `fn` maps input tensors to output tensors (a loss and its gradients, or a
 * forward pass) and must be a pure function of its inputs and of the model's variables, as for a
 * CUDA graph or `torch.compile`. Everything that changes from one step to the next must come in
 * through `inputs`: the tensors `fn` closes over and the constants it makes from JavaScript
 * numbers are taken as they were recorded. The first two calls with a new input signature run
 * eagerly and are recorded; when the two recordings are the same program the later calls replay
 * it. Anything a replay could not reproduce keeps the step eager, with the reason in `status`:
 * values drawn in JavaScript that differ from step to step (tf.dropout's masks), a readback
 * (dataSync) inside the step, a variable assigned or created inside it, kernels re-registered.
 *
 * @example
 * const step = captureStep(([x, y]) => {
 *   const { value, grads } = tf.variableGrads(() => tf.losses.meanSquaredError(y!, model(x!)) as tf.Scalar, [w]);
 *   return [value, grads[w.name]!];
 * });
 * const [loss, dw] = step.run([xBatch, yBatch]); // eager twice, then replayed
 */
export function captureStep(fn: (inputs: tf.Tensor[]) => tf.Tensor[]): CapturedStep {
  return new CapturedStep(fn);
}
