import * as tf from '@tensorflow/tfjs-core';
import { beforeAll, describe, expect, it } from 'vitest';
import { selectBackend } from '@r3d-ts/backend';
import { RankEnhancingTokenFuser, type RtfOptions } from './rtf.js';

// Central finite differences in float32: a smooth loss of O(1), eps 1e-2 (round-off ~1e-5
// relative, truncation O(eps^2)), compared with a relative tolerance of 2e-2.
const EPS = 1e-2;
const close = (fd: number, an: number): boolean => Math.abs(fd - an) <= 2e-2 * Math.abs(an) + 2e-3;

const B = 2;
const T = 4;
const C = 16;

function setup(options: RtfOptions) {
  const fuser = new RankEnhancingTokenFuser({ channels: C, heads: 2, ratio: 0.25, dropout: 0, seed: 11, ...options });
  const x = tf.randomNormal([B, T, C], 0, 1, 'float32', 1) as tf.Tensor3D;
  const y = tf.randomNormal([B, T, C], 0, 1, 'float32', 2) as tf.Tensor3D;
  const r = tf.randomNormal([B, T, C], 0, 1, 'float32', 3);
  const training = options.batchNorm === true;
  const loss = (a: tf.Tensor3D, b: tf.Tensor3D): tf.Scalar =>
    tf.tidy(() => {
      const out = fuser.apply(a, b, { training, lengths: [T, T - 1] });
      return tf.sum(tf.mul(out.fused, r)) as tf.Scalar;
    });
  return { fuser, x, y, r, loss };
}

function perturbed(t: tf.Tensor3D, index: number, delta: number): tf.Tensor3D {
  const v = Float32Array.from(t.dataSync());
  v[index]! += delta;
  return tf.tensor3d(v, t.shape);
}

describe('gradients against central finite differences (cpu)', () => {
  beforeAll(async () => {
    await selectBackend({ backend: 'cpu' });
  });

  describe.each([
    ['variance selection, no BatchNorm', { selection: 'variance', batchNorm: false } as RtfOptions],
    ['bn-gamma selection, training BatchNorm', { selection: 'bn-gamma', batchNorm: true } as RtfOptions],
  ])('%s', (_label, options) => {
    it('alpha: every selected channel matches; channels nobody selected get exactly 0', () => {
      const { fuser, x, y, r, loss } = setup(options);
      const sel = fuser.apply(x, y, { lengths: [T, T - 1], training: options.batchNorm === true });
      const touched = new Set([...sel.selectedX!.arraySync(), ...sel.selectedY!.arraySync()].flat());
      tf.dispose([sel.fused, sel.exchangedX!, sel.exchangedY!, sel.block!, sel.selectedX!, sel.selectedY!, sel.normalisedX ?? [], sel.normalisedY ?? []]);
      const { grads } = tf.variableGrads(() => loss(x, y), [fuser.alpha!]);
      const an = grads[fuser.alpha!.name]!.dataSync();
      const base = Float32Array.from(fuser.alpha!.dataSync());
      const at = (c: number, delta: number): number => {
        const v = base.slice();
        v[c]! += delta;
        fuser.alpha!.assign(tf.tensor1d(v));
        const l = loss(x, y);
        const out = l.dataSync()[0]!;
        l.dispose();
        return out;
      };
      let checked = 0;
      for (let c = 0; c < C; c++) {
        if (!touched.has(c)) {
          expect(an[c], `alpha[${c}] (unselected)`).toBe(0);
          continue;
        }
        const fd = (at(c, EPS) - at(c, -EPS)) / (2 * EPS);
        expect(close(fd, an[c]!), `alpha[${c}]: fd ${fd} vs analytic ${an[c]}`).toBe(true);
        checked++;
      }
      expect(checked).toBeGreaterThanOrEqual(4);
      fuser.alpha!.assign(tf.tensor1d(base));
      tf.dispose([x, y, r, ...Object.values(grads)]);
      fuser.dispose();
    });

    it('both inputs: a selected channel and an untouched channel match', () => {
      const { fuser, x, y, r, loss } = setup(options);
      const sel = fuser.apply(x, y, { lengths: [T, T - 1], training: options.batchNorm === true });
      const sx = sel.selectedX!.arraySync()[0]!;
      const sy = sel.selectedY!.arraySync()[0]!;
      tf.dispose([sel.fused, sel.exchangedX!, sel.exchangedY!, sel.block!, sel.selectedX!, sel.selectedY!, sel.normalisedX ?? [], sel.normalisedY ?? []]);
      const untouched = Array.from({ length: C }, (_, c) => c).find((c) => !sx.includes(c) && !sy.includes(c))!;
      const [gx, gy] = tf.grads((a: tf.Tensor, b: tf.Tensor) => loss(a as tf.Tensor3D, b as tf.Tensor3D))([x, y]);
      const cases: Array<[string, 0 | 1, number]> = [
        ['x, channel selected by X', 0, sx[0]!],
        ['x, untouched channel', 0, untouched],
        ['y, channel selected by Y', 1, sy[0]!],
        ['y, untouched channel', 1, untouched],
      ];
      for (const [label, which, c] of cases) {
        for (const t of [0, 2]) {
          const index = t * C + c; // sample 0, frame t
          const src = which === 0 ? x : y;
          const f = (delta: number): number => {
            const p = perturbed(src, index, delta);
            const l = which === 0 ? loss(p, y) : loss(x, p);
            const v = l.dataSync()[0]!;
            tf.dispose([p, l]);
            return v;
          };
          const fd = (f(EPS) - f(-EPS)) / (2 * EPS);
          const an = (which === 0 ? gx : gy)!.dataSync()[index]!;
          expect(close(fd, an), `${label} ${c}, frame ${t}: fd ${fd} vs analytic ${an}`).toBe(true);
          expect(Math.abs(an)).toBeGreaterThan(1e-4);
        }
      }
      tf.dispose([x, y, r, gx!, gy!]);
      fuser.dispose();
    });
  });
});
