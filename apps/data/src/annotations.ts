import { DatasetFormatError, mixSeed, Rng } from '@r3d-ts/datasets';

/** One annotated segment: `[start, end)` in the unit of the file, with its 1-based line. */
export interface Segment {
  video: string;
  start: number;
  end: number;
  label: string;
  line: number;
  /** Extra columns of the row by header name (e.g. `subject`), when the file has a header. */
  extra: Record<string, string>;
}

/** What `parseSegments` read: the segments in file order and the header (default columns when the file has none). */
export interface SegmentTable {
  file: string;
  header: string[];
  segments: Segment[];
}

const REQUIRED = ['video', 'start', 'end', 'label'] as const;

/**
 * Parses a segment annotation CSV: `video,start,end,label` per row, with an optional header row
 * (then the four columns may be in any order and extra columns, such as a subject id, are kept).
 * Times are numbers in the file's unit (seconds or frames, see `expandLabels`); `end` must exceed
 * `start`. A bad row throws a `DatasetFormatError` naming the file and its line.
 *
 * @example
 * parseSegments('video,start,end,label\nv1,0,2.5,pour\n', 'labels.csv').segments[0]; // { video: 'v1', start: 0, end: 2.5, label: 'pour', line: 2, extra: {} }
 */
export function parseSegments(text: string, file = '<labels>'): SegmentTable {
  const rows = parseCsv(text, file);
  if (rows.length === 0) throw new DatasetFormatError({ file, line: 1, expected: 'rows "video,start,end,label"', found: 'an empty file' });
  const first = rows[0]!.record;
  // a header row is one whose start/end cells are not numbers
  const hasHeader = first.length >= 4 && !Number.isFinite(Number(first[1])) && !Number.isFinite(Number(first[2]));
  const header = hasHeader ? first.map((h) => h.toLowerCase()) : [...REQUIRED];
  // a narration file names its text column text, narration or phrase
  if (hasHeader && !header.includes('label')) {
    const k = header.findIndex((h) => h === 'text' || h === 'narration' || h === 'phrase');
    if (k >= 0) header[k] = 'label';
  }
  const col = Object.fromEntries(REQUIRED.map((name) => [name, header.indexOf(name)])) as Record<(typeof REQUIRED)[number], number>;
  for (const name of REQUIRED) {
    if (col[name] < 0) throw new DatasetFormatError({ file, line: 1, expected: `a header with the columns ${REQUIRED.join(', ')}`, found: first.join(',') });
  }
  const segments: Segment[] = [];
  for (const { info, record } of hasHeader ? rows.slice(1) : rows) {
    const line = info.lines;
    if (record.length !== header.length) throw new DatasetFormatError({ file, line, expected: `${header.length} columns (${header.join(',')})`, found: `${record.length}: ${record.join(',')}` });
    const video = record[col.video]!;
    const label = record[col.label]!;
    const start = Number(record[col.start]);
    const end = Number(record[col.end]);
    if (video === '') throw new DatasetFormatError({ file, line, expected: 'a video name', found: record.join(',') });
    if (label === '') throw new DatasetFormatError({ file, line, expected: 'a label', found: record.join(',') });
    if (record[col.start] === '' || !Number.isFinite(start) || start < 0) throw new DatasetFormatError({ file, line, expected: 'a start time >= 0', found: record[col.start]! });
    if (record[col.end] === '' || !Number.isFinite(end) || !(end > start)) throw new DatasetFormatError({ file, line, expected: `an end time after the start (${start})`, found: record[col.end]! });
    const extra: Record<string, string> = {};
    header.forEach((h, i) => {
      if (!(REQUIRED as readonly string[]).includes(h)) extra[h] = record[i]!;
    });
    segments.push({ video, start, end, label, line, extra });
  }
  return { file, header, segments };
}

/** How segment times map to frames. */
export interface ExpandOptions {
  /** `seconds` (frame i is at time i / fps) or `frames` (0-based frame numbers). */
  unit: 'seconds' | 'frames';
  fps: number;
  /** Label of frames no segment covers (default `UNDEFINED`, which the loaders do not score). */
  gapLabel?: string;
}

/**
 * Per-frame labels of one video from its segments. A segment covers the frames whose time (or
 * number) t satisfies start <= t < end. Overlaps: the segment that starts later wins (on equal
 * starts, the one later in the file), so a short event annotated inside a long activity shows.
 * Frames no segment covers get `gapLabel`; segment parts past the last frame are dropped.
 *
 * @example
 * expandLabels([{ video: 'v', start: 0, end: 2, label: 'a', line: 2, extra: {} }], 3, { unit: 'frames', fps: 15 }); // ['a', 'a', 'UNDEFINED']
 */
export function expandLabels(segments: readonly Segment[], frames: number, options: ExpandOptions): string[] {
  const out = new Array<string>(frames).fill(options.gapLabel ?? 'UNDEFINED');
  // paint in order of start (stable: file order on ties), so a later start overwrites
  const order = [...segments].sort((a, b) => a.start - b.start || a.line - b.line);
  const toFrame = (x: number): number => (options.unit === 'frames' ? x : x * options.fps);
  for (const s of order) {
    // first frame with t >= start, first frame with t >= end; a tiny epsilon absorbs decimal seconds (0.1 * 30 = 3.0000000000000004)
    const a = Math.max(0, Math.ceil(toFrame(s.start) - 1e-9));
    const b = Math.min(frames, Math.ceil(toFrame(s.end) - 1e-9));
    for (let t = a; t < b; t++) out[t] = s.label;
  }
  return out;
}

