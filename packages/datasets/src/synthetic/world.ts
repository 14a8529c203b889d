import { Rng } from '../random.js';
import { add, apply, IDENTITY, lerp, mul, rotY, rotZ, smoothstep, sub, transpose, type Mat3, type Vec3 } from './geometry.js';
import type { Primitive } from './render.js';

/** The actions of the synthetic world, in class-index order. */
export const SYNTHETIC_ACTIONS = ['idle', 'reach', 'grasp', 'lift', 'move_toward', 'move_away', 'pour', 'place', 'push', 'pull', 'retract'] as const;
export type SyntheticAction = (typeof SYNTHETIC_ACTIONS)[number];

interface WorldObject {
  name: string;
  kind: 'sphere' | 'box';
  half: Vec3;
  colour: Vec3;
  pos: Vec3;
  rot: Mat3;
}

/** The world at one frame: the wrist, its orientation and grip, and where every object is. */
export interface WorldState {
  hand: Vec3;
  yaw: number;
  roll: number;
  /** 0 = open, 1 = closed. */
  grip: number;
  objects: { pos: Vec3; rot: Mat3 }[];
}

/** A simulated episode: per-frame states, per-frame action labels and the object each action involves. */
export interface Episode {
  states: WorldState[];
  labels: number[];
  targets: string[];
  objects: WorldObject[];
  shoulder: Vec3;
}

const REST: Vec3 = [0.26, 0.14, 0.6];
const TABLE_TOP = 0;
const SHOULDER: Vec3 = [0.42, 0.34, 0.42];

function makeObjects(rng: Rng): WorldObject[] {
  const jitter = (c: Vec3): Vec3 => c.map((v) => Math.min(1, Math.max(0, v + rng.uniform(-0.08, 0.08)))) as Vec3;
  const defs: Omit<WorldObject, 'pos' | 'rot'>[] = [
    { name: 'red ball', kind: 'sphere', half: [0.055, 0.055, 0.055], colour: jitter([0.85, 0.15, 0.12]) },
    { name: 'blue cup', kind: 'box', half: [0.045, 0.07, 0.045], colour: jitter([0.15, 0.3, 0.85]) },
    { name: 'green block', kind: 'box', half: [0.065, 0.04, 0.065], colour: jitter([0.15, 0.7, 0.25]) },
  ];
  // Three slots across the table, shuffled, with jitter; objects stand on the table top.
  const xs = rng.shuffle([-0.28, -0.02, 0.24]);
  return defs.map((d, i) => ({ ...d, pos: [xs[i]! + rng.uniform(-0.05, 0.05), TABLE_TOP + d.half[1], rng.uniform(0.85, 1.1)] as Vec3, rot: IDENTITY }));
}

function yawOf(hand: Vec3): number {
  return Math.atan2(hand[0] - SHOULDER[0], hand[2] - SHOULDER[2]);
}

/**
 * How an episode's tasks are chosen. `random` (the default): each task picks any object and
 * draws its branches (slide or carry, move, pour) at random, so nothing observed tells which
 * comes next. `by-object`: the object decides the task, as a person's habits would: the ball is
 * slid (pushed away when it lies near the camera, pulled when far), the cup is lifted and poured,
 * the block is lifted and carried toward the camera when far, away when near; each object is
 * handled at most once, in random order. The next actions then follow from what the video shows.
 */
export type ActionGrammar = 'random' | 'by-object';

/** The objects' kinds in `makeObjects` order, for the `by-object` grammar. */
const BALL = 0;
const CUP = 1;
/** Depth (z, metres) that splits "near the camera" from "far" in the `by-object` grammar: the middle of the objects' range. */
const NEAR_FAR_Z = 0.975;

/**
 * Simulates an episode from a seeded script: an idle start, then one to three tasks drawn from
 * "pick, carry and place" (reach, grasp, lift, optionally move toward or away from the camera,
 * optionally pour, place, retract) and "slide" (reach, push or pull, retract). Motions are
 * smooth-step interpolations with random durations and amplitudes; a held object follows the
 * wrist rigidly (so pouring tilts it). `grammar` picks how tasks are chosen (see `ActionGrammar`;
 * the default `random` is the same bytes as before the option existed).
 *
 * @example
 * simulateEpisode(new Rng(1), { grammar: 'by-object' }).labels; // [0, 0, ..., 1, 1, ...]
 */
