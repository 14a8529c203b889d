#!/usr/bin/env node
import { assertWritableFolder, packageVersion, runCli, stopOnSignals, userFacingCommands } from '@r3d-ts/trainer/cli';
import { Command, InvalidArgumentError } from 'commander';
import { BACKENDS, parseAblationConfig, readConfigFile, withPreset, type AblationConfig } from './config.js';
import { AblationConfigError } from './errors.js';
import { shardFlag } from './scheduler/shard-env.js';
import { parseSequenceList } from './sequences.js';

const list = (v: string) => v.split(',').map((s) => s.trim()).filter(Boolean);
const numbers = (flag: string) => (v: string) =>
  list(v).map((s) => {
    const n = Number(s);
    if (s === '' || !Number.isFinite(n)) throw new InvalidArgumentError(`${flag}: "${s}" is not a number`);
    return n;
  });
const integer = (flag: string) => (v: string) => {
  const n = Number(v);
  if (!Number.isInteger(n)) throw new InvalidArgumentError(`${flag}: "${v}" is not an integer`);
  return n;
};
const seqRange = (v: string) => {
  try {
    return parseSequenceList(v);
  } catch (err) {
    throw new InvalidArgumentError((err as Error).message);
  }
};

interface RunFlags {
  config?: string;
  preset?: string;
  dataset?: string;
  data?: string;
  partners?: string[];
  fusers?: string[];
  ratios?: number[];
  seeds?: number[];
  epochs?: number;
  out?: string;
  backend?: string;
  shard?: string;
  sequences?: number[];
  syntheticCount?: number;
  progress?: boolean;
  json?: boolean;
  overwrite?: boolean;
  workers?: string;
}

/** Flags over the config file over the defaults. */
export function configFromFlags(flags: RunFlags, options: { dataHere?: boolean } = {}): AblationConfig {
  const file = flags.config ? readConfigFile(flags.config) : {};
  // a preset lies under the file, which lies under the flags
  const over: Record<string, unknown> = flags.preset ? withPreset(flags.preset, file) : { ...file };
  const set = (key: string, v: unknown) => {
    if (v !== undefined) over[key] = v;
  };
  set('dataset', flags.dataset);
  set('data', flags.data);
  set('partners', flags.partners);
  set('fusers', flags.fusers);
  set('exchangeRatios', flags.ratios);
  set('seeds', flags.seeds);
  set('epochs', flags.epochs);
  set('out', flags.out);
  set('backend', flags.backend);
  set('shard', flags.shard);
  set('sequences', flags.sequences);
  set('progress', flags.progress);
  if (flags.workers !== undefined) over.workers = flags.workers === 'auto' ? 'auto' : Number(flags.workers);
  if (flags.syntheticCount !== undefined) over.synthetic = { ...((over.synthetic as object) ?? {}), count: flags.syntheticCount };
  // --shard auto: the scheduler's environment names this task's shard
  if (typeof over.shard === 'string') over.shard = shardFlag(over.shard, process.env);
  return parseAblationConfig(over, flags.config ?? 'flags', options);
}

/** Results go to stdout (the report's path, or one JSON line with `--json`); logs and progress to stderr. */
function printResult(json: boolean | undefined, value: Record<string, unknown>, line: string): void {
  process.stdout.write(json ? `${JSON.stringify(value)}\n` : `${line}\n`);
}

/** The options that describe the grid, shared by `run` and `plan`: the same grid file drives both. */
function gridOptions(command: Command): Command {
  return command
    .option('-c, --config <file>', 'JSON configuration file (flags override it)')
    .option('--preset <name>', 'start from a named grid: planted (the self-check: informative, redundant and noise partners)')
    .option('--dataset <name>', 'synthetic (default) | futr | darai-demo')
    .option('--data <folder>', 'dataset folder: futr layout root, darai-demo folder or R3D-demo clone')
    .option('--partners <list>', 'comma list of rgb (alone), depth, text, imu', list)
    .option('--fusers <list>', 'comma list of rtf-variance, rtf-svd-energy, rtf-bn-gamma, sa-fuser, hard-swap, concat, mean, late', list)
    .option('--ratios <list>', 'exchange ratios in (0, 1) for rtf-* and hard-swap', numbers('--ratios'))
    .option('--seeds <list>', 'comma list of integer seeds', numbers('--seeds'))
    .option('--epochs <n>', 'training epochs per cell', integer('--epochs'))
    .option('--synthetic-count <n>', 'sequences of the synthetic dataset', integer('--synthetic-count'))
    .option('--sequences <list>', 'darai-demo: sequences to average (e.g. 0..32 or 0,4,7); each must exist', seqRange)
    .option('-o, --out <folder>', 'output folder (default out/ablation)')
    .option('--backend <name>', `${BACKENDS.join(' | ')} (default: R3D_BACKEND, else wasm)`);
}

