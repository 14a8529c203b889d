import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, renameSync, rmSync, statSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';
import { decodeSafetensors, encodeSafetensors, SafetensorsFormatError, type SafetensorsEntry } from '@r3d-ts/tensor-io';
import { fsyncDir, writeFileAtomic } from '@r3d-ts/tensor-io/node';
import type { RngState } from '@r3d-ts/datasets';
import * as tf from '@tensorflow/tfjs-core';
import { CheckpointError } from './errors.js';

export const CHECKPOINT_FORMAT = 'r3d-ts-checkpoint';
// 2: the data-order state is the shared sfc32 `Rng`'s (version 1 held a xoshiro128** state)
export const CHECKPOINT_VERSION = 2;

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
  files: Record<string, { bytes: number; sha256: string }>;
}

export interface CheckpointContent {
  kind: string;
  weights: tf.NamedTensorMap;
  optimizer?: { step: number; moments: tf.NamedTensorMap };
  progress: TrainingProgress;
  /** Written as `config.json` (training + model configuration). */
  config: unknown;
  metrics?: Record<string, unknown>;
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
    const state: CheckpointState = {
      format: CHECKPOINT_FORMAT,
      version: CHECKPOINT_VERSION,
      kind: content.kind,
      savedAt: new Date().toISOString(),
      progress: content.progress,
      optimizerStep: content.optimizer ? content.optimizer.step : null,
      ...(content.metrics ? { metrics: content.metrics } : {}),
      files,
    };
    writeFileAtomic(join(tmp, 'state.json'), `${JSON.stringify(state, null, 2)}\n`);
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
  let state: CheckpointState;
  try {
    state = JSON.parse(readFileSync(statePath, 'utf8')) as CheckpointState;
  } catch (err) {
    throw new CheckpointError(statePath, 'valid JSON', 'unparsable content: truncated or corrupted', err);
  }
  if (state?.format !== CHECKPOINT_FORMAT) throw new CheckpointError(statePath, `"format": "${CHECKPOINT_FORMAT}"`, JSON.stringify(state?.format));
  if (state.version !== CHECKPOINT_VERSION) throw new CheckpointError(statePath, `"version": ${CHECKPOINT_VERSION}`, JSON.stringify(state.version));
  if (!state.files || typeof state.files !== 'object' || !state.files['weights.safetensors']) {
    throw new CheckpointError(statePath, 'a "files" table listing weights.safetensors', JSON.stringify(state.files));
  }
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
