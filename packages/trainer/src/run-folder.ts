import { existsSync, readdirSync, readFileSync, renameSync, rmSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { fsyncDir, removeOrphanTemporaries, writeFileAtomic } from '@r3d-ts/tensor-io/node';
import { digestOf, loadCheckpoint, type LoadedCheckpoint } from './checkpoint.js';
import { CheckpointError, RunFolderError } from './errors.js';
import type { EpochRecord } from './loop.js';

// A run folder: `last/` and `best/` (checkpoints), `log.jsonl` (one line per epoch), `tb/`. The
// trainer reads it (and decides whether it may write it) here, with the folder locked.

/** What a run starts from, once the run folder was checked; `apply` then tidies the folder. */
export interface RunFolderPlan {
  /** The checkpoint to continue, when resuming. */
  checkpoint?: LoadedCheckpoint;
  /** The epochs already in `log.jsonl` (those the checkpoint covers), oldest first. */
  history: EpochRecord[];
  /**
   * Makes the folder ready: finishes a checkpoint swap a crash interrupted, removes what a killed
   * run left (temporary checkpoint folders and files), cuts the log back to the checkpoint, and
   * for a new run (`overwrite`) removes the earlier checkpoints. Called once every check passed,
   * so a refused run changes nothing.
   */
  apply(): void;
}

export interface RunFolderOptions {
  resume: boolean;
  overwrite: boolean;
  /** Epochs of the run and optimiser steps per epoch: what a resumed checkpoint must fit. */
  epochs: number;
  stepsPerEpoch: number;
}

/**
 * Checks a run folder before training touches it and says what the run starts from. A new run
 * needs a folder without checkpoints (`overwrite` replaces them). A resume needs `last/`, and
 * everything it reads must be as the trainer wrote it: both checkpoints verified file by file
 * (`loadCheckpoint`: sizes, SHA-256, the state's checksum and schema), the progress consistent
 * with this run (epoch within its epochs, global step = epoch x steps per epoch + step), `best/`
 * the one `last/` records, and `log.jsonl` starting with the bytes `last/state.json` recorded.
 * Anything else is a `CheckpointError` naming the file, or a `RunFolderError`, and nothing in
 * the folder is changed.
 *
 * @example
 * const plan = planRunFolder('runs/a', { resume: true, overwrite: false, epochs: 60, stepsPerEpoch: 120 });
 * restore(plan.checkpoint); plan.apply();
 */
export function planRunFolder(dir: string, options: RunFolderOptions): RunFolderPlan {
  const lastDir = join(dir, 'last');
  const bestDir = join(dir, 'best');
  const logPath = join(dir, 'log.jsonl');
  const hasLast = existsSync(lastDir) || existsSync(`${lastDir}.old`);
  const hasBest = existsSync(bestDir) || existsSync(`${bestDir}.old`);

  if (options.resume && hasLast) {
    const last = loadCheckpoint(lastDir);
    checkProgressFits(last, options);
    const best = hasBest ? loadCheckpoint(bestDir) : undefined;
    checkBestMatches(last, best, bestDir);
    const { history, bytes } = readLogPrefix(logPath, last);
    return {
      checkpoint: last,
      history,
      apply: () => {
        finishSwap(lastDir);
        finishSwap(bestDir);
        removeOrphans(dir);
        // what the interrupted run logged after its checkpoint is run again
        if (existsSync(logPath) && statSync(logPath).size > bytes.byteLength) writeFileAtomic(logPath, bytes);
      },
    };
  }
  if (options.resume && hasBest) {
    throw new RunFolderError(dir, 'holds best/ but no last/ checkpoint to resume from; pass overwrite (--overwrite) to start a new run there, replacing best/');
  }
  if (hasLast && !options.resume && !options.overwrite) {
    throw new RunFolderError(dir, `already holds a checkpoint (last/${hasBest ? ', best/' : ''}) that this run did not write: resume it (--resume) or replace it (--overwrite)`);
  }
  if (hasBest && !options.overwrite) {
    throw new RunFolderError(dir, 'already holds a checkpoint (best/) that this run did not write: replace it with overwrite (--overwrite), or choose another folder');
  }
  return {
    history: [],
    apply: () => {
      for (const d of [lastDir, `${lastDir}.old`, bestDir, `${bestDir}.old`]) rmSync(d, { recursive: true, force: true });
      removeOrphans(dir);
      if (existsSync(logPath)) writeFileAtomic(logPath, '');
    },
  };
}

function checkProgressFits(last: LoadedCheckpoint, options: RunFolderOptions): void {
  const statePath = join(last.dir, 'state.json');
  const p = last.state.progress;
  const steps = options.stepsPerEpoch;
  if (last.state.kind !== 'last') throw new CheckpointError(statePath, '"kind": "last"', JSON.stringify(last.state.kind));
  if (p.epoch > options.epochs) throw new CheckpointError(statePath, `an epoch of this run (at most ${options.epochs} epochs)`, `epoch ${p.epoch}`);
  if (p.stepInEpoch >= steps || p.globalStep !== p.epoch * steps + p.stepInEpoch) {
    throw new CheckpointError(statePath, `a position of this run (${steps} steps per epoch: global step = epoch x ${steps} + step)`, `epoch ${p.epoch}, step ${p.stepInEpoch}, global step ${p.globalStep}`);
  }
  if (last.state.optimizerStep !== p.globalStep) throw new CheckpointError(statePath, `an optimiser at step ${p.globalStep} (one update per step)`, `optimizerStep ${last.state.optimizerStep}`);
}

/**
 * `best/` must be the checkpoint `last/` records as best, or the one saved an instant before a
 * crash kept `last/` from being updated (the epoch right after last's).
 */
function checkBestMatches(last: LoadedCheckpoint, best: LoadedCheckpoint | undefined, bestDir: string): void {
  const recorded = last.state.progress.best;
  if (!best) {
    if (recorded) throw new CheckpointError(join(bestDir, 'state.json'), `the best checkpoint of epoch ${recorded.epoch} that last/state.json records`, 'no such file');
    return;
  }
  const statePath = join(best.dir, 'state.json');
  const m = best.state.metrics as { meanMoc?: unknown; epoch?: unknown } | undefined;
  const own = best.state.progress.best;
  if (best.state.kind !== 'best' || !own || m?.meanMoc !== own.metric || m?.epoch !== own.epoch) {
    throw new CheckpointError(statePath, 'a best checkpoint whose metrics match its progress', JSON.stringify({ kind: best.state.kind, metrics: m, best: own }));
  }
  const same = recorded != null && recorded.epoch === own.epoch && recorded.metric === own.metric;
  const savedJustBeforeCrash = own.epoch === last.state.progress.epoch + 1 && (recorded == null || own.metric > recorded.metric);
  if (!same && !savedJustBeforeCrash) {
    throw new CheckpointError(statePath, `the best checkpoint last/state.json records (${recorded ? `epoch ${recorded.epoch}, metric ${recorded.metric}` : 'none yet'})`, `epoch ${own.epoch}, metric ${own.metric}`);
  }
}

/** The log lines the checkpoint covers (verified against its recorded digest) and their bytes. */
function readLogPrefix(logPath: string, last: LoadedCheckpoint): { history: EpochRecord[]; bytes: Uint8Array } {
  const recorded = last.state.log;
  const statePath = join(last.dir, 'state.json');
  if (!recorded) throw new CheckpointError(statePath, 'a record of log.jsonl ("log"), which every checkpoint of a training run has', 'none');
  const data = existsSync(logPath) ? readFileSync(logPath) : undefined;
  if (!data) {
    if (recorded.bytes > 0) throw new CheckpointError(logPath, `the run's log (${recorded.bytes} bytes recorded in ${statePath})`, 'no such file');
    return { history: [], bytes: new Uint8Array(0) };
  }
  if (data.byteLength < recorded.bytes) throw new CheckpointError(logPath, `at least the ${recorded.bytes} bytes recorded in ${statePath}`, `${data.byteLength} bytes: truncated`);
  const head = data.subarray(0, recorded.bytes);
  const digest = digestOf(logPath, recorded.bytes)!;
  if (digest.sha256 !== recorded.sha256) throw new CheckpointError(logPath, `the ${recorded.bytes} bytes recorded in ${statePath} (SHA-256 ${recorded.sha256.slice(0, 16)}...)`, `${digest.sha256.slice(0, 16)}...: the log was edited`);
  const lines = head.toString('utf8').split('\n').filter((l) => l.length > 0);
  const history = lines.map((l) => JSON.parse(l) as EpochRecord);
  const epochs = last.state.progress.epoch;
  if (history.length !== epochs || history.some((r, i) => r.event !== 'epoch' || r.epoch !== i + 1)) {
    throw new CheckpointError(logPath, `one epoch line for each of the ${epochs} epochs completed`, history.map((r) => `${r.event} ${r.epoch}`).join(', ') || 'none');
  }
  return { history, bytes: head };
}

/** Completes a checkpoint swap a crash interrupted: `<dir>.old` is the checkpoint when `<dir>` is incomplete. */
function finishSwap(dir: string): void {
  const old = `${dir}.old`;
  if (!existsSync(old)) return;
  if (!existsSync(join(dir, 'state.json')) && existsSync(join(old, 'state.json'))) {
    rmSync(dir, { recursive: true, force: true });
    renameSync(old, dir);
    fsyncDir(join(dir, '..'));
  } else rmSync(old, { recursive: true, force: true });
}

/** Temporary checkpoint folders (`.last.tmp-<pid>`) and files a killed process left; the folder is locked, so nobody else is writing them. */
function removeOrphans(dir: string): void {
  for (const name of readdirSync(dir)) {
    if (/^\.(last|best)\.tmp-\d+$/.test(name)) rmSync(join(dir, name), { recursive: true, force: true });
  }
  removeOrphanTemporaries(dir);
}
