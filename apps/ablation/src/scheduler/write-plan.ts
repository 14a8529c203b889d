import { chmodSync, mkdirSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { writeFileAtomic } from '@r3d-ts/tensor-io/node';
import type { AblationConfig } from '../config.js';
import { k8sFiles, type K8sPlanOptions } from './k8s.js';
import { compactRanges, planShards, type ShardPlan } from './plan.js';
import { slurmFiles, type SlurmPlanOptions } from './slurm.js';

/** Where the plan goes: a Slurm job array or a Kubernetes Indexed Job. */
export type PlanTarget = { slurm: SlurmPlanOptions } | { k8s: K8sPlanOptions };

/** What `plan` wrote. */
export interface WrittenPlan {
  plan: ShardPlan;
  /** Absolute paths of the files written. */
  files: string[];
  /** The script that submits it all. */
  submit: string;
  /** One line for the user: what is scheduled, how to submit. */
  summary: string;
}

/**
 * Plans the grid of `config` for a scheduler and writes the job files into its result folder
 * (`config.out`), which every job shares. Only shards with a missing cell are scheduled, so
 * running `plan` again after a partial run writes the rest.
 *
 * @example
 * const { summary } = writeSchedulerPlan(config, { slurm: { exec: thisCommand(), chdir: process.cwd(), partition: 'gpu' } });
 */
export function writeSchedulerPlan(config: AblationConfig, target: PlanTarget, shards?: number): WrittenPlan {
  const plan = planShards(config, shards);
  const out = plan.config.out;
  const files = 'slurm' in target ? slurmFiles(plan, target.slurm) : k8sFiles(plan, target.k8s);
  if ('slurm' in target) {
    // Slurm does not create the folder of --output, and a job whose log cannot open fails
    mkdirSync(join(out, 'slurm'), { recursive: true });
    // a finished grid has no array: a script from an earlier plan would only rerun finished shards
    if (!files['ablation.sbatch']) rmSync(join(out, 'ablation.sbatch'), { force: true });
  }
  const written = Object.entries(files).map(([name, text]) => {
    const path = join(out, name);
    writeFileAtomic(path, text);
    if (name.endsWith('.sh') || name.endsWith('.sbatch')) chmodSync(path, 0o755);
    return path;
  });
  const submit = join(out, 'slurm' in target ? 'submit.sh' : 'k8s/submit.sh');
  const what =
    plan.shards.length > 0
      ? `${plan.shards.length} of ${plan.count} shards to run (${compactRanges(plan.shards)}; ${plan.missing.length} of ${plan.cells.length} cells missing)`
      : `every one of the ${plan.cells.length} cells is done, only the merge`;
  return { plan, files: written, submit, summary: `plan: ${what}; submit with: sh ${submit}` };
}
