import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import * as tf from '@tensorflow/tfjs-core';
import { selectBackend } from '@r3d-ts/backend';
import { readNpyFolder } from '@r3d-ts/tensor-io/node';
import { testBackends } from '@r3d-ts/tooling/vitest/backends';
import { sharedFixture } from '@r3d-ts/tooling/vitest/fixtures';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { depthEncoder, rgbEncoder } from './config.js';
import { r3dLoss } from './losses.js';
import { buildR3DModel, createR3DModel, type R3DModel } from './r3d.js';
import { fixedFuser, fixtureTensor, parityConfig, relativeError } from './test-helpers.js';

const dir = sharedFixture('r3d-parity');
const TOL = 1e-4;

describe.skipIf(!dir).each(testBackends())('r3d-parity, decoder side on the fixture fused tokens (%s)', (backend) => {
  const fixture = dir!;
  const manifest = dir ? JSON.parse(readFileSync(join(fixture, 'manifest.json'), 'utf8')) : {};
  const lossRef = dir ? JSON.parse(readFileSync(join(fixture, 'loss.json'), 'utf8')) : {};
  let model: R3DModel;
  let fused: tf.Tensor3D;
  const t: Record<string, tf.Tensor> = {};
  const load = (name: string) => (t[name] ??= fixtureTensor(fixture, name));
  const cfg = manifest.config ?? {};

  beforeAll(async () => {
    await selectBackend({ backend });
    fused = load('out_fused') as tf.Tensor3D;
    model = createR3DModel(
      { numClasses: cfg.n_class, rgb: rgbEncoder(cfg.input_dim), partner: depthEncoder(cfg.H, cfg.W), padIndex: cfg.pad_idx, noneIndex: cfg.none_idx },
      { fuser: fixedFuser(() => fused) },
    );
    const report = model.setWeights(readNpyFolder(fixture), { source: fixture });
    expect(report.unused.filter((n) => !n.startsWith('fuser.') && !/^(inputs|out|target)_/.test(n))).toEqual([]);
  });
  afterAll(() => {
    model?.dispose();
    tf.dispose(Object.values(t));
  });

  const inputs = () => ({ rgb: load('inputs_rgb'), partner: load('inputs_depth'), lengths: cfg.lengths as number[] });

  it('encoders equal out_embed_rgb / out_embed_depth', () => {
    const out = model.apply(inputs());
    expect(relativeError(out.tokens.x, load('out_embed_rgb'))).toBeLessThan(TOL);
    expect(relativeError(out.tokens.y, load('out_embed_depth'))).toBeLessThan(TOL);
    tf.dispose(out);
  });

  it('evaluation path equals out_decoder, out_action, out_duration, out_seg', () => {
    const out = model.apply(inputs());
    expect(relativeError(out.decoder, load('out_decoder'))).toBeLessThan(TOL);
    expect(relativeError(out.action, load('out_action'))).toBeLessThan(TOL);
    expect(relativeError(out.duration, load('out_duration'))).toBeLessThan(TOL);
    expect(relativeError(out.segmentation, load('out_seg'))).toBeLessThan(TOL);
    tf.dispose(out);
  });

  it('mode=train key padding mask equals out_train_* and the eval_bn loss', () => {
    const out = model.apply(inputs(), { keyPaddingMask: true });
    expect(relativeError(out.decoder, load('out_train_decoder'))).toBeLessThan(TOL);
    expect(relativeError(out.action, load('out_train_action'))).toBeLessThan(TOL);
    expect(relativeError(out.duration, load('out_train_duration'))).toBeLessThan(TOL);
    // the mask must matter: without it item 2 differs
    const unmasked = model.apply(inputs());
    expect(relativeError(unmasked.action, load('out_train_action'))).toBeGreaterThan(1e-3);
    const loss = r3dLoss(out, { labels: load('inputs_label'), action: load('target_action'), duration: load('target_duration') }, { padIndex: cfg.pad_idx });
    expect(loss.itemWeights).toEqual(lossRef.transition_weight);
    for (const [k, ref] of [['segmentation', 'seg'], ['action', 'action'], ['duration', 'duration'], ['total', 'total']] as const) {
      expect(Math.abs(loss[k].dataSync()[0]! - lossRef.eval_bn[ref]) / Math.abs(lossRef.eval_bn[ref])).toBeLessThan(TOL);
    }
    tf.dispose([out, unmasked, loss.segmentation, loss.action, loss.duration, loss.total]);
  });

  it('batch-statistics fused tokens give out_trainbn_*, the train_bn loss and the decoder-side gradients', () => {
    fused = load('out_trainbn_fused') as tf.Tensor3D;
    const targets = { labels: load('inputs_label'), action: load('target_action'), duration: load('target_duration') };
    const out = model.apply(inputs(), { keyPaddingMask: true });
    expect(relativeError(out.action, load('out_trainbn_action'))).toBeLessThan(TOL);
    expect(relativeError(out.duration, load('out_trainbn_duration'))).toBeLessThan(TOL);
    expect(relativeError(out.decoder, load('out_trainbn_decoder'))).toBeLessThan(TOL);
    expect(relativeError(out.segmentation, load('out_trainbn_seg'))).toBeLessThan(TOL);
    tf.dispose(out);
    const own = model.trainableVariables().filter((v) => !v.name.includes('input_embed') && !v.name.includes('depth_'));
    const { value, grads } = tf.variableGrads(() => {
      const o = model.apply(inputs(), { keyPaddingMask: true });
      return r3dLoss(o, targets, { padIndex: cfg.pad_idx }).total;
    }, own);
    expect(Math.abs(value.dataSync()[0]! - lossRef.train_bn.total) / lossRef.train_bn.total).toBeLessThan(TOL);
    for (const v of own) {
      const name = v.name.split('/')[1]!;
      const ref = lossRef.train_bn.grad_l2[name] as number;
      const norm = tf.tidy(() => tf.norm(grads[v.name]!).dataSync()[0]!);
      if (name === 'fc_len.bias') expect(norm).toBeLessThan(1e-6); // the L1 normalisation makes it vanish
      else expect(Math.abs(norm - ref) / ref, name).toBeLessThan(1e-3);
    }
    tf.dispose([value, ...Object.values(grads)]);
    fused = load('out_fused') as tf.Tensor3D;
  });

  it('does not leak tensors over repeated forward passes', () => {
    const run = () => tf.dispose(model.apply(inputs(), { training: true }));
    run();
    const before = tf.memory().numTensors;
    for (let i = 0; i < 3; i++) run();
    expect(tf.memory().numTensors).toBe(before);
  });
});

