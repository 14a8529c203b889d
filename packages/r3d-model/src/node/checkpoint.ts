import { existsSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import * as tf from '@tensorflow/tfjs-core';
import { type HostTensor, TensorFormatError } from '@r3d-ts/tensor-io';
import { readNpyFolder, readSafetensors, readTorchCheckpoint, writeFileAtomic, writeSafetensors } from '@r3d-ts/tensor-io/node';
import type { R3DConfig, R3DConfigInput } from '../config.js';
import { WeightImportError } from '../errors.js';
import type { FuserLayersModule } from '../fuser.js';
import { newModel } from '../load.js';
import type { R3DModel, WeightLoadReport } from '../r3d.js';

export const WEIGHTS_FILE = 'weights.safetensors';
export const CONFIG_FILE = 'config.json';

/**
 * Saves a model in the project's checkpoint layout: `<dir>/weights.safetensors` (every weight by
 * the authors' PyTorch name, float32, PyTorch layout) and `<dir>/config.json` (the resolved
 * configuration), each written atomically (temp file + rename).
 *
 * @example
 * saveR3DModel(model, 'exports/r3d-darai');
 * const again = loadR3DModel('exports/r3d-darai');
 */
export function saveR3DModel(model: R3DModel, dir: string): void {
  const weights = model.getWeights();
  try {
    const host = new Map<string, HostTensor>();
    for (const [name, t] of weights) host.set(name, { shape: [...t.shape], data: t.dataSync() as Float32Array });
    writeSafetensors(join(dir, WEIGHTS_FILE), host, { format: 'r3d-ts-weights', naming: 'pytorch-state-dict' });
    writeFileAtomic(join(dir, CONFIG_FILE), `${JSON.stringify(model.config, null, 2)}\n`);
  } finally {
    tf.dispose([...weights.values()]);
  }
}

/**
 * Rebuilds a model from a folder written by `saveR3DModel` (or by the trainer's checkpoints,
 * which share the two files): the config from `config.json`, then every weight.
 *
 * @example
 * const model = loadR3DModel('exports/r3d-darai');
 */
export function loadR3DModel(dir: string): R3DModel {
  return checkpointModel(dir);
}

/** `loadR3DModel`, with the fuser built as a Layer when the Layers module is given (`load` of `./node`). */
export function checkpointModel(dir: string, layers?: FuserLayersModule): R3DModel {
  const configPath = join(dir, CONFIG_FILE);
  if (!existsSync(configPath)) throw new WeightImportError({ file: configPath, expected: `a ${CONFIG_FILE} beside ${WEIGHTS_FILE}`, found: 'none' });
  let config: R3DConfig;
  try {
    config = JSON.parse(readFileSync(configPath, 'utf8'));
  } catch (cause) {
    throw new WeightImportError({ file: configPath, expected: 'a JSON model configuration', cause });
  }
  const model = newModel(config as R3DConfigInput, layers);
  try {
    model.setWeights(asWeightImport(() => readSafetensors(join(dir, WEIGHTS_FILE)).tensors), { source: join(dir, WEIGHTS_FILE) });
  } catch (err) {
    model.dispose();
    throw err;
  }
  return model;
}

/**
 * Reads weights from any supported source, by what `path` is: a folder of `<name>.npy` (or a
 * checkpoint folder holding `weights.safetensors`), a `.safetensors` file, or a PyTorch
 * `.pt`/`.pth`/`.bin`/`.tar` zip checkpoint. A file that breaks its format is a `WeightImportError`
 * whose `cause` is `@r3d-ts/tensor-io`'s format error.
 *
 * @example
 * const report = loadWeights(model, 'olives/futr_depth_best.pth'); // report.unused: names the model ignores
 */
export function readWeights(path: string): Map<string, HostTensor> {
  if (!existsSync(path)) throw new WeightImportError({ file: path, expected: 'an existing weights file or folder', found: 'none' });
  return asWeightImport(() => {
    if (statSync(path).isDirectory()) {
      if (existsSync(join(path, WEIGHTS_FILE))) return readSafetensors(join(path, WEIGHTS_FILE)).tensors;
      return readNpyFolder(path);
    }
    if (path.endsWith('.safetensors')) return readSafetensors(path).tensors;
    return readTorchCheckpoint(path);
  });
}

// The model's loaders promise one error class for every way weights fail to load, so a file
// format problem is re-thrown as a WeightImportError with the same file, expectation and finding.
function asWeightImport<T>(read: () => T): T {
  try {
    return read();
  } catch (err) {
    if (err instanceof TensorFormatError) throw new WeightImportError({ file: err.file, expected: err.expected, found: err.found, cause: err });
    throw err;
  }
}

/**
 * Loads weights from `path` (see `readWeights`) into `model`, stripping `module.` prefixes.
 * Returns what was loaded and which names were unused; a missing required weight throws a
 * `WeightImportError` listing them.
 *
 * @example
 * const { unused } = loadWeights(model, 'best.pth');
 */
export function loadWeights(model: R3DModel, path: string, options: { allowMissing?: boolean } = {}): WeightLoadReport {
  return model.setWeights(readWeights(path), { source: path, ...options });
}
