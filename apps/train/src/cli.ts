#!/usr/bin/env node
import { appendFileSync, mkdirSync } from 'node:fs';
import { dirname, join } from 'node:path';
import type { AnticipationProtocol } from '@r3d-ts/r3d-model';
import { assertWritableFolder, ConfigError, packageVersion, progressAllowed, runCli, stopOnSignals, userFacingCommands } from '@r3d-ts/trainer/cli';
import { Command, InvalidArgumentError } from 'commander';
import { BACKEND_NAMES, loadRunConfig, parseRunConfig, type RunConfig } from './config.js';

// TensorFlow.js, the model and the datasets load once the flags and the configuration have passed
// their checks: `r3d --help` and a user error answer in a Node start (see @r3d-ts/trainer/cli)
const heavy = async () => {
  const [backend, trainer, setup, progress] = await Promise.all([import('@r3d-ts/backend'), import('@r3d-ts/trainer'), import('./setup.js'), import('cli-progress')]);
  return { ...backend, ...trainer, ...setup, SingleBar: progress.SingleBar };
};

const number = (v: string): number => {
  const n = Number(v);
  if (!Number.isFinite(n)) throw new InvalidArgumentError(`expected a number, got "${v}"`);
  return n;
};
const integer = (v: string): number => {
  const n = number(v);
  if (!Number.isInteger(n)) throw new InvalidArgumentError(`expected an integer, got "${v}"`);
  return n;
};
const setting = (v: string, previous: Record<string, unknown> = {}): Record<string, unknown> => {
  const eq = v.indexOf('=');
  if (eq <= 0) throw new InvalidArgumentError(`expected key.path=value, got "${v}"`);
  const raw = v.slice(eq + 1);
  let value: unknown = raw;
  try {
    value = JSON.parse(raw);
  } catch {
    // a bare string
  }
  return { ...previous, [v.slice(0, eq)]: value };
};

interface TrainFlags {
  config?: string;
  out?: string;
  epochs?: number;
  lr?: number;
  weightDecay?: number;
  warmupEpochs?: number;
  batchSize?: number;
  seed?: number;
  gradClip?: number;
  backend?: string;
  set?: Record<string, unknown>;
  resume?: boolean;
  overwrite?: boolean;
  progress: boolean;
  logSteps?: boolean;
  json?: boolean;
}

/** Warnings (dropped videos, ...) go to stderr, one line each, like every log line. */
const warn = (message: string): void => {
  process.stderr.write(`r3d: warning: ${message}\n`);
};