/**
 * The class list of `mapping.txt`: every label of the annotations, sorted by code unit (the same
 * order on every machine), plus the gap label when it is a class (anything but `UNDEFINED`).
 *
 * @example
 * classList([{ label: 'pour' }, { label: 'cut' }], 'background'); // ['background', 'cut', 'pour']
 */
export function classList(segments: readonly Pick<Segment, 'label'>[], gapLabel = 'UNDEFINED'): string[] {
  const names = new Set(segments.map((s) => s.label));
  if (gapLabel !== 'UNDEFINED') names.add(gapLabel);
  names.delete('UNDEFINED');
  return [...names].sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
}

/** How videos are split into train / val / test. */
export interface SplitOptions {
  /** Fractions of train, val and test (summing to 1). */
  ratios: [number, number, number];
  seed: number;
  /** Group videos by this value (e.g. subject id) so a group never spans two splits. */
  groupOf?: (video: string) => string;
}

/**
 * Assigns videos to train / val / test: the groups (one per video, or one per `groupOf` value,
 * e.g. per subject) are shuffled with the seed and cut by the ratios (rounded; train first), so
 * the same seed gives the same split on every machine and no group spans two splits. Each split
 * lists its videos sorted.
 *
 * @example
 * assignSplits(['a', 'b', 'c', 'd'], { ratios: [0.5, 0.25, 0.25], seed: 1 }); // { train: [2 ids], val: [1], test: [1] }
 */
export function assignSplits(videos: readonly string[], options: SplitOptions): { train: string[]; val: string[]; test: string[] } {
  const groups = new Map<string, string[]>();
  for (const v of [...videos].sort()) {
    const g = options.groupOf ? options.groupOf(v) : v;
    if (!groups.has(g)) groups.set(g, []);
    groups.get(g)!.push(v);
  }
  const keys = [...groups.keys()].sort();
  const rng = new Rng(mixSeed(options.seed, 0x5b117));
  for (let i = keys.length - 1; i > 0; i--) {
    const j = Math.floor(rng.next() * (i + 1));
    [keys[i], keys[j]] = [keys[j]!, keys[i]!];
  }
  const [a, b] = options.ratios;
  const nTrain = Math.round(a * keys.length);
  const nVal = Math.min(keys.length - nTrain, Math.round(b * keys.length));
  const pick = (ks: string[]): string[] => ks.flatMap((k) => groups.get(k)!).sort();
  return { train: pick(keys.slice(0, nTrain)), val: pick(keys.slice(nTrain, nTrain + nVal)), test: pick(keys.slice(nTrain + nVal)) };
}

/**
 * Splits CSV text into rows of trimmed cells with the 1-based line each row starts on (RFC 4180:
 * double-quoted cells may hold commas, line breaks and doubled quotes; blank lines and a UTF-8
 * BOM are skipped). An unterminated quote throws a `DatasetFormatError` at its line.
 *
 * @example
 * parseCsv('a,"b, c"\n\nd,e\n', 'x.csv'); // [{ info: { lines: 1 }, record: ['a', 'b, c'] }, { info: { lines: 3 }, record: ['d', 'e'] }]
 */
export function parseCsv(text: string, file = '<csv>'): { info: { lines: number }; record: string[] }[] {
  const out: { info: { lines: number }; record: string[] }[] = [];
  let i = text.charCodeAt(0) === 0xfeff ? 1 : 0;
  let line = 1;
  let record: string[] = [];
  let cell = '';
  let quoted = false;
  let start = 1;
  let quoteLine = 0;
  const endRecord = (): void => {
    record.push(quoted ? cell : cell.trim());
    if (!(record.length === 1 && record[0] === '' && !quoted)) out.push({ info: { lines: start }, record });
    record = [];
    cell = '';
    quoted = false;
  };
  while (i < text.length) {
    const c = text[i]!;
    if (c === '"' && cell.trim() === '' && !quoted) {
      // a quoted cell: read to the closing quote
      quoteLine = line;
      let j = i + 1;
      let value = '';
      for (;;) {
        if (j >= text.length) throw new DatasetFormatError({ file, line: quoteLine, expected: 'a closing double quote', found: 'the end of the file' });
        const d = text[j]!;
        if (d === '"') {
          if (text[j + 1] === '"') { value += '"'; j += 2; continue; }
          j++;
          break;
        }
        if (d === '\n') line++;
        value += d;
        j++;
      }
      cell = value;
      quoted = true;
      i = j;
      while (i < text.length && (text[i] === ' ' || text[i] === '\t')) i++;
      if (i < text.length && text[i] !== ',' && text[i] !== '\n' && text[i] !== '\r') throw new DatasetFormatError({ file, line, expected: 'a comma or line end after a quoted cell', found: text.slice(i, i + 10) });
      continue;
    }
    if (c === ',') {
      record.push(quoted ? cell : cell.trim());
      cell = '';
      quoted = false;
    } else if (c === '\n' || c === '\r') {
      endRecord();
      if (c === '\r' && text[i + 1] === '\n') i++;
      line++;
      start = line;
    } else cell += c;
    i++;
  }
  if (cell !== '' || quoted || record.length > 0) endRecord();
  return out;
}
