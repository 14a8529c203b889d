import { existsSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import * as tf from '@tensorflow/tfjs-core';
import { writeFileAtomic } from '../atomic.js';
import type { R3DConfig, R3DConfigInput } from '../config.js';
import { WeightImportError } from '../errors.js';
import { createR3DModel, type HostTensor, type R3DModel, type WeightLoadReport } from '../r3d.js';
import { readNpyFolder } from './npy-folder.js';
import { readSafetensors, writeSafetensors } from './safetensors.js';
import { readTorchCheckpoint } from './torch.js';

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
  const configPath = join(dir, CONFIG_FILE);
  if (!existsSync(configPath)) throw new WeightImportError({ file: configPath, expected: `a ${CONFIG_FILE} beside ${WEIGHTS_FILE}`, found: 'none' });
  let config: R3DConfig;
  try {
    config = JSON.parse(readFileSync(configPath, 'utf8'));
  } catch (cause) {
    throw new WeightImportError({ file: configPath, expected: 'a JSON model configuration', cause });
  }
  const model = createR3DModel(config as R3DConfigInput);
  try {
    model.setWeights(readSafetensors(join(dir, WEIGHTS_FILE)).tensors, { source: join(dir, WEIGHTS_FILE) });
  } catch (err) {
    model.dispose();
    throw err;
  }
  return model;
}

/**
 * Reads weights from any supported source, by what `path` is: a folder of `<name>.npy` (or a
 * checkpoint folder holding `weights.safetensors`), a `.safetensors` file, or a PyTorch
 * `.pt`/`.pth`/`.bin`/`.tar` zip checkpoint.
 *
 * @example
 * const report = loadWeights(model, 'olives/futr_depth_best.pth'); // report.unused: names the model ignores
 */
export function readWeights(path: string): Map<string, HostTensor> {
  if (!existsSync(path)) throw new WeightImportError({ file: path, expected: 'an existing weights file or folder', found: 'none' });
  if (statSync(path).isDirectory()) {
    if (existsSync(join(path, WEIGHTS_FILE))) return readSafetensors(join(path, WEIGHTS_FILE)).tensors;
    return readNpyFolder(path);
  }
  if (path.endsWith('.safetensors')) return readSafetensors(path).tensors;
  return readTorchCheckpoint(path);
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
