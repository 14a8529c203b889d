import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import * as tf from '@tensorflow/tfjs-core';
import { selectBackend } from '@r3d-ts/backend';
import { testBackends } from '@r3d-ts/tooling/vitest/backends';
import { sharedFixture } from '@r3d-ts/tooling/vitest/fixtures';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { depthEncoder, rgbEncoder } from './config.js';
import { r3dLoss } from './losses.js';
import { createR3DModel, type R3DModel } from './r3d.js';
import { fixedFuser, fixtureTensor, relativeError } from './test-helpers.js';
import { readNpyFolder } from './weights/npy-folder.js';

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
    expect(relativeError(out.embedded.rgb, load('out_embed_rgb'))).toBeLessThan(TOL);
    expect(relativeError(out.embedded.partner, load('out_embed_depth'))).toBeLessThan(TOL);
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
