import * as tf from '@tensorflow/tfjs-core';
import * as tfl from '@tensorflow/tfjs-layers';
import { beforeAll, describe, expect, it } from 'vitest';
import { selectBackend } from '@r3d-ts/backend';
import { testBackends } from '@r3d-ts/tooling/vitest/backends';
import { FuserError } from '../errors.js';
import type { FuserName } from '../fuser.js';
import { type FuserLayer, type RTFuserLayerArgs, ConcatFuserLayer, LateFusionLayer, RTFuserLayer, fuserLayer } from './index.js';

const [B, T, C] = [8, 6, 16];

// Every fuser with weights must see each of them move in two epochs; `alpha` only moves on
// selected channels and BatchNorm's running statistics only in training, hence a few per name.
const FUSERS: Array<[string, FuserName, RTFuserLayerArgs]> = [
  ['rtf variance', 'rtf', { selection: 'variance', ratio: 0.25, batchNorm: false }],
  ['rtf svd-energy', 'rtf', { selection: 'svd-energy', ratio: 0.25, topQ: 2 }],
  ['rtf bn-gamma', 'rtf', { selection: 'bn-gamma', ratio: 0.25 }],
  ['sa-fuser', 'sa-fuser', {}],
  ['hard-swap', 'hard-swap', { selection: 'variance', ratio: 0.25 }],
  ['concat', 'concat', {}],
  ['mean', 'mean', {}],
  ['late', 'late', { output: 'pair' }],
];

const make = (name: FuserName, args: RTFuserLayerArgs): FuserLayer => fuserLayer(name, { heads: 2, seed: 3, dropout: 0, ...args });

/** RGB and partner inputs -> fuser -> Dense(1) per frame; late fusion: one Dense per stream, averaged. */
function functionalModel(layer: FuserLayer): tfl.LayersModel {
  const rgb = tfl.input({ shape: [T, C] });
  const partner = tfl.input({ shape: [T, C] });
  const out = layer.apply([rgb, partner]) as tfl.SymbolicTensor | tfl.SymbolicTensor[];
  const head = tfl.layers.dense({ units: 1, kernelInitializer: tfl.initializers.glorotUniform({ seed: 5 }) });
  const prediction = Array.isArray(out)
    ? (tfl.layers.average().apply(out.map((s) => head.apply(s) as tfl.SymbolicTensor)) as tfl.SymbolicTensor)
    : (head.apply(out) as tfl.SymbolicTensor);
  return tfl.model({ inputs: [rgb, partner], outputs: prediction });
}

/** One (B, T, 2, C) input holding both streams, for tf.sequential. */
function sequentialModel(layer: FuserLayer): tfl.Sequential {
  const model = tfl.sequential();
  model.add(tfl.layers.inputLayer({ inputShape: [T, 2, C] }));
  model.add(layer);
  model.add(tfl.layers.dense({ units: 1, kernelInitializer: tfl.initializers.glorotUniform({ seed: 6 }) }));
  return model;
}

async function saveToMemory(model: tfl.LayersModel): Promise<tf.io.ModelArtifacts> {
  let artifacts: tf.io.ModelArtifacts | undefined;
  await model.save(tf.io.withSaveHandler(async (a) => {
    artifacts = a;
    return { modelArtifactsInfo: { dateSaved: new Date(), modelTopologyType: 'JSON' } };
  }));
  return artifacts!;
}

