import { readFileSync } from 'node:fs';
import { extname } from 'node:path';
import { parse as parseYaml } from 'yaml';
import { z } from 'zod';
import { ConfigError } from './errors.js';

const ratio = z.number().gt(0).lt(1);

/**
 * The training configuration: one JSON or YAML file, every field optional with the released R3D
 * recipe as default (AdamW lr 1e-3, weight decay 5e-3, 10 warm-up epochs then cosine to 60,
 * batch 8, observation ratios {0.2, 0.3, 0.5} for training, best checkpoint by validation MoC).
 */
export const trainConfigSchema = z
  .object({
    seed: z.number().int().min(0).max(2 ** 32 - 1).default(1),
    epochs: z.number().int().positive().default(60),
    batchSize: z.number().int().positive().default(8),
    lr: z.number().positive().default(1e-3),
    weightDecay: z.number().min(0).default(5e-3),
    beta1: z.number().min(0).lt(1).default(0.9),
    beta2: z.number().min(0).lt(1).default(0.999),
    epsilon: z.number().positive().default(1e-8),
    warmupEpochs: z.number().min(0).default(10),
    minLr: z.number().min(0).default(0),
    /** Move the learning rate every optimiser step instead of once per epoch. */
    schedulePerStep: z.boolean().default(false),
    /** Clip gradients to this global L2 norm (null = off, as the released recipe). */
    gradClipNorm: z.number().positive().nullable().default(null),
    trainObservationRatios: z.array(ratio).min(1).default([0.2, 0.3, 0.5]),
    evalObservationRatios: z.array(ratio).min(1).default([0.2, 0.3]),
    predictionRatios: z.array(z.number().gt(0).lte(1)).min(1).default([0.1, 0.2, 0.3, 0.5]),
    /** Share of L the predicted durations are relative to (the target window). */
    anticipationRatio: z.number().gt(0).lte(1).default(0.5),
    /** How MoC is scored: exactly as the released evaluation, or with its defects corrected (README). */
    protocol: z.enum(['released', 'corrected']).default('released'),
    /** How training targets are built: as the released loaders, or from the full-rate window (datasets README). */
    targets: z.enum(['released', 'full-rate']).default('released'),
    /** Validate (and consider a best checkpoint) every this many epochs. */
    validateEvery: z.number().int().positive().default(1),
    /** Also save `last` every this many steps inside an epoch (0 = at epoch ends only). */
    checkpointEverySteps: z.number().int().min(0).default(0),
    rankMonitor: z
      .object({
        enabled: z.boolean().default(true),
        /** Size of the fixed validation subset the ranks are measured on. */
        samples: z.number().int().positive().default(8),
      })
      .prefault({}),
    backend: z.string().default('auto'),
    out: z.string().default('runs/r3d'),
    /** What to train on; read by the CLI (`kind: synthetic` needs nothing else). */
    data: z.record(z.string(), z.unknown()).default({ kind: 'synthetic' }),
    /** Model configuration handed to the model factory (R3D options). */
    model: z.record(z.string(), z.unknown()).default({}),
  })
  .strict()
  .refine((c) => c.warmupEpochs <= c.epochs, { message: 'warmupEpochs must not exceed epochs', path: ['warmupEpochs'] });

export type TrainConfig = z.output<typeof trainConfigSchema>;
export type TrainConfigInput = z.input<typeof trainConfigSchema>;

/**
 * Validates a configuration object and fills the defaults. Every problem is reported at once in
 * a `ConfigError` (`source` names the file the object came from).
 *
 * @example
 * const config = parseTrainConfig({ epochs: 5, lr: 3e-4 });   // the rest is the released recipe
 */
export function parseTrainConfig(input: unknown, source = 'config'): TrainConfig {
  const result = trainConfigSchema.safeParse(input ?? {});
  if (!result.success) {
    throw new ConfigError(source, result.error.issues.map((i) => `${i.path.length ? i.path.join('.') : '(root)'}: ${i.message}`));
  }
  return result.data;
}

/**
 * Reads a JSON (`.json`) or YAML (`.yaml`/`.yml`) configuration file, applies overrides (as
 * dotted paths, e.g. from CLI flags) and validates the result.
 *
 * @example
 * loadTrainConfig('r3d.yaml', { epochs: 5, 'rankMonitor.enabled': false });
 */
export function loadTrainConfig(path: string | undefined, overrides: Record<string, unknown> = {}): TrainConfig {
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
  return parseTrainConfig(merged, path ?? 'config');
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
