import * as tf from '@tensorflow/tfjs-core';
import { describe, expect, it } from 'vitest';
import { R3DAdamW, R3DDropoutMultiplier, R3DGelu, R3DLayerNorm, R3DLinearNormRelu } from './index.js';

describe('custom kernel names', () => {
  const ours = [R3DLayerNorm, R3DGelu, R3DAdamW, R3DLinearNormRelu, R3DDropoutMultiplier];

  it('are distinct', () => {
    expect(new Set(ours).size).toBe(ours.length);
  });

  it("shadow none of tfjs-core's kernel names (a backend registering one would replace core's kernel)", () => {
    const core = new Set(Object.values(tf as Record<string, unknown>).filter((v): v is string => typeof v === 'string'));
    expect(core.has('BatchMatMul')).toBe(true); // core does export its names as strings
    for (const name of ours) expect(core.has(name)).toBe(false);
  });
});