describe('fuser Layers in tf.model and tf.sequential: fit, save, load (cpu)', () => {
  beforeAll(async () => {
    await selectBackend({ backend: 'cpu' });
  });

  it.each(FUSERS)('%s', async (_label, name, args) => {
    const data = tf.tidy(() => {
      const x = tf.randomNormal([B, T, C], 0, 1, 'float32', 1);
      const y = tf.randomNormal([B, T, C], 0, 1, 'float32', 2);
      const target = tf.mul(tf.sum(tf.mul(x, y), -1, true), 0.1);
      return { x, y, target, stacked: tf.stack([x, y], 2) };
    });
    for (const kind of name === 'late' ? (['functional'] as const) : (['functional', 'sequential'] as const)) {
      const layer = make(name, args);
      const model = kind === 'functional' ? functionalModel(layer) : sequentialModel(layer);
      const inputs = kind === 'functional' ? [data.x, data.y] : data.stacked;
      model.compile({ optimizer: tf.train.adam(0.01), loss: 'meanSquaredError' });
      const before = layer.weights.map((w) => w.read().dataSync().slice());
      const history = await model.fit(inputs, data.target, { epochs: 2, batchSize: 4, shuffle: false, verbose: 0 });
      expect(history.history.loss).toHaveLength(2);

      // every fuser weight (alpha, BatchNorm, block, projection, modality token) and running statistic moved
      const names = layer.weights.map((w) => w.originalName);
      layer.weights.forEach((w, i) => {
        const now = w.read().dataSync();
        expect(now.some((v, j) => v !== before[i]![j]), `${kind}: ${w.originalName} moved`).toBe(true);
      });
      if (name === 'rtf') expect(names).toContain(`${layer.name}/alpha`);
      if (name === 'mean' || name === 'late') expect(names).toEqual([]);
      // stable names: <layer>/<the authors' PyTorch name>, the same the functional fuser uses
      expect(names).toEqual([...layer.fuser.getWeights().keys()].map((n) => `${layer.name}/${n}`).sort((a, b) => names.indexOf(a) - names.indexOf(b)));

      const artifacts = await saveToMemory(model);
      const saved = artifacts.weightSpecs!.map((s) => s.name);
      expect(saved).toEqual(expect.arrayContaining(names));
      const loaded = await tfl.loadLayersModel(tf.io.fromMemory(artifacts));
      const reloadedLayer = loaded.layers.find((l) => l.name === layer.name)!;
      expect(reloadedLayer.getClassName()).toBe(layer.getClassName());
      expect(reloadedLayer.getConfig()).toEqual(layer.getConfig());
      const a = model.predict(inputs) as tf.Tensor;
      const b = loaded.predict(inputs) as tf.Tensor;
      expect(Array.from(b.dataSync()), `${kind}: predictions after the round trip`).toEqual(Array.from(a.dataSync()));
      tf.dispose([a, b]);
      model.dispose();
      loaded.dispose();
    }
    tf.dispose(data);
  });
});

describe.each(testBackends())('fuser Layers on %s', (backend) => {
  beforeAll(async () => {
    await selectBackend({ backend });
  });

  it.each(FUSERS)('%s: call runs the functional fuser on the Layer\'s variables (same numbers), training and evaluation', (_label, name, args) => {
    const x = tf.randomNormal([2, T, C], 0, 1, 'float32', 11) as tf.Tensor3D;
    const y = tf.randomNormal([2, T, C], 0, 1, 'float32', 12) as tf.Tensor3D;
    const layer = make(name, args);
    const viaLayer = (training: boolean): tf.Tensor[] => {
      const out = training ? tf.tidy(() => layer.call([x, y], { training: true })) : layer.apply([x, y]);
      return (Array.isArray(out) ? out : [out]) as tf.Tensor[];
    };
    const first = viaLayer(false); // builds the Layer
    const fuser = layer.fuser;
    const functional = fuser.apply(x, y, { pair: args.output === 'pair' });
    const expected = args.output === 'pair' ? functional.pair! : [functional.fused];
    expected.forEach((t, i) => expect(Array.from(first[i]!.dataSync())).toEqual(Array.from(t.dataSync())));
    // The Layer's trainable weights are the fuser's own variables.
    expect(layer.trainableWeights.map((w) => w.read())).toEqual(fuser.trainableVariables);
    // Training mode moves BatchNorm's running statistics, as the functional apply does.
    const stats = [...fuser.getWeights()].filter(([n]) => n.includes('running_'));
    const trained = viaLayer(true);
    for (const [n, t] of stats) {
      const now = fuser.getWeights().get(n)!;
      expect(Array.from(now.dataSync()), n).not.toEqual(Array.from(t.dataSync()));
      now.dispose();
    }
    tf.dispose([x, y, ...first, ...trained, ...Object.values(functional).filter((v): v is tf.Tensor => v instanceof tf.Tensor), ...(functional.pair ?? []), ...stats.map(([, t]) => t)]);
    layer.dispose();
  });

  it('a third input, a (B, T) frame mask, leaves padded frames out of the selection as `lengths` does', () => {
    const x = tf.randomNormal([2, T, C], 0, 1, 'float32', 21) as tf.Tensor3D;
    const y = tf.randomNormal([2, T, C], 0, 1, 'float32', 22) as tf.Tensor3D;
    const mask = tf.tensor2d([[1, 1, 1, 1, 1, 1], [1, 1, 1, 0, 0, 0]]);
    const layer = new RTFuserLayer({ selection: 'variance', ratio: 0.25, heads: 2, seed: 1, output: 'pair', crossModalBlock: false, batchNorm: false });
    const [px, py] = layer.apply([x, y, mask]) as tf.Tensor[];
    const out = layer.fuser.apply(x, y, { lengths: [6, 3], pair: true });
    expect(Array.from(px!.dataSync())).toEqual(Array.from(out.exchangedX!.dataSync()));
    expect(Array.from(py!.dataSync())).toEqual(Array.from(out.exchangedY!.dataSync()));
    tf.dispose([x, y, mask, px!, py!, ...Object.values(out).filter((v): v is tf.Tensor => v instanceof tf.Tensor), ...out.pair!]);
    layer.dispose();
  });

  it('pair output: the fused tokens are the mean of the pair', () => {
    const x = tf.randomNormal([2, T, C], 0, 1, 'float32', 31) as tf.Tensor3D;
    const y = tf.randomNormal([2, T, C], 0, 1, 'float32', 32) as tf.Tensor3D;
    for (const name of ['rtf', 'sa-fuser', 'hard-swap', 'mean'] as const) {
      const layer = make(name, { selection: 'variance', ratio: 0.25 });
      layer.apply([x, y]);
      const out = layer.fuser.apply(x, y, { pair: true });
      const mean = tf.tidy(() => tf.mul(tf.add(out.pair![0], out.pair![1]), 0.5));
      expect(tf.tidy(() => tf.max(tf.abs(tf.sub(mean, out.fused))).dataSync()[0]!), name).toBeLessThanOrEqual(1e-6);
      tf.dispose([mean, ...Object.values(out).filter((v): v is tf.Tensor => v instanceof tf.Tensor), ...out.pair!]);
      layer.dispose();
    }
    tf.dispose([x, y]);
  });
});

