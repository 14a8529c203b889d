import {
  BatchMatMul,
  _FusedMatMul,
  broadcast_util,
  getKernel,
  util,
  type BatchMatMulAttrs,
  type BatchMatMulInputs,
  type KernelConfig,
  type KernelFunc,
  type TensorInfo,
  type _FusedMatMulAttrs,
  type _FusedMatMulInputs,
} from '@tensorflow/tfjs-core';
import type { MathBackendCPU } from '@tensorflow/tfjs-backend-cpu';
import type { BlasAddon } from './addon.js';
import { cpuFallback, f32, outputArray } from './buffer-pool.js';
import { weightPanelsFor } from './weight-panels.js';

type Backend = MathBackendCPU;


interface MatMulPlan {
  outShape: number[];
  batch: number;
  batchA: number;
  batchB: number;
  m: number;
  n: number;
  k: number;
}

/** Shapes as tfjs-backend-cpu's BatchMatMul reads them, including its batch broadcasting. */
function plan(a: TensorInfo, b: TensorInfo, transposeA: boolean, transposeB: boolean): MatMulPlan {
  const ra = a.shape.length;
  const rb = b.shape.length;
  const innerA = transposeA ? a.shape[ra - 2]! : a.shape[ra - 1]!;
  const innerB = transposeB ? b.shape[rb - 1]! : b.shape[rb - 2]!;
  const m = transposeA ? a.shape[ra - 1]! : a.shape[ra - 2]!;
  const n = transposeB ? b.shape[rb - 2]! : b.shape[rb - 1]!;
  util.assert(
    innerA === innerB,
    () =>
      `Error in matMul: inner shapes (${innerA}) and (${innerB}) of Tensors with shapes ${a.shape} and ` +
      `${b.shape} and transposeA=${transposeA} and transposeB=${transposeB} must match.`,
  );
  const outer = broadcast_util.assertAndGetBroadcastShape(a.shape.slice(0, -2), b.shape.slice(0, -2));
  const batchA = util.sizeFromShape(a.shape.slice(0, -2));
  const batchB = util.sizeFromShape(b.shape.slice(0, -2));
  return { outShape: [...outer, m, n], batch: Math.max(batchA, batchB), batchA, batchB, m, n, k: innerA };
}

/**
 * C = op(A) op(B) (+ a row bias) into `out`, folding a shared right operand into one GEMM (which
 * reads B's kept panels where it has them, see `weightPanelsFor`).
 */
function gemm(addon: BlasAddon, backend: Backend, p: MatMulPlan, a: TensorInfo, b: TensorInfo, out: Float32Array, tA: boolean, tB: boolean, bias: Float32Array | null): void {
  const [av, bv] = [f32(backend, a), f32(backend, b)];
  if (p.batchB === 1 && p.batchA === p.batch && !tA) {
    // (B, M, K) x (K, N): the batch is just more rows of one big, faster GEMM.
    const rows = p.batch * p.m;
    addon.sgemm(av, bv, out, 1, 1, 1, rows, p.n, p.k, false, tB, 1, 0, bias, tB ? weightPanelsFor(backend, addon, b, rows, p.n, p.k) : undefined);
  } else {
    addon.sgemm(av, bv, out, p.batch, p.batchA, p.batchB, p.m, p.n, p.k, tA, tB, 1, 0, bias);
  }
}

export function batchMatMulConfig(addon: BlasAddon, backendName: string): KernelConfig {
  const cpu = cpuFallback(BatchMatMul);
  const kernelFunc = (args: { inputs: BatchMatMulInputs; backend: Backend; attrs: BatchMatMulAttrs }): TensorInfo => {
    const { inputs, backend, attrs } = args;
    const a = inputs.a as TensorInfo;
    const b = inputs.b as TensorInfo;
    if (a.dtype !== 'float32' || b.dtype !== 'float32') return cpu(args as never) as TensorInfo;
    const p = plan(a, b, attrs.transposeA, attrs.transposeB);
    const out = outputArray(backend, p.batch * p.m * p.n);
    gemm(addon, backend, p, a, b, out, attrs.transposeA, attrs.transposeB, null);
    return backend.makeTensorInfo(p.outShape, 'float32', out);
  };
  return { kernelName: BatchMatMul, backendName, kernelFunc: kernelFunc as unknown as KernelFunc };
}

const activationKernels: Record<string, string> = {
  elu: 'Elu',
  relu6: 'Relu6',
  sigmoid: 'Sigmoid',
  leakyrelu: 'LeakyRelu',
  prelu: 'Prelu',
};

export function fusedMatMulConfig(addon: BlasAddon, backendName: string): KernelConfig {
  const cpu = cpuFallback(_FusedMatMul);
  const kernelFunc = (args: { inputs: _FusedMatMulInputs; backend: Backend; attrs: _FusedMatMulAttrs }): TensorInfo => {
    const { inputs, backend, attrs } = args;
    const a = inputs.a as TensorInfo;
    const b = inputs.b as TensorInfo;
    const bias = inputs.bias as TensorInfo | undefined;
    const { transposeA, transposeB, activation } = attrs;
    if (a.dtype !== 'float32' || b.dtype !== 'float32' || (bias && bias.dtype !== 'float32')) {
      return cpu(args as never) as TensorInfo;
    }
    const p = plan(a, b, transposeA, transposeB);
    const total = p.batch * p.m * p.n;
    // A bias that broadcasts along rows (shape [N], [1, N], ...) is added by the GEMM as it stores
    // its sums; any other bias shape goes through the Add kernel.
    const rowBias = bias !== undefined && util.sizeFromShape(bias.shape) === p.n && bias.shape[bias.shape.length - 1] === p.n && bias.shape.length <= p.outShape.length;
    let out: Float32Array = outputArray(backend, total);
    gemm(addon, backend, p, a, b, out, transposeA, transposeB, rowBias ? f32(backend, bias!) : null);
    let result = backend.makeTensorInfo(p.outShape, 'float32', out);
    const kernel = (name: string, kInputs: Record<string, TensorInfo>, kAttrs: object = {}): TensorInfo => {
      const next = getKernel(name, backendName)!.kernelFunc({ inputs: kInputs, backend, attrs: kAttrs as never }) as TensorInfo;
      backend.disposeIntermediateTensorInfo(result);
      return next;
    };
    if (bias && !rowBias) result = kernel('Add', { a: result, b: bias });
    if (activation === 'relu') {
      out = backend.data.get(result.dataId).values as Float32Array;
      for (let i = 0; i < out.length; i++) if (out[i]! < 0) out[i] = 0; // NaN stays NaN, as in tf.relu
    } else if (activation && activation !== 'linear') {
      const name = activationKernels[activation];
      if (!name) throw new Error(`Activation ${activation} has not been implemented for the ${backendName} backend.`);
      if (activation === 'prelu') result = kernel(name, { x: result, alpha: inputs.preluActivationWeights as TensorInfo });
      else if (activation === 'leakyrelu') result = kernel(name, { x: result }, { alpha: attrs.leakyreluAlpha });
      else result = kernel(name, { x: result });
    }
    return result;
  };
  return { kernelName: _FusedMatMul, backendName, kernelFunc: kernelFunc as unknown as KernelFunc };
}
