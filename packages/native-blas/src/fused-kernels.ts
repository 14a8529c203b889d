import { util, type KernelConfig, type KernelFunc, type TensorInfo } from '@tensorflow/tfjs-core';
import type { MathBackendCPU } from '@tensorflow/tfjs-backend-cpu';
import {
  R3DAdamW,
  R3DGelu,
  R3DGeluGrad,
  R3DLayerNorm,
  R3DLayerNormGrad,
  R3DLinearNormRelu,
  type R3DAdamWAttrs,
  type R3DAdamWInputs,
  type R3DGeluGradInputs,
  type R3DGeluInputs,
  type R3DLayerNormAttrs,
  type R3DLayerNormGradInputs,
  type R3DLayerNormInputs,
  type R3DLinearNormReluAttrs,
  type R3DLinearNormReluInputs,
} from '@r3d-ts/kernel-names';
import type { BlasAddon } from './addon.js';
import { f32, outputArray } from './buffer-pool.js';
import { weightPanelsFor } from './weight-panels.js';

// The fused ops this backend adds to TensorFlow.js (names, inputs and attrs in
// @r3d-ts/kernel-names): one native pass instead of 5 (GELU), 8-10 (LayerNorm) or 14 (AdamW)
// kernels, each a pass over memory and a dispatch.

type Backend = MathBackendCPU;

function requireFloat32(kernel: string, inputs: Record<string, TensorInfo>): void {
  for (const [name, t] of Object.entries(inputs)) {
    if (t.dtype !== 'float32') throw new TypeError(`${kernel}: input '${name}' must be float32, got ${t.dtype}`);
  }
}

/** LayerNorm over the last axis: inputs x (..., C), gamma (C), beta (C); attr epsilon. */
function layerNormConfig(addon: BlasAddon, backendName: string): KernelConfig {
  const kernelFunc = (args: { inputs: R3DLayerNormInputs; backend: Backend; attrs: R3DLayerNormAttrs }): TensorInfo => {
    const { x, gamma, beta } = args.inputs;
    requireFloat32(R3DLayerNorm, { x, gamma, beta });
    const cols = x.shape[x.shape.length - 1] ?? 1;
    if (util.sizeFromShape(gamma.shape) !== cols || util.sizeFromShape(beta.shape) !== cols) {
      throw new RangeError(`${R3DLayerNorm}: gamma [${gamma.shape}] and beta [${beta.shape}] must have ${cols} elements (the last axis of x [${x.shape}])`);
    }
    const size = util.sizeFromShape(x.shape);
    const out = outputArray(args.backend, size);
    if (size > 0) addon.layerNorm(f32(args.backend, x), f32(args.backend, gamma), f32(args.backend, beta), out, size / cols, cols, args.attrs.epsilon);
    return args.backend.makeTensorInfo(x.shape, 'float32', out);
  };
  return { kernelName: R3DLayerNorm, backendName, kernelFunc: kernelFunc as unknown as KernelFunc };
}

/**
 * LayerNorm's backward pass: inputs dy and x (..., C), gamma (C); attr epsilon; outputs [dx,
 * dgamma, dbeta]. The same float32 operations as the composed closed form on this backend's
 * kernels (see src/addon/fused.c), so the same bits.
 */