export function simulateEpisode(rng: Rng, options: { minTasks?: number; maxTasks?: number; grammar?: ActionGrammar } = {}): Episode {
  const objects = makeObjects(rng);
  let state: WorldState = { hand: [REST[0] + rng.uniform(-0.03, 0.03), REST[1], REST[2]], yaw: 0, roll: 0, grip: 0, objects: objects.map((o) => ({ pos: o.pos, rot: o.rot })) };
  state.yaw = yawOf(state.hand);
  const states: WorldState[] = [];
  const labels: number[] = [];
  const targets: string[] = [];
  let held = -1;
  let attach: { offset: Vec3; rot: Mat3; handRot: Mat3 } | undefined;
  const handRot = (s: WorldState): Mat3 => mul(rotY(s.yaw), rotZ(s.roll));

  const run = (action: SyntheticAction, frames: number, target: number, to: (s: number, from: WorldState) => Partial<WorldState> & { slide?: Vec3 }) => {
    const from = state;
    for (let k = 1; k <= frames; k++) {
      const s = smoothstep(k / frames);
      const part = to(s, from);
      const hand = part.hand ?? from.hand;
      const next: WorldState = {
        hand,
        yaw: yawOf(hand),
        roll: part.roll ?? from.roll,
        grip: part.grip ?? from.grip,
        objects: from.objects.map((o) => ({ pos: o.pos, rot: o.rot })),
      };
      if (held >= 0 && attach) {
        const R = handRot(next);
        const rel = mul(R, transpose(attach.handRot));
        next.objects[held] = { pos: add(hand, apply(rel, attach.offset)), rot: mul(rel, attach.rot) };
      }
      if (part.slide && target >= 0) next.objects[target] = { pos: add(from.objects[target]!.pos, part.slide), rot: from.objects[target]!.rot };
      states.push(next);
      labels.push(SYNTHETIC_ACTIONS.indexOf(action));
      targets.push(target >= 0 ? objects[target]!.name : '');
      state = next;
    }
  };
  const top = (i: number): Vec3 => add(state.objects[i]!.pos, [0, objects[i]!.half[1] + 0.025, 0]);
  const idle = (frames: number) => {
    const drift: Vec3 = [rng.uniform(-0.015, 0.015), rng.uniform(-0.01, 0.01), rng.uniform(-0.015, 0.015)];
    run('idle', frames, -1, (s, f) => ({ hand: lerp(f.hand, add(f.hand, drift), s) }));
  };

  idle(rng.int(4, 10));
  const tasks = rng.int(options.minTasks ?? 1, options.maxTasks ?? 3);
  // by-object: every decision below follows from the object and where it stands; the random
  // grammar's draws are left exactly as they were, so its episodes keep their bytes
  const byObject = options.grammar === 'by-object';
  const order = byObject ? rng.shuffle(objects.map((_, i) => i)) : [];
  const near = (i: number) => state.objects[i]!.pos[2] < NEAR_FAR_Z;
  for (let task = 0; task < tasks; task++) {
    const obj = byObject ? order[task % order.length]! : rng.int(0, objects.length - 1);
    const slide = byObject ? obj === BALL : rng.next() < 0.35;
    const above = add(top(obj), [0, rng.uniform(0.07, 0.12), -0.02]);
    run('reach', rng.int(9, 16), obj, (s, f) => ({ hand: lerp(f.hand, above, s), grip: f.grip * (1 - s) }));
    if (slide) {
      const push = byObject ? near(obj) : rng.next() < 0.5;
      const dist = rng.uniform(0.14, 0.22) * (push ? 1 : -1);
      // Approach the near (push) or far (pull) side low on the table, then slide the object.
      const side = add(state.objects[obj]!.pos, [0, 0.01, push ? -0.09 : 0.09]);
      const approach = rng.int(4, 6);
      const slideFrames = rng.int(8, 13);
      const action = push ? 'push' : 'pull';
      run(action, approach, obj, (s, f) => ({ hand: lerp(f.hand, side, s), grip: 0.3 * s }));
      const handStart = state.hand;
      run(action, slideFrames, obj, (s) => ({ hand: add(handStart, [0, 0, dist * s]), slide: [0, 0, dist * s] }));
    } else {
      const grasped = top(obj);
      run('grasp', rng.int(5, 8), obj, (s, f) => ({ hand: lerp(f.hand, grasped, s), grip: s }));
      held = obj;
      attach = { offset: sub(state.objects[obj]!.pos, state.hand), rot: state.objects[obj]!.rot, handRot: handRot(state) };
      const lift = rng.uniform(0.14, 0.22);
      run('lift', rng.int(7, 11), obj, (s, f) => ({ hand: add(f.hand, [0, lift * s, 0]) }));
      const r = byObject ? (obj === CUP ? 1 : 0) : rng.next();
      if (r < 0.6) {
        const toward = byObject ? !near(obj) : rng.next() < 0.5;
        const dz = rng.uniform(0.18, 0.28) * (toward ? -1 : 1);
        run(toward ? 'move_toward' : 'move_away', rng.int(9, 14), obj, (s, f) => ({ hand: add(f.hand, [rng.uniform(-0.002, 0.002), 0.01 * s, dz * s]) }));
      }
      if (byObject ? obj === CUP : rng.next() < 0.5) {
        const angle = rng.uniform(1.4, 2.0) * (rng.next() < 0.5 ? 1 : -1);
        run('pour', rng.int(14, 20), obj, (s, f) => ({ hand: add(f.hand, [0, 0.02 * Math.sin(Math.PI * s), 0]), roll: angle * Math.sin(Math.PI * s) }));
      }
      // Place back on the table near where the hand is now.
      const h = state.hand;
      const spot: Vec3 = [Math.min(0.45, Math.max(-0.45, h[0])), TABLE_TOP + objects[obj]!.half[1] - (attach ? attach.offset[1] : -0.025), Math.min(1.35, Math.max(0.7, h[2]))];
      run('place', rng.int(8, 12), obj, (s, f) => ({ hand: lerp(f.hand, spot, s), roll: f.roll * (1 - s) }));
      run('place', 2, obj, (s, f) => ({ grip: f.grip * (1 - s) }));
      held = -1;
      attach = undefined;
      // Settle the object upright on the table where it was released.
      const o = state.objects[obj]!;
      state.objects[obj] = { pos: [o.pos[0], TABLE_TOP + objects[obj]!.half[1], o.pos[2]], rot: IDENTITY };
    }
    const rest: Vec3 = [REST[0] + rng.uniform(-0.04, 0.04), REST[1] + rng.uniform(-0.02, 0.02), REST[2] + rng.uniform(-0.04, 0.04)];
    run('retract', rng.int(8, 13), -1, (s, f) => ({ hand: lerp(f.hand, rest, s), grip: f.grip * (1 - s), roll: f.roll * (1 - s) }));
    if (task + 1 < tasks && rng.next() < 0.5) idle(rng.int(3, 7));
  }
  return { states, labels, targets, objects, shoulder: SHOULDER };
}

