import * as tf from '@tensorflow/tfjs-core';
import type { R3DArtifactMetadata } from './artifacts.js';
import type { R3DConfigInput } from './config.js';
import { ModelConfigError, WeightImportError } from './errors.js';
import { createR3DModel, type R3DModel } from './r3d.js';
import { buildFuserLayer, type FuserLayersModule, importFuserLayers } from './fuser.js';
import { resolveConfig } from './config.js';

/** Options of `load`: `tf.io`'s own (fetch, weight URLs, progress) and a configuration. */
export interface LoadOptions extends tf.io.LoadOptions {
  /**
   * The model configuration, for artefacts that carry none (weights converted from elsewhere,
   * an authors' checkpoint in Node). It wins over the artefact's `userDefinedMetadata.r3d`.
   */
  config?: R3DConfigInput;
}

/**
 * Loads an R3D model, as the `@tensorflow-models` packages do: `source` is a URL of a
 * `model.json` (`http(s)://`, fetched with `tf.io.http`), any URL a `tf.io` load router is
 * registered for (`indexeddb://name`, `localstorage://name` in a browser), or a `tf.io.IOHandler`
 * (`tf.io.fromMemory(artifacts)`, `tf.io.browserFiles([json, bin])`, ...). The artefact is the
 * one `R3DModel.save` writes: the configuration from `userDefinedMetadata.r3d` (or
 * `options.config`), then every weight by name, shapes checked. In Node, `load` from
 * `@r3d-ts/r3d-model/node` also reads folders, `file://` URLs and the authors' `.pt` files.
 * The model's fuser is a `tf.layers.Layer` (`model.fuserLayer`, see `buildR3DModel`).
 *
 * @example
 * const model = await load('https://example.org/r3d-darai/model.json');
 * const [item] = await model.predict({ rgb, partner: depth }, { futureFrames: 150 });
 */
export async function load(source: string | tf.io.IOHandler, options: LoadOptions = {}): Promise<R3DModel> {
  const { config, ...ioOptions } = options;
  const name = typeof source === 'string' ? source : '<IOHandler>';
  const handler = typeof source === 'string' ? loadHandlerFor(source, ioOptions) : source;
  if (handler == null || typeof handler.load !== 'function') throw new ModelConfigError('source', 'a URL or a tf.io IOHandler with a load method', typeof handler);
  const [artifacts, layers] = await Promise.all([handler.load(), importFuserLayers()]);
  return fromArtifacts(artifacts, { source: name, ...(config ? { config } : {}) }, layers);
}

/**
 * Builds a model from `tf.io` model artefacts (what any load handler returns): the configuration
 * from `options.config` or `userDefinedMetadata.r3d`, then the weights decoded from
 * `weightSpecs` + `weightData` and assigned by name (see `R3DModel.setWeights`). An artefact
 * without a configuration, without weights, or whose weights do not decode or fit is a
 * `WeightImportError` naming `options.source`.
 *
 * @example
 * let saved: tf.io.ModelArtifacts | undefined;
 * await model.save(tf.io.withSaveHandler(async (a) => { saved = a; return { modelArtifactsInfo: tf.io.getModelArtifactsInfoForJSON(a) }; }));
 * const copy = modelFromArtifacts(saved!);
 */
export function modelFromArtifacts(artifacts: tf.io.ModelArtifacts, options: { config?: R3DConfigInput; source?: string } = {}): R3DModel {
  return fromArtifacts(artifacts, options);
}

/** `modelFromArtifacts`, with the fuser built as a Layer when the Layers module is given. */
function fromArtifacts(artifacts: tf.io.ModelArtifacts, options: { config?: R3DConfigInput; source?: string }, layers?: FuserLayersModule): R3DModel {
  const source = options.source ?? '<artifacts>';
  const meta = (artifacts.userDefinedMetadata as { r3d?: Partial<R3DArtifactMetadata> } | undefined)?.r3d;
  if (meta != null && meta.version !== 1) throw new WeightImportError({ file: source, expected: 'userDefinedMetadata.r3d of version 1', found: meta.version });
  const config = options.config ?? meta?.config;
  if (config == null) {
    throw new WeightImportError({ file: source, expected: 'a model.json whose userDefinedMetadata.r3d holds the R3D configuration (as model.save writes), or a config option', found: 'none' });
  }
  if (artifacts.weightSpecs == null || artifacts.weightData == null) throw new WeightImportError({ file: source, expected: 'a weights manifest and weight data', found: 'none' });
  let named: tf.NamedTensorMap;
  try {
    named = tf.io.decodeWeights(artifacts.weightData, artifacts.weightSpecs);
  } catch (cause) {
    throw new WeightImportError({ file: source, expected: 'weight data that holds every tensor of its weightSpecs', found: cause instanceof Error ? cause.message : String(cause), cause });
  }
  try {
    const model = newModel(config, layers);
    try {
      model.setWeights(new Map(Object.entries(named)), { source });
    } catch (err) {
      model.dispose();
      throw err;
    }
    return model;
  } finally {
    tf.dispose(Object.values(named));
  }
}

function loadHandlerFor(url: string, options: tf.io.LoadOptions): tf.io.IOHandler {
  const handlers = tf.io.getLoadHandlers(url, options);
  if (handlers.length === 1) return handlers[0]!;
  if (handlers.length > 1) throw new ModelConfigError('source', `one tf.io load handler for ${url}`, `${handlers.length}`);
  // tf.io's http router stands aside when there is no global fetch; tf.io.http still takes options.fetchFunc
  if (tf.io.isHTTPScheme(url)) return tf.io.http(url, options);
  throw new ModelConfigError(
    'source',
    "an http(s):// URL, a URL a tf.io load router is registered for (indexeddb://, localstorage:// in a browser) or an IOHandler; in Node, load from '@r3d-ts/r3d-model/node' reads folders, file:// URLs and .pt files",
    url,
  );
}

/** A fresh model of this configuration; its fuser a Layer when the Layers module is given. */
export function newModel(config: R3DConfigInput, layers?: FuserLayersModule): R3DModel {
  if (!layers) return createR3DModel(config);
  const resolved = resolveConfig(config);
  return createR3DModel(resolved, { fuser: buildFuserLayer(layers, resolved.fuser, resolved.hidden, resolved.seed) });
}