// The full model twice per backend: with the functional fuser (createR3DModel) and with the fuser
// as a tf.layers Layer (buildR3DModel, what load() returns); both must match the authors' model.
const builds = testBackends().flatMap((backend) => (['functional fuser', 'fuser Layer'] as const).map((build) => [backend, build] as const));

describe.skipIf(!dir).each(builds)('r3d-parity, full model with the rtf fuser (%s, %s)', (backend, build) => {
  const fixture = dir!;
  const manifest = dir ? JSON.parse(readFileSync(join(fixture, 'manifest.json'), 'utf8')) : {};
  const lossRef = dir ? JSON.parse(readFileSync(join(fixture, 'loss.json'), 'utf8')) : {};
  const cfg = manifest.config ?? {};
  const t: Record<string, tf.Tensor> = {};
  const load = (name: string) => (t[name] ??= fixtureTensor(fixture, name));
  const weights = dir ? readNpyFolder(fixture) : new Map();
  let model: R3DModel;

  beforeAll(async () => {
    await selectBackend({ backend });
    // the released fuser (bn-gamma selection, ratio 0.1) with dropout off, as the parity runs had
    const config = parityConfig(cfg);
    model = build === 'fuser Layer' ? await buildR3DModel(config) : createR3DModel(config);
    expect(model.fuserLayer != null).toBe(build === 'fuser Layer');
  });
  afterAll(() => {
    model?.dispose();
    tf.dispose(Object.values(t));
  });
  // training mode moves the BatchNorm running statistics: every test starts from the fixture's weights
  const reload = () => model.setWeights(weights, { source: fixture });
  const inputs = () => ({ rgb: load('inputs_rgb'), partner: load('inputs_depth'), lengths: cfg.lengths as number[] });
  const targets = () => ({ labels: load('inputs_label'), action: load('target_action'), duration: load('target_duration') });

  it('loads every weight; only the non-weight arrays are unused', () => {
    const report = reload();
    expect(report.unused.filter((n) => !/^(inputs|out|target)_/.test(n))).toEqual([]);
    expect(report.loaded).toHaveLength(manifest.params ? Object.keys(manifest.params).length : report.loaded.length);
  });

  it('evaluation equals out_fused, out_action, out_duration, out_seg', () => {
    reload();
    const out = model.apply(inputs());
    expect(relativeError(out.fused, load('out_fused'))).toBeLessThan(TOL);
    expect(relativeError(out.action, load('out_action'))).toBeLessThan(TOL);
    expect(relativeError(out.duration, load('out_duration'))).toBeLessThan(TOL);
    expect(relativeError(out.segmentation, load('out_seg'))).toBeLessThan(TOL);
    tf.dispose(out);
  });

  it("mode='train' with modules in eval equals out_train_* and the eval_bn loss", () => {
    reload();
    const out = model.apply(inputs(), { keyPaddingMask: true });
    expect(relativeError(out.action, load('out_train_action'))).toBeLessThan(TOL);
    expect(relativeError(out.duration, load('out_train_duration'))).toBeLessThan(TOL);
    expect(relativeError(out.decoder, load('out_train_decoder'))).toBeLessThan(TOL);
    const loss = r3dLoss(out, targets(), { padIndex: cfg.pad_idx });
    expect(Math.abs(loss.total.dataSync()[0]! - lossRef.eval_bn.total) / lossRef.eval_bn.total).toBeLessThan(TOL);
    tf.dispose([out, loss.segmentation, loss.action, loss.duration, loss.total]);
  });

  it('training statistics (no dropout) equal out_trainbn_*, the running statistics, the train_bn loss and every gradient', () => {
    reload();
    const out = model.apply(inputs(), { training: true, dropout: false });
    for (const [actual, name] of [
      [out.fused, 'out_trainbn_fused'], [out.action, 'out_trainbn_action'], [out.duration, 'out_trainbn_duration'],
      [out.decoder, 'out_trainbn_decoder'], [out.segmentation, 'out_trainbn_seg'],
    ] as const) expect(relativeError(actual, load(name)), name).toBeLessThan(TOL);
    const after = model.getWeights();
    for (const [w, name] of [
      ['fuser.bn_rgb.running_mean', 'out_trainbn_running_mean_rgb'], ['fuser.bn_rgb.running_var', 'out_trainbn_running_var_rgb'],
      ['fuser.bn_depth.running_mean', 'out_trainbn_running_mean_depth'], ['fuser.bn_depth.running_var', 'out_trainbn_running_var_depth'],
    ] as const) expect(relativeError(after.get(w)!, load(name)), w).toBeLessThan(TOL);
    tf.dispose([out, ...after.values()]);

    reload();
    const vars = model.trainableVariables();
    const { value, grads } = tf.variableGrads(() => r3dLoss(model.apply(inputs(), { training: true, dropout: false }), targets(), { padIndex: cfg.pad_idx }).total, vars);
    expect(Math.abs(value.dataSync()[0]! - lossRef.train_bn.total) / lossRef.train_bn.total).toBeLessThan(TOL);
    const names = new Map<string, string>();
    const named = model.getWeights();
    // the fuser names its variables internally: match each to its PyTorch name by value (all weights are distinct random draws)
    for (const [name, w] of named) {
      const v = vars.find((x) => x.size === w.size && tf.tidy(() => tf.max(tf.abs(tf.sub(tf.reshape(x, [-1]), tf.reshape(w, [-1])))).dataSync()[0]! === 0 || (x.rank === 2 && x.shape[0] === w.shape[1] && tf.max(tf.abs(tf.sub(tf.transpose(x), w))).dataSync()[0]! === 0)));
      if (v) names.set(v.name, name);
    }
    tf.dispose([...named.values()]);
    let checked = 0;
    for (const v of vars) {
      const name = names.get(v.name);
      const ref = name ? (lossRef.train_bn.grad_l2[name] as number | undefined) : undefined;
      expect(ref, `reference gradient for ${v.name}`).toBeDefined();
      const norm = tf.tidy(() => tf.norm(grads[v.name]!).dataSync()[0]!);
      if (ref! < 1e-6) expect(norm, name).toBeLessThan(1e-5);
      else expect(Math.abs(norm - ref!) / ref!, name).toBeLessThan(2e-3);
      checked++;
    }
    expect(checked).toBe(Object.keys(lossRef.train_bn.grad_l2).length);
    tf.dispose([value, ...Object.values(grads)]);
  });

  it('does not leak tensors over repeated training-mode passes', () => {
    reload();
    const run = () => tf.dispose(model.apply(inputs(), { training: true }));
    run();
    const before = tf.memory().numTensors;
    for (let i = 0; i < 3; i++) run();
    expect(tf.memory().numTensors).toBe(before);
  });
});
