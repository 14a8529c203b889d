import { createReadStream, existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as tf from '@tensorflow/tfjs-core';
import { type HostTensor } from '@r3d-ts/tensor-io';
import { readNpyFolder, writeTorchSave } from '@r3d-ts/tensor-io/node';
import { selectBackend } from '@r3d-ts/backend';
import { testBackends } from '@r3d-ts/tooling/vitest/backends';
import { sharedFixture } from '@r3d-ts/tooling/vitest/fixtures';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { WEIGHTS_SHARD } from '../artifacts.js';
import { depthEncoder, rgbEncoder } from '../config.js';
import { WeightImportError } from '../errors.js';
import { createR3DModel, type R3DModel } from '../r3d.js';
import { expectSameOutputs, fixtureTensor, parityConfig, relativeError } from '../test-helpers.js';
import { saveR3DModel } from './checkpoint.js';
import { fileSystem } from './file-system.js';
import { load } from './load.js';

const small = (seed: number) =>
  createR3DModel({
    numClasses: 5, hidden: 16, heads: 2, ffnDim: 32, maxPositions: 40, numQueries: 4, seed,
    rgb: rgbEncoder(8), partner: depthEncoder(3, 4), fuser: { name: 'rtf', options: { ratio: 0.25, seed, dropout: 0 } },
  });

/** Serves `dir` on 127.0.0.1 (an ephemeral port) until `close`. */
async function serve(dir: string): Promise<{ url: string; server: Server }> {
  const server = createServer((req, res) => {
    const file = join(dir, decodeURIComponent(new URL(req.url!, 'http://x').pathname));
    if (!file.startsWith(dir) || !existsSync(file)) return void res.writeHead(404).end();
    createReadStream(file).pipe(res);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as { port: number };
  return { url: `http://127.0.0.1:${port}`, server };
}

describe('Node sources of load: fileSystem folders, file:// URLs, http, checkpoint folders', () => {
  let model: R3DModel;
  let rgb: tf.Tensor;
  let depth: tf.Tensor;
  let tmp: string;
  beforeAll(async () => {
    await selectBackend({ backend: 'cpu' });
    model = small(4);
    rgb = tf.randomUniform([2, 6, 8], 0, 1, 'float32', 7);
    depth = tf.randomUniform([2, 6, 3, 4], 0, 1, 'float32', 8);
    tf.dispose(model.apply({ rgb, partner: depth, lengths: [6, 5] }, { training: true }));
    tmp = mkdtempSync(join(tmpdir(), 'r3d-load-'));
  });
  afterAll(() => {
    model?.dispose();
    tf.dispose([rgb, depth]);
    rmSync(tmp, { recursive: true, force: true });
  });

  const inputs = () => ({ rgb, partner: depth, lengths: [6, 5] });
  async function expectSameModel(back: R3DModel): Promise<void> {
    const [o1, o2] = [model.apply(inputs()), back.apply(inputs())];
    expectSameOutputs(o1, o2);
    tf.dispose([o1, o2]);
    expect(await back.predict(inputs(), { futureFrames: 9 })).toEqual(await model.predict(inputs(), { futureFrames: 9 }));
    back.dispose();
  }

  it('fileSystem writes model.json + group1-shard1of1.bin; load reads them back from the folder, file:// and model.json', async () => {
    const dir = join(tmp, 'artefact');
    const result = await model.save(fileSystem(`file://${dir}`));
    expect(readdirSync(dir).sort()).toEqual([WEIGHTS_SHARD, 'model.json']);
    const json = JSON.parse(readFileSync(join(dir, 'model.json'), 'utf8'));
    expect(json.weightsManifest).toHaveLength(1);
    expect(json.weightsManifest[0].paths).toEqual([WEIGHTS_SHARD]);
    expect(json.weightsManifest[0].weights.map((w: { name: string }) => w.name)).toEqual(model.weightNames());
    expect(json.userDefinedMetadata.r3d.config).toEqual(model.config);
    expect(readFileSync(join(dir, WEIGHTS_SHARD)).byteLength).toBe(result.modelArtifactsInfo.weightDataBytes);
    for (const source of [dir, `file://${dir}`, join(dir, 'model.json')]) await expectSameModel(await load(source));
    await expectSameModel(await load(fileSystem(dir)));
  });

  it('load fetches http:// artefacts with tf.io.http (a local server)', async () => {
    const dir = join(tmp, 'served');
    await model.save(fileSystem(dir));
    const { url, server } = await serve(dir);
    try {
      await expectSameModel(await load(`${url}/model.json`));
    } finally {
      await new Promise((resolve) => server.close(resolve));
    }
  });

  it('reads saveR3DModel / trainer checkpoint folders (config.json + weights.safetensors)', async () => {
    const dir = join(tmp, 'checkpoint');
    saveR3DModel(model, dir);
    await expectSameModel(await load(dir));
  });

  it('weights without a configuration need the config option; a manifest path outside the folder is refused', async () => {
    const dir = join(tmp, 'weights-only');
    await model.save(fileSystem(dir));
    rmSync(join(dir, 'model.json'));
    writeFileSync(join(dir, 'w.npy'), readFileSync(join(dir, WEIGHTS_SHARD)));
    await expect(load(dir)).rejects.toThrow(/expected a config option/);
    await expect(load(join(tmp, 'nothing-here'))).rejects.toThrow(WeightImportError);

    const evil = join(tmp, 'evil');
    await model.save(fileSystem(evil));
    const json = JSON.parse(readFileSync(join(evil, 'model.json'), 'utf8'));
    json.weightsManifest[0].paths = ['../artefact/group1-shard1of1.bin'];
    writeFileSync(join(evil, 'model.json'), JSON.stringify(json));
    await expect(load(evil)).rejects.toThrow(/weight paths inside the model folder/);
  });
});

const fixture = sharedFixture('r3d-parity');
const TOL = 1e-4;

describe.skipIf(!fixture).each(testBackends())("load() of the authors' weights reproduces the parity fixture (%s)", (backend) => {
  const dir = fixture!;
  const cfg = fixture ? JSON.parse(readFileSync(join(dir, 'manifest.json'), 'utf8')).config : {};
  const t: Record<string, tf.Tensor> = {};
  const ref = (name: string) => (t[name] ??= fixtureTensor(dir, name));
  const inputs = () => ({ rgb: ref('inputs_rgb'), partner: ref('inputs_depth'), lengths: cfg.lengths as number[] });
  let tmp: string;
  beforeAll(async () => {
    await selectBackend({ backend });
    tmp = mkdtempSync(join(tmpdir(), 'r3d-parity-load-'));
  });
  afterAll(() => {
    tf.dispose(Object.values(t));
    rmSync(tmp, { recursive: true, force: true });
  });

  function expectFixtureOutputs(model: R3DModel): void {
    const out = model.apply(inputs());
    for (const [actual, name] of [
      [out.fused, 'out_fused'], [out.action, 'out_action'], [out.duration, 'out_duration'], [out.segmentation, 'out_seg'], [out.decoder, 'out_decoder'],
    ] as const) expect(relativeError(actual, ref(name)), name).toBeLessThan(TOL);
    tf.dispose(out);
  }

  it('from the .npy folder, from a .pt state dict, and from the tf.io artefact they convert to (bit-identical to the first)', async () => {
    const config = parityConfig(cfg);
    const fromNpy = await load(dir, { config });
    expectFixtureOutputs(fromNpy);

    const weights = readNpyFolder(dir);
    const stateDict = new Map<string, HostTensor>();
    for (const [name, w] of weights) if (!/^(inputs|out|target)_/.test(name)) stateDict.set(`module.${name}`, w);
    const pt = join(tmp, 'futr_depth_best.pth');
    writeTorchSave(pt, stateDict);
    const fromPt = await load(pt, { config });
    expectFixtureOutputs(fromPt);

    const artefact = join(tmp, 'r3d-parity');
    await fromNpy.save(fileSystem(artefact));
    const fromArtefact = await load(`file://${artefact}`);
    expectFixtureOutputs(fromArtefact);
    const [o1, o2] = [fromNpy.apply(inputs()), fromArtefact.apply(inputs())];
    expectSameOutputs(o1, o2);
    tf.dispose([o1, o2]);
    for (const m of [fromNpy, fromPt, fromArtefact]) m.dispose();
  });
});
