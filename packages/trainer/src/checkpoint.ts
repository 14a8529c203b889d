import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, renameSync, rmSync, statSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';
import { decodeSafetensors, encodeSafetensors, SafetensorsFormatError, type SafetensorsEntry } from '@r3d-ts/tensor-io';
import { fsyncDir, writeFileAtomic } from '@r3d-ts/tensor-io/node';
import type { RngState } from '@r3d-ts/datasets';
import * as tf from '@tensorflow/tfjs-core';
import { z } from 'zod';
import { CheckpointError } from './errors.js';

export const CHECKPOINT_FORMAT = 'r3d-ts-checkpoint';
// 2: the data-order state is the shared sfc32 `Rng`'s (version 1 held a xoshiro128** state)
// 3: `state.json` carries its own checksum, the elapsed training time and the run log's hash
export const CHECKPOINT_VERSION = 3;

/** Where training stands, enough to continue exactly (stored as `state.json`). */
export interface TrainingProgress {
  /** Epoch to run next (0-based); equals the number of completed epochs when `stepInEpoch` is 0. */
  epoch: number;
  /** Optimiser steps already taken inside `epoch` (mid-epoch checkpoints). */
  stepInEpoch: number;
  /** Optimiser steps taken in the whole run. */
  globalStep: number;
  /** Shuffling generator state at the start of `epoch`, before its permutation was drawn. */
  rng: RngState;
  /** Sum and count of the training losses of `epoch` so far (so the epoch mean is unchanged by a resume). */
  epochLossSum: number;
  epochLossCount: number;
  /** Best validation score so far and its epoch (null before the first validation). */
  best: { metric: number; epoch: number } | null;
  /** Learning rate of the last step taken. */
  lr: number;
  /** Seconds spent training so far, over every call of the run (so a resumed run's total is whole). */
  elapsedSeconds: number;
}

/** Size and SHA-256 of a file (or of a file's first `bytes` bytes). */
export interface FileDigest {
  bytes: number;
  sha256: string;
}

/** The JSON part of a checkpoint (`state.json`). */
export interface CheckpointState {
  format: typeof CHECKPOINT_FORMAT;
  version: number;
  kind: string;
  savedAt: string;
  progress: TrainingProgress;
  /** Step count of AdamW (its moments are in `optimizer.safetensors`). */
  optimizerStep: number | null;
  /** Validation metrics at save time, if any. */
  metrics?: Record<string, unknown>;
  /** Size and SHA-256 of every other file, checked on load. */
  files: Record<string, FileDigest>;
  /** The run's `log.jsonl` as it was at save time (a resume checks that it still starts with these bytes). */
  log?: FileDigest;
  /** SHA-256 of this object without `checksum` (compact JSON): any edit of `state.json` shows. */
  checksum: string;
}

export interface CheckpointContent {
  kind: string;
  weights: tf.NamedTensorMap;
  optimizer?: { step: number; moments: tf.NamedTensorMap };
  progress: TrainingProgress;
  /** Written as `config.json` (training + model configuration). */
  config: unknown;
  metrics?: Record<string, unknown>;
  /** The run's log at save time, recorded in `state.json` (see `CheckpointState.log`). */
  log?: FileDigest;
}

export interface LoadedCheckpoint {
  dir: string;
  state: CheckpointState;
  config: unknown;
  weights: Record<string, SafetensorsEntry>;
  optimizer?: Record<string, SafetensorsEntry>;
}

/**
 * Saves a checkpoint folder: `weights.safetensors`, optionally `optimizer.safetensors` (AdamW
 * moments), `config.json`, and `state.json` (progress, RNG state, sizes and SHA-256 of the other
 * files). The folder is built beside the target, read back and verified, then swapped in with
 * renames, so the previous checkpoint is replaced only by a complete, verified one; a crash at
 * any point leaves a loadable checkpoint (`loadCheckpoint` also accepts the `.old` copy that
 * exists for an instant during the swap).
 *
 * @example
 * saveCheckpoint('runs/a/last', { kind: 'last', weights: model.getWeights(), progress, config });
 */
