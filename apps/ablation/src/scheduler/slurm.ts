import { join } from 'node:path';
import { AblationConfigError } from '../errors.js';
import { compactRanges, jobConfigJson, memory, shellQuote, type ShardPlan } from './plan.js';

/** `plan --slurm`'s options: resources per task and how a task starts r3d-ablation. */
export interface SlurmPlanOptions {
  partition?: string;
  /** Wall time per task, Slurm's forms: `MM`, `HH:MM:SS`, `D-HH:MM`... */
  time?: string;
  /** `--cpus-per-task`. */
  cpus?: number;
  /** Memory per task: `4G`, `512M` (or `4Gi`). */
  mem?: string;
  /** At most this many tasks at once (`--array=...%K`). */
  arrayLimit?: number;
  /** The shell command that runs r3d-ablation on a compute node (default: this process's). */
  exec: string;
  /** Working folder of the jobs, so relative paths in the configuration (`data`) keep their meaning. */
  chdir: string;
  /** Job name (default r3d-ablation; the merge job adds `-merge`). */
  name?: string;
}

/**
 * The files of a Slurm plan, by name inside the result folder: `ablation.json` (the settings every
 * task reads), `ablation.sbatch` (a job array, one task per shard still to run, each
 * `run --shard auto/N` into the folder), `merge.sbatch` (rewrites the report over every cell) and
 * `submit.sh` (submits the array, then the merge with `--dependency=afterok:<array>`). With no
 * shard left to run there is no `ablation.sbatch`, and `submit.sh` submits the merge alone.
 *
 * @example
 * const files = slurmFiles(planShards(config), { exec: thisCommand(), chdir: process.cwd() });
 * files['ablation.sbatch']; // '#!/bin/bash\n#SBATCH --job-name=r3d-ablation\n#SBATCH --array=0-13 ...'
 */
export function slurmFiles(plan: ShardPlan, options: SlurmPlanOptions): Record<string, string> {
  const out = plan.config.out;
  const name = options.name ?? 'r3d-ablation';
  if (!/^[\w.-]+$/.test(name)) throw new AblationConfigError('name', `a job name of letters, digits, '.', '_' and '-', got "${name}"`);
  if (options.partition !== undefined && !/^[\w.-]+(,[\w.-]+)*$/.test(options.partition)) throw new AblationConfigError('partition', `expected a partition name (or a comma list), got "${options.partition}"`);
  if (options.time !== undefined && !/^(\d+(-\d+)?(:\d+){0,2}|UNLIMITED|INFINITE)$/i.test(options.time)) throw new AblationConfigError('time', `expected a Slurm time (MM, HH:MM:SS, D-HH:MM...), got "${options.time}"`);
  if (options.cpus !== undefined && !(Number.isInteger(options.cpus) && options.cpus >= 1)) throw new AblationConfigError('cpus', `expected a positive integer, got ${options.cpus}`);
  if (options.arrayLimit !== undefined && !(Number.isInteger(options.arrayLimit) && options.arrayLimit >= 1)) throw new AblationConfigError('array-limit', `expected a positive integer, got ${options.arrayLimit}`);
  const resources = [
    ...(options.partition ? [`#SBATCH --partition=${options.partition}`] : []),
    ...(options.time ? [`#SBATCH --time=${options.time}`] : []),
    ...(options.mem ? [`#SBATCH --mem=${memory(options.mem, 'slurm')}`] : []),
  ];
  const logs = join(out, 'slurm');
  const script = (lines: string[]) => `${lines.join('\n')}\n`;
  // #SBATCH lines are not shell: a path with blanks would split there
  for (const [what, path] of [['out', out], ['working folder', options.chdir]] as const) {
    if (/\s/.test(path)) throw new AblationConfigError('out', `a Slurm plan needs a ${what} path without blanks, got "${path}"`);
  }
  const files: Record<string, string> = { 'ablation.json': jobConfigJson(plan.config) };

  if (plan.shards.length > 0) {
    const array = compactRanges(plan.shards) + (options.arrayLimit ? `%${options.arrayLimit}` : '');
    files['ablation.sbatch'] = script([
      '#!/bin/bash',
      `# Written by r3d-ablation plan --slurm: ${plan.shards.length} of ${plan.count} shards (${plan.missing.length} of ${plan.cells.length} cells left).`,
      '# Each task runs shard SLURM_ARRAY_TASK_ID of the grid into the shared folder; run plan again to schedule what is still missing.',
      `#SBATCH --job-name=${name}`,
      `#SBATCH --array=${array}`,
      ...resources,
      ...(options.cpus ? [`#SBATCH --cpus-per-task=${options.cpus}`] : []),
      `#SBATCH --output=${logs}/${name}-%A_%a.out`,
      `#SBATCH --chdir=${options.chdir}`,
      'set -euo pipefail',
      `exec ${options.exec} run --config ${shellQuote(join(out, 'ablation.json'))} --out ${shellQuote(out)} --shard auto/${plan.count} --no-progress`,
    ]);
  }
  files['merge.sbatch'] = script([
    '#!/bin/bash',
    '# Written by r3d-ablation plan --slurm: once every shard succeeded, the report over all cells of the folder.',
    `#SBATCH --job-name=${name}-merge`,
    ...resources,
    `#SBATCH --output=${logs}/${name}-merge-%j.out`,
    `#SBATCH --chdir=${options.chdir}`,
    'set -euo pipefail',
    `exec ${options.exec} report ${shellQuote(out)}`,
  ]);
  const sbatch = (file: string, extra = '') => `sbatch --parsable${extra} ${shellQuote(join(out, file))}`;
  files['submit.sh'] = script([
    '#!/bin/sh',
    '# Written by r3d-ablation plan --slurm: submits the shard array, then the merge once every task succeeded.',
    'set -eu',
    `mkdir -p ${shellQuote(logs)}`,
    ...(plan.shards.length > 0
      ? [
          // --parsable prints "jobid" or "jobid;cluster"
          `array=$(${sbatch('ablation.sbatch')})`,
          'array=${array%%;*}',
          `merge=$(${sbatch('merge.sbatch', ' --dependency=afterok:"$array"')})`,
          'merge=${merge%%;*}',
          `echo "submitted: array job $array (shards ${compactRanges(plan.shards)} of ${plan.count}), merge job $merge"`,
        ]
      : [`merge=$(${sbatch('merge.sbatch')})`, 'merge=${merge%%;*}', `echo "submitted: merge job $merge (every cell is done)"`]),
  ]);
  return files;
}
