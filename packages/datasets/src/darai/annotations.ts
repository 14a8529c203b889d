import { parse } from 'csv-parse/sync';
import { DatasetFormatError } from '../errors.js';
import { UNDEFINED_LABEL } from '../sequence.js';

/** One annotated segment: inclusive frame numbers. */
export interface DaraiSegment {
  activity: string;
  start: number;
  end: number;
  line: number;
}

/** The test and validation subjects of the DARai split; every other subject trains. */
export const DARAI_SPLITS = { test: [10, 16, 19], val: [2, 20] } as const;

/** The split a DARai subject belongs to. */
export function daraiSplit(subject: number): 'train' | 'val' | 'test' {
  if ((DARAI_SPLITS.test as readonly number[]).includes(subject)) return 'test';
  if ((DARAI_SPLITS.val as readonly number[]).includes(subject)) return 'val';
  return 'train';
}

/**
 * Parses a DARai Level 2 / Level 3 annotation CSV (columns `Activity`, `start_frame`,
 * `end_frame`, inclusive, found by header name in any order; extra columns ignored). An empty
 * file, or a header alone, is an empty list, as in the real data.
 *
 * @example
 * parseAnnotationCsv('Activity,start_frame,end_frame\nGetting ingredients,0,120\n'); // [{ activity: 'Getting ingredients', start: 0, end: 120, line: 2 }]
 */
export function parseAnnotationCsv(text: string, file = '<buffer>'): DaraiSegment[] {
  if (text.trim() === '') return [];
  let rows: { record: string[]; line: number }[];
  try {
    rows = (parse(text, { relax_column_count: true, skip_empty_lines: true, trim: true, bom: true, info: true }) as unknown as { record: string[]; info: { lines: number } }[])
      .map((r) => ({ record: r.record, line: r.info.lines }));
  } catch (e) {
    const line = (e as { lines?: number }).lines;
    throw new DatasetFormatError({ file, ...(line != null ? { line } : { offset: 0 }), expected: 'comma-separated values', found: (e as Error).message, cause: e });
  }
  if (rows.length === 0) return [];
  const header = rows[0]!.record.map((h) => h.toLowerCase());
  const col = (name: string): number => {
    const i = header.indexOf(name.toLowerCase());
    if (i < 0) throw new DatasetFormatError({ file, line: rows[0]!.line, expected: 'a header with columns Activity, start_frame, end_frame', found: rows[0]!.record.join(',') });
    return i;
  };
  const ia = col('Activity');
  const is = col('start_frame');
  const ie = col('end_frame');
  const out: DaraiSegment[] = [];
  for (const { record, line } of rows.slice(1)) {
    const activity = record[ia];
    const s = record[is];
    const e = record[ie];
    if (activity == null || activity === '' || s == null || e == null) {
      throw new DatasetFormatError({ file, line, expected: 'an Activity name, a start_frame and an end_frame', found: record.join(',') });
    }
    // Spreadsheets write frame numbers as "12.0" sometimes: accept integral decimals.
    const start = Number(s);
    const end = Number(e);
    if (s === '' || !Number.isInteger(start) || start < 0) throw new DatasetFormatError({ file, line, expected: 'start_frame as a non-negative integer', found: s });
    if (e === '' || !Number.isInteger(end) || end < start) throw new DatasetFormatError({ file, line, expected: `end_frame as an integer >= start_frame ${start}`, found: e });
    out.push({ activity, start, end, line });
  }
  return out;
}

/**
 * Labels frame numbers from segments: the first segment containing a frame wins, else
 * UNDEFINED (-1). Activities missing from `classIndex` throw, naming the file and line.
 */
export function labelSegments(segments: readonly DaraiSegment[], frameNumbers: ArrayLike<number>, classIndex: ReadonlyMap<string, number>, file = '<annotations>'): Int32Array {
  const idx = segments.map((s) => {
    const c = classIndex.get(s.activity);
    if (c == null) throw new DatasetFormatError({ file, line: s.line, expected: 'an activity of the class list', found: s.activity });
    return c;
  });
  const out = new Int32Array(frameNumbers.length).fill(UNDEFINED_LABEL);
  for (let i = 0; i < frameNumbers.length; i++) {
    const n = frameNumbers[i]!;
    const k = segments.findIndex((s) => n >= s.start && n <= s.end);
    if (k >= 0) out[i] = idx[k]!;
  }
  return out;
}

/** The parts of an annotation file name `<L1>_S<subject>_session<NN>_Level_<2|3>_Annotations.csv`. */
export interface DaraiRecordingName {
  activity: string;
  subject: number;
  session: number;
  level: 2 | 3;
}

/** Parses an annotation file name, or returns undefined when it is not one. */
export function parseAnnotationFileName(name: string): DaraiRecordingName | undefined {
  const m = /^(.+)_S(\d+)_session(\d+)_Level_([23])_Annotations\.csv$/i.exec(name);
  if (!m) return undefined;
  return { activity: m[1]!, subject: Number(m[2]), session: Number(m[3]), level: Number(m[4]) as 2 | 3 };
}