interface PlanFlags {
  slurm?: boolean;
  k8s?: boolean;
  shards?: number;
  partition?: string;
  time?: string;
  cpus?: number;
  mem?: string;
  arrayLimit?: number;
  image?: string;
  pvc?: string;
  mount?: string;
  name?: string;
  exec?: string;
}

export function buildProgram(): Command {
  const program = new Command('r3d-ablation')
    .description('Which partner modality keeps RGB from collapsing? Trains R3D with each partner and fuser, measures MoC and effective-rank gains, writes a report.')
    .version(packageVersion(import.meta.url));

  gridOptions(
    program.command('run', { isDefault: true }).description('run the grid (or the darai-demo rank analysis) and write the report'),
  )
    .option('--shard <i/n>', 'run only shard i of n (1-based), or auto / auto/N: the shard a Slurm array task or Kubernetes Indexed Job pod is')
    .option('--workers <n>', 'worker processes that train cells side by side: auto (default, one per idle core) or a count; 1 trains in this process')
    .option('--no-progress', 'plain log lines instead of progress bars (there are none when stderr is not a terminal, under CI=true or NO_COLOR)')
    .option('--json', 'print the result as one JSON line on stdout')
    .option('--overwrite', 'remove the results the output folder holds (cells, checkpoints, report) and start over')
    .action(async (flags: RunFlags & { progress?: boolean }) => {
      // commander sets progress=true unless --no-progress: only "false" is an explicit choice
      const config = configFromFlags({ ...flags, progress: flags.progress === false ? false : undefined });
      assertWritableFolder(config.out); // a read-only or file-blocked output fails now, not after the first cell
      // a folder in use (or with other settings) is refused before anything heavy loads; runAblation registers again (nested)
      const { openForWriting } = await import('./store/result-folder.js');
      const writer = config.dataset === 'darai-demo' ? undefined : openForWriting(config, { overwrite: flags.overwrite ?? false });
      // SIGINT/SIGTERM: the cell in progress stops at a step boundary with a checkpoint, exit 130/143
      const stop = stopOnSignals({ onSignal: (s) => process.stderr.write(`r3d-ablation: ${s}: stopping after this step (again to stop now)\n`) });
      let summary;
      try {
        // the models, datasets and tf load only once the configuration is known to be good
        const { runAblation } = await import('./run.js');
        summary = await runAblation(config, { results: flags.json ? null : process.stdout, signal: stop.signal });
      } finally {
        stop.dispose();
        writer?.release();
      }
      if (flags.json) {
        const report = summary.report;
        process.stdout.write(`${JSON.stringify({
          event: 'ablation',
          kind: summary.kind,
          out: summary.out,
          report: `${summary.out}/index.html`,
          backend: summary.backend,
          ran: summary.ran,
          skipped: summary.skipped,
          ...(report ? { done: report.results.length, cells: report.cells.length, missing: report.missing } : {}),
          ...(summary.demo ? { sequences: summary.demo.sequences.length, ratios: summary.demo.ranks.length } : {}),
        })}\n`);
      }
    });

  gridOptions(program.command('plan').description('write the grid as scheduler jobs into --out: a Slurm job array (--slurm) or a Kubernetes Indexed Job (--k8s), each shard writing into that folder, and a merge job; only shards with missing cells'))
    .option('--slurm', 'write ablation.sbatch, merge.sbatch and submit.sh')
    .option('--k8s', 'write k8s/ablation-job.yaml, k8s/merge-job.yaml and k8s/submit.sh')
    .option('--shards <n>', 'shard count (default one per cell, at most 1000)', integer('--shards'))
    .option('--partition <name>', 'Slurm partition')
    .option('--time <limit>', 'Slurm wall time per task (e.g. 02:00:00)')
    .option('--cpus <n>', 'CPUs per task or pod', integer('--cpus'))
    .option('--mem <amount>', 'memory per task or pod (4G, 4Gi)')
    .option('--array-limit <k>', 'at most k shards at once (Slurm %k, Kubernetes parallelism)', integer('--array-limit'))
    .option('--image <image>', 'Kubernetes: container image with r3d-ablation')
    .option('--pvc <claim>', 'Kubernetes: PersistentVolumeClaim (ReadWriteMany) that holds the result folder')
    .option('--mount <path>', 'Kubernetes: where the claim is mounted in the pods, their --out (default /results)')
    .option('--name <name>', 'job name (default r3d-ablation)')
    .option('--exec <command>', 'how a job starts r3d-ablation (default: Slurm this very command, Kubernetes r3d-ablation)')
    .option('--json', 'print the result as one JSON line on stdout')
    .action(async (flags: RunFlags & PlanFlags) => {
      if (!flags.slurm === !flags.k8s) throw new AblationConfigError('plan', 'choose one scheduler: --slurm or --k8s');
      if (flags.k8s && (!flags.image || !flags.pvc)) throw new AblationConfigError('plan', '--k8s needs --image <image> and --pvc <claim>');
      if (flags.k8s && (flags.partition || flags.time)) throw new AblationConfigError('plan', '--partition and --time are Slurm options');
      if (flags.slurm && (flags.image || flags.pvc || flags.mount)) throw new AblationConfigError('plan', '--image, --pvc and --mount are Kubernetes options');
      // in a pod the dataset folder is a path on the pod's volumes, not necessarily here
      const config = configFromFlags(flags, { dataHere: !flags.k8s });
      const { writeSchedulerPlan } = await import('./scheduler/write-plan.js');
      const { thisCommand } = await import('./scheduler/plan.js');
      const common = { cpus: flags.cpus, mem: flags.mem, name: flags.name };
      const written = writeSchedulerPlan(
        config,
        flags.slurm
          ? { slurm: { ...common, partition: flags.partition, time: flags.time, arrayLimit: flags.arrayLimit, exec: flags.exec ?? thisCommand(), chdir: process.cwd() } }
          : { k8s: { ...common, image: flags.image!, pvc: flags.pvc!, mount: flags.mount, parallelism: flags.arrayLimit, exec: flags.exec } },
        flags.shards,
      );
      printResult(flags.json, { event: 'plan', out: config.out, summary: written.summary }, written.summary);
    });

  program
    .command('merge')
    .description('join result folders (e.g. one per shard) into one and write its report')
    .argument('<out>', 'folder to write')
    .argument('<inputs...>', 'result folders to join')
    .option('--json', 'print the result as one JSON line on stdout')
    .action(async (out: string, inputs: string[], flags: { json?: boolean }) => {
      assertWritableFolder(out);
      const { mergeResultFolders } = await import('./store/merge.js');
      const { writeReportFor } = await import('./run.js');
      mergeResultFolders(out, inputs);
      const report = await writeReportFor(out);
      if (report.missing.length) process.stderr.write(`r3d-ablation: warning: ${report.missing.length} cells missing: ${report.missing.join(', ')}\n`);
      printResult(flags.json, { event: 'merge', out, report: `${out}/index.html`, inputs: inputs.length, done: report.results.length, cells: report.cells.length, missing: report.missing }, `merged ${inputs.length} folders: ${report.results.length} of ${report.cells.length} cells; report: ${out}/index.html`);
    });

  program
    .command('report')
    .description('re-write the report of a result folder from its cells')
    .argument('<folder>')
    .option('--json', 'print the result as one JSON line on stdout')
    .action(async (folder: string, flags: { json?: boolean }) => {
      const { writeReportFor } = await import('./run.js');
      const report = await writeReportFor(folder);
      printResult(flags.json, { event: 'report', out: folder, report: `${folder}/index.html`, done: report.results.length, cells: report.cells.length, missing: report.missing }, `report: ${folder}/index.html (${report.results.length} of ${report.cells.length} cells)`);
    });
  return userFacingCommands(program);
}

await runCli('r3d-ablation', () => buildProgram().parseAsync(process.argv));