function layerNormGradConfig(addon: BlasAddon, backendName: string): KernelConfig {
  const kernelFunc = (args: { inputs: R3DLayerNormGradInputs; backend: Backend; attrs: R3DLayerNormAttrs }): TensorInfo[] => {
    const { dy, x, gamma } = args.inputs;
    requireFloat32(R3DLayerNormGrad, { dy, x, gamma });
    const cols = x.shape[x.shape.length - 1] ?? 1;
    if (!util.arraysEqual(dy.shape, x.shape)) throw new RangeError(`${R3DLayerNormGrad}: dy [${dy.shape}] must have the shape of x [${x.shape}]`);
    if (util.sizeFromShape(gamma.shape) !== cols) throw new RangeError(`${R3DLayerNormGrad}: gamma [${gamma.shape}] must have ${cols} elements (the last axis of x [${x.shape}])`);
    const b = args.backend;
    const size = util.sizeFromShape(x.shape);
    const dx = outputArray(b, size);
    const dgamma = outputArray(b, cols);
    const dbeta = outputArray(b, cols);
    if (cols > 0) addon.layerNormGrad(f32(b, dy), f32(b, x), f32(b, gamma), dx, dgamma, dbeta, size / cols, cols, args.attrs.epsilon);
    return [b.makeTensorInfo(x.shape, 'float32', dx), b.makeTensorInfo([cols], 'float32', dgamma), b.makeTensorInfo([cols], 'float32', dbeta)];
  };
  return { kernelName: R3DLayerNormGrad, backendName, kernelFunc: kernelFunc as unknown as KernelFunc };
}

/** GELU's backward pass: inputs dy and x (one shape); the composed gradient's float32 operations in one pass. */
function geluGradConfig(addon: BlasAddon, backendName: string): KernelConfig {
  const kernelFunc = (args: { inputs: R3DGeluGradInputs; backend: Backend }): TensorInfo => {
    const { dy, x } = args.inputs;
    requireFloat32(R3DGeluGrad, { dy, x });
    if (!util.arraysEqual(dy.shape, x.shape)) throw new RangeError(`${R3DGeluGrad}: dy [${dy.shape}] must have the shape of x [${x.shape}]`);
    const size = util.sizeFromShape(x.shape);
    const out = outputArray(args.backend, size);
    if (size > 0) addon.binary(GELU_GRAD_OP, f32(args.backend, dy), f32(args.backend, x), out, [size], [1], [1]);
    return args.backend.makeTensorInfo(x.shape, 'float32', out);
  };
  return { kernelName: R3DGeluGrad, backendName, kernelFunc: kernelFunc as unknown as KernelFunc };
}

/** The exact GELU of torch.nn.GELU(), 0.5 x (1 + erf(x / sqrt 2)): input x. */
function geluConfig(addon: BlasAddon, backendName: string): KernelConfig {
  const kernelFunc = (args: { inputs: R3DGeluInputs; backend: Backend }): TensorInfo => {
    const { x } = args.inputs;
    requireFloat32(R3DGelu, { x });
    const out = outputArray(args.backend, util.sizeFromShape(x.shape));
    if (out.length > 0) addon.unary(GELU_OP, f32(args.backend, x), out, 0);
    return args.backend.makeTensorInfo(x.shape, 'float32', out);
  };
  return { kernelName: R3DGelu, backendName, kernelFunc: kernelFunc as unknown as KernelFunc };
}

/**
 * One AdamW update of a parameter: inputs param, m, v, grad (same shape); attrs keep (1 - lr *
 * weight decay), beta1, beta2, epsilon, bc2Sqrt (sqrt(1 - beta2^t)), stepSize (lr / (1 - beta1^t)).
 * Outputs the new param, m and v, equal bit for bit to torch's order of operations composed from
 * float32 tf ops (see @r3d-ts/trainer's AdamW).
 */