/** The primitives of one frame: objects, the arm (spheres from shoulder to wrist via an elbow) and the hand box. */
export function framePrimitives(ep: Episode, st: WorldState, skin: Vec3): Primitive[] {
  const prims: Primitive[] = ep.objects.map((o, i) => ({ kind: o.kind, centre: st.objects[i]!.pos, half: o.half, rotation: st.objects[i]!.rot, colour: o.colour }));
  const sh = ep.shoulder;
  const wrist = st.hand;
  const d = sub(wrist, sh);
  const len = Math.hypot(d[0], d[1], d[2]);
  const seg = 0.34;
  const drop = Math.sqrt(Math.max(0, seg * seg - (len / 2) ** 2));
  const elbow: Vec3 = add(lerp(sh, wrist, 0.5), [0.04 * drop, -drop, 0]);
  for (const [a, b, r] of [[sh, elbow, 0.045], [elbow, wrist, 0.036]] as [Vec3, Vec3, number][]) {
    for (let k = 0; k < 3; k++) prims.push({ kind: 'sphere', centre: lerp(a, b, (k + 0.5) / 3), half: [r, r, r], rotation: IDENTITY, colour: skin });
  }
  const R = mul(rotY(st.yaw), rotZ(st.roll));
  const handCentre = add(wrist, apply(R, [0, 0.005, 0.035]));
  // The grip narrows the hand; the roll turns it (pouring shows as a rotated, thinner box).
  prims.push({ kind: 'box', centre: handCentre, half: [0.05 - 0.018 * st.grip, 0.018, 0.045], rotation: R, colour: [skin[0] * 0.92, skin[1] * 0.9, skin[2] * 0.88] });
  return prims;
}
