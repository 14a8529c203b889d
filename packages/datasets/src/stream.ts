import { readdirSync } from 'node:fs';
import { DatasetFormatError } from './errors.js';
import type { Sequence } from './sequence.js';

/**
 * Streams sequences one at a time from a list of ids: `load(id)` runs only when the consumer
 * asks for the next one, so at most one loaded sequence is held here (plus whatever the caller
 * keeps), whatever the size of the dataset. Yields to the event loop between items.
 */
export async function* streamSequences<I>(ids: Iterable<I>, load: (id: I) => Sequence | Promise<Sequence>): AsyncGenerator<Sequence> {
  for (const id of ids) {
    const seq = await load(id);
    yield seq;
    await new Promise<void>((r) => setImmediate(r));
  }
}

/** Lists a folder, turning a missing folder into a `DatasetFormatError` naming it. */
export function listDir(dir: string): string[] {
  try {
    return readdirSync(dir);
  } catch (e) {
    throw new DatasetFormatError({ file: dir, expected: 'a readable folder', found: (e as NodeJS.ErrnoException).code ?? String(e), cause: e });
  }
}

/**
 * Files of a folder whose names match `pattern` (first capture group: the frame number), sorted
 * numerically (so `img10` follows `img9`, as UTKinect's non-contiguous numbering needs).
 *
 * @example
 * numberedFiles('RGB/s01_e01', /^colorImg(\d+)\.jpg$/); // [{ n: 190, name: 'colorImg190.jpg' }, ...]
 */
export function numberedFiles(dir: string, pattern: RegExp): { n: number; name: string }[] {
  const out: { n: number; name: string }[] = [];
  for (const name of listDir(dir)) {
    const m = pattern.exec(name);
    if (m) out.push({ n: Number(m[1]), name });
  }
  out.sort((a, b) => a.n - b.n || (a.name < b.name ? -1 : 1));
  return out;
}
