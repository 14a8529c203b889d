import { readFileSync } from 'node:fs';
import { extname } from 'node:path';
import { ConfigError, trainConfigSchema } from '@r3d-ts/trainer/cli';
import { parse as parseYaml } from 'yaml';
import { z } from 'zod';

/**
 * Every backend `--backend` takes: `auto`, `tensorflow` and the candidates `selectBackend` knows,
 * written out so that `r3d --help` loads no TensorFlow.js (a test compares them with
 * `defaultCandidates`).
 *
 * @example
 * BACKEND_NAMES.join(' | '); // 'auto | tensorflow | tensorflow-gpu | ...'
 */
export const BACKEND_NAMES = ['auto', 'tensorflow', 'tensorflow-gpu', 'tensorflow-cpu', 'native-blas', 'wasm', 'cpu'] as const;

const size = z.number().int().positive();

/** The most synthetic videos a run may ask for: they are generated and held in memory. */
export const MAX_SYNTHETIC_COUNT = 5000;

/** The built-in synthetic table-top dataset of `@r3d-ts/datasets/synthetic`. */
const syntheticData = z
  .object({
    kind: z.literal('synthetic'),
    seed: z.number().int().min(0).default(1),
    /** Videos over all splits; they are generated and held in memory (about 0.6 MB each), hence the bound. */
    count: size.max(MAX_SYNTHETIC_COUNT, `at most ${MAX_SYNTHETIC_COUNT} (the synthetic videos are held in memory)`).default(60),
    height: size.max(1024).multipleOf(2, 'expected an even number of pixels').default(24),
    width: size.max(1024).multipleOf(2, 'expected an even number of pixels').default(32),
    featureDim: size.max(65_536).default(256),
    /** Keep every n-th observed frame. */
    sampleRate: size.default(1),
  })
  .strict();

/** A dataset in the FUTR layout (`features/`, `groundTruth/`, `mapping.txt`, `splits/`). */
const futrData = z
  .object({
    kind: z.literal('futr'),
    root: z.string({ error: 'expected the folder of the FUTR layout (features/, groundTruth/, mapping.txt, splits/)' }),
    mapping: z.string().optional(),
    trainSplit: z.string({ error: 'expected a split file under <root>/splits (e.g. train.split1.bundle)' }),
    valSplit: z.string().optional(),
    testSplit: z.string().optional(),
    partner: z.enum(['depth', 'text'], { error: 'expected depth or text' }).default('depth'),
    /** Depth frames are resized to [height, width]. */
    depthSize: z.array(size, { error: 'expected [height, width]' }).length(2, { error: 'expected [height, width]' }).optional(),
    sampleRate: size.default(1),
  })
  .strict();

/**
 * What a run trains on: `kind: synthetic` (the default; a missing `kind` means synthetic) or
 * `kind: futr`. Every field is checked, so a mistyped key or value is reported by name before
 * any data is read.
 */
export const dataConfigSchema = z.preprocess(
  (v) => (v != null && typeof v === 'object' && !Array.isArray(v) && !('kind' in v) ? { kind: 'synthetic', ...v } : v),
  z.discriminatedUnion('kind', [syntheticData, futrData], { error: (issue) => (issue.code === 'invalid_union' ? 'expected "synthetic" or "futr"' : undefined) }),
);

/**
 * The `r3d` run configuration: the trainer's options (the released recipe by default), what to
 * train on (`data`) and the R3D options (`model`: `hidden`, `heads`, `ffnDim`, `dropout`,
 * `fuser` ...; class counts and encoder sizes come from the data).
 */
export const runConfigSchema = trainConfigSchema.safeExtend({
  data: dataConfigSchema.prefault({ kind: 'synthetic' }),
  model: z.record(z.string(), z.unknown()).default({}),
});

export type RunConfig = z.output<typeof runConfigSchema>;
export type RunConfigInput = z.input<typeof runConfigSchema>;
export type DataConfig = RunConfig['data'];

/**
 * Validates a run configuration object and fills the defaults. Every problem is reported at once
 * in a `ConfigError` naming the field and what was expected (`source` names the file).
 *
 * @example
 * const config = parseRunConfig({ epochs: 5, data: { kind: 'synthetic', count: 120 } });
 */
export function parseRunConfig(input: unknown, source = 'config'): RunConfig {
  const result = runConfigSchema.safeParse(input ?? {});
  if (!result.success) throw ConfigError.fromIssues(source, result.error.issues);
  return result.data;
}

/**
 * Reads a JSON (`.json`) or YAML (`.yaml`/`.yml`) run configuration, applies overrides (as
 * dotted paths, e.g. from CLI flags) and validates the result.
 *
 * @example
 * loadRunConfig('r3d.yaml', { epochs: 5, 'rankMonitor.enabled': false });
 */
export function loadRunConfig(path: string | undefined, overrides: Record<string, unknown> = {}): RunConfig {
  let raw: unknown = {};
  if (path) {
    let text: string;
    try {
      text = readFileSync(path, 'utf8');
    } catch (err) {
      throw new ConfigError(path, [`cannot read the file: ${(err as Error).message}`]);
    }
    try {
      raw = ['.yaml', '.yml'].includes(extname(path).toLowerCase()) ? parseYaml(text) : JSON.parse(text);
    } catch (err) {
      throw new ConfigError(path, [`not valid ${extname(path) === '.json' ? 'JSON' : 'YAML'}: ${(err as Error).message}`]);
    }
    if (raw == null) raw = {};
    if (typeof raw !== 'object' || Array.isArray(raw)) throw new ConfigError(path, ['(root): expected a mapping of settings']);
  }
  const merged = structuredClone(raw) as Record<string, unknown>;
  for (const [key, value] of Object.entries(overrides)) if (value !== undefined) setPath(merged, key, value);
  return parseRunConfig(merged, path ?? 'config');
}

function setPath(target: Record<string, unknown>, dotted: string, value: unknown): void {
  const parts = dotted.split('.');
  let at = target;
  for (const p of parts.slice(0, -1)) {
    if (at[p] == null || typeof at[p] !== 'object') at[p] = {};
    at = at[p] as Record<string, unknown>;
  }
  at[parts[parts.length - 1]] = value;
}