describe('fuser Layer configuration', () => {
  it('rejects a bad output, a channel width the inputs contradict, and a pair from concat', () => {
    expect(() => new RTFuserLayer({ output: 'both' as 'pair' })).toThrow(FuserError);
    const rgb = tfl.input({ shape: [T, C] });
    const partner = tfl.input({ shape: [T, C] });
    expect(() => new RTFuserLayer({ channels: 32, heads: 2 }).apply([rgb, partner])).toThrow(/channels: expected the inputs' width 16, found 32/);
    expect(() => new ConcatFuserLayer({ output: 'pair' }).apply([rgb, partner])).toThrow(/output/);
    expect(() => new LateFusionLayer().apply([rgb])).toThrow(/inputs/);
  });

  it('getConfig carries the fuser options and the output, and fromConfig rebuilds the same layer', () => {
    const layer = new RTFuserLayer({ selection: 'svd-energy', ratio: 0.3, topQ: 4, heads: 2, seed: 9, output: 'pair', name: 'fuser' });
    layer.apply([tfl.input({ shape: [T, C] }), tfl.input({ shape: [T, C] })]);
    const config = layer.getConfig();
    expect(config).toMatchObject({ selection: 'svd-energy', ratio: 0.3, topQ: 4, heads: 2, seed: 9, channels: C, output: 'pair', name: 'fuser' });
    const twin = tf.serialization.SerializationMap.getMap().classNameMap[RTFuserLayer.className]!;
    expect(twin[0]).toBe(RTFuserLayer);
    const rebuilt = (twin[1] as (cls: unknown, config: tf.serialization.ConfigDict) => RTFuserLayer)(RTFuserLayer, config);
    expect(rebuilt.getConfig()).toEqual(config);
  });
});

describe('FuserLayer.buildFor', () => {
  it('builds a Layer for code that runs its fuser directly: weights under the Layer name, dispose frees them, a second call changes nothing', () => {
    const layer = new RTFuserLayer({ ratio: 0.25, heads: 2, seed: 3, name: 'standalone' }).buildFor(C);
    expect(layer.built).toBe(true);
    expect(layer.weights.map((w) => w.originalName)).toContain('standalone/alpha');
    const names = layer.weights.map((w) => w.name);
    expect(layer.buildFor(C).weights.map((w) => w.name)).toEqual(names);
    const alpha = layer.fuser.namedTrainableVariables.get('alpha')!;
    expect(layer.weights.some((w) => w.read() === alpha)).toBe(true);
    expect(layer.dispose().numDisposedVariables).toBe(names.length);
    expect(alpha.isDisposed).toBe(true);
  });
});
