import { existsSync, readFileSync, statSync } from 'node:fs';
import { z } from 'zod';
import { AblationConfigError } from './errors.js';
import { MAX_LISTED_SEQUENCES, MAX_SEQUENCE_NUMBER } from './sequences.js';

/** The most synthetic videos a grid may ask for: they are generated and held in memory. */
export const MAX_SYNTHETIC_COUNT = 5000;

/** Partners RGB can be fused with; `rgb` alone is the unimodal baseline. */
export const PARTNERS = ['rgb', 'depth', 'text', 'imu'] as const;
/** A partner of the grid: one of PARTNERS, or a planted partner of the synthetic world. */
export type Partner = (typeof PARTNERS)[number] | 'informative' | 'redundant' | 'noise';

/**
 * The synthetic world's planted partners (`--preset planted`): what each carries is known by
 * construction, so the ablation can check that it recovers it.
 */
export const PLANTED_PARTNERS = ['informative', 'redundant', 'noise'] as const;
export type PlantedPartner = (typeof PLANTED_PARTNERS)[number];

/** Fusers by the ablation's names: the RTF with each channel score, and the baselines. */
export const ABLATION_FUSERS = ['rtf-variance', 'rtf-svd-energy', 'rtf-bn-gamma', 'sa-fuser', 'hard-swap', 'concat', 'mean', 'late'] as const;
export type AblationFuser = (typeof ABLATION_FUSERS)[number];

/** Datasets the ablation reads; `darai-demo` is the authors' tokens (rank analysis only). */
export const DATASETS = ['synthetic', 'futr', 'darai-demo'] as const;
export type DatasetKind = (typeof DATASETS)[number];

export const BACKENDS = ['auto', 'native-blas', 'wasm', 'cpu', 'tensorflow', 'tensorflow-cpu', 'tensorflow-gpu'] as const;

const ratio = z.number().gt(0, 'must be inside (0, 1)').lt(1, 'must be inside (0, 1)');
const oneOf = <T extends readonly [string, ...string[]]>(values: T) =>
  z.string().refine((v) => (values as readonly string[]).includes(v), { message: `expected one of ${values.join(', ')}` }) as unknown as z.ZodType<T[number]>;

/**
 * The ablation's configuration: a JSON file and/or flags, every field optional. The defaults are
 * the small grid that `pnpm ablation` runs in minutes on 2 cores (see README).
 */
