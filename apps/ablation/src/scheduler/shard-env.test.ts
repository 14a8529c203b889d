import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { parseAblationConfig } from '../config.js';
import { AblationConfigError } from '../errors.js';
import { gridCells, shardCells } from '../grid.js';
import { appDir, cliPath } from '../test-helpers.js';
import { resolveAutoShard, shardFlag } from './shard-env.js';

/** The environment Slurm gives task `id` of an array of `ids` (sorted). */
const slurmTask = (id: number, ids: number[], step?: number) => ({
  SLURM_ARRAY_TASK_ID: String(id),
  SLURM_ARRAY_TASK_MIN: String(ids[0]),
  SLURM_ARRAY_TASK_MAX: String(ids[ids.length - 1]),
  SLURM_ARRAY_TASK_COUNT: String(ids.length),
  ...(step ? { SLURM_ARRAY_TASK_STEP: String(step) } : {}),
});
const range = (from: number, to: number, step = 1) => Array.from({ length: Math.floor((to - from) / step) + 1 }, (_, i) => from + i * step);

describe('--shard auto: the task index to shard mapping', () => {
  it('Slurm, a 0-based array (--array=0-3): task id k is shard k of 4', () => {
    const ids = range(0, 3);
    expect(ids.map((id) => resolveAutoShard('auto', slurmTask(id, ids)))).toEqual(range(0, 3).map((index) => ({ index, count: 4 })));
  });

  it('Slurm, a 1-based array (--array=1-4): task id k is shard k - 1 of 4, the same shards as 0-based', () => {
    const ids = range(1, 4);
    expect(ids.map((id) => resolveAutoShard('auto', slurmTask(id, ids)))).toEqual(range(0, 3).map((index) => ({ index, count: 4 })));
    expect(ids.map((id) => shardFlag('auto', slurmTask(id, ids)))).toEqual(['1/4', '2/4', '3/4', '4/4']);
  });

  it('Slurm, any contiguous array (--array=5-7, --array=0-6:2) counts from its first id', () => {
    expect(range(5, 7).map((id) => resolveAutoShard('auto', slurmTask(id, range(5, 7))).index)).toEqual([0, 1, 2]);
    expect(range(0, 6, 2).map((id) => resolveAutoShard('auto', slurmTask(id, range(0, 6, 2), 2)))).toEqual(range(0, 3).map((index) => ({ index, count: 4 })));
  });

  it('Slurm, auto/N: the array ids are the 0-based shard indices, so a re-plan may list some (--array=1,3)', () => {
    expect([1, 3].map((id) => resolveAutoShard('auto/4', slurmTask(id, [1, 3])))).toEqual([
      { index: 1, count: 4 },
      { index: 3, count: 4 },
    ]);
    expect(() => resolveAutoShard('auto/4', slurmTask(4, range(1, 4)))).toThrow(/SLURM_ARRAY_TASK_ID 4 is not a shard of 0\.\.3 .*--array=0-3/);
  });

  it('Slurm, auto on a sparse array refuses: its task count is not the shard count', () => {
    expect(() => resolveAutoShard('auto', slurmTask(3, [1, 3]))).toThrow(/not contiguous; give the shard count, --shard auto\/N/);
  });

  it('Kubernetes: JOB_COMPLETION_INDEX (0-based) is the shard; the count comes from auto/N', () => {
    expect(range(0, 4).map((i) => resolveAutoShard('auto/5', { JOB_COMPLETION_INDEX: String(i) }))).toEqual(range(0, 4).map((index) => ({ index, count: 5 })));
    expect(shardFlag('auto/5', { JOB_COMPLETION_INDEX: '0' })).toBe('1/5');
    expect(() => resolveAutoShard('auto', { JOB_COMPLETION_INDEX: '0' })).toThrow(/not told the number of completions; give it, --shard auto\/N/);
    expect(() => resolveAutoShard('auto/5', { JOB_COMPLETION_INDEX: '5' })).toThrow(/JOB_COMPLETION_INDEX 5 is not a shard of 0\.\.4/);
  });

  it('Kubernetes, a re-plan: completion index i runs the i-th shard of R3D_ABLATION_SHARDS', () => {
    const env = (i: number) => ({ JOB_COMPLETION_INDEX: String(i), R3D_ABLATION_SHARDS: '1,3' });
    expect([0, 1].map((i) => resolveAutoShard('auto/4', env(i)))).toEqual([
      { index: 1, count: 4 },
      { index: 3, count: 4 },
    ]);
    expect(() => resolveAutoShard('auto/4', env(2))).toThrow(/JOB_COMPLETION_INDEX 2 has no entry in R3D_ABLATION_SHARDS="1,3" \(set completions to 2\)/);
  });

  it('every task of each array form together runs each cell of the grid exactly once', () => {
    const cells = gridCells(parseAblationConfig({ seeds: [1, 2] })).map((c) => c.id);
    const forms: Array<Array<Record<string, string>>> = [
      range(0, 3).map((id) => slurmTask(id, range(0, 3))),
      range(1, 4).map((id) => slurmTask(id, range(1, 4))),
      range(0, 3).map((i) => ({ JOB_COMPLETION_INDEX: String(i) })),
    ];
    for (const tasks of forms) {
      const spec = 'JOB_COMPLETION_INDEX' in tasks[0]! ? 'auto/4' : 'auto';
      const ran = tasks.flatMap((env) => shardCells(gridCells(parseAblationConfig({ seeds: [1, 2] })), resolveAutoShard(spec, env)).map((c) => c.id));
      expect(ran.sort()).toEqual([...cells].sort());
    }
  });

  it('outside a scheduler, or with a malformed variable, one clear error', () => {
    expect(() => resolveAutoShard('auto', {})).toThrow(AblationConfigError);
    expect(() => resolveAutoShard('auto', {})).toThrow(/neither SLURM_ARRAY_TASK_ID \(a Slurm job array\) nor JOB_COMPLETION_INDEX \(a Kubernetes Indexed Job\) is set/);
    expect(() => resolveAutoShard('auto', { SLURM_ARRAY_TASK_ID: 'x' })).toThrow(/SLURM_ARRAY_TASK_ID="x" is not an integer/);
    expect(() => resolveAutoShard('auto/0', { JOB_COMPLETION_INDEX: '0' })).toThrow(/at least 1/);
    expect(() => resolveAutoShard('automatic', {})).toThrow(/expected "auto" or "auto\/N"/);
    expect(shardFlag('2/3', {})).toBe('2/3');
  });

  it('the CLI: run --shard auto outside a scheduler stops with one line and exit code 2', () => {
    const env: NodeJS.ProcessEnv = { ...process.env };
    for (const k of Object.keys(env)) if (k.startsWith('SLURM_') || k === 'JOB_COMPLETION_INDEX') delete env[k];
    const r = spawnSync(process.execPath, [cliPath(), 'run', '--shard', 'auto', '--out', join(appDir, '.tmp', 'never')], { cwd: appDir, encoding: 'utf8', env, timeout: 60_000 });
    expect(r.status, r.stderr).toBe(2);
    expect(r.stderr.trim().split('\n')).toEqual(['r3d-ablation: shard: --shard auto: neither SLURM_ARRAY_TASK_ID (a Slurm job array) nor JOB_COMPLETION_INDEX (a Kubernetes Indexed Job) is set; outside a scheduler give --shard i/n']);
  });
});
