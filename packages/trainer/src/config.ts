import { z } from 'zod';
import { ConfigError } from './errors.js';

const ratio = z.number().gt(0).lt(1);

/**
 * The training loop's options, every field optional with the released R3D recipe as default
 * (AdamW lr 1e-3, weight decay 5e-3, 10 warm-up epochs then cosine to 60, batch 8, observation
 * ratios {0.2, 0.3, 0.5} for training, best checkpoint by validation MoC). What to train on and
 * which model (a run configuration file) are the caller's: `@r3d-ts/train` extends this schema.
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
    /** Unset: a sixth of the run, at most 10 (`defaultWarmupEpochs`), filled in by the schema. */
    warmupEpochs: z.number().min(0).optional(),
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
    /** The backend the caller selected, recorded in each checkpoint's `config.json`. */
    backend: z.string().default('auto'),
    /** Run folder when `train` is given no `outDir`. */
    out: z.string().default('runs/r3d'),
  })
  .strict()
  .overwrite((c) => (c.warmupEpochs === undefined ? { ...c, warmupEpochs: defaultWarmupEpochs(c.epochs) } : c))
  .refine((c) => (c.warmupEpochs ?? 0) <= c.epochs, { message: 'warmupEpochs must not exceed epochs', path: ['warmupEpochs'] });

/**
 * The warm-up a run gets when it sets none: the released recipe's share (10 of 60 epochs, a
 * sixth), rounded, at most 10 epochs. So the released 60 epochs warm up for 10 as published, and a
 * short run (`r3d train --epochs 5`) warms up for 1 instead of failing on a warm-up longer than
 * the run.
 *
 * @example
 * defaultWarmupEpochs(60); // 10
 * defaultWarmupEpochs(5);  // 1
 */
export function defaultWarmupEpochs(epochs: number): number {
  return Math.min(10, Math.round(epochs / 6));
}

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
  if (!result.success) throw ConfigError.fromIssues(source, result.error.issues);
  return result.data;
}