async function runTrain(flags: TrainFlags): Promise<void> {
  const config = loadRunConfig(flags.config, {
    out: flags.out,
    epochs: flags.epochs,
    lr: flags.lr,
    weightDecay: flags.weightDecay,
    warmupEpochs: flags.warmupEpochs,
    batchSize: flags.batchSize,
    seed: flags.seed,
    gradClipNorm: flags.gradClip,
    backend: flags.backend,
    ...flags.set,
  });
  assertWritableFolder(config.out); // a read-only or file-blocked output fails now, not after the first epoch
  const { selectBackend, describeBackend, prepareRun, train, SingleBar } = await heavy();
  const report = await selectBackend({ backend: config.backend });
  const run = await prepareRun(config, flags.config ?? 'config', { warn });
  const bar = progressAllowed({ flag: flags.progress })
    ? new SingleBar({ format: 'epoch {epoch}/{epochs} |{bar}| {value}/{total} steps | loss {loss} | lr {lr} | {sps} samples/s', hideCursor: true, stream: process.stderr, noTTYOutput: true, notTTYSchedule: 5000 })
    : undefined;
  let current = -1;
  // SIGINT/SIGTERM: finish the step, write last/, exit 130/143 (main); a second one exits at once
  const stop = stopOnSignals({ onSignal: (s) => console.error(`r3d: ${s}: stopping after this step (again to stop now)`) });
  try {
    const result = await train({
      model: run.model,
      labels: run.model.labels,
      trainSamples: run.train,
      validationSamples: run.validation,
      config,
      resume: flags.resume ?? false,
      overwrite: flags.overwrite ?? false,
      signal: stop.signal,
      modelConfig: run.modelConfig,
      // announced only once the run folder passed its checks: a refusal stays one line
      onStart: () => console.error(`${describeBackend(report)}\n${run.description}\nwriting ${config.out}/{last,best}/ and ${config.out}/log.jsonl`),
      onResume: (p) => console.error(`resuming at epoch ${p.epoch + 1}, step ${p.stepInEpoch} of it (global step ${p.globalStep})`),
      onStep: (e) => {
        if (flags.logSteps) console.log(JSON.stringify({ event: 'step', epoch: e.epoch + 1, step: e.step + 1, globalStep: e.globalStep, loss: e.loss }));
        if (!bar) return;
        const payload = { epoch: e.epoch + 1, epochs: config.epochs, loss: e.loss.toFixed(4), lr: e.lr.toExponential(2), sps: e.samplesPerSecond.toFixed(1) };
        if (current !== e.epoch) {
          if (current >= 0) bar.stop();
          bar.start(e.stepsInEpoch, e.step + 1, payload);
          current = e.epoch;
        } else bar.update(e.step + 1, payload);
      },
      onEpoch: (r) => {
        bar?.stop();
        current = -1;
        const moc = r.validation ? ` | val MoC ${(100 * r.validation.meanMoc).toFixed(2)}%${r.best ? ' (best)' : ''}` : '';
        const rank = r.effectiveRank?.fused != null ? ` | erank fused ${r.effectiveRank.fused.toFixed(2)}` : '';
        console.error(`epoch ${r.epoch}/${config.epochs} | loss ${r.trainLoss.toFixed(4)} | ${r.samplesPerSecond.toFixed(1)} samples/s${moc}${rank}`);
      },
    });
    // the result goes to stdout (a table or one JSON line), everything before it was progress on stderr
    if (flags.json) console.log(JSON.stringify({ event: 'train', out: config.out, epochs: config.epochs, globalStep: result.globalStep, best: result.best, backend: report.name }));
    else console.log(result.best ? `best val MoC ${(100 * result.best.metric).toFixed(2)}% at epoch ${result.best.epoch}; checkpoints in ${config.out}` : `done (no validation data); checkpoints in ${config.out}`);
  } finally {
    stop.dispose();
    bar?.stop();
  }
}

interface EvalFlags {
  checkpoint: string;
  config?: string;
  split: 'val' | 'test';
  backend?: string;
  json?: boolean;
  output?: string;
  protocol?: AnticipationProtocol;
}