export function saveCheckpoint(dir: string, content: CheckpointContent): void {
  const parent = dirname(dir);
  mkdirSync(parent, { recursive: true });
  const tmp = join(parent, `.${basename(dir)}.tmp-${process.pid}`);
  rmSync(tmp, { recursive: true, force: true });
  mkdirSync(tmp);
  try {
    const files: CheckpointState['files'] = {};
    const put = (name: string, bytes: Uint8Array): void => {
      writeFileAtomic(join(tmp, name), bytes);
      files[name] = { bytes: bytes.byteLength, sha256: sha256(bytes) };
    };
    put('weights.safetensors', encodeSafetensors(tensorsToEntries(content.weights), { format: CHECKPOINT_FORMAT, content: 'weights' }));
    if (content.optimizer) {
      put('optimizer.safetensors', encodeSafetensors(tensorsToEntries(content.optimizer.moments), { format: CHECKPOINT_FORMAT, content: 'adamw-moments' }));
    }
    put('config.json', Buffer.from(`${JSON.stringify(content.config ?? null, null, 2)}\n`));
    writeCheckpointState(tmp, {
      format: CHECKPOINT_FORMAT,
      version: CHECKPOINT_VERSION,
      kind: content.kind,
      savedAt: new Date().toISOString(),
      progress: content.progress,
      optimizerStep: content.optimizer ? content.optimizer.step : null,
      ...(content.metrics ? { metrics: content.metrics } : {}),
      files,
      ...(content.log ? { log: content.log } : {}),
    });
    readCheckpointFolder(tmp); // verify what reached the disk before it replaces anything
    const old = `${dir}.old`;
    rmSync(old, { recursive: true, force: true });
    if (existsSync(dir)) renameSync(dir, old);
    renameSync(tmp, dir);
    fsyncDir(parent);
    rmSync(old, { recursive: true, force: true });
  } catch (err) {
    rmSync(tmp, { recursive: true, force: true });
    throw err;
  }
}

/**
 * Loads and verifies a checkpoint folder: `state.json` must parse and be of this format, every
 * listed file must exist with its recorded size and SHA-256, and the safetensors must be
 * well-formed. Anything else is a `CheckpointError` naming the file and the problem (truncated,
 * corrupted, missing). Nothing is written.
 *
 * @example
 * const ckpt = loadCheckpoint('runs/a/last');
 * ckpt.state.progress.epoch; // next epoch to run
 */
export function loadCheckpoint(dir: string): LoadedCheckpoint {
  if (!existsSync(join(dir, 'state.json')) && existsSync(join(`${dir}.old`, 'state.json'))) {
    // a crash between the two renames of saveCheckpoint: the previous checkpoint is complete
    return readCheckpointFolder(`${dir}.old`);
  }
  return readCheckpointFolder(dir);
}

/** True when `dir` (or its swap copy) holds a checkpoint's `state.json`. */
export function checkpointExists(dir: string): boolean {
  return existsSync(join(dir, 'state.json')) || existsSync(join(`${dir}.old`, 'state.json'));
}

function readCheckpointFolder(dir: string): LoadedCheckpoint {
  const statePath = join(dir, 'state.json');
  if (!existsSync(statePath)) throw new CheckpointError(statePath, 'a checkpoint state file', 'no such file');
  const state = readCheckpointState(statePath);
  const contents: Record<string, Uint8Array> = {};
  for (const [name, meta] of Object.entries(state.files)) {
    const path = join(dir, name);
    if (!existsSync(path)) throw new CheckpointError(path, `a file of ${meta.bytes} bytes listed in state.json`, 'no such file');
    const size = statSync(path).size;
    if (size !== meta.bytes) {
      throw new CheckpointError(path, `${meta.bytes} bytes (as recorded in state.json)`, `${size} bytes: ${size < meta.bytes ? 'truncated' : 'extra data'}`);
    }
    const bytes = readFileSync(path);
    const digest = sha256(bytes);
    if (digest !== meta.sha256) throw new CheckpointError(path, `SHA-256 ${meta.sha256.slice(0, 16)}... (as recorded in state.json)`, `${digest.slice(0, 16)}...: the file is corrupted`);
    contents[name] = bytes;
  }
  const weights = decodeEntries(contents['weights.safetensors'], join(dir, 'weights.safetensors'));
  const optimizer = contents['optimizer.safetensors'] ? decodeEntries(contents['optimizer.safetensors'], join(dir, 'optimizer.safetensors')) : undefined;
  let config: unknown = null;
  if (contents['config.json']) {
    try {
      config = JSON.parse(Buffer.from(contents['config.json']).toString('utf8'));
    } catch (err) {
      throw new CheckpointError(join(dir, 'config.json'), 'valid JSON', 'unparsable content', err);
    }
  }
  return { dir, state, config, weights, ...(optimizer ? { optimizer } : {}) };
}

