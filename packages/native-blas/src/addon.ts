import { existsSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { availableParallelism } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { NativeBlasUnavailableError } from './errors.js';

/** The functions the compiled addon exports (registered in `src/addon/module.c`). */
export interface BlasAddon {
  /**
   * For bi in [0, batch): C[bi] = alpha * op(A[bi % batchA]) * op(B[bi % batchB]) + beta * C[bi],
   * row-major; A[i] is m x k (k x m when transA), B[i] is k x n (n x k when transB). With a `bias`
   * (n floats; alpha 1, beta 0) every row of C[bi] gets it added: the same bits as C prefilled
   * with the bias and beta 1, one pass over C less.
   */
  sgemm(
    a: Float32Array, b: Float32Array, c: Float32Array,
    batch: number, batchA: number, batchB: number,
    m: number, n: number, k: number,
    transA: boolean, transB: boolean, alpha: number, beta: number,
    bias?: Float32Array | null,
    /** B (n x k) packed by `packWeightPanels`, read instead of packing it where `rowsPath` holds. */
    bPanels?: Float32Array | null,
  ): void;
  /** Whether `sgemm` runs this product as C^T = B A^T on the addon's kernels (it then reads `bPanels`). */
  rowsPath(transA: boolean, transB: boolean, m: number, n: number, k: number): boolean;
  /** A row-major rows x k matrix packed for `sgemm`'s `bPanels` (throws on a CPU that runs none of the addon's GEMM kernels). */
  packWeightPanels(w: Float32Array, rows: number, k: number): Float32Array;
  /** out (dense over dims) = a op b, reading a and b at their strides (0 where broadcast). */
  binary(op: number, a: Float32Array, b: Float32Array, out: Float32Array, dims: number[], stridesA: number[], stridesB: number[]): void;
  /** out (dense over dims) = x read at strides. */
  transpose(x: Float32Array, out: Float32Array, dims: number[], strides: number[]): void;
  /** Softmax over the last axis of a rows x cols matrix. */
  softmax(x: Float32Array, out: Float32Array, rows: number, cols: number): void;
  /**
   * out[o, i] = sum over m of x[o, m, i] (in double, rounded to float32); with a `divisor` (a
   * mean's count) that float32 sum divided by it in double and rounded again.
   */
  sum(x: Float32Array, out: Float32Array, outer: number, mid: number, inner: number, divisor?: number): void;
  /**
   * out[offOut + sum(i_d * stridesOut_d)] = x[offX + sum(i_d * stridesX_d)] for every index i < dims
   * (strides may be 0 or negative); moves 4-byte words (float32 and int32 alike) or bytes (bool:
   * x and out both Uint8Arrays).
   */
  copy(x: Float32Array | Int32Array | Uint8Array, out: Float32Array | Int32Array | Uint8Array, dims: number[], stridesX: number[], stridesOut: number[], offX: number, offOut: number): void;
  /** out[i] = condition[i] === 1 ? t[i] : e[i] for i < condition.length, as 4-byte words (float32 or int32). */
  select(condition: Uint8Array, t: Float32Array | Int32Array, e: Float32Array | Int32Array, out: Float32Array | Int32Array): void;
  /** LayerNorm over the rows of a rows x cols matrix (biased variance, as torch.nn.LayerNorm). */
  layerNorm(x: Float32Array, gamma: Float32Array, beta: Float32Array, out: Float32Array, rows: number, cols: number, eps: number): void;
  /** LayerNorm's backward pass over a rows x cols matrix into dx (rows x cols), dgamma and dbeta (cols). */
  layerNormGrad(dy: Float32Array, x: Float32Array, gamma: Float32Array, dx: Float32Array, dgamma: Float32Array, dbeta: Float32Array, rows: number, cols: number, eps: number): void;
  /**
   * One AdamW update into p1, m1, v1; constants = [keep, beta1, 1 - beta1, beta2, 1 - beta2,
   * bc2Sqrt, epsilon, stepSize] (see fused-kernels.ts).
   */
  adamw(p: Float32Array, m: Float32Array, v: Float32Array, g: Float32Array, p1: Float32Array, m1: Float32Array, v1: Float32Array, constants: Float32Array): void;
  /**
   * Fills out with tf.dropout's multipliers from seedrandom's alea generator at `state` (Uint32Array
   * [c, x0, x1, x2]: its carry and its three numbers times 2^32), keep = the float32 1 - rate.
   */
  dropoutMask(state: Uint32Array, keep: number, out: Float32Array): void;
  /** out[i] = f(x[i]) for the op code (enum in src/addon/elementwise.c); alpha for Step and LeakyRelu. */
  unary(op: number, x: Float32Array, out: Float32Array, alpha: number): void;
  /**
   * Routes products to the addon's GEMM kernels first (where the CPU has AVX-512, or AVX2 + FMA);
   * `isa` 'avx2' runs the AVX2 ones even on an AVX-512 CPU (the same bits), 'best' (the default)
   * the widest it has. Returns whether they are on.
   */
  setOwnGemm(on: boolean, isa?: GemmIsa): boolean;
  ownGemm(): boolean;
  /**
   * Threads for the addon's kernels and OpenBLAS (OpenBLAS keeps one while our GEMM kernels are
   * on: it then only sees small products).
   */
  setNumThreads(n: number): void;
  getNumThreads(): number;
  config(): string;
}

export type AddonStatus = { ok: true; addon: BlasAddon; path: string } | { ok: false; reason: string };

// src/addon.ts and dist/index.* both sit one level below the package root.
const packageRoot = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const require = createRequire(import.meta.url);
// Per directory: a native module stays loaded for the life of the process.
const loaded = new Map<string, { addon: BlasAddon; path: string }>();

/**
 * The package-like directory the addon is loaded from: `R3D_NATIVE_BLAS_ADDON_DIR` when set (an
 * addon built elsewhere, or a test build), else this package. It holds build/Release/r3d_blas.node
 * and build/addon-status.json (written by the install step).
 */
export function addonDir(env: Record<string, string | undefined> = process.env): string {
  return env.R3D_NATIVE_BLAS_ADDON_DIR ? resolve(env.R3D_NATIVE_BLAS_ADDON_DIR) : packageRoot;
}

function firstLine(err: unknown): string {
  return (err instanceof Error ? err.message : String(err)).split('\n')[0]!.trim();
}

/** Why the install step did not produce the addon, from its build record. */
function buildFailure(dir: string): string {
  const statusFile = join(dir, 'build', 'addon-status.json');
  if (!existsSync(statusFile)) {
    return `addon not built (no build record in ${dir}; run \`node scripts/build-addon.mjs\` in @r3d-ts/native-blas)`;
  }
  try {
    const status = JSON.parse(readFileSync(statusFile, 'utf8')) as { built?: boolean; reason?: string };
    return `addon not built: ${status.reason ?? 'build record gives no reason'}`;
  } catch (err) {
    return `addon not built, and its build record ${statusFile} is unreadable: ${firstLine(err)}`;
  }
}

/**
 * The thread count OpenBLAS should use: `R3D_BLAS_THREADS`, else `OPENBLAS_NUM_THREADS` (left to
 * OpenBLAS, returns undefined), else every core `os.availableParallelism()` reports.
 */
export function defaultThreadCount(env: Record<string, string | undefined> = process.env): number | undefined {
  const raw = env.R3D_BLAS_THREADS;
  if (raw !== undefined && raw !== '') {
    const n = Number(raw);
    if (!Number.isInteger(n) || n < 1) {
      throw new RangeError(`R3D_BLAS_THREADS must be an integer >= 1, got '${raw}'`);
    }
    return n;
  }
  if (env.OPENBLAS_NUM_THREADS) return undefined;
  return availableParallelism();
}

/** Which of the addon's GEMM kernels run: the widest the CPU has, or the AVX2 + FMA ones. */
export type GemmIsa = 'best' | 'avx2';

/**
 * Whether the addon's own GEMM kernels should run (where the CPU has AVX-512, or AVX2 + FMA):
 * `R3D_NATIVE_GEMM=blas` sends every product to BLAS, `own` (the default) uses ours first, `avx2`
 * ours with the AVX2 kernels even on an AVX-512 CPU (they give the same bits: a way to check).
 *
 * @example
 * ownGemmWanted({ R3D_NATIVE_GEMM: 'blas' }); // false
 */
export function ownGemmWanted(env: Record<string, string | undefined> = process.env): boolean {
  return gemmChoice(env) !== 'blas';
}

/**
 * The kernels `R3D_NATIVE_GEMM` asks for where ours run: 'avx2' for `avx2`, else 'best'.
 *
 * @example
 * gemmIsaWanted({ R3D_NATIVE_GEMM: 'avx2' }); // 'avx2'
 */
export function gemmIsaWanted(env: Record<string, string | undefined> = process.env): GemmIsa {
  return gemmChoice(env) === 'avx2' ? 'avx2' : 'best';
}

function gemmChoice(env: Record<string, string | undefined>): 'own' | 'blas' | 'avx2' {
  const raw = env.R3D_NATIVE_GEMM;
  if (raw === undefined || raw === '' || raw === 'own') return 'own';
  if (raw === 'blas' || raw === 'avx2') return raw;
  throw new RangeError(`R3D_NATIVE_GEMM must be 'own', 'avx2' or 'blas', got '${raw}'`);
}

/**
 * OpenBLAS's kernel family for the products it runs (those under our kernels' 8 MFLOP floor, or
 * all of them where our kernels do not run): `OPENBLAS_CORETYPE` when set, else Haswell's AVX2 kernels, which
 * every x86-64 CPU with AVX2 runs. Why pin it: a DYNAMIC_ARCH OpenBLAS otherwise picks its kernels
 * by CPU model, and different kernels round differently, so the same seeded training gave
 * different numbers on an Intel Xeon and an AMD EPYC (the ablation's planted self-check moved from
 * adjusted p 0.02 to 0.27 with OpenBLAS's own choice on the EPYC, Cooperlake). Elsewhere (not
 * x86-64) OpenBLAS chooses.
 *
 * @example
 * openBlasCoreType({}, 'x64'); // 'Haswell'
 */
export function openBlasCoreType(env: Record<string, string | undefined> = process.env, arch: string = process.arch): string | undefined {
  if (env.OPENBLAS_CORETYPE) return env.OPENBLAS_CORETYPE;
  return arch === 'x64' ? 'Haswell' : undefined;
}

/**
 * Loads the addon once per process (a native module cannot be unloaded) and applies the default
 * thread count. Never throws: a missing or broken addon comes back as `{ ok: false, reason }`.
 * OpenBLAS reads `OPENBLAS_CORETYPE` when it loads with the addon: where it is unset, it is set to
 * `openBlasCoreType()` first (in this process's environment, so child processes inherit it).
 */
export function loadAddon(env: Record<string, string | undefined> = process.env): AddonStatus {
  const dir = addonDir(env);
  const cached = loaded.get(dir);
  if (cached) return { ok: true, ...cached };
  const path = join(dir, 'build', 'Release', 'r3d_blas.node');
  if (!existsSync(path)) return { ok: false, reason: buildFailure(dir) };
  let addon: BlasAddon;
  try {
    const coreType = openBlasCoreType(env);
    if (coreType && !process.env.OPENBLAS_CORETYPE) process.env.OPENBLAS_CORETYPE = coreType;
    addon = require(path) as BlasAddon;
  } catch (err) {
    return { ok: false, reason: `addon failed to load: ${firstLine(err)}` };
  }
  try {
    const threads = defaultThreadCount(env);
    if (threads !== undefined) addon.setNumThreads(threads);
    addon.setOwnGemm(ownGemmWanted(env), gemmIsaWanted(env));
  } catch (err) {
    return { ok: false, reason: firstLine(err) };
  }
  loaded.set(dir, { addon, path });
  return { ok: true, addon, path };
}

/** The loaded addon, or a `NativeBlasUnavailableError` saying why there is none. */
export function requireAddon(): BlasAddon {
  const status = loadAddon();
  if (!status.ok) throw new NativeBlasUnavailableError(status.reason);
  return status.addon;
}
