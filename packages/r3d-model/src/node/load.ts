import { existsSync, statSync } from 'node:fs';
import { join } from 'node:path';
import type * as tf from '@tensorflow/tfjs-core';
import { WeightImportError } from '../errors.js';
import { importFuserLayers } from '../fuser.js';
import { type LoadOptions, load as loadFromHandler, newModel } from '../load.js';
import type { R3DModel } from '../r3d.js';
import { CONFIG_FILE, WEIGHTS_FILE, checkpointModel, readWeights } from './checkpoint.js';
import { MODEL_JSON, fileSystem, filePath } from './file-system.js';

const URL_SCHEME = /^[a-z][a-z0-9+.-]*:\/\//i;

/**
 * `load` of the main entry, plus what only Node can read: a folder or `file://` URL holding
 * `model.json` (what `model.save(fileSystem(dir))` writes) or a `model.json` path; a checkpoint
 * folder of `config.json` + `weights.safetensors` (`saveR3DModel`, the trainer's checkpoints);
 * and, with `options.config` (they carry no configuration), the authors' weights: a PyTorch
 * `.pt`/`.pth` file, a `.safetensors` file or a folder of `<name>.npy` (see `readWeights`).
 * URLs with another scheme and `tf.io` handlers go to the main entry's `load`. Whatever the
 * source, the model's fuser is a `tf.layers.Layer` (`model.fuserLayer`), as with `load`.
 *
 * @example
 * const mine = await load('file://./my-r3d');
 * const authors = await load('checkpoints/futr_depth_best.pth', { config: { numClasses: 20, partner: depthEncoder(120, 160) } });
 */
export async function load(source: string | tf.io.IOHandler, options: LoadOptions = {}): Promise<R3DModel> {
  if (typeof source !== 'string' || (URL_SCHEME.test(source) && !source.startsWith('file://'))) return loadFromHandler(source, options);
  const path = filePath(source);
  if (!existsSync(path)) throw new WeightImportError({ file: path, expected: 'an existing model folder, model.json or weights file', found: 'none' });
  const folder = statSync(path).isDirectory();
  if ((folder && existsSync(join(path, MODEL_JSON))) || (!folder && path.endsWith('.json'))) return loadFromHandler(fileSystem(path), options);
  if (folder && !options.config && existsSync(join(path, CONFIG_FILE)) && existsSync(join(path, WEIGHTS_FILE))) return checkpointModel(path, await importFuserLayers());
  if (!options.config) {
    throw new WeightImportError({
      file: path,
      expected: `a config option: ${folder ? 'a folder without model.json or config.json' : 'a weights file'} holds weights but no model configuration`,
      found: 'none',
    });
  }
  const weights = readWeights(path);
  const model = newModel(options.config, await importFuserLayers());
  try {
    model.setWeights(weights, { source: path });
  } catch (err) {
    model.dispose();
    throw err;
  }
  return model;
}
