import { existsSync, readdirSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { decodeEvent } from './event.js';
import { EventFileError } from './errors.js';
import { frameRecord, readRecords, type RecordsRead } from './records.js';

/**
 * The event files directly in `logDir` (names containing `tfevents`, as TensorBoard picks
 * them), sorted by name, which is the order TensorBoard reads them in; `[]` when the folder
 * does not exist.
 *
 * @example
 * for (const file of eventFiles('runs/exp1')) console.log(file, readEvents(readFileSync(file)).length);
 */
export function eventFiles(logDir: string): string[] {
  if (!existsSync(logDir)) return [];
  return readdirSync(logDir, { withFileTypes: true })
    .filter((e) => e.isFile() && e.name.includes('tfevents'))
    .map((e) => e.name)
    .sort()
    .map((name) => join(logDir, name));
}

/** What `truncateEventFiles` did. */
export interface TruncateReport {
  /** Events dropped (step after `lastStep`), over all files. */
  dropped: number;
  /** Files rewritten shorter. */
  rewritten: string[];
  /** Files deleted because nothing but the file-version record was left. */
  removed: string[];
}

/**
 * Drops every event logged after step `lastStep` from the event files in `logDir`, and any last
 * record cut short by a crash: what a run resumed from a checkpoint at `lastStep` will log again.
 * This keeps TensorBoard from drawing the steps twice, whichever reader it uses (the log's
 * `log.jsonl` is truncated the same way). A file left with no event but its file-version record
 * is deleted; `lastStep: -1` therefore clears the folder's event files for a fresh run. Each
 * rewrite goes through a temporary file and a rename. Every CRC is verified on the way: a
 * record that fails its check ends the file there, as a cut-short one does, since nothing after
 * it can be trusted.
 *
 * @example
 * truncateEventFiles('runs/exp1/tb', checkpoint.globalStep);
 */
export function truncateEventFiles(logDir: string, lastStep: number): TruncateReport {
  const report: TruncateReport = { dropped: 0, rewritten: [], removed: [] };
  for (const file of eventFiles(logDir)) {
    const bytes = readFileSync(file);
    const { records, bytesRead } = validPrefix(bytes);
    const events = records.map((data) => ({ data, event: decodeEvent(data) }));
    const kept = events.filter(({ event }) => event.fileVersion != null || event.step <= lastStep);
    report.dropped += events.length - kept.length;
    if (kept.every(({ event }) => event.fileVersion != null)) {
      rmSync(file, { force: true });
      report.removed.push(file);
    } else if (kept.length < events.length || bytesRead < bytes.length) {
      // the kept records' own bytes: fields this package does not model survive the rewrite
      const out = Buffer.concat(kept.map(({ data }) => frameRecord(data)));
      // no "tfevents" in the name, so TensorBoard never reads the half-written copy
      const tmp = join(logDir, `.truncate-${process.pid}-${Date.now()}.tmp`);
      writeFileSync(tmp, out);
      renameSync(tmp, file);
      report.rewritten.push(file);
    }
  }
  return report;
}

// the records before the first one cut short or failing its CRC
function validPrefix(bytes: Uint8Array): RecordsRead {
  try {
    return readRecords(bytes, { truncatedTail: 'drop' });
  } catch (err) {
    if (!(err instanceof EventFileError) || err.offset == null) throw err;
    return readRecords(bytes.subarray(0, err.offset));
  }
}