const FILE_NAMES = ['weights.safetensors', 'optimizer.safetensors', 'config.json'] as const;
const uint32 = z.number().int().min(0).max(0xffffffff);
const digestSchema = z.object({ bytes: z.number().int().min(0), sha256: z.string().regex(/^[0-9a-f]{64}$/, 'expected 64 hex digits') }).strict();

/** `progress` of a checkpoint: integers where counts are, ranges where they apply. */
const progressSchema = z
  .object({
    epoch: z.number().int().min(0),
    stepInEpoch: z.number().int().min(0),
    globalStep: z.number().int().min(0),
    rng: z.object({ sfc32: z.tuple([uint32, uint32, uint32, uint32]), spareNormal: z.number().nullable() }).strict(),
    epochLossSum: z.number(),
    epochLossCount: z.number().int().min(0),
    best: z.object({ metric: z.number().min(0).max(1), epoch: z.number().int().min(1) }).strict().nullable(),
    lr: z.number().min(0),
    elapsedSeconds: z.number().min(0),
  })
  .strict()
  .refine((p) => p.epochLossCount === p.stepInEpoch, { message: 'epochLossCount must equal stepInEpoch (one loss per step taken)', path: ['epochLossCount'] })
  .refine((p) => p.best == null || p.best.epoch <= p.epoch, { message: 'the best epoch cannot come after the epochs completed', path: ['best', 'epoch'] });

/** `state.json` as `saveCheckpoint` writes it. */
const stateSchema = z
  .object({
    format: z.literal(CHECKPOINT_FORMAT),
    version: z.literal(CHECKPOINT_VERSION),
    kind: z.string().min(1),
    savedAt: z.iso.datetime(),
    progress: progressSchema,
    optimizerStep: z.number().int().min(0).nullable(),
    metrics: z.record(z.string(), z.unknown()).optional(),
    files: z.partialRecord(z.enum(FILE_NAMES), digestSchema).refine((f) => f['weights.safetensors'] != null, 'must list weights.safetensors'),
    log: digestSchema.optional(),
    checksum: z.string().regex(/^[0-9a-f]{64}$/, 'expected 64 hex digits'),
  })
  .strict()
  .refine((s) => (s.optimizerStep != null) === (s.files['optimizer.safetensors'] != null), { message: 'optimizerStep is set exactly when optimizer.safetensors is listed', path: ['optimizerStep'] });

/**
 * Writes `state.json` into a checkpoint folder with its checksum (SHA-256 of the state without
 * it), pretty-printed; `readCheckpointState` accepts exactly these bytes.
 *
 * @example
 * writeCheckpointState('runs/a/.last.tmp-42', { format, version, kind: 'last', ... });
 */
export function writeCheckpointState(dir: string, state: Omit<CheckpointState, 'checksum'>): void {
  const { checksum: _drop, ...rest } = state as CheckpointState;
  writeFileAtomic(join(dir, 'state.json'), serializeState({ ...rest, checksum: sha256(Buffer.from(JSON.stringify(rest))) }));
}

function serializeState(state: CheckpointState): string {
  return `${JSON.stringify(state, null, 2)}\n`;
}

/**
 * Reads and checks a `state.json`: JSON of this format and version, every field of the schema
 * (integers, ranges, file names), the checksum, and the exact bytes the trainer writes, so any
 * edit, even of one bit of the generator state or one space, is a `CheckpointError`.
 */
function readCheckpointState(statePath: string): CheckpointState {
  let text: string;
  let value: unknown;
  try {
    text = readFileSync(statePath, 'utf8');
    value = JSON.parse(text);
  } catch (err) {
    throw new CheckpointError(statePath, 'valid JSON', 'unparsable content: truncated or corrupted', err);
  }
  const v = value as Partial<CheckpointState> | null;
  if (v?.format !== CHECKPOINT_FORMAT) throw new CheckpointError(statePath, `"format": "${CHECKPOINT_FORMAT}"`, JSON.stringify(v?.format));
  if (v.version !== CHECKPOINT_VERSION) {
    const hint = typeof v.version === 'number' && v.version < CHECKPOINT_VERSION ? ' (a checkpoint of an earlier r3d-ts: its weights still load with tensor-io, but it cannot be resumed)' : '';
    throw new CheckpointError(statePath, `"version": ${CHECKPOINT_VERSION}${hint}`, JSON.stringify(v.version));
  }
  const parsed = stateSchema.safeParse(value);
  if (!parsed.success) {
    const issues = parsed.error.issues.map((i) => `${i.path.map(String).join('.') || '(root)'}: ${i.message}`);
    throw new CheckpointError(statePath, 'a checkpoint state as the trainer writes it', issues.join('; '));
  }
  const state = value as CheckpointState;
  const { checksum, ...rest } = state;
  const digest = sha256(Buffer.from(JSON.stringify(rest)));
  if (digest !== checksum) throw new CheckpointError(statePath, `content matching its checksum ${checksum.slice(0, 16)}...`, `${digest.slice(0, 16)}...: the file was edited`);
  if (serializeState(state) !== text) throw new CheckpointError(statePath, 'the bytes the trainer wrote', 'a reformatted file: it was edited');
  return state;
}

