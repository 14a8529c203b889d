import * as tf from '@tensorflow/tfjs-core';
import { type BackendCandidate, defaultCandidates } from './candidates.js';
import { BackendUnavailableError } from './errors.js';
import { registerDropoutKernel } from './dropout-kernel.js';
import { registerGradients } from './gradients.js';
import { silenceNodeBanner } from './node-banner.js';
import { registerWasmFusedKernels } from './wasm-kernels.js';

/** What `selectBackend` decided, and why each better candidate was passed over. */
export interface BackendReport {
  /** Candidate name that is now active (`tensorflow-gpu`, `wasm`, ...). */
  name: string;
  /** tfjs backend name now active (`tf.getBackend()`). */
  backend: string;
  /** Where the request came from. */
  source: 'option' | 'env' | 'auto';
  /** Better candidates that were tried and skipped, with the reason. */
  skipped: Array<{ name: string; reason: string }>;
}

export interface SelectBackendOptions {
  /**
   * A candidate name (`tensorflow-gpu`, `tensorflow-cpu`, `tensorflow` = either, `wasm`, `cpu`)
   * or `auto`. Wins over the `R3D_BACKEND` environment variable.
   */
  backend?: string;
  /** Environment to read `R3D_BACKEND` from (default `process.env`). */
  env?: Record<string, string | undefined>;
  /** Candidates best-first; defaults to tensorflow-gpu, tensorflow-cpu, wasm, cpu. */
  candidates?: readonly BackendCandidate[];
}

async function activate(candidate: BackendCandidate): Promise<void> {
  await candidate.load();
  let ok: boolean;
  try {
    ok = await tf.setBackend(candidate.backend);
  } catch (err) {
    throw new Error(`setBackend('${candidate.backend}') threw: ${err instanceof Error ? err.message : String(err)}`);
  }
  if (!ok) throw new Error(`setBackend('${candidate.backend}') failed to initialise`);
  await tf.ready();
  registerDropoutKernel(candidate.backend);
  if (candidate.backend === 'wasm') registerWasmFusedKernels(tf.backend());
  // the choice was made (and is reported by describeBackend): tfjs's "install our node backend" banner only misleads
  silenceNodeBanner();
}

function reasonOf(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}

/**
 * Picks the TensorFlow.js backend at run time and activates it: the first candidate that loads,
 * unless one is named by `options.backend` or `R3D_BACKEND`, in which case that one must load or
 * a `BackendUnavailableError` says why. The report lists every better candidate that was skipped
 * with its reason, so a slow run can always be explained.
 *
 * @example
 * const report = await selectBackend();            // auto
 * console.log(describeBackend(report));            // "wasm (skipped tensorflow-gpu: cannot load ...)"
 * await selectBackend({ backend: 'cpu' });         // force the reference backend
 */
export async function selectBackend(options: SelectBackendOptions = {}): Promise<BackendReport> {
  registerGradients();
  const candidates = options.candidates ?? defaultCandidates;
  const env = options.env ?? process.env;
  const requested = options.backend ?? env.R3D_BACKEND ?? 'auto';
  const source: BackendReport['source'] = options.backend ? 'option' : env.R3D_BACKEND ? 'env' : 'auto';
  const skipped: BackendReport['skipped'] = [];

  let tried = candidates;
  if (requested !== 'auto') {
    tried = candidates.filter((c) => c.name === requested || c.backend === requested);
    if (tried.length === 0) {
      const names = candidates.map((c) => c.name).join(', ');
      throw new BackendUnavailableError(requested, `unknown backend; expected one of: auto, ${names}`);
    }
  }
  // A named backend must start (one of its candidates); auto takes the first that starts.
  for (const candidate of tried) {
    try {
      await activate(candidate);
      return { name: candidate.name, backend: candidate.backend, source, skipped };
    } catch (err) {
      skipped.push({ name: candidate.name, reason: reasonOf(err) });
    }
  }
  throw new BackendUnavailableError(requested, skipped.map((s) => `${s.name}: ${s.reason}`).join('; '));
}

/**
 * One line for logs: the active backend and why each better one was skipped.
 *
 * @example
 * describeBackend(await selectBackend()); // "backend wasm (auto); skipped tensorflow-gpu: ..."
 */
export function describeBackend(report: BackendReport): string {
  const head = `backend ${report.name} (${report.source})`;
  if (report.skipped.length === 0) return head;
  return `${head}; skipped ${report.skipped.map((s) => `${s.name}: ${s.reason}`).join('; ')}`;
}
