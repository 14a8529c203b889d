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
  /** The pixels whose rays can reach it: columns u0..u1 and rows v0..v1 (inclusive). */
  u0: number; u1: number; v0: number; v1: number;
  cx: number; cy: number; cz: number;
  r: number; c: number;
  l0: number; l1: number; l2: number;
  m: Mat3; half: Vec3; colour: Vec3;
}

function prepare(p: Primitive, ox: number, oy: number, oz: number, cam: Camera, pitchCos: number, pitchSin: number, cull: boolean): PreparedPrimitive {
  const cx = ox - p.centre[0], cy = oy - p.centre[1], cz = oz - p.centre[2];
  const m = p.rotation;
  const r = p.half[0];
  const prepared: PreparedPrimitive = {
    sphere: p.kind === 'sphere', u0: 0, u1: cam.width - 1, v0: 0, v1: cam.height - 1, cx, cy, cz, r, c: cx * cx + cy * cy + cz * cz - r * r,
    l0: m[0] * cx + m[3] * cy + m[6] * cz, l1: m[1] * cx + m[4] * cy + m[7] * cz, l2: m[2] * cx + m[5] * cy + m[8] * cz,
    m, half: p.half, colour: p.colour,
  };
  if (cull) pixelBounds(p, -cx, -cy, -cz, cam, pitchCos, pitchSin, prepared);
  return prepared;
}

/**
 * The pixel rectangle outside which no ray can hit the primitive: the image of its bounding
 * sphere, widened by two pixels so that a ray the rounding of the per-pixel test could still
 * count as a hit lies far inside it (a pixel is ~4 cm at the table). Only a primitive wholly in
 * front of the camera is bounded; one that reaches behind it is tested at every pixel.
 * (px, py, pz) is the centre relative to the camera, in world axes; the bounds go into `out`,
 * which holds the whole frame until then.
 */
function pixelBounds(p: Primitive, px: number, py: number, pz: number, cam: Camera, cos: number, sin: number, out: PreparedPrimitive): void {
  const { width: W, height: H, focal: f } = cam;
  const rho = p.kind === 'sphere' ? p.half[0] : Math.hypot(p.half[0], p.half[1], p.half[2]);
  // camera axes: the rays are rotX(pitch) * (x, y, 1), so camera coordinates are rotX(pitch)^T * world
  const qx = px, qy = cos * py + sin * pz, qz = -sin * py + cos * pz;
  if (!(qz - rho > 1e-3)) return;
  // x / z over the ball lies between the ratios at the corners of its (x, z) box, z > 0 throughout
  const near = 1 / (qz - rho), far = 1 / (qz + rho);
  const xMin = Math.min((qx - rho) * near, (qx - rho) * far), xMax = Math.max((qx + rho) * near, (qx + rho) * far);
  const yMin = Math.min((qy - rho) * near, (qy - rho) * far), yMax = Math.max((qy + rho) * near, (qy + rho) * far);
  const MARGIN = 2;
  // pixel u looks along x = (u + 0.5 - W/2) / f, pixel v along y = -(v + 0.5 - H/2) / f
  out.u0 = Math.max(0, Math.floor(f * xMin + W / 2 - 0.5) - MARGIN);
  out.u1 = Math.min(W - 1, Math.ceil(f * xMax + W / 2 - 0.5) + MARGIN);
  out.v0 = Math.max(0, Math.floor(-f * yMax + H / 2 - 0.5) - MARGIN);
  out.v1 = Math.min(H - 1, Math.ceil(-f * yMin + H / 2 - 0.5) + MARGIN);
}

/**
 * Ray-casts one frame: per pixel the nearest hit among the table top, floor, back wall and the
 * primitives; colour is Lambert shading (ambient + diffuse) and depth the camera-frame z of the
 * hit (a z-buffer), in metres. Returns RGB in [0, 1] (H x W x 3) and depth (H x W). Each
 * primitive is tested only at the pixels of its projected bounding sphere (`cull: false` tests it
 * at every pixel, the same frame at 2-4x the cost: a test holds the two to the bit).
 *
 * @example
 * renderFrame(cam, cameraRays(cam), [{ kind: 'sphere', centre: [0, 0.1, 1], half: [0.05, 0.05, 0.05], rotation: IDENTITY, colour: [1, 0, 0] }], [0.4, 0.85, -0.45], rgb, depth);
 */
export function renderFrame(cam: Camera, rays: Float64Array, prims: readonly Primitive[], light: Vec3, rgb: Float32Array, depth: Float32Array, options: { cull?: boolean } = {}): void {
  const L = normalise(light);
  const [ox, oy, oz] = cam.position;
  const W = cam.width;
  const pitchCos = Math.cos(cam.pitch), pitchSin = Math.sin(cam.pitch);
  const prepared = prims.map((p) => prepare(p, ox, oy, oz, cam, pitchCos, pitchSin, options.cull ?? true));
  for (let v = 0; v < cam.height; v++) {
    // the primitives this row's rays can reach, in scene order (the nearest-hit test keeps the first of equal depths)
    const row = prepared.filter((p) => v >= p.v0 && v <= p.v1);
    for (let u = 0; u < W; u++) {
      const i = v * W + u;
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
      for (let k = 0; k < row.length; k++) {
        const p = row[k]!;
        if (u < p.u0 || u > p.u1) continue;
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
}
