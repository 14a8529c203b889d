// The page the Chromium test serves: on each backend named in ?backends=, the checks run in the
// browser and their results are posted to /report (one POST per backend, then /done).
import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-backend-webgl';
import { setWasmPaths } from '@tensorflow/tfjs-backend-wasm';
import { featuresFromNpy, parseTimeSeriesCsv } from '@r3d-ts/datasets';
import { load } from '@r3d-ts/r3d-model';
import { effectiveRank } from '@r3d-ts/rank-metrics';
import { RTFuserLayer } from '@r3d-ts/rtf-fuser/layers';
import * as tfl from '@tensorflow/tfjs-layers';
import { registerGradients } from '@r3d-ts/tfjs-gradients';
import { parseNpy } from '@r3d-ts/tensor-io';
import { fixedMatrix } from './fixed-matrix.js';
import type { BackendReport } from './report.js';

// the .wasm binaries come from the test's own server, never a CDN
setWasmPaths(`${location.origin}/wasm/`);

async function bytes(path: string): Promise<Uint8Array> {
  const res = await fetch(path);
  if (!res.ok) throw new Error(`${path}: HTTP ${res.status}`);
  return new Uint8Array(await res.arrayBuffer());
}

async function fixtureTensor(name: string): Promise<tf.Tensor> {
  const arr = parseNpy(await bytes(`/fixture/${name}.npy`), `${name}.npy`);
  return tf.tensor(Float32Array.from(arr.data as ArrayLike<number>), arr.shape, 'float32');
}

/** max |a - e| / max |e|, as the Node parity tests measure. */
function relativeError(a: ArrayLike<number>, e: ArrayLike<number>): number {
  if (a.length !== e.length) return Number.POSITIVE_INFINITY;
  let diff = 0;
  let scale = 0;
  for (let i = 0; i < a.length; i++) {
    diff = Math.max(diff, Math.abs(a[i]! - e[i]!));
    scale = Math.max(scale, Math.abs(e[i]!));
  }
  return diff / Math.max(scale, 1e-12);
}

/**
 * The RTF fuser as a Layer in a Layers graph: [rgb, depth] -> RTFuserLayer -> Dense(1) per frame,
 * its gradients (of the fuser's trainable weights, through `model.apply`) and one `model.fit` step.
 */
async function rtfStep(): Promise<NonNullable<BackendReport['rtf']>> {
  const rgb = tfl.input({ shape: [6, 16] });
  const depth = tfl.input({ shape: [6, 16] });
  const layer = new RTFuserLayer({ ratio: 0.25, heads: 2, seed: 1, dropout: 0 });
  const fused = layer.apply([rgb, depth]) as tfl.SymbolicTensor;
  const model = tfl.model({ inputs: [rgb, depth], outputs: tfl.layers.dense({ units: 1 }).apply(fused) as tfl.SymbolicTensor });
  model.compile({ optimizer: tf.train.sgd(0.1), loss: 'meanSquaredError' });
  const x = tf.randomNormal([2, 6, 16], 0, 1, 'float32', 1);
  const y = tf.randomNormal([2, 6, 16], 0, 1, 'float32', 2);
  const target = tf.randomNormal([2, 6, 1], 0, 1, 'float32', 3);
  const vars = layer.trainableWeights.map((w) => w.read() as tf.Variable);
  const before = await Promise.all(vars.map((v) => v.data<'float32'>()));
  const { value, grads } = tf.variableGrads(() => tf.losses.meanSquaredError(target, model.apply([x, y], { training: true }) as tf.Tensor) as tf.Scalar, vars);
  const gradValues = await Promise.all(Object.values(grads).map((g) => g.data<'float32'>()));
  const history = await model.fit([x, y], target, { epochs: 1, batchSize: 2, verbose: 0 });
  const after = await Promise.all(vars.map((v) => v.data<'float32'>()));
  const changed = after.filter((a, i) => a.some((v, j) => v !== before[i]![j])).length;
  const report = {
    loss: history.history.loss![0] as number,
    variables: vars.length,
    finiteGradients: Number.isFinite((await value.data())[0]!) && gradValues.every((g) => g.every(Number.isFinite)),
    gradientL1: gradValues.reduce((s, g) => s + g.reduce((a, v) => a + Math.abs(v), 0), 0),
    changed,
    className: layer.getClassName(),
  };
  tf.dispose([x, y, target, value, ...Object.values(grads)]);
  model.dispose();
  return report;
}

async function r3d(): Promise<NonNullable<BackendReport['r3d']>> {
  const manifest = await (await fetch('/fixture/manifest.json')).json();
  const model = await load(`${location.origin}/model/model.json`);
  const [rgb, depth] = [await fixtureTensor('inputs_rgb'), await fixtureTensor('inputs_depth')];
  const inputs = { rgb, partner: depth, lengths: manifest.config.lengths as number[] };
  const out = model.apply(inputs);
  const [action, duration] = await Promise.all([out.action.data(), out.duration.data()]);
  const ref = (name: string) => bytes(`/fixture/${name}.npy`).then((b) => parseNpy(b, name).data as ArrayLike<number>);
  const report = {
    actionError: relativeError(action, await ref('out_action')),
    durationError: relativeError(duration, await ref('out_duration')),
    predictions: (await model.predict(inputs, { futureFrames: 10 })).map((p) => ({ actions: p.actions, durations: p.durations, frames: p.frames.length })),
    fuserLayer: model.fuserLayer?.getClassName(),
  };
  tf.dispose([out, rgb, depth]);
  model.dispose();
  return report;
}

async function datasets(): Promise<NonNullable<BackendReport['datasets']>> {
  const features = featuresFromNpy(parseNpy(await bytes('/fixture/inputs_rgb.npy')), 'inputs_rgb.npy');
  const csv = parseTimeSeriesCsv('time,ax,ay,az\n0,1,2,3\n0.5,4,5,6\n', 'imu.csv');
  return { featureDim: features.dim, frames: features.frames, csvChannels: csv.channels };
}

async function run(backend: string): Promise<BackendReport> {
  const start = performance.now();
  const report: BackendReport = { backend };
  try {
    if (!(await tf.setBackend(backend))) throw new Error(`backend ${backend} did not initialise`);
    await tf.ready();
    report.active = tf.getBackend();
    const m = fixedMatrix();
    const t = tf.tensor2d(m);
    report.rank = { plain: effectiveRank(m), tensor: effectiveRank(t) };
    t.dispose();
    report.rtf = await rtfStep();
    report.r3d = await r3d();
    report.datasets = await datasets();
  } catch (err) {
    report.error = err instanceof Error ? `${err.message}\n${err.stack ?? ''}` : String(err);
  }
  report.seconds = (performance.now() - start) / 1000;
  return report;
}

async function main(): Promise<void> {
  // gradient registration is the application's explicit call, not a side effect of importing a library
  registerGradients();
  const backends = (new URLSearchParams(location.search).get('backends') ?? 'wasm,webgl').split(',');
  for (const backend of backends) {
    const report = await run(backend);
    await fetch('/report', { method: 'POST', body: JSON.stringify(report) });
  }
  await fetch('/done', { method: 'POST' });
}

main().catch((err: unknown) => fetch('/report', { method: 'POST', body: JSON.stringify({ backend: 'page', error: err instanceof Error ? `${err.message}\n${err.stack ?? ''}` : String(err) }) }));
