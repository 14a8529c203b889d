import { DatasetFormatError } from '../errors.js';
import { UNDEFINED_LABEL } from '../sequence.js';

/**
 * Parses `mapping.txt`: one `<index> <ClassName>` per line (names may contain spaces). Indices
 * must cover 0..n-1 once each; a blank last line is fine.
 *
 * @example
 * parseMapping('0 Getting ingredients\n1 Mixing\n').names; // ['Getting ingredients', 'Mixing']
 */
export function parseMapping(text: string, file = 'mapping.txt'): { names: string[]; index: Map<string, number> } {
  const names: string[] = [];
  text.split(/\r?\n/).forEach((raw, i) => {
    const s = raw.trim();
    if (s === '') return;
    const m = /^(\d+)\s+(.+)$/.exec(s);
    if (!m) throw new DatasetFormatError({ file, line: i + 1, expected: '"<index> <ClassName>"', found: raw });
    const k = Number(m[1]);
    if (k > 100_000) throw new DatasetFormatError({ file, line: i + 1, expected: 'a class index below 100000', found: m[1]! });
    if (names[k] != null) throw new DatasetFormatError({ file, line: i + 1, expected: `a class index not used before (${k} is ${names[k]})`, found: m[1]! });
    names[k] = m[2]!.trim();
  });
  for (let k = 0; k < names.length; k++) {
    if (names[k] == null) throw new DatasetFormatError({ file, line: 1, expected: `class indices 0..${names.length - 1} without gaps`, found: `no class ${k}` });
  }
  if (names.length === 0) throw new DatasetFormatError({ file, line: 1, expected: 'at least one "<index> <ClassName>" line', found: 'an empty file' });
  const index = new Map<string, number>();
  names.forEach((n, i) => {
    if (index.has(n)) throw new DatasetFormatError({ file, line: i + 1, expected: 'distinct class names', found: n });
    index.set(n, i);
  });
  return { names, index };
}

/** One ground-truth file: per frame, the L2 label (or the bare label), and L3 and the frame path when given. */
export interface GroundTruth {
  format: 'csv' | 'bare';
  l2: string[];
  l3?: string[];
  framePaths?: string[];
}

/**
 * Parses a FUTR-style ground-truth file: one line per frame, either `<frame path>,<L2>,<L3>`
 * (spaces after commas allowed; `<frame path>,<label>` also accepted) or a bare label
 * (Breakfast/50Salads). Mixing the two forms, or an empty line inside the file, throws.
 *
 * @example
 * parseGroundTruth('f/0001.jpg, Mixing, Pour milk\n').l2; // ['Mixing']
 */
export function parseGroundTruth(text: string, file = '<groundTruth>'): GroundTruth {
  const lines = text.split(/\r?\n/);
  while (lines.length > 0 && lines[lines.length - 1]!.trim() === '') lines.pop();
  if (lines.length === 0) throw new DatasetFormatError({ file, line: 1, expected: 'one label line per frame', found: 'an empty file' });
  const csv = lines[0]!.includes(',');
  const l2: string[] = [];
  const l3: string[] = [];
  const paths: string[] = [];
  lines.forEach((raw, i) => {
    const line = i + 1;
    const s = raw.trim();
    if (s === '') throw new DatasetFormatError({ file, line, expected: 'a label line (empty lines only at the end)', found: raw });
    if (csv) {
      const parts = s.split(',').map((p) => p.trim());
      if (parts.length < 2 || parts.length > 3 || parts[0] === '') {
        throw new DatasetFormatError({ file, line, expected: '"<frame path>,<L2 label>,<L3 label>" like the first line', found: raw });
      }
      paths.push(parts[0]!);
      l2.push(parts[1]!);
      if (parts.length === 3) l3.push(parts[2]!);
    } else {
      if (s.includes(',')) throw new DatasetFormatError({ file, line, expected: 'a bare label like the first line', found: raw });
      l2.push(s);
    }
  });
  if (l3.length !== 0 && l3.length !== l2.length) {
    throw new DatasetFormatError({ file, line: l3.length + 1, expected: 'an L3 label on every line or on none', found: 'a mix' });
  }
  return csv ? { format: 'csv', l2, ...(l3.length ? { l3 } : {}), framePaths: paths } : { format: 'bare', l2 };
}

/** Labels that mean "no label": they become UNDEFINED (-1). */
export const UNDEFINED_NAMES = new Set(['', 'UNDEFINED', 'undefined', 'None', 'NONE_LABEL']);

/**
 * Maps label names to class indices; UNDEFINED names give -1, unknown names throw with the line.
 */
export function labelIndices(names: readonly string[], index: ReadonlyMap<string, number>, file = '<groundTruth>'): Int32Array {
  const out = new Int32Array(names.length);
  names.forEach((n, i) => {
    if (UNDEFINED_NAMES.has(n)) {
      out[i] = UNDEFINED_LABEL;
      return;
    }
    const k = index.get(n);
    if (k == null) throw new DatasetFormatError({ file, line: i + 1, expected: 'a label listed in the mapping file (or UNDEFINED)', found: n });
    out[i] = k;
  });
  return out;
}

/** Parses a split file: one ground-truth file name per line (`.txt` suffix optional). */
export function parseSplit(text: string): string[] {
  return text.split(/\r?\n/).map((s) => s.trim()).filter((s) => s !== '').map((s) => s.replace(/\.txt$/, ''));
}
