import { AblationConfigError } from '../errors.js';

/** What a scheduler tells a task about its place in the job, as environment variables. */
export type SchedulerEnv = Readonly<Record<string, string | undefined>>;

/**
 * The environment variable that maps a Kubernetes completion index to a shard: the 0-based
 * shard indices a re-plan still runs, in completion-index order (`"1,3"`: index 0 runs shard 1).
 */
export const SHARDS_ENV = 'R3D_ABLATION_SHARDS';

/** True for `--shard auto` and `--shard auto/N`, which the scheduler's environment resolves. */
export function isAutoShard(text: string | undefined): text is string {
  return text !== undefined && /^auto(\/.*)?$/.test(text);
}

/**
 * Resolves `--shard auto` or `--shard auto/N` into this task's shard `{ index, count }` (index
 * 0-based) from the scheduler's environment, so one job script serves every task:
 *
 * - Slurm, `auto`: the array must be contiguous (`--array=0-7`, `--array=1-8`, steps allowed);
 *   the shard is the task's position in it, `(SLURM_ARRAY_TASK_ID - SLURM_ARRAY_TASK_MIN) / step`,
 *   and the count is `SLURM_ARRAY_TASK_COUNT`, so 0- and 1-based arrays give the same shards.
 * - Slurm, `auto/N`: the array ids are the 0-based shard indices themselves, so an array may list
 *   only some of them (`--array=1,3`, what `plan` writes when other shards already finished).
 * - Kubernetes Indexed Job, `auto/N` (a pod is not told the completions): the shard is
 *   `JOB_COMPLETION_INDEX`, or the index-th entry of `R3D_ABLATION_SHARDS` when that is set.
 *
 * Anything else is an `AblationConfigError` with one line saying what was missing.
 *
 * @example
 * resolveAutoShard('auto', { SLURM_ARRAY_TASK_ID: '3', SLURM_ARRAY_TASK_MIN: '1', SLURM_ARRAY_TASK_MAX: '8', SLURM_ARRAY_TASK_COUNT: '8' });
 * // { index: 2, count: 8 }
 */
export function resolveAutoShard(spec: string, env: SchedulerEnv): { index: number; count: number } {
  const m = /^auto(?:\/(\d+))?$/.exec(spec);
  if (!m) throw new AblationConfigError('shard', `expected "auto" or "auto/N" (N the shard count), got "${spec}"`);
  const given = m[1] !== undefined ? Number(m[1]) : undefined;
  if (given !== undefined && given < 1) throw new AblationConfigError('shard', `--shard ${spec}: the shard count must be at least 1`);

  const k8s = env.JOB_COMPLETION_INDEX;
  if (k8s !== undefined && k8s !== '') {
    if (given === undefined) {
      throw new AblationConfigError('shard', '--shard auto: JOB_COMPLETION_INDEX is set but a pod is not told the number of completions; give it, --shard auto/N');
    }
    const position = envInteger(env, 'JOB_COMPLETION_INDEX');
    const list = env[SHARDS_ENV];
    if (list !== undefined && list !== '') {
      const shards = list.split(',').map((s) => Number(s.trim()));
      if (!shards.every((s) => Number.isInteger(s) && s >= 0)) throw new AblationConfigError('shard', `${SHARDS_ENV}="${list}" is not a comma list of shard indices`);
      if (position >= shards.length) throw new AblationConfigError('shard', `JOB_COMPLETION_INDEX ${position} has no entry in ${SHARDS_ENV}="${list}" (set completions to ${shards.length})`);
      return inRange(shards[position]!, given, `${SHARDS_ENV}[${position}]`);
    }
    return inRange(position, given, 'JOB_COMPLETION_INDEX');
  }

  const slurm = env.SLURM_ARRAY_TASK_ID;
  if (slurm !== undefined && slurm !== '') {
    const id = envInteger(env, 'SLURM_ARRAY_TASK_ID');
    if (given !== undefined) return inRange(id, given, 'SLURM_ARRAY_TASK_ID', ' (with --shard auto/N the array ids are the 0-based shard indices, e.g. --array=0-' + (given - 1) + ')');
    const min = envInteger(env, 'SLURM_ARRAY_TASK_MIN');
    const max = envInteger(env, 'SLURM_ARRAY_TASK_MAX');
    const count = envInteger(env, 'SLURM_ARRAY_TASK_COUNT');
    const step = env.SLURM_ARRAY_TASK_STEP ? envInteger(env, 'SLURM_ARRAY_TASK_STEP') : 1;
    // a sparse array (--array=1,3) has fewer tasks than ids: its count is not the shard count
    if (step < 1 || count !== Math.floor((max - min) / step) + 1 || (id - min) % step !== 0) {
      throw new AblationConfigError('shard', `--shard auto: the job array (ids ${min}..${max}, ${count} tasks) is not contiguous; give the shard count, --shard auto/N, with the 0-based shard indices as array ids`);
    }
    return inRange((id - min) / step, count, 'SLURM_ARRAY_TASK_ID');
  }

  throw new AblationConfigError('shard', '--shard auto: neither SLURM_ARRAY_TASK_ID (a Slurm job array) nor JOB_COMPLETION_INDEX (a Kubernetes Indexed Job) is set; outside a scheduler give --shard i/n');
}

/**
 * `--shard` as the configuration takes it ("i/n", 1-based): `auto` forms resolved from the
 * environment, anything else returned unchanged (the configuration checks it).
 *
 * @example
 * shardFlag('auto/4', { JOB_COMPLETION_INDEX: '0' }); // '1/4'
 */
export function shardFlag(text: string | undefined, env: SchedulerEnv): string | undefined {
  if (!isAutoShard(text)) return text;
  const { index, count } = resolveAutoShard(text, env);
  return `${index + 1}/${count}`;
}

function envInteger(env: SchedulerEnv, name: string): number {
  const text = env[name];
  const n = Number(text);
  if (text === undefined || text.trim() === '' || !Number.isInteger(n)) throw new AblationConfigError('shard', `--shard auto: ${name}="${text ?? ''}" is not an integer`);
  return n;
}

function inRange(index: number, count: number, what: string, hint = ''): { index: number; count: number } {
  if (!(index >= 0 && index < count)) throw new AblationConfigError('shard', `--shard auto: ${what} ${index} is not a shard of 0..${count - 1}${hint}`);
  return { index, count };
}