/**
 * Size and SHA-256 of a file, or of its first `bytes` bytes; undefined when it does not exist.
 *
 * @example
 * digestOf('runs/a/log.jsonl'); // { bytes: 812, sha256: '3f...' }
 */
export function digestOf(path: string, bytes?: number): FileDigest | undefined {
  if (!existsSync(path)) return undefined;
  const data = readFileSync(path);
  const head = bytes != null ? data.subarray(0, bytes) : data;
  return { bytes: head.byteLength, sha256: sha256(head) };
}

/** Tensors -> safetensors entries (reads the data synchronously). */
export function tensorsToEntries(tensors: tf.NamedTensorMap): Record<string, SafetensorsEntry> {
  const out: Record<string, SafetensorsEntry> = {};
  for (const [name, t] of Object.entries(tensors)) {
    if (t.dtype === 'float32') out[name] = { dtype: 'F32', shape: t.shape.slice(), data: t.dataSync() as Float32Array };
    else if (t.dtype === 'int32') out[name] = { dtype: 'I32', shape: t.shape.slice(), data: t.dataSync() as Int32Array };
    else if (t.dtype === 'bool') out[name] = { dtype: 'U8', shape: t.shape.slice(), data: Uint8Array.from(t.dataSync() as Uint8Array) };
    else throw new Error(`tensorsToEntries: ${name} has dtype ${t.dtype}, which a checkpoint cannot hold`);
  }
  return out;
}

/** Safetensors entries -> tensors (float64 narrowed to float32); the caller disposes them. */
export function entriesToTensors(entries: Record<string, SafetensorsEntry>): tf.NamedTensorMap {
  const out: tf.NamedTensorMap = {};
  for (const [name, e] of Object.entries(entries)) {
    if (e.dtype === 'I32') out[name] = tf.tensor(e.data as Int32Array, e.shape, 'int32');
    else if (e.dtype === 'U8') out[name] = tf.tensor(e.data as Uint8Array, e.shape, 'bool');
    else out[name] = tf.tensor(e.dtype === 'F64' ? Float32Array.from(e.data) : (e.data as Float32Array), e.shape, 'float32');
  }
  return out;
}

/**
 * Checks that loaded weights fit the model: same names and shapes. The error names the
 * checkpoint file and lists what is missing, unexpected or mis-shaped.
 */
export function checkWeightsMatch(file: string, loaded: Record<string, SafetensorsEntry>, expected: tf.NamedTensorMap): void {
  const problems: string[] = [];
  for (const [name, t] of Object.entries(expected)) {
    const e = loaded[name];
    if (!e) problems.push(`missing ${name}`);
    else if (e.shape.join() !== t.shape.join()) problems.push(`${name} has shape [${e.shape}], model has [${t.shape}]`);
  }
  for (const name of Object.keys(loaded)) if (!(name in expected)) problems.push(`unexpected ${name}`);
  if (problems.length > 0) {
    throw new CheckpointError(file, 'weights matching the model (same names and shapes)', problems.slice(0, 6).join('; ') + (problems.length > 6 ? `; ... ${problems.length - 6} more` : ''));
  }
}

/** Decodes one safetensors file of a checkpoint; a format problem becomes a `CheckpointError` naming it. */
function decodeEntries(bytes: Uint8Array, file: string): Record<string, SafetensorsEntry> {
  try {
    return Object.fromEntries(decodeSafetensors(bytes, file).tensors);
  } catch (err) {
    if (err instanceof SafetensorsFormatError) throw new CheckpointError(err.file, err.expected, err.found, err);
    throw err;
  }
}

function sha256(bytes: Uint8Array): string {
  return createHash('sha256').update(bytes).digest('hex');
}
