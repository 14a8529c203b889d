/**
 * The one error every parser in this package throws on bad input. It names the file, where in
 * it (a 1-based line, or a byte offset) and what was expected, so a user can fix the file.
 *
 * @example
 * try { readFeatureNpy('x.npy'); } catch (e) { if (e instanceof DatasetFormatError) console.log(e.file, e.expected); }
 */
export class DatasetFormatError extends Error {
  readonly code = 'DATASET_FORMAT';
  readonly file: string;
  readonly line?: number;
  readonly offset?: number;
  readonly expected: string;
  readonly found?: string;

  constructor(init: { file: string; line?: number; offset?: number; expected: string; found?: string; cause?: unknown }) {
    const where = init.line != null ? `:${init.line}` : init.offset != null ? ` @byte ${init.offset}` : '';
    const found = init.found != null ? `, found ${truncate(init.found)}` : '';
    super(`${init.file}${where}: expected ${init.expected}${found}`, init.cause != null ? { cause: init.cause } : undefined);
    this.name = 'DatasetFormatError';
    this.file = init.file;
    if (init.line != null) this.line = init.line;
    if (init.offset != null) this.offset = init.offset;
    this.expected = init.expected;
    if (init.found != null) this.found = init.found;
  }
}

function truncate(s: string, max = 60): string {
  const oneLine = JSON.stringify(s);
  return oneLine.length > max ? `${oneLine.slice(0, max - 4)}..."` : oneLine;
}
