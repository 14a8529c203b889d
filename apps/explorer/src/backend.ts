import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-backend-cpu';
import '@tensorflow/tfjs-backend-webgl';
import { setWasmPaths } from '@tensorflow/tfjs-backend-wasm';
import { oneLine } from './tensor-files.js';

/** The tfjs backends the page tries, best first. */
export const BACKENDS = ['webgl', 'wasm', 'cpu'] as const;
export type BackendName = (typeof BACKENDS)[number];

/** Which backend the page runs on, and why each better one was passed over. */
export interface BackendChoice {
  name: BackendName;
  skipped: Array<{ name: BackendName; reason: string }>;
}

async function tryBackend(name: BackendName): Promise<string | undefined> {
  try {
    // Every observation ratio pads to its own (B, T, C): with shapes as uniforms WebGL compiles
    // each exchange shader once instead of once per shape (seconds under a software renderer).
    if (name === 'webgl') tf.env().set('WEBGL_USE_SHAPES_UNIFORMS', true);
    if (!(await tf.setBackend(name))) return 'did not initialise';
    await tf.ready();
    // A backend can initialise and still fail its first kernel (a WebGL context without float
    // textures): run one small op before trusting it.
    const probe = tf.tidy(() => tf.add(tf.tensor1d([1, 2]), tf.tensor1d([3, 4])));
    const v = await probe.data();
    probe.dispose();
    if (v[0] !== 4 || v[1] !== 6) return `computed [${Array.from(v).join(', ')}] for [1, 2] + [3, 4]`;
    return undefined;
  } catch (err) {
    return oneLine(err);
  }
}

/**
 * Picks the tfjs backend: webgl where it loads, else wasm (its binaries come from `wasmBase`, on
 * the page's own origin), else cpu. `prefer` starts the list further down (the `?backend=` query).
 *
 * @example
 * const { name } = await chooseBackend('./wasm/'); // 'webgl' in most browsers
 */
export async function chooseBackend(wasmBase: string, prefer?: BackendName): Promise<BackendChoice> {
  setWasmPaths(wasmBase);
  const order = prefer ? BACKENDS.slice(BACKENDS.indexOf(prefer)) : [...BACKENDS];
  const skipped: BackendChoice['skipped'] = [];
  for (const name of order) {
    const why = await tryBackend(name);
    if (why === undefined) return { name, skipped };
    skipped.push({ name, reason: why });
  }
  throw new Error(`no TensorFlow.js backend works here (${skipped.map((s) => `${s.name}: ${s.reason}`).join('; ')})`);
}
