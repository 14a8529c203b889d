import { selectBackend } from '@r3d-ts/backend';
import { testBackends } from '@r3d-ts/tooling/vitest/backends';
import * as tf from '@tensorflow/tfjs-core';
import { afterEach, describe, expect, it } from 'vitest';
import { captureStep } from './captured-step.js';

// A two-layer MLP with a softmax cross-entropy: matmuls, broadcasts, reductions, a reshape and
// the gradient tape, the kinds of kernels a training step is made of.
function mlp(seed: number, tag = '') {
  const w1 = tf.variable(tf.randomNormal([6, 16], 0, 0.5, 'float32', seed), true, `w1_${seed}${tag}`);
  const b1 = tf.variable(tf.zeros([16]), true, `b1_${seed}${tag}`);
  const w2 = tf.variable(tf.randomNormal([16, 4], 0, 0.5, 'float32', seed + 1), true, `w2_${seed}${tag}`);
  const vars = [w1, b1, w2];
  const loss = (x: tf.Tensor, y: tf.Tensor): tf.Scalar => {
    const h = tf.relu(tf.add(tf.matMul(x, w1), b1));
    const logits = tf.reshape(tf.matMul(h, w2), [-1, 4]);
    return tf.mul(tf.mean(tf.sum(tf.mul(tf.neg(tf.logSoftmax(logits)), y), 1)), tf.scalar(2)) as tf.Scalar;
  };
  const gradStep = ([x, y]: tf.Tensor[]): tf.Tensor[] => {
    const { value, grads } = tf.variableGrads(() => loss(x!, y!), vars);
    return [value, ...vars.map((v) => grads[v.name]!)];
  };
  const update = (grads: tf.Tensor[], lr: number): void => {
    tf.tidy(() => vars.forEach((v, i) => v.assign(tf.sub(v, tf.mul(grads[i]!, lr)))));
  };
  return { vars, loss, gradStep, update, dispose: () => tf.dispose(vars) };
}

function batch(step: number, rows = 8): [tf.Tensor, tf.Tensor] {
  const x = tf.randomUniform([rows, 6], -1, 1, 'float32', 100 + step);
  const y = tf.cast(tf.oneHot(tf.tensor1d(Array.from({ length: rows }, (_, i) => (i * 3 + step) % 4), 'int32'), 4), 'float32');
  return [x, y];
}

const bits = (t: tf.Tensor): number[] => Array.from(new Uint32Array(Float32Array.from(t.dataSync() as Float32Array).buffer));

afterEach(() => tf.disposeVariables());

