/**
 * A problem with what the user gave `import` (a missing tool, an annotation naming an unknown
 * video, settings that differ from the folder's earlier import): one line naming the file (and
 * line) to fix. `runCli` prints it and exits 2.
 *
 * @example
 * throw new ImportError('labels.csv:7: video "v9" is not among the inputs (videos/)');
 */
export class ImportError extends Error {
  readonly code = 'DATA_IMPORT';
  readonly userError = true;

  constructor(message: string) {
    super(message);
    this.name = 'ImportError';
  }
}