function adamwConfig(addon: BlasAddon, backendName: string): KernelConfig {
  const kernelFunc = (args: { inputs: R3DAdamWInputs; backend: Backend; attrs: R3DAdamWAttrs }): TensorInfo[] => {
    const { param, m, v, grad } = args.inputs;
    requireFloat32(R3DAdamW, { param, m, v, grad });
    for (const [name, t] of Object.entries({ m, v, grad })) {
      if (!util.arraysEqual(t.shape, param.shape)) throw new RangeError(`${R3DAdamW}: ${name} has shape [${t.shape}], param has [${param.shape}]`);
    }
    const { keep, beta1, beta2, epsilon, bc2Sqrt, stepSize } = args.attrs;
    const size = util.sizeFromShape(param.shape);
    const [p1, m1, v1] = [0, 1, 2].map(() => outputArray(args.backend, size)) as [Float32Array, Float32Array, Float32Array];
    // rounded to float32 here exactly as tf.scalar(...) rounds them in the composed update
    const constants = Float32Array.of(keep, beta1, 1 - beta1, beta2, 1 - beta2, bc2Sqrt, epsilon, stepSize);
    const b = args.backend;
    if (size > 0) addon.adamw(f32(b, param), f32(b, m), f32(b, v), f32(b, grad), p1, m1, v1, constants);
    return [p1, m1, v1].map((values) => b.makeTensorInfo(param.shape, 'float32', values));
  };
  return { kernelName: R3DAdamW, backendName, kernelFunc: kernelFunc as unknown as KernelFunc };
}

/**
 * A linear layer, LayerNorm and ReLU (the R3D depth projection): inputs x (N, K), weight (C, K),
 * bias, gamma, beta (C); attr epsilon; outputs [h = x W^T + bias, relu(LayerNorm(h))]. The same
 * addon calls, in the same order, as `_FusedMatMul` with a row bias, `R3DLayerNorm` and `Relu`, so
 * the same bits; one kernel dispatch instead of three, and no intermediate tensor in the engine.
 */
function linearNormReluConfig(addon: BlasAddon, backendName: string): KernelConfig {
  const kernelFunc = (args: { inputs: R3DLinearNormReluInputs; backend: Backend; attrs: R3DLinearNormReluAttrs }): TensorInfo[] => {
    const { x, weight, bias, gamma, beta } = args.inputs;
    requireFloat32(R3DLinearNormRelu, { x, weight, bias, gamma, beta });
    if (x.shape.length !== 2 || weight.shape.length !== 2 || x.shape[1] !== weight.shape[1]) {
      throw new RangeError(`${R3DLinearNormRelu}: x [${x.shape}] must be (N, K) and weight [${weight.shape}] (C, K)`);
    }
    const [n, k] = x.shape as [number, number];
    const c = weight.shape[0]!;
    for (const [name, t] of Object.entries({ bias, gamma, beta })) {
      if (util.sizeFromShape(t.shape) !== c || t.shape.length !== 1) throw new RangeError(`${R3DLinearNormRelu}: ${name} has shape [${t.shape}], expected [${c}]`);
    }
    const b = args.backend;
    const h = outputArray(b, n * c);
    const y = outputArray(b, n * c);
    if (n * c > 0) {
      // the GEMM adds the row bias as it stores its sums, as for _FusedMatMul
      addon.sgemm(f32(b, x), f32(b, weight), h, 1, 1, 1, n, c, k, false, true, 1, 0, f32(b, bias), weightPanelsFor(b, addon, weight, n, c, k));
      addon.layerNorm(h, f32(b, gamma), f32(b, beta), y, n, c, args.attrs.epsilon);
      addon.unary(RELU_OP, y, y, 0);
    }
    return [b.makeTensorInfo([n, c], 'float32', h), b.makeTensorInfo([n, c], 'float32', y)];
  };
  return { kernelName: R3DLinearNormRelu, backendName, kernelFunc: kernelFunc as unknown as KernelFunc };
}

/** U_GELU and U_RELU in the addon's unary op enum (src/addon/elementwise.c). */
const GELU_OP = 22;
const RELU_OP = 11;
/** OP_GELU_GRAD in the addon's binary op enum (src/addon/elementwise.c). */
const GELU_GRAD_OP = 7;

export function fusedConfigs(addon: BlasAddon, backendName: string): KernelConfig[] {
  return [
    layerNormConfig(addon, backendName),
    layerNormGradConfig(addon, backendName),
    geluConfig(addon, backendName),
    geluGradConfig(addon, backendName),
    adamwConfig(addon, backendName),
    linearNormReluConfig(addon, backendName),
  ];
}
