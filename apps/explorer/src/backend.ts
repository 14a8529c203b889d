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

/** Renderers that draw WebGL on the CPU (Chrome's SwiftShader, Mesa's llvmpipe and softpipe, Windows' WARP). */
const SOFTWARE_RENDERER = /SwiftShader|llvmpipe|softpipe|Software Rasteri[sz]er|Basic Render Driver/i;

/**
 * The renderer's name when WebGL is drawn by a software renderer, else undefined (a GPU, or no
 * WebGL at all). Software WebGL runs each shader on the CPU: on the 2-core test machine the RTF
 * panel's exchange took 4x the wasm backend's time under SwiftShader.
 *
 * @example
 * softwareRenderer(); // 'ANGLE (Google, Vulkan 1.3.0 (SwiftShader Device ...' in headless Chromium
 */
export function softwareRenderer(): string | undefined {
  if (typeof document === 'undefined') return undefined;
  const gl = document.createElement('canvas').getContext('webgl2') ?? document.createElement('canvas').getContext('webgl');
  if (!gl) return undefined;
  try {
    // Chrome answers RENDERER with a generic name; the debug extension gives the real one.
    const debug = gl.getExtension('WEBGL_debug_renderer_info');
    const renderer = String(gl.getParameter(debug ? debug.UNMASKED_RENDERER_WEBGL : gl.RENDERER) ?? '');
    return SOFTWARE_RENDERER.test(renderer) ? renderer : undefined;
  } finally {
    gl.getExtension('WEBGL_lose_context')?.loseContext();
  }
}

/**
 * Picks the tfjs backend: webgl where a GPU draws it, else wasm (its binaries come from `wasmBase`,
 * on the page's own origin), else cpu. WebGL on a software renderer is passed over for wasm, which
 * is faster there. `prefer` (the `?backend=` query) starts the list further down, and `webgl`
 * asked for by name runs even on a software renderer.
 *
 * @example
 * const { name } = await chooseBackend('./wasm/'); // 'webgl' in most browsers
 */
export async function chooseBackend(wasmBase: string, prefer?: BackendName): Promise<BackendChoice> {
  setWasmPaths(wasmBase);
  const order = prefer ? BACKENDS.slice(BACKENDS.indexOf(prefer)) : [...BACKENDS];
  const skipped: BackendChoice['skipped'] = [];
  for (const name of order) {
    const software = name === 'webgl' && prefer !== 'webgl' ? softwareRenderer() : undefined;
    if (software !== undefined) {
      skipped.push({ name, reason: `a software renderer draws WebGL here (${software}): wasm is faster (?backend=webgl runs it anyway)` });
      continue;
    }
    const why = await tryBackend(name);
    if (why === undefined) return { name, skipped };
    skipped.push({ name, reason: why });
  }
  throw new Error(`no TensorFlow.js backend works here (${skipped.map((s) => `${s.name}: ${s.reason}`).join('; ')})`);
}
