import * as tf from '@tensorflow/tfjs-core';
import { selectBackend } from '@r3d-ts/backend';
import { testBackends } from '@r3d-ts/tooling/vitest/backends';
import { beforeAll, describe, expect, it } from 'vitest';
import { depthEncoder, resolveConfig, rgbEncoder, vectorEncoder } from './config.js';
import { decodeAnticipation } from './decode.js';
import { ModelConfigError } from './errors.js';
import { r3dLoss } from './losses.js';
import { createR3DModel } from './r3d.js';

const tiny = { numClasses: 5, hidden: 16, heads: 2, ffnDim: 32, numQueries: 4, maxPositions: 20, rgb: rgbEncoder(8) };

describe('configuration', () => {
  it.each([
    [{ numClasses: 0 }, 'numClasses'],
    [{ numClasses: 5, hidden: 30, heads: 4 }, 'heads'],
    [{ numClasses: 5, padIndex: 2 }, 'padIndex'],
    [{ numClasses: 5, noneIndex: 5 }, 'noneIndex'],
    [{ numClasses: 5, dropout: 1 }, 'dropout'],
    [{ numClasses: 5, partner: { ...depthEncoder(4, 4), inputDim: 15 } }, 'partner.inputDim'],
  ])('%j is a ModelConfigError naming %s', (input, field) => {
    expect(() => resolveConfig(input as never)).toThrow(ModelConfigError);
    try { resolveConfig(input as never); } catch (e) { expect((e as ModelConfigError).field).toBe(field); }
  });
  it('fills the released defaults', () => {
    const c = resolveConfig({ numClasses: 12 });
    expect([c.hidden, c.heads, c.numQueries, c.ffnDim, c.maxPositions, c.encoderLayers, c.decoderLayers, c.dropout]).toEqual([128, 8, 8, 512, 2000, 0, 1, 0.1]);
    expect([c.noneIndex, c.padIndex, c.ignoreIndices]).toEqual([11, 13, [47, -1]]);
    expect(c.partner).toEqual(depthEncoder(120, 160));
    expect(c.fuser.name).toBe('rtf');
  });
});

