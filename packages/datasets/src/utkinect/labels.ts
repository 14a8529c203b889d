import { DatasetFormatError } from '../errors.js';
import { UNDEFINED_LABEL } from '../sequence.js';

/** The ten UTKinect-Action3D actions, in the order of their class indices. */
export const UTK_ACTIONS = ['walk', 'sitDown', 'standUp', 'pickUp', 'carry', 'throw', 'push', 'pull', 'waveHands', 'clapHands'] as const;

/** One labelled range of a session: inclusive frame numbers N (as in `colorImg<N>.jpg`). */
export interface UtkRange {
  action: string;
  classIndex: number;
  start: number;
  end: number;
  /** 1-based line in actionLabel.txt. */
  line: number;
}

/** A session of actionLabel.txt: its ranges in file order, and actions given as `NaN NaN`. */
export interface UtkSession {
  sequence: string;
  ranges: UtkRange[];
  absent: string[];
}

const LOWER = new Map<string, number>(UTK_ACTIONS.map((a, i) => [a.toLowerCase(), i]));

/**
 * Parses UTKinect's `actionLabel.txt`, tolerating every quirk of the real file: trailing and
 * double spaces, CRLF, ranges out of order, shared or overlapping boundaries, sessions with
 * fewer than ten actions, no final newline, and `NaN NaN` ranges (kept in `absent`). Action
 * names match case-insensitively. Anything else throws `DatasetFormatError` with the line.
 *
 * @example
 * const sessions = parseActionLabels(readFileSync('actionLabel.txt', 'utf8'), 'actionLabel.txt');
 * sessions.get('s01_e01')!.ranges[0]; // { action: 'walk', start: 252, end: 390, ... }
 */
export function parseActionLabels(text: string, file = 'actionLabel.txt'): Map<string, UtkSession> {
  const sessions = new Map<string, UtkSession>();
  let current: UtkSession | undefined;
  const lines = text.split(/\r?\n|\r/);
  lines.forEach((raw, i) => {
    const line = i + 1;
    const s = raw.replace(/[\s\u00a0]+/g, ' ').trim();
    if (s === '') return;
    if (/^s\d+_e\d+$/i.test(s)) {
      if (sessions.has(s)) throw new DatasetFormatError({ file, line, expected: `a session header not seen before`, found: s });
      current = { sequence: s, ranges: [], absent: [] };
      sessions.set(s, current);
      return;
    }
    const m = /^([A-Za-z]+) ?: ?(\S+) (\S+)$/.exec(s);
    if (!m) throw new DatasetFormatError({ file, line, expected: 'a session header like "s01_e01" or "<action>: <start> <end>"', found: raw });
    if (!current) throw new DatasetFormatError({ file, line, expected: 'a session header (e.g. "s01_e01") before the first action', found: raw });
    const classIndex = LOWER.get(m[1]!.toLowerCase());
    if (classIndex == null) throw new DatasetFormatError({ file, line, expected: `one of the actions ${UTK_ACTIONS.join(', ')}`, found: m[1]! });
    const action = UTK_ACTIONS[classIndex]!;
    const [a, b] = [m[2]!, m[3]!];
    if (/^nan$/i.test(a) || /^nan$/i.test(b)) {
      current.absent.push(action);
      return;
    }
    if (!/^\d+$/.test(a) || !/^\d+$/.test(b)) throw new DatasetFormatError({ file, line, expected: 'two non-negative integer frame numbers (or NaN NaN)', found: `${a} ${b}` });
    const start = Number(a);
    const end = Number(b);
    if (end < start) throw new DatasetFormatError({ file, line, expected: `an end frame >= the start frame ${start}`, found: b });
    current.ranges.push({ action, classIndex, start, end, line });
  });
  return sessions;
}

/**
 * Labels frames by their numbers N: a frame takes the first range (in file order) containing it,
 * else UNDEFINED (-1), so overlapping ranges resolve the way the annotation file lists them.
 *
 * @example
 * labelFrames(session.ranges, [190, 191, 252]); // Int32Array [-1, -1, 0]
 */
export function labelFrames(ranges: readonly UtkRange[], frameNumbers: ArrayLike<number>): Int32Array {
  const out = new Int32Array(frameNumbers.length).fill(UNDEFINED_LABEL);
  for (let i = 0; i < frameNumbers.length; i++) {
    const n = frameNumbers[i]!;
    const r = ranges.find((r) => n >= r.start && n <= r.end);
    if (r) out[i] = r.classIndex;
  }
  return out;
}