async function runEval(flags: EvalFlags): Promise<void> {
  if (flags.output) assertWritableFolder(dirname(flags.output));
  const { loadCheckpoint, selectBackend, describeBackend, prepareRun, restoreModel, evaluateAnticipation, formatMocTable } = await heavy();
  const ckpt = loadCheckpoint(flags.checkpoint);
  const stored = (ckpt.config as { train?: unknown } | null)?.train;
  let config: RunConfig;
  if (flags.config) config = loadRunConfig(flags.config, { backend: flags.backend });
  else config = parseRunConfig({ ...(stored as object), ...(flags.backend ? { backend: flags.backend } : {}) }, join(ckpt.dir, 'config.json'));
  const report = await selectBackend({ backend: config.backend });
  const run = await prepareRun(config, flags.config ?? join(ckpt.dir, 'config.json'), { warn });
  restoreModel(run.model, ckpt.weights, join(ckpt.dir, 'weights.safetensors'));
  const samples = flags.split === 'val' ? run.validation : run.test;
  if (samples.length === 0) throw new ConfigError(flags.config ?? 'config', [`data: the ${flags.split} split has no videos`]);
  const result = evaluateAnticipation(run.model, samples, {
    labels: run.model.labels,
    observationRatios: config.evalObservationRatios,
    predictionRatios: config.predictionRatios,
    anticipationRatio: config.anticipationRatio,
    batchSize: config.batchSize,
    protocol: flags.protocol ?? config.protocol,
  });
  const summary = { event: 'eval', checkpoint: ckpt.dir, split: flags.split, backend: report.name, ...result };
  if (flags.output) {
    mkdirSync(join(flags.output, '..'), { recursive: true });
    appendFileSync(flags.output, `${JSON.stringify(summary)}\n`);
  }
  if (flags.json) console.log(JSON.stringify(summary));
  else {
    console.error(`${describeBackend(report)}; ${run.description}`);
    console.log(`MoC (%) on ${flags.split}, ${result.samples} samples, ${result.protocol} protocol:\n${formatMocTable(result)}`);
    console.log(`mean ${(100 * result.meanMoc).toFixed(2)}%; segmentation accuracy ${result.segmentation.map((s) => `obs ${s.observationRatio}: ${(100 * s.accuracy).toFixed(2)}%`).join(', ')}`);
  }
}

/** The `r3d` command line (exported for tests). */
export function cli(): Command {
  const program = new Command('r3d').description('Train and evaluate R3D action-anticipation models (TensorFlow.js)').version(packageVersion(import.meta.url));
  program
    .command('train')
    .description('train with the released recipe (or a config file), writing checkpoints and log.jsonl')
    .option('-c, --config <file>', 'JSON or YAML configuration')
    .option('-o, --out <dir>', 'run folder (config: out)')
    .option('--epochs <n>', 'epochs (config: epochs)', integer)
    .option('--lr <x>', 'peak learning rate (config: lr)', number)
    .option('--weight-decay <x>', 'AdamW decoupled weight decay (config: weightDecay)', number)
    .option('--warmup-epochs <n>', 'linear warm-up epochs (config: warmupEpochs)', number)
    .option('--batch-size <n>', 'batch size (config: batchSize)', integer)
    .option('--seed <n>', 'run seed (config: seed)', integer)
    .option('--grad-clip <x>', 'clip gradients to this global norm (config: gradClipNorm)', number)
    .option('--backend <name>', `${BACKEND_NAMES.join(' | ')} (config: backend)`)
    .option('--set <key=value>', 'any other setting, dotted path, JSON value (repeatable)', setting)
    .option('--resume', 'continue from <out>/last')
    .option('--overwrite', 'start a new run in <out>, removing the checkpoints of the run there')
    .option('--no-progress', 'no progress bar (there is none when stderr is not a terminal, under CI=true or NO_COLOR)')
    .option('--log-steps', 'print one JSON line per step to stdout')
    .option('--json', 'print the result as one JSON line on stdout')
    .action((flags: TrainFlags) => runTrain(flags));
  program
    .command('eval')
    .description('mean-over-classes accuracy of a checkpoint at observation x prediction ratios')
    .requiredOption('--checkpoint <dir>', 'checkpoint folder (e.g. runs/r3d/best)')
    .option('-c, --config <file>', 'configuration (default: the one stored in the checkpoint)')
    .option('--split <name>', 'val or test', 'test')
    .option('--backend <name>', BACKEND_NAMES.join(' | '))
    .option('--json', 'print the report as one JSON line')
    .option('--output <file>', 'append the report to this JSONL file')
    .option('--protocol <name>', 'released (the authors\' evaluation, default) | corrected (config: protocol)', (v: string) => {
      if (v !== 'released' && v !== 'corrected') throw new InvalidArgumentError(`expected released or corrected, got "${v}"`);
      return v;
    })
    .action((flags: EvalFlags) => runEval(flags));
  return userFacingCommands(program);
}

await runCli('r3d', () => cli().parseAsync(process.argv));
