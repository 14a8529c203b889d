import { describe, expect, it } from 'vitest';
import { Rng } from '../random.js';
import { mul, rotX, rotY, rotZ, type Vec3 } from './geometry.js';
import { cameraRays, renderFrame, type Camera, type Primitive } from './render.js';

// Random scenes around the table: primitives inside the view, across its edges, straddling the
// camera plane and behind it, tiny and large, spheres and rotated boxes.
function scene(rng: Rng, cam: Camera): Primitive[] {
  const n = 1 + Math.floor(rng.next() * 12);
  return Array.from({ length: n }, (): Primitive => {
    const size = rng.next() < 0.15 ? rng.uniform(0.2, 0.8) : rng.uniform(0.005, 0.08);
    const depth = rng.next() < 0.2 ? rng.uniform(-0.3, 0.25) : rng.uniform(0.2, 2.5);
    // spread past the field of view so that some lie across its edges or outside it
    const centre: Vec3 = [cam.position[0] + rng.uniform(-0.9, 0.9) * (depth + 0.3), cam.position[1] + rng.uniform(-1.2, 0.5), cam.position[2] + depth];
    const sphere = rng.next() < 0.5;
    return {
      kind: sphere ? 'sphere' : 'box',
      centre,
      half: sphere ? [size, size, size] : [size, size * rng.uniform(0.2, 1), size * rng.uniform(0.2, 1.5)],
      rotation: mul(rotY(rng.uniform(-3, 3)), mul(rotZ(rng.uniform(-3, 3)), rotX(rng.uniform(-3, 3)))),
      colour: [rng.next(), rng.next(), rng.next()],
    };
  });
}

describe('renderFrame', () => {
  it('tests each primitive only inside its projected bounds and draws the same frames, bit for bit, as testing it at every pixel', () => {
    const rng = new Rng(2026);
    let covered = 0;
    for (const [height, width] of [[24, 32], [12, 16], [48, 64], [7, 5]] as const) {
      for (let s = 0; s < 400; s++) {
        const cam: Camera = { position: [rng.uniform(-0.1, 0.1), 0.56 + rng.uniform(-0.1, 0.1), 0], pitch: rng.uniform(-0.2, 1.2), focal: width * rng.uniform(0.5, 1.5), height, width };
        const rays = cameraRays(cam);
        const prims = scene(rng, cam);
        const light: Vec3 = [rng.uniform(-1, 1), 0.85, rng.uniform(-1, 1)];
        const culled = { rgb: new Float32Array(height * width * 3), depth: new Float32Array(height * width) };
        const full = { rgb: new Float32Array(height * width * 3), depth: new Float32Array(height * width) };
        renderFrame(cam, rays, prims, light, culled.rgb, culled.depth);
        renderFrame(cam, rays, prims, light, full.rgb, full.depth, { cull: false });
        expect(Buffer.from(culled.rgb.buffer).equals(Buffer.from(full.rgb.buffer)), `rgb, ${height}x${width}, scene ${s}`).toBe(true);
        expect(Buffer.from(culled.depth.buffer).equals(Buffer.from(full.depth.buffer)), `depth, ${height}x${width}, scene ${s}`).toBe(true);
        // the scenes are not empty: pixels nearer than 0.5 m (primitives, or the table under a steep pitch)
        covered += full.depth.filter((d) => d < 0.5).length;
      }
    }
    expect(covered).toBeGreaterThan(10_000);
  });
});