describe.each(testBackends())('captureStep on %s', (backend) => {
  it('replays from the third step, and every step equals the eager one bit for bit (loss, gradients, weights)', async () => {
    await selectBackend({ backend });
    const eager = mlp(1);
    const captured = mlp(1, 'captured');
    const step = captureStep(captured.gradStep);
    const modes: string[] = [];
    for (let s = 0; s < 6; s++) {
      const [x, y] = batch(s, s === 4 ? 5 : 8); // step 4 has another shape: recorded anew, eagerly
      const want = eager.gradStep([x, y]);
      const got = step.run([x, y]);
      modes.push(step.status.mode);
      expect(got.map((t) => t.shape)).toEqual(want.map((t) => t.shape));
      for (let i = 0; i < want.length; i++) expect(bits(got[i]!), `step ${s}, output ${i}`).toEqual(bits(want[i]!));
      eager.update(want.slice(1), 0.1);
      captured.update(got.slice(1), 0.1);
      for (let i = 0; i < eager.vars.length; i++) expect(bits(captured.vars[i]!), `step ${s}, weight ${i}`).toEqual(bits(eager.vars[i]!));
      tf.dispose([x, y, ...want, ...got]);
    }
    expect(modes).toEqual(['recording', 'recording', 'replay', 'replay', 'recording', 'replay']);
    step.dispose();
    eager.dispose();
    captured.dispose();
  });

  it('leaks no tensor and no backend buffer over replayed steps', async () => {
    await selectBackend({ backend });
    const model = mlp(3);
    const step = captureStep(model.gradStep);
    const [x, y] = batch(0);
    const once = () => tf.dispose(step.run([x, y]));
    once();
    once();
    once();
    expect(step.status.mode).toBe('replay');
    const tensors = tf.memory().numTensors;
    const buffers = tf.engine().backend.numDataIds();
    for (let i = 0; i < 10; i++) once();
    expect(tf.memory().numTensors).toBe(tensors);
    expect(tf.engine().backend.numDataIds()).toBe(buffers);
    step.dispose();
    tf.dispose([x, y]);
    model.dispose();
  });

  it("leaves nothing in the engine's books from kernels that return engine tensors (cpu's Abs) or from its recordings", async () => {
    await selectBackend({ backend });
    const model = mlp(4);
    // a constant made inside the step (held by the recordings) and an Abs (on cpu an engine tensor)
    const step = captureStep(([a]) => tf.tidy(() => [tf.sum(tf.abs(tf.mul(tf.matMul(a!, model.vars[0]!), tf.scalar(-3))))]));
    const [x, y] = batch(0);
    const before = tf.memory();
    for (let i = 0; i < 6; i++) tf.dispose(step.run([x]));
    expect(step.status.mode).toBe('replay');
    step.dispose();
    expect(tf.memory().numTensors).toBe(before.numTensors);
    expect(tf.memory().numDataBuffers).toBe(before.numDataBuffers);
    tf.dispose([x, y]);
    model.dispose();
  });

  it('replays without its aliases (reshapes, clones) and without calls whose outputs nothing reads, bit for bit and leak-free', async () => {
    await selectBackend({ backend });
    const make = (tag: string, dead = true) => {
      const w = tf.variable(tf.randomNormal([2, 3, 4], 0, 1, 'float32', 21), true, `w3_${tag}`);
      const fn = ([x]: tf.Tensor[]): tf.Tensor[] => {
        const { value, grads } = tf.variableGrads(() => {
          const flat = tf.reshape(w, [6, 4]); // an alias of a variable, read with another shape
          const h = tf.clone(tf.reshape(tf.matMul(x!, tf.reshape(flat, [6, 4])), [-1, 2, 2]));
          if (dead) tf.sum(tf.exp(h)); // computed, never read
          return tf.sum(tf.square(h)) as tf.Scalar;
        }, [w]);
        return [value, tf.reshape(grads[w.name]!, [24])]; // an output that is an alias
      };
      return { w, fn };
    };
    const eager = make('eager');
    const captured = make('captured');
    const step = captureStep(captured.fn);
    const [x] = batch(0);
    for (let s = 0; s < 4; s++) {
      const want = tf.tidy(() => eager.fn([x]));
      const got = step.run([x]);
      expect(got.map((t) => t.shape)).toEqual(want.map((t) => t.shape));
      for (let i = 0; i < 2; i++) expect(bits(got[i]!), `step ${s}, output ${i}`).toEqual(bits(want[i]!));
      tf.dispose([...want, ...got]);
    }
    expect(step.status.mode).toBe('replay');
    const { recorded, replayed } = step.status.kernels!;
    expect(replayed).toBeLessThanOrEqual(recorded / 2); // 29 -> 7 on cpu and native-blas
    // the dead branch costs the replay nothing: the same step without it replays as many kernels
    const lean = make('lean', false);
    const leanStep = captureStep(lean.fn);
    for (let s = 0; s < 3; s++) tf.dispose(leanStep.run([x]));
    expect(leanStep.status.kernels!.recorded).toBeLessThan(recorded);
    expect(leanStep.status.kernels!.replayed).toBe(replayed);
    leanStep.dispose();
    const tensors = tf.memory().numTensors;
    const buffers = tf.engine().backend.numDataIds();
    for (let i = 0; i < 5; i++) tf.dispose(step.run([x]));
    expect(tf.memory().numTensors).toBe(tensors);
    expect(tf.engine().backend.numDataIds()).toBe(buffers);
    step.dispose();
    tf.dispose(x);
  });

  it('hands out a reshaped input or variable as an output without freeing what it aliases', async () => {
    await selectBackend({ backend });
    const model = mlp(9);
    const step = captureStep(([a]) => [tf.reshape(a!, [-1]), tf.clone(tf.reshape(model.vars[0]!, [96])), tf.sum(tf.matMul(a!, model.vars[0]!))]);
    const [x] = batch(0);
    const want = [Array.from(x.dataSync()), Array.from(model.vars[0]!.dataSync())];
    let memory = { tensors: 0, buffers: 0 };
    for (let i = 0; i < 6; i++) {
      if (i === 3) memory = { tensors: tf.memory().numTensors, buffers: tf.engine().backend.numDataIds() };
      const [flat, weight, total] = step.run([x]);
      expect(Array.from(flat!.dataSync())).toEqual(want[0]);
      expect(Array.from(weight!.dataSync())).toEqual(want[1]);
      tf.dispose([flat!, weight!, total!]);
    }
    expect(step.status.mode).toBe('replay');
    expect({ tensors: tf.memory().numTensors, buffers: tf.engine().backend.numDataIds() }).toEqual(memory);
    expect(Array.from(x.dataSync())).toEqual(want[0]); // the input and the weight outlive their aliases
    expect(Array.from(model.vars[0]!.dataSync())).toEqual(want[1]);
    step.dispose();
    tf.dispose(x);
    model.dispose();
  });

  it('stays eager, and says why, where a replay could not reproduce the step', async () => {
    await selectBackend({ backend });
    const model = mlp(5);
    const [x, y] = batch(0);
    const cases: [string, (inputs: tf.Tensor[]) => tf.Tensor[], RegExp][] = [
      ['dropout', ([a]) => [tf.dropout(tf.matMul(a!, model.vars[0]!), 0.5)], /differ between the first two steps.*dropout/],
      ['readback', ([a]) => { const m = tf.matMul(a!, model.vars[0]!); m.dataSync(); return [m]; }, /reads a tensor back/],
      ['a new variable', ([a]) => [tf.matMul(a!, tf.variable(model.vars[0]!, false))], /creates variable/],
    ];
    for (const [name, fn, reason] of cases) {
      const step = captureStep(fn);
      for (let i = 0; i < 3; i++) tf.dispose(step.run([x, y]));
      expect(step.status.mode, name).toBe('eager');
      expect(step.status.reason, name).toMatch(reason);
    }
    tf.dispose([x, y]);
    model.dispose();
  });

  it('replays a variable assigned inside the step (running statistics), read before and after the assignment', async () => {
    await selectBackend({ backend });
    const make = (tag: string) => {
      const w = tf.variable(tf.randomNormal([6, 3], 0, 1, 'float32', 11), true, `w_${tag}`);
      const running = tf.variable(tf.zeros([3]), false, `running_${tag}`);
      const fn = ([x]: tf.Tensor[]): tf.Tensor[] => {
        const { value, grads } = tf.variableGrads(() => {
          const h = tf.matMul(x!, w);
          const before = tf.sum(tf.mul(h, running)); // the old statistics
          running.assign(tf.add(tf.mul(running, 0.9), tf.mul(tf.mean(h, 0), 0.1)));
          return tf.add(before, tf.sum(tf.square(tf.sub(h, running)))) as tf.Scalar; // the new ones
        }, [w]);
        return [value, grads[w.name]!];
      };
      return { w, running, fn };
    };
    const eager = make('eager');
    const captured = make('captured');
    const step = captureStep(captured.fn);
    for (let s = 0; s < 5; s++) {
      const [x] = batch(s);
      const want = eager.fn([x]);
      const got = step.run([x]);
      for (let i = 0; i < 2; i++) expect(bits(got[i]!), `step ${s}, output ${i}`).toEqual(bits(want[i]!));
      expect(bits(captured.running), `step ${s}, running statistics`).toEqual(bits(eager.running));
      tf.dispose([x, ...want, ...got]);
    }
    expect(step.status.mode).toBe('replay');
    step.dispose();
  });

  it('records anew when a kernel is re-registered under the plan', async () => {
    await selectBackend({ backend });
    const model = mlp(7);
    const step = captureStep(model.gradStep);
    const [x, y] = batch(0);
    for (let i = 0; i < 3; i++) tf.dispose(step.run([x, y]));
    expect(step.status.mode).toBe('replay');
    const config = tf.getKernel('Relu', tf.getBackend())!;
    tf.unregisterKernel('Relu', tf.getBackend());
    let calls = 0;
    tf.registerKernel({ ...config, kernelFunc: (args) => (calls++, config.kernelFunc(args)) });
    try {
      tf.dispose(step.run([x, y]));
      expect(step.status.mode).toBe('recording');
      expect(calls).toBeGreaterThan(0);
    } finally {
      tf.unregisterKernel('Relu', tf.getBackend());
      tf.registerKernel(config);
    }
    step.dispose();
    tf.dispose([x, y]);
    model.dispose();
  });
});
