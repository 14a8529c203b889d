import { DatasetFormatError } from '../errors.js';
import { readFile } from '../node/files.js';
import { TokenStream } from '../tokens.js';

/** Values per joint in a `.skeleton` file: x y z, depthX depthY, colorX colorY, orientation w x y z, trackingState. */
export const JOINT_FIELDS = 12;

/** One tracked body in one frame of an NTU `.skeleton` file. */
export interface SkeletonBody {
  /** The Kinect body ID: a 64-bit unsigned integer kept exact as its decimal string. */
  id: string;
  clippedEdges: number;
  handLeftConfidence: number;
  handLeftState: number;
  handRightConfidence: number;
  handRightState: number;
  isRestricted: number;
  leanX: number;
  leanY: number;
  trackingState: number;
  jointCount: number;
  /** `jointCount x 12` values in file order (see `JOINT_FIELDS`). */
  joints: Float32Array;
}

/** A parsed `.skeleton` file: one entry per frame, each with 0, 1, 2 or more bodies. */
export interface Skeleton {
  frames: { bodies: SkeletonBody[] }[];
}

/** The body ID as a `bigint` (exact; a JS number would round IDs above 2^53). */
export function bodyIdBigInt(body: SkeletonBody): bigint {
  return BigInt(body.id);
}

/**
 * Parses an NTU RGB+D `.skeleton` file as a whitespace token stream: a frame count, then per
 * frame a body count and per body a 10-field line, a joint count and 12 fields per joint.
 * Body IDs stay exact strings; frames with 0 bodies are kept. Bad input throws
 * `DatasetFormatError` with the line and the field expected.
 *
 * @example
 * const sk = parseSkeleton(readFileSync('S001C001P001R001A001.skeleton', 'utf8'), 'S001...skeleton');
 * sk.frames[0].bodies[0].id; // '72057594037931101'
 */
export function parseSkeleton(text: string, file = '<buffer>'): Skeleton {
  const ts = new TokenStream(text, file);
  // Every frame needs at least one token, every body at least 11 + 12 * joints: bound counts by
  // what the file can hold so a corrupt count never allocates or loops far past the file.
  const budget = text.length;
  const frameCount = ts.int('the frame count (a non-negative integer)', 0, budget);
  const frames: { bodies: SkeletonBody[] }[] = [];
  for (let f = 0; f < frameCount; f++) {
    const bodyCount = ts.int(`the body count of frame ${f + 1}`, 0, 64);
    const bodies: SkeletonBody[] = [];
    for (let b = 0; b < bodyCount; b++) {
      const where = `frame ${f + 1} body ${b + 1}`;
      const idTok = ts.next(`the body ID of ${where}`);
      if (!/^\d{1,20}$/.test(idTok.text) || BigInt(idTok.text) >= 1n << 64n) ts.fail(idTok, `the body ID of ${where} (an unsigned 64-bit integer)`);
      const id = BigInt(idTok.text).toString();
      const clippedEdges = ts.int(`clipedEdges of ${where}`, 0);
      const handLeftConfidence = ts.int(`handLeftConfidence of ${where}`, 0);
      const handLeftState = ts.int(`handLeftState of ${where}`, 0);
      const handRightConfidence = ts.int(`handRightConfidence of ${where}`, 0);
      const handRightState = ts.int(`handRightState of ${where}`, 0);
      const isRestricted = ts.int(`isRestricted of ${where}`, 0);
      const leanX = ts.float(`leanX of ${where} (a number)`);
      const leanY = ts.float(`leanY of ${where} (a number)`);
      const trackingState = ts.int(`trackingState of ${where}`, 0);
      const jointCount = ts.int(`the joint count of ${where}`, 0, 64);
      const joints = new Float32Array(jointCount * JOINT_FIELDS);
      for (let j = 0; j < jointCount; j++) {
        for (let k = 0; k < JOINT_FIELDS - 1; k++) joints[j * JOINT_FIELDS + k] = ts.float(`field ${k + 1} of joint ${j + 1} of ${where} (a number)`);
        joints[j * JOINT_FIELDS + 11] = ts.int(`the trackingState of joint ${j + 1} of ${where} (0, 1 or 2)`, 0, 2);
      }
      bodies.push({ id, clippedEdges, handLeftConfidence, handLeftState, handRightConfidence, handRightState, isRestricted, leanX, leanY, trackingState, jointCount, joints });
    }
    frames.push({ bodies });
  }
  ts.end(`the end of the file after ${frameCount} frames`);
  return { frames };
}

/** Reads and parses a `.skeleton` file; see `parseSkeleton`. */
export function readSkeleton(path: string): Skeleton {
  return parseSkeleton(new TextDecoder().decode(readFile(path)), path);
}

/**
 * Per-frame skeleton vectors: x y z of the first `bodies` bodies' joints (default 2 x 25 x 3 =
 * 150 values), zeros for absent bodies, so a 0-body frame is a zero row.
 */
export function skeletonToFrames(sk: Skeleton, options: { bodies?: number; joints?: number } = {}): { dim: number; data: Float32Array } {
  const B = options.bodies ?? 2;
  const J = options.joints ?? 25;
  const dim = B * J * 3;
  const data = new Float32Array(sk.frames.length * dim);
  sk.frames.forEach((fr, t) => {
    fr.bodies.slice(0, B).forEach((body, b) => {
      for (let j = 0; j < Math.min(J, body.jointCount); j++) {
        for (let k = 0; k < 3; k++) data[t * dim + (b * J + j) * 3 + k] = body.joints[j * JOINT_FIELDS + k]!;
      }
    });
  });
  return { dim, data };
}

/** The parts of an NTU sample name `SsssCcccPpppRrrrAaaa`. */
export interface NtuSampleName {
  name: string;
  setup: number;
  camera: number;
  performer: number;
  replication: number;
  /** 1..120 as in the name; the class index is `action - 1`. */
  action: number;
  /** A050-A060 and A106-A120 involve two people. */
  twoPerson: boolean;
}

/**
 * Parses an NTU RGB+D sample name (`S001C002P003R002A013`, optionally followed by a suffix such
 * as `.skeleton` or `_rgb.avi`).
 *
 * @example
 * parseSampleName('S001C002P003R002A013.skeleton').action; // 13
 */
export function parseSampleName(name: string): NtuSampleName {
  const m = /^S(\d{3})C(\d{3})P(\d{3})R(\d{3})A(\d{3})/.exec(name);
  if (!m) throw new DatasetFormatError({ file: name, offset: 0, expected: 'an NTU sample name SsssCcccPpppRrrrAaaa (e.g. S001C002P003R002A013)', found: name });
  const action = Number(m[5]);
  if (action < 1 || action > 120) throw new DatasetFormatError({ file: name, offset: 17, expected: 'an action number 001..120', found: m[5]! });
  return {
    name: m[0]!,
    setup: Number(m[1]),
    camera: Number(m[2]),
    performer: Number(m[3]),
    replication: Number(m[4]),
    action,
    twoPerson: (action >= 50 && action <= 60) || action >= 106,
  };
}
