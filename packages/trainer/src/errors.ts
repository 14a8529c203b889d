/**
 * A checkpoint file that cannot be read back: truncated, corrupted, of another format, or not
 * matching the model it is loaded into. The message names the file and what was expected, so a
 * user knows which file to delete or re-create.
 *
 * @example
 * try { loadCheckpoint(dir); } catch (e) { if (e instanceof CheckpointError) console.error(e.file, e.message); }
 */
export class CheckpointError extends Error {
  readonly code = 'CHECKPOINT_INVALID';
  readonly file: string;
  readonly expected: string;

  constructor(file: string, expected: string, found?: string, cause?: unknown) {
    super(`${file}: expected ${expected}${found != null ? `, found ${truncate(found)}` : ''}`, cause != null ? { cause } : undefined);
    this.name = 'CheckpointError';
    this.file = file;
    this.expected = expected;
  }
}

/**
 * A training configuration that does not match the schema. `issues` lists every offending field
 * as `path: message`, so one run of the CLI reports all of them at once.
 *
 * @example
 * try { parseTrainConfig({ lr: -1 }); } catch (e) { if (e instanceof ConfigError) console.error(e.issues); }
 */
export class ConfigError extends Error {
  readonly code = 'CONFIG_INVALID';
  readonly source: string;
  readonly issues: string[];

  constructor(source: string, issues: string[]) {
    super(`${source}: invalid training configuration:\n  - ${issues.join('\n  - ')}`);
    this.name = 'ConfigError';
    this.source = source;
    this.issues = issues;
  }

  /**
   * The error for a failed schema parse: one `path: message` line per issue (zod's issues, or any
   * with a path and a message), `(root)` for the object itself.
   *
   * @example
   * const r = schema.safeParse(input); if (!r.success) throw ConfigError.fromIssues('r3d.yaml', r.error.issues);
   */
  static fromIssues(source: string, issues: ReadonlyArray<{ path: readonly PropertyKey[]; message: string }>): ConfigError {
    return new ConfigError(source, issues.map((i) => `${i.path.length ? i.path.map(String).join('.') : '(root)'}: ${i.message}`));
  }
}

/**
 * Training stopped because the loss became NaN or infinite. The weights of the last good
 * checkpoint are left untouched; `step` is the 1-based global optimiser step that produced it.
 *
 * @example
 * try { await train(opts); } catch (e) { if (e instanceof NonFiniteLossError) console.error(`step ${e.step}`); }
 */
export class NonFiniteLossError extends Error {
  readonly code = 'NON_FINITE_LOSS';
  readonly step: number;
  readonly epoch: number;
  readonly loss: number;

  constructor(init: { step: number; epoch: number; loss: number; checkpoint?: string }) {
    const kept = init.checkpoint ? `; the last good checkpoint is kept at ${init.checkpoint}` : '; no checkpoint was written yet';
    super(`loss became ${init.loss} at step ${init.step} (epoch ${init.epoch}); training stopped${kept}`);
    this.name = 'NonFiniteLossError';
    this.step = init.step;
    this.epoch = init.epoch;
    this.loss = init.loss;
  }
}

/**
 * A run folder that holds checkpoints this run did not write, or that cannot be resumed as it is
 * (`best/` without `last/`). The message names the folder and says what to pass: `resume` to
 * continue the run, `overwrite` to replace it. Nothing in the folder was changed.
 *
 * @example
 * try { await train({ ...opts, outDir: 'runs/a' }); } catch (e) { if (e instanceof RunFolderError) console.error(e.message); }
 */
export class RunFolderError extends Error {
  readonly code = 'RUN_FOLDER';
  readonly dir: string;

  constructor(dir: string, message: string) {
    super(`${dir} ${message}`);
    this.name = 'RunFolderError';
    this.dir = dir;
  }
}

/**
 * Training stopped on request (an `AbortSignal`, e.g. from `stopOnSignals` on SIGINT/SIGTERM) at
 * a step boundary, after writing a `last` checkpoint that `resume` continues exactly. `exitCode`
 * is what a command line should exit with: 128 + the signal's number (130 for SIGINT, 143 for
 * SIGTERM), or 1 when the reason is not a signal.
 *
 * @example
 * try { await train({ ...opts, signal }); } catch (e) { if (e instanceof TrainingStoppedError) process.exitCode = e.exitCode; }
 */
export class TrainingStoppedError extends Error {
  readonly code = 'TRAINING_STOPPED';
  readonly reason: string;
  readonly exitCode: number;
  readonly checkpoint: string | undefined;

  /** `where`: where it stopped, e.g. "after global step 9 (epoch 2, step 3 of 6)". */
  constructor(init: { reason: string; exitCode: number; where: string; checkpoint?: string }) {
    super(`stopped by ${init.reason} ${init.where}${init.checkpoint ? `; checkpoint saved in ${init.checkpoint}` : ''}`);
    this.name = 'TrainingStoppedError';
    this.reason = init.reason;
    this.exitCode = init.exitCode;
    this.checkpoint = init.checkpoint;
  }
}

function truncate(s: string, max = 240): string {
  const oneLine = JSON.stringify(s);
  return oneLine.length > max ? `${oneLine.slice(0, max - 4)}..."` : oneLine;
}