describe.each(testBackends())('model pieces on %s', (backend) => {
  beforeAll(async () => {
    await selectBackend({ backend });
  });

  it('text/IMU partners, encoder layers and other fusers by name run end to end without leaks', () => {
    for (const [fuser, extra] of [['rtf', {}], ['sa-fuser', {}], ['concat', {}], ['mean', {}], ['late', {}], ['hard-swap', { encoderLayers: 1 }]] as const) {
      const model = createR3DModel({ ...tiny, ...extra, partner: vectorEncoder(6, 'text'), fuser: { name: fuser, options: { ratio: 0.25 } } });
      const rgb = tf.randomUniform([2, 7, 8]);
      const text = tf.randomUniform([2, 7, 6]);
      model.apply({ rgb, partner: text, lengths: [7, 5] }, { training: true }); // warm-up (fuser caches)
      const before = tf.memory().numTensors;
      const out = model.apply({ rgb, partner: text, lengths: [7, 5] }, { training: true });
      expect(out.action.shape).toEqual([2, 4, 5]);
      expect(out.duration.shape).toEqual([2, 4]);
      expect(out.segmentation.shape).toEqual([2, 7, 5]);
      tf.dispose(out);
      expect(tf.memory().numTensors, fuser).toBe(before);
      if (extra && 'encoderLayers' in extra) expect(model.weightNames()).toContain('transformer.encoder.layers.0.self_attn.in_proj_weight');
      expect(model.weightNames()).toContain('text_projection.weight');
      tf.dispose([rgb, text]);
      model.dispose();
    }
  });

  it('fuserTokens gives apply().tokens bit for bit, for every fuser, in evaluation and seeded training, without leaks', async () => {
    const bits = async (tokens: Record<string, tf.Tensor | undefined>) =>
      Object.fromEntries(await Promise.all(Object.entries(tokens).filter(([, t]) => t).map(async ([k, t]) => [k, Array.from(new Uint32Array((await t!.data() as Float32Array).buffer))])));
    for (const fuser of ['rtf', 'sa-fuser', 'concat', 'mean', 'late', 'hard-swap'] as const) {
      const model = createR3DModel({ ...tiny, partner: vectorEncoder(6, 'text'), fuser: { name: fuser, options: { ratio: 0.25 } } });
      const rgb = tf.randomUniform([2, 7, 8], -1, 1, 'float32', 1);
      const text = tf.randomUniform([2, 7, 6], -1, 1, 'float32', 2);
      for (const options of [{}, { training: true, seed: 5 }]) {
        const inputs = { rgb, partner: text, lengths: [7, 5] };
        const out = model.apply(inputs, options);
        const before = tf.memory().numTensors;
        const tokens = model.fuserTokens(inputs, options);
        expect(tf.memory().numTensors - before, `${fuser}: only the tokens stay`).toBe(new Set(Object.values(tokens).filter(Boolean)).size);
        expect(Object.keys(tokens).sort(), fuser).toEqual(Object.keys(out.tokens).sort());
        expect(await bits(tokens as never), `${fuser} ${JSON.stringify(options)}`).toEqual(await bits(out.tokens as never));
        tf.dispose([tokens as never, out as never]);
      }
      tf.dispose([rgb, text]);
      model.dispose();
    }
  });

  it('seeded dropout makes a training pass reproducible (fuser and decoder), and the seed matters', () => {
    for (const fuser of ['rtf', 'sa-fuser'] as const) {
      const model = createR3DModel({ ...tiny, partner: vectorEncoder(6, 'text'), dropout: 0.5, fuser: { name: fuser, options: { ratio: 0.25, dropout: 0.5 } } });
      const rgb = tf.randomUniform([2, 7, 8], 0, 1, 'float32', 1);
      const text = tf.randomUniform([2, 7, 6], 0, 1, 'float32', 2);
      const run = (seed?: number) => tf.tidy(() => {
        const out = model.apply({ rgb, partner: text }, { training: true, ...(seed != null ? { seed } : {}) });
        return tf.concat([tf.reshape(out.action, [-1]), tf.reshape(out.segmentation, [-1])]);
      });
      const [a, b, c] = [run(11), run(11), run(12)];
      expect(Array.from(a.dataSync()), fuser).toEqual(Array.from(b.dataSync()));
      expect(Array.from(a.dataSync())).not.toEqual(Array.from(c.dataSync()));
      const evalOnly = tf.tidy(() => tf.reshape(model.apply({ rgb, partner: text }, { training: true, dropout: false, seed: 1 }).action, [-1]));
      const evalOnly2 = tf.tidy(() => tf.reshape(model.apply({ rgb, partner: text }, { training: true, dropout: false, seed: 2 }).action, [-1]));
      expect(Array.from(evalOnly.dataSync())).toEqual(Array.from(evalOnly2.dataSync())); // dropout off: the seed is irrelevant
      const named = model.namedTrainableVariables();
      expect([...named.values()]).toEqual(model.trainableVariables());
      expect(model.weightNames()).toEqual(expect.arrayContaining([...named.keys()]));
      expect(named.has('fuser.blocks.0.attn.qkv.weight')).toBe(true);
      tf.dispose([a, b, c, evalOnly, evalOnly2, rgb, text]);
      model.dispose();
    }
  });

  it('bad inputs name the field and the expected shape', () => {
    const model = createR3DModel({ ...tiny, partner: depthEncoder(3, 4), fuser: { name: 'mean' } });
    const rgb = tf.zeros([1, 5, 8]);
    expect(() => model.apply({ rgb, partner: tf.zeros([1, 5, 4, 3]) })).toThrow(/inputs\.partner: expected a tensor of shape \(B, T, 3, 4\)/);
    expect(() => model.apply({ rgb, partner: tf.zeros([1, 5, 3, 4]), lengths: [6] })).toThrow(/inputs\.lengths\[0\]/);
    expect(() => model.apply({ rgb: tf.zeros([1, 21, 8]), partner: tf.zeros([1, 21, 3, 4]) })).toThrow(/maxPositions/);
    model.dispose();
  });

  it("loss denominators: 'all' (released) keeps ignored frames in the mean, 'valid' does not", () => {
    const seg = tf.tensor3d([[[2, 0, 0], [0, 2, 0], [0, 0, 2], [1, 1, 1]]]);
    const action = tf.tensor3d([[[0, 3, 0], [0, 0, 0]]]);
    const duration = tf.tensor2d([[0, 0]]);
    const targets = { labels: [0, 1, 47, 9], action: [1, 9], duration: [1, 9] };
    const all = r3dLoss({ segmentation: seg, action, duration }, targets, { padIndex: 9 });
    const valid = r3dLoss({ segmentation: seg, action, duration }, targets, { padIndex: 9, denominator: 'valid' });
    const ce = -Math.log(Math.exp(2) / (Math.exp(2) + 2));
    expect(all.segmentation.dataSync()[0]).toBeCloseTo((2 * ce) / 4, 5);
    expect(valid.segmentation.dataSync()[0]).toBeCloseTo(ce, 5);
    // first future action 1 != last observed label 1? last observed is 47 (not pad) -> transition weight 10
    expect(all.itemWeights).toEqual([10]);
    const ceAct = -Math.log(Math.exp(3) / (Math.exp(3) + 2));
    expect(all.action.dataSync()[0]).toBeCloseTo((10 * ceAct) / 2, 4);
    expect(all.duration.dataSync()[0]).toBeCloseTo(0, 6); // one valid query: normalised share 1 = target 1
    expect(() => r3dLoss({ segmentation: seg, action, duration }, { ...targets, labels: [0, 1, 3, 9] }, { padIndex: 9 })).toThrow(/targets\.labels\[2\]/);
    tf.dispose([seg, action, duration, all.segmentation, all.action, all.duration, all.total, valid.segmentation, valid.action, valid.duration, valid.total]);
  });

  it('decoding: argmax actions up to the first NONE, normalised exp durations, expanded to frames as released', () => {
    const n = 4; // NONE = 3
    const logits = [
      [5, 0, 0, 0], [0, 5, 0, 0], [0, 0, 0, 5], [0, 0, 5, 0], // item 0: 0, 1, NONE, (2 ignored)
      [0, 0, 0, 5], [5, 0, 0, 0], [0, 5, 0, 0], [0, 0, 5, 0], // item 1: NONE first
    ];
    const action = tf.tensor3d(logits.flat(), [2, 4, n]);
    const duration = tf.tensor2d([[Math.log(1), Math.log(3), 7, 7], [0, 0, 0, 0]]);
    const [a, b] = decodeAnticipation(action, duration, { noneIndex: 3, futureFrames: 12 });
    expect(a!.actions).toEqual([0, 1]);
    expect(a!.durations[0]).toBeCloseTo(0.25, 6);
    expect(Array.from(a!.frames)).toEqual([0, 0, 0, 1, 1, 1, 1, 1, 1, 1, 1, 1]);
    expect(b!.actions).toEqual([]);
    // released: query 0 is NONE, so every share is 0 and the last query's action (2) fills the window
    expect(Array.from(b!.frames)).toEqual(new Array(12).fill(2));
    const [, c] = decodeAnticipation(action, duration, { noneIndex: 3, futureFrames: 12, protocol: 'corrected' });
    expect(Array.from(c!.frames)).toEqual(new Array(12).fill(3)); // corrected: nothing predicted -> NONE
    tf.dispose([action, duration]);
  });
});
