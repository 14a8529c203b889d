import { apply, normalise, rotX, type Mat3, type Vec3 } from './geometry.js';

/** A primitive of the scene: a sphere (radius `half[0]`) or an oriented box (half extents). */
export interface Primitive {
  kind: 'sphere' | 'box';
  centre: Vec3;
  half: Vec3;
  rotation: Mat3;
  colour: Vec3;
}

/** A pinhole camera at `position`, pitched down by `pitch` radians (positive = down), focal length in pixels. */
export interface Camera {
  position: Vec3;
  pitch: number;
  focal: number;
  height: number;
  width: number;
}

/** Rays of every pixel (world directions whose camera-frame z is 1, so hit t is the z-buffer depth). */
export function cameraRays(cam: Camera): Float64Array {
  const R = rotX(cam.pitch);
  const out = new Float64Array(cam.height * cam.width * 3);
  for (let v = 0; v < cam.height; v++) {
    for (let u = 0; u < cam.width; u++) {
      const d = apply(R, [(u + 0.5 - cam.width / 2) / cam.focal, -(v + 0.5 - cam.height / 2) / cam.focal, 1]);
      out.set(d, (v * cam.width + u) * 3);
    }
  }
  return out;
}

const TABLE = { y: 0, xMin: -0.55, xMax: 0.55, zMin: 0.55, zMax: 1.45, colour: [0.55, 0.38, 0.22] as Vec3 };
const FLOOR_Y = -0.75;
const WALL_Z = 2.2;

const WALL_COLOUR: Vec3 = [0.62, 0.66, 0.72];
const FLOOR_COLOUR: Vec3 = [0.3, 0.3, 0.33];

/**
 * What a primitive's ray test needs that does not depend on the ray: the camera position relative
 * to the centre (c), a sphere's c.c - r^2 and a box's c in its own frame (l). Computed once a frame
 * with the expressions the per-pixel test used, so the frames are the same to the bit.
 */
interface PreparedPrimitive {
  sphere: boolean;
  cx: number; cy: number; cz: number;
  r: number; c: number;
  l0: number; l1: number; l2: number;
  m: Mat3; half: Vec3; colour: Vec3;
}

function prepare(p: Primitive, ox: number, oy: number, oz: number): PreparedPrimitive {
  const cx = ox - p.centre[0], cy = oy - p.centre[1], cz = oz - p.centre[2];
  const m = p.rotation;
  const r = p.half[0];
  return {
    sphere: p.kind === 'sphere', cx, cy, cz, r, c: cx * cx + cy * cy + cz * cz - r * r,
    l0: m[0] * cx + m[3] * cy + m[6] * cz, l1: m[1] * cx + m[4] * cy + m[7] * cz, l2: m[2] * cx + m[5] * cy + m[8] * cz,
    m, half: p.half, colour: p.colour,
  };
}

/**
 * Ray-casts one frame: per pixel the nearest hit among the table top, floor, back wall and the
 * primitives; colour is Lambert shading (ambient + diffuse) and depth the camera-frame z of the
 * hit (a z-buffer), in metres. Returns RGB in [0, 1] (H x W x 3) and depth (H x W).
 */
export function renderFrame(cam: Camera, rays: Float64Array, prims: readonly Primitive[], light: Vec3, rgb: Float32Array, depth: Float32Array): void {
  const L = normalise(light);
  const [ox, oy, oz] = cam.position;
  const n = cam.height * cam.width;
  const prepared = prims.map((p) => prepare(p, ox, oy, oz));
  for (let i = 0; i < n; i++) {
    const dx = rays[i * 3]!, dy = rays[i * 3 + 1]!, dz = rays[i * 3 + 2]!;
    let best = Infinity;
    let nx = 0, ny = 0, nz = -1;
    let col: Vec3 = WALL_COLOUR;
    // Back wall, floor, table top.
    if (dz > 1e-9) {
      const t = (WALL_Z - oz) / dz;
      if (t > 0 && t < best) { best = t; nx = 0; ny = 0; nz = -1; col = WALL_COLOUR; }
    }
    if (dy < -1e-9) {
      const t = (FLOOR_Y - oy) / dy;
      if (t > 0 && t < best) { best = t; nx = 0; ny = 1; nz = 0; col = FLOOR_COLOUR; }
      const tt = (TABLE.y - oy) / dy;
      const x = ox + dx * tt, z = oz + dz * tt;
      if (tt > 0 && tt < best && x >= TABLE.xMin && x <= TABLE.xMax && z >= TABLE.zMin && z <= TABLE.zMax) {
        best = tt; nx = 0; ny = 1; nz = 0; col = TABLE.colour;
      }
    }
    const a = dx * dx + dy * dy + dz * dz;
    for (let k = 0; k < prepared.length; k++) {
      const p = prepared[k]!;
      const cx = p.cx, cy = p.cy, cz = p.cz;
      if (p.sphere) {
        const r = p.r;
        const b = cx * dx + cy * dy + cz * dz;
        const disc = b * b - a * p.c;
        if (disc < 0) continue;
        const t = (-b - Math.sqrt(disc)) / a;
        if (t > 0 && t < best) {
          best = t;
          nx = (cx + dx * t) / r; ny = (cy + dy * t) / r; nz = (cz + dz * t) / r;
          col = p.colour;
        }
      } else {
        // Slab test in the box frame (local = R^T world), unrolled to avoid allocations.
        const m = p.m;
        const l0 = p.l0, l1 = p.l1, l2 = p.l2;
        const d0 = m[0] * dx + m[3] * dy + m[6] * dz, d1 = m[1] * dx + m[4] * dy + m[7] * dz, d2 = m[2] * dx + m[5] * dy + m[8] * dz;
        let tmin = -Infinity, tmax = Infinity, axis = 0, sign = 1;
        let hit = true;
        for (let ax = 0; ax < 3 && hit; ax++) {
          const o = ax === 0 ? l0 : ax === 1 ? l1 : l2;
          const d = ax === 0 ? d0 : ax === 1 ? d1 : d2;
          const h = p.half[ax]!;
          if (Math.abs(d) < 1e-12) {
            if (o < -h || o > h) hit = false;
            continue;
          }
          let t1 = (-h - o) / d, t2 = (h - o) / d, sg = -1;
          if (t1 > t2) { const tmp = t1; t1 = t2; t2 = tmp; sg = 1; }
          if (t1 > tmin) { tmin = t1; axis = ax; sign = sg; }
          if (t2 < tmax) tmax = t2;
          if (tmin > tmax) hit = false;
        }
        if (hit && tmin > 0 && tmin < best) {
          best = tmin;
          // World normal = R * (sign e_axis): column `axis` of R.
          nx = m[axis]! * sign; ny = m[3 + axis]! * sign; nz = m[6 + axis]! * sign;
          col = p.colour;
        }
      }
    }
    const shade = 0.35 + 0.65 * Math.max(0, nx * L[0] + ny * L[1] + nz * L[2]);
    rgb[i * 3] = Math.min(1, col[0] * shade);
    rgb[i * 3 + 1] = Math.min(1, col[1] * shade);
    rgb[i * 3 + 2] = Math.min(1, col[2] * shade);
    depth[i] = best;
  }
}