export const ablationConfigSchema = z
  .object({
    dataset: oneOf(DATASETS).default('synthetic'),
    /** Folder of the dataset (futr layout root, darai-demo folder or R3D-demo clone). */
    data: z.string().min(1).optional(),
    // the planted partners are accepted too, but only with synthetic.planted (checked below)
    partners: z
      .array(z.string().refine((v) => (PARTNERS as readonly string[]).includes(v) || (PLANTED_PARTNERS as readonly string[]).includes(v), { message: `expected one of ${PARTNERS.join(', ')}` }) as unknown as z.ZodType<Partner>)
      .min(1)
      .default(['rgb', 'depth', 'text', 'imu']),
    fusers: z.array(oneOf(ABLATION_FUSERS)).min(1).default(['rtf-variance', 'mean']),
    /** Exchange ratios of the RTF and hard-swap (k = floor(ratio * C) channels per modality). */
    exchangeRatios: z.array(ratio).min(1).default([0.3]),
    seeds: z.array(z.number().int().min(0).max(2 ** 31 - 1)).min(1).default([1, 2, 3, 4, 5]),
    epochs: z.number().int().positive().default(7),
    batchSize: z.number().int().positive().default(64),
    lr: z.number().positive().default(8e-3),
    weightDecay: z.number().min(0).default(5e-3),
    warmupEpochs: z.number().min(0).default(1),
    /**
     * Weight of the action loss for a sample whose next action differs from its last observed one
     * (10 as released, which trains the queries toward the transition; 1 weighs every sample alike).
     */
    transitionWeight: z.number().positive().default(1),
    trainObservationRatios: z.array(ratio).min(1).default([0.2, 0.3]),
    evalObservationRatios: z.array(ratio).min(1).default([0.2, 0.3]),
    predictionRatios: z.array(z.number().gt(0).lte(1)).min(1).default([0.1, 0.2, 0.3, 0.5]),
    /** Observation ratios at which effective rank is measured (the paper's figure: 0.1 .. 0.9). */
    rankObservationRatios: z.array(ratio).min(1).default([0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9]),
    /** Model width and shape (R3D defaults are 128 / 8 / 512; the default grid uses C = 64 to train 5 seeds in a minute). */
    model: z
      .object({
        hidden: z.number().int().positive().default(64),
        heads: z.number().int().positive().default(4),
        ffnDim: z.number().int().positive().default(128),
        dropout: z.number().min(0).lt(1).default(0),
        /** Transformer encoder layers over the fused tokens before the decoder (0 as released). */
        encoderLayers: z.number().int().min(0).default(0),
      })
      .strict()
      .prefault({}),
    synthetic: z
      .object({
        seed: z.number().int().min(0).default(1),
        /** Sequences over all splits (`testFraction` of them test, the rest train); held in memory (about 0.6 MB each at 15 fps), hence the bound. */
        count: z.number().int().min(4).max(MAX_SYNTHETIC_COUNT, `at most ${MAX_SYNTHETIC_COUNT} (the synthetic videos are held in memory)`).default(260),
        /** Share of the sequences (the last ones) kept for testing. */
        testFraction: ratio.default(0.2),
        /** Keep every n-th frame of the 15 fps videos. */
        sampleRate: z.number().int().positive().default(5),
        /** How the world chooses tasks: `by-object` (the object decides the task, so the future follows from what is seen) or `random`. */
        grammar: z.enum(['random', 'by-object']).default('by-object'),
        /**
         * RGB features per kept frame: `clip` (default) appends their change since the previous
         * kept frame, the motion a clip extractor such as I3D carries and a single frame lacks
         * (every action of the world is a motion); `frame` is the single frame's features.
         */
        rgb: z.enum(['frame', 'clip']).default('clip'),
        /**
         * Standardise the RGB features per channel with the training videos' mean and standard
         * deviation (default true): the RGB encoder has no normalisation (as released), and the
         * raw features vary by about 0.03 between frames, too little to outweigh the positions.
         */
        standardiseRgb: z.boolean().default(true),
        /** Planted partners to add to the world (the `--preset planted` self-check): informative, redundant, noise. */
        planted: z.array(oneOf(PLANTED_PARTNERS)).optional(),
      })
      .strict()
      .prefault({}),
    futr: z
      .object({
        mapping: z.string().optional(),
        trainSplit: z.string().optional(),
        testSplit: z.string().optional(),
        level: z.enum(['l2', 'l3']).optional(),
        sampleRate: z.number().int().positive().default(1),
      })
      .strict()
      .prefault({}),
    /** darai-demo: sequences averaged (the authors' demo averages 0..32 of the 34). */
    sequences: z.array(z.number().int().min(0).max(MAX_SEQUENCE_NUMBER)).min(1).max(MAX_LISTED_SEQUENCES).optional(),
    out: z.string().min(1).default('out/ablation'),
    /** TensorFlow.js backend; unset = R3D_BACKEND, else native-blas where its addon loads, else wasm (see README). */
    backend: oneOf(BACKENDS).optional(),
    /**
     * Worker processes that train cells side by side: `auto` (default) one per idle core (measured over 250 ms as the cells start), 1 trains in
     * the run's own process. Results do not depend on it (each cell is seeded, its kernels are
     * bit-identical on any thread count).
     */
    workers: z.union([z.literal('auto'), z.number().int().positive()]).default('auto'),
    /** Run only shard i of n ("i/n", 1-based). */
    shard: z.string().regex(/^\d+\/\d+$/, 'expected "i/n", e.g. 1/4').optional(),
    /** Progress bars on stderr: only on a terminal, never under CI=true or NO_COLOR; false turns them off. */
    progress: z.boolean().optional(),
  })
  .strict();

export type AblationConfig = z.output<typeof ablationConfigSchema>;
export type AblationConfigInput = z.input<typeof ablationConfigSchema>;

/**
 * Named starting points for a run (`--preset <name>`, under the configuration file and flags).
 * `planted` is the app's self-check: RGB alone and the synthetic world's informative, redundant
 * and noise partners with the RTF, where the right answer is known (see README).
 */
export const PRESETS: Record<string, AblationConfigInput> = {
  planted: {
    partners: ['rgb', 'informative', 'redundant', 'noise'],
    fusers: ['rtf-variance'],
    // long enough for the model to learn to read the informative partner; H averaged over three ratios
    epochs: 20,
    lr: 5e-3,
    rankObservationRatios: [0.3, 0.6, 0.9],
    // the world and training of the self-check as it was tuned, whatever the default grid's
    batchSize: 8,
    transitionWeight: 10,
    trainObservationRatios: [0.2, 0.3, 0.5],
    model: { dropout: 0.1 },
    synthetic: { count: 40, testFraction: 0.3, sampleRate: 3, grammar: 'random', rgb: 'frame', standardiseRgb: false, planted: ['informative', 'redundant', 'noise'] },
  },
};

