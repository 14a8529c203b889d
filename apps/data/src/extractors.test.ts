import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-backend-cpu';
import { fileSystem } from '@r3d-ts/r3d-model/node';
import { baselineExtractor, modelExtractor, normalisePixels } from './extractors.js';

const tmp = mkdtempSync(join(tmpdir(), 'r3d-data-extractors-'));
beforeAll(async () => {
  await tf.setBackend('cpu');
});
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

const frames = (n: number, h: number, w: number): Float32Array => Float32Array.from({ length: n * h * w * 3 }, (_, i) => ((i * 7919) % 1000) / 1000);

describe('feature extractors', () => {
  it('baseline: the synthetic world features, labelled as a baseline, deterministic', async () => {
    const ex = baselineExtractor();
    expect(ex.description).toMatch(/^BASELINE/);
    expect(ex.size).toEqual({ height: 24, width: 32 });
    const a = await ex.extract(frames(2, 24, 32), 2);
    const b = await baselineExtractor().extract(frames(2, 24, 32), 2);
    expect(a.dim).toBe(256);
    expect(a.data).toEqual(b.data);
    expect(a.data.some((v) => v > 0)).toBe(true);
  });

  it('a model.json that is not JSON: an ImportError naming the file, not a SyntaxError', async () => {
    mkdirSync(join(tmp, 'broken'), { recursive: true });
    writeFileSync(join(tmp, 'broken', 'model.json'), '{"format": ');
    await expect(modelExtractor({ model: join(tmp, 'broken') })).rejects.toThrow(expect.objectContaining({ name: 'ImportError', message: expect.stringMatching(/broken\/model\.json: expected a TF\.js model\.json/) }));
  });

  it('a LayersModel with --rgb-output: the named layer, size from the model, pixels normalised', async () => {
    const tfl = await import('@tensorflow/tfjs-layers');
    const model = tfl.sequential({ layers: [
      tfl.layers.conv2d({ inputShape: [8, 10, 3], filters: 2, kernelSize: 3, name: 'conv', kernelInitializer: tfl.initializers.glorotUniform({ seed: 3 }) }),
      tfl.layers.flatten({ name: 'flat' }),
      tfl.layers.dense({ units: 3, name: 'head', kernelInitializer: tfl.initializers.glorotUniform({ seed: 4 }) }),
    ] });
    await model.save(fileSystem(join(tmp, 'layers')));
    const ex = await modelExtractor({ model: join(tmp, 'layers'), output: 'flat', normalise: 'imagenet' });
    expect(ex.size).toEqual({ height: 8, width: 10 });
    const x = frames(3, 8, 10);
    const got = await ex.extract(Float32Array.from(x), 3);
    const inner = tfl.model({ inputs: model.inputs, outputs: model.getLayer('flat').output as never });
    const want = (inner.predict(tf.tensor4d(normalisePixels(Float32Array.from(x), 'imagenet'), [3, 8, 10, 3])) as tf.Tensor).dataSync();
    expect(got.dim).toBe(6 * 8 * 2);
    expect(Array.from(got.data)).toEqual(Array.from(want));
    await expect(modelExtractor({ model: join(tmp, 'layers'), output: 'nope' })).rejects.toThrow(/no such layer .*conv, flat, head/);
    ex.dispose();
  });

  it('a GraphModel (model.json format graph-model): input size from its signature, output from the graph', async () => {
    // a hand-written graph: mean of the image over height and width (N x 3)
    const dir = join(tmp, 'graph');
    mkdirSync(dir);
    const dims = (s: number[]) => ({ dim: s.map((size) => ({ size: String(size) })) });
    writeFileSync(join(dir, 'model.json'), JSON.stringify({
      format: 'graph-model',
      modelTopology: { node: [
        { name: 'image', op: 'Placeholder', attr: { dtype: { type: 'DT_FLOAT' }, shape: { shape: dims([-1, 6, 4, 3]) } } },
        { name: 'axes', op: 'Const', attr: { dtype: { type: 'DT_INT32' }, value: { tensor: { dtype: 'DT_INT32', tensorShape: dims([2]) } } } },
        { name: 'pooled', op: 'Mean', input: ['image', 'axes'], attr: { T: { type: 'DT_FLOAT' }, Tidx: { type: 'DT_INT32' }, keep_dims: { b: false } } },
      ], versions: { producer: 1 } },
      weightsManifest: [{ paths: ['w.bin'], weights: [{ name: 'axes', shape: [2], dtype: 'int32' }] }],
    }));
    writeFileSync(join(dir, 'w.bin'), new Uint8Array(Int32Array.from([1, 2]).buffer));
    const ex = await modelExtractor({ model: join(dir, 'model.json') });
    expect(ex.description).toContain('GraphModel');
    expect(ex.size).toEqual({ height: 6, width: 4 });
    const x = frames(2, 6, 4);
    const got = await ex.extract(Float32Array.from(x), 2);
    expect(got.dim).toBe(3);
    const want = tf.mean(tf.tensor4d(x, [2, 6, 4, 3]), [1, 2]).dataSync();
    for (let i = 0; i < 6; i++) expect(got.data[i]).toBeCloseTo(want[i]!, 6);
    ex.dispose();
  });

  it('a model without a fixed input size needs --rgb-size; a missing model is a user error', async () => {
    const tfl = await import('@tensorflow/tfjs-layers');
    const model = tfl.sequential({ layers: [tfl.layers.globalAveragePooling2d({ inputShape: [null, null, 3] } as never)] });
    await model.save(fileSystem(join(tmp, 'free')));
    await expect(modelExtractor({ model: join(tmp, 'free') })).rejects.toThrow(/pass --rgb-size/);
    expect((await modelExtractor({ model: join(tmp, 'free'), size: { height: 5, width: 7 } })).size).toEqual({ height: 5, width: 7 });
    await expect(modelExtractor({ model: join(tmp, 'absent') })).rejects.toMatchObject({ userError: true });
  });
});
