import { existsSync, readFileSync, statSync } from 'node:fs';
import { dirname, isAbsolute, join, relative, resolve } from 'node:path';
import * as tf from '@tensorflow/tfjs-core';
import { writeFileAtomic } from '@r3d-ts/tensor-io/node';
import { WEIGHTS_SHARD } from '../artifacts.js';
import { WeightImportError } from '../errors.js';

/** The artefact's JSON file, as `tf.io` names it. */
export const MODEL_JSON = 'model.json';

/**
 * `path` without a `file://` prefix: `file://./my-r3d` is `./my-r3d` and `file:///data/r3d` is
 * `/data/r3d`, as tfjs-node reads them.
 *
 * @example
 * filePath('file://./my-r3d') // './my-r3d'
 */
export function filePath(path: string): string {
  return path.startsWith('file://') ? decodeURIComponent(path.slice('file://'.length)) : path;
}

/**
 * A `tf.io` handler for a folder on disk, without tfjs-node: `save` writes the standard
 * artefact (`model.json` with the weight manifest, then `group1-shard1of1.bin`), each file
 * atomically and the weights first, so a reader never sees a manifest whose weights are missing
 * or half-written; `load` reads it back (any shard layout `tf.io` writes, paths kept inside the
 * folder). `path` is a folder, a `model.json` file, or either as a `file://` URL.
 *
 * @example
 * await model.save(fileSystem('file://./my-r3d'));   // ./my-r3d/model.json + group1-shard1of1.bin
 * const again = await load(fileSystem('./my-r3d'));
 */
export function fileSystem(path: string): tf.io.IOHandler {
  const target = filePath(path);
  const jsonPath = target.endsWith('.json') ? target : join(target, MODEL_JSON);
  const dir = dirname(jsonPath);
  return {
    async save(artifacts: tf.io.ModelArtifacts): Promise<tf.io.SaveResult> {
      if (artifacts.modelTopology instanceof ArrayBuffer) {
        throw new WeightImportError({ file: jsonPath, expected: 'a JSON model topology (binary topologies are not written to model.json)', found: 'an ArrayBuffer' });
      }
      const weights = artifacts.weightData == null ? new Uint8Array(0) : new Uint8Array(tf.io.CompositeArrayBuffer.join(artifacts.weightData));
      const modelJSON: Record<string, unknown> = {};
      for (const key of ['modelTopology', 'format', 'generatedBy', 'convertedBy', 'signature', 'userDefinedMetadata', 'modelInitializer', 'initializerSignature', 'trainingConfig'] as const) {
        if (artifacts[key] !== undefined) modelJSON[key] = artifacts[key];
      }
      modelJSON.weightsManifest = [{ paths: [WEIGHTS_SHARD], weights: artifacts.weightSpecs ?? [] }];
      writeFileAtomic(join(dir, WEIGHTS_SHARD), weights);
      writeFileAtomic(jsonPath, JSON.stringify(modelJSON));
      return { modelArtifactsInfo: tf.io.getModelArtifactsInfoForJSON(artifacts) };
    },

    async load(): Promise<tf.io.ModelArtifacts> {
      if (!existsSync(jsonPath)) throw new WeightImportError({ file: jsonPath, expected: `a ${MODEL_JSON} (as model.save(fileSystem(dir)) writes)`, found: 'none' });
      let modelJSON: tf.io.ModelJSON;
      try {
        modelJSON = JSON.parse(readFileSync(jsonPath, 'utf8'));
      } catch (cause) {
        throw new WeightImportError({ file: jsonPath, expected: 'a JSON model.json', cause });
      }
      if (modelJSON == null || typeof modelJSON !== 'object') throw new WeightImportError({ file: jsonPath, expected: 'a JSON object', found: typeof modelJSON });
      return tf.io.getModelArtifactsForJSON(modelJSON, async (manifest) => {
        const specs = manifest.flatMap((group) => group.weights);
        const shards = manifest.flatMap((group) => group.paths.map((p) => readShard(dir, p)));
        return [specs, tf.io.CompositeArrayBuffer.join(shards)];
      });
    },
  };
}

/** One weight file of the manifest, which must lie inside the artefact's folder. */
function readShard(dir: string, path: string): ArrayBuffer {
  const file = resolve(dir, path);
  const rel = relative(resolve(dir), file);
  if (rel === '' || rel.startsWith('..') || isAbsolute(rel)) throw new WeightImportError({ file: join(dir, MODEL_JSON), expected: 'weight paths inside the model folder', found: path });
  if (!existsSync(file) || !statSync(file).isFile()) throw new WeightImportError({ file, expected: 'the weight file the manifest lists', found: 'none' });
  const bytes = readFileSync(file);
  return bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength) as ArrayBuffer;
}