/**
 * Lays a configuration over a preset: the preset's fields, then `over`'s (the nested `model`,
 * `synthetic` and `futr` objects are merged field by field). Throws an `AblationConfigError` for
 * an unknown preset.
 *
 * @example
 * withPreset('planted', { seeds: [1, 2, 3, 4, 5, 6] }).partners; // ['rgb', 'informative', 'redundant', 'noise']
 */
export function withPreset(name: string, over: Record<string, unknown>): Record<string, unknown> {
  const preset = PRESETS[name] as Record<string, unknown> | undefined;
  if (!preset) throw new AblationConfigError('preset', `unknown preset "${name}" (expected one of ${Object.keys(PRESETS).join(', ')})`);
  const out: Record<string, unknown> = { ...preset, ...over };
  for (const key of ['model', 'synthetic', 'futr']) {
    if (preset[key] && over[key] && typeof over[key] === 'object') out[key] = { ...(preset[key] as object), ...(over[key] as object) };
  }
  return out;
}

/**
 * Validates a configuration (file contents merged with flags) and checks what can be checked
 * before any work: shard bounds, that a dataset needing a folder has one that exists (unless
 * `options.dataHere` is false). Throws an `AblationConfigError` whose message lists one line per
 * problem.
 *
 * @example
 * const config = parseAblationConfig({ partners: ['depth', 'text'], seeds: [1] });
 */
export function parseAblationConfig(input: unknown, source = 'config', options: { dataHere?: boolean } = {}): AblationConfig {
  const result = ablationConfigSchema.safeParse(input ?? {});
  if (!result.success) {
    const lines = result.error.issues.map((i) => {
      const where = i.path.length ? i.path.map((p) => (typeof p === 'number' ? `[${p}]` : `.${String(p)}`)).join('').replace(/^\./, '') : '(root)';
      const found = valueAt(input, i.path as PropertyKey[]);
      return `${where}: ${i.message}${found !== undefined ? ` (got ${JSON.stringify(found)})` : ''}`;
    });
    throw new AblationConfigError(source, lines.length === 1 ? lines[0]! : `\n  ${lines.join('\n  ')}`);
  }
  const config = result.data;
  if (config.shard) shardOf(config.shard);
  const planted = config.partners.filter((p) => (PLANTED_PARTNERS as readonly string[]).includes(p));
  const have = config.dataset === 'synthetic' ? (config.synthetic.planted ?? []) : [];
  const missing = planted.filter((p) => !(have as readonly string[]).includes(p));
  if (missing.length) throw new AblationConfigError('partners', `${missing.join(', ')} ${missing.length === 1 ? 'is a planted partner' : 'are planted partners'} of the synthetic world: use --preset planted, or set synthetic.planted`);
  if (config.dataset !== 'synthetic') {
    if (!config.data) throw new AblationConfigError('data', `dataset ${config.dataset} needs --data <folder>`);
    // dataHere false: the folder is read elsewhere (a Kubernetes pod's volume), not on this machine
    if (options.dataHere !== false && (!existsSync(config.data) || !statSync(config.data).isDirectory())) throw new AblationConfigError('data', `folder ${config.data} does not exist`);
  }
  return config;
}

function valueAt(input: unknown, path: PropertyKey[]): unknown {
  let v: unknown = input;
  for (const p of path) {
    if (v == null || typeof v !== 'object') return undefined;
    v = (v as Record<PropertyKey, unknown>)[p];
  }
  return v;
}

/** Parses "i/n" (1-based) into { index: i - 1, count: n }. */
export function shardOf(text: string): { index: number; count: number } {
  const m = /^(\d+)\/(\d+)$/.exec(text);
  const i = m ? Number(m[1]) : NaN;
  const n = m ? Number(m[2]) : NaN;
  if (!(n >= 1 && i >= 1 && i <= n)) throw new AblationConfigError('shard', `expected "i/n" with 1 <= i <= n, got "${text}"`);
  return { index: i - 1, count: n };
}

/** Reads a JSON configuration file (an object of the schema's fields). */
export function readConfigFile(path: string): Record<string, unknown> {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch {
    throw new AblationConfigError('config', `cannot read ${path}`);
  }
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (err) {
    throw new AblationConfigError('config', `${path} is not valid JSON (${(err as Error).message})`);
  }
  if (value == null || typeof value !== 'object' || Array.isArray(value)) throw new AblationConfigError('config', `${path} must hold a JSON object`);
  return value as Record<string, unknown>;
}
