import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseAblationConfig } from '../config.js';
import { gridCells, shardCells } from '../grid.js';
import { readCells } from '../store/result-folder.js';
import { runAblation } from '../run.js';
import type { CellResult } from '../run-cell.js';
import { fakeFinishedCells, runCli, tinyConfig } from '../test-helpers.js';
import { localSlurmUnavailable, startLocalSlurm, type LocalSlurm } from './local-slurm.js';
import { compactRanges, planShards } from './plan.js';
import { slurmFiles } from './slurm.js';
import { writeSchedulerPlan } from './write-plan.js';

const tmp = mkdtempSync(join(tmpdir(), 'r3d-ablation-slurm-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

// finished cells as runs write them (merge and re-plans read every cell strictly)
const fakeFinished = (out: string, ids: string[]) => fakeFinishedCells(out, ids);
const shellSyntaxOk = (shell: string, path: string) => spawnSync(shell, ['-n', path], { encoding: 'utf8' });

describe('plan --slurm, the scripts', () => {
  const config = parseAblationConfig({ ...tinyConfig(join(tmp, 'scripts')), seeds: [1, 2] });
  const options = { exec: '/usr/bin/node /opt/r3d/cli.mjs', chdir: '/home/me/project' };

  it('a job array with one task per shard, each run --shard auto/N into the shared folder; a merge chained afterok', () => {
    const written = writeSchedulerPlan(config, { slurm: { ...options, partition: 'gpu', time: '02:00:00', cpus: 2, mem: '8G', arrayLimit: 3 } }, 4);
    const out = written.plan.config.out;
    expect(written.summary).toBe(`plan: 4 of 4 shards to run (0-3; 6 of 6 cells missing); submit with: sh ${out}/submit.sh`);
    const sbatch = readFileSync(join(out, 'ablation.sbatch'), 'utf8');
    for (const line of ['#SBATCH --array=0-3%3', '#SBATCH --partition=gpu', '#SBATCH --time=02:00:00', '#SBATCH --cpus-per-task=2', '#SBATCH --mem=8G', `#SBATCH --output=${out}/slurm/r3d-ablation-%A_%a.out`, '#SBATCH --chdir=/home/me/project']) {
      expect(sbatch.split('\n'), line).toContain(line);
    }
    expect(sbatch).toContain(`exec /usr/bin/node /opt/r3d/cli.mjs run --config ${out}/ablation.json --out ${out} --shard auto/4 --no-progress\n`);
    const merge = readFileSync(join(out, 'merge.sbatch'), 'utf8');
    expect(merge).toContain(`exec /usr/bin/node /opt/r3d/cli.mjs report ${out}\n`);
    const submit = readFileSync(join(out, 'submit.sh'), 'utf8');
    expect(submit).toMatch(/array=\$\(sbatch --parsable \S+ablation\.sbatch\)\narray=\$\{array%%;\*\}\nmerge=\$\(sbatch --parsable --dependency=afterok:"\$array" \S+merge\.sbatch\)/);
    // the jobs read the planned settings: same grid, same fingerprint as the folder
    const jobConfig = parseAblationConfig({ ...JSON.parse(readFileSync(join(out, 'ablation.json'), 'utf8')), out });
    expect(gridCells(jobConfig)).toEqual(gridCells(config));
    expect(existsSync(join(out, 'slurm'))).toBe(true);
    expect(shellSyntaxOk('bash', join(out, 'ablation.sbatch')).status).toBe(0);
    expect(shellSyntaxOk('bash', join(out, 'merge.sbatch')).status).toBe(0);
    expect(shellSyntaxOk('sh', join(out, 'submit.sh')).status).toBe(0);
  });

  it('a re-plan lists only the shards with missing cells; a finished grid submits the merge alone', () => {
    const cfg = { ...config, out: join(tmp, 'replan') };
    const all = gridCells(cfg);
    expect(planShards(cfg).count).toBe(all.length);
    // 6 cells in 3 shards of 2: shard 1 finished, shard 2 half
    fakeFinished(cfg.out, [...shardCells(all, { index: 1, count: 3 }), shardCells(all, { index: 2, count: 3 })[0]!].map((c) => c.id));
    const again = writeSchedulerPlan(cfg, { slurm: options }, 3);
    expect(again.plan.shards).toEqual([0, 2]);
    expect(again.plan.missing).toHaveLength(3);
    const sbatch = readFileSync(join(cfg.out, 'ablation.sbatch'), 'utf8');
    expect(sbatch).toContain('#SBATCH --array=0,2\n');
    expect(sbatch).toContain('--shard auto/3 ');

    fakeFinished(cfg.out, all.map((c) => c.id));
    const done = writeSchedulerPlan(cfg, { slurm: options }, 3);
    expect(done.summary).toMatch(/every one of the 6 cells is done, only the merge/);
    expect(existsSync(join(cfg.out, 'ablation.sbatch'))).toBe(false);
    const submit = readFileSync(join(cfg.out, 'submit.sh'), 'utf8');
    expect(submit).not.toMatch(/ablation\.sbatch|dependency/);
    expect(submit).toMatch(/merge=\$\(sbatch --parsable \S+merge\.sbatch\)/);
  });

  it('compacts array ids and refuses what would break an #SBATCH line', () => {
    expect(compactRanges([0, 1, 2, 5, 7, 8])).toBe('0-2,5,7-8');
    expect(compactRanges([3])).toBe('3');
    const plan = planShards({ ...config, out: join(tmp, 'bad') }, 2);
    expect(() => slurmFiles(plan, { ...options, time: '2 hours' })).toThrow(/time: expected a Slurm time/);
    expect(() => slurmFiles(plan, { ...options, partition: 'a b' })).toThrow(/partition: expected a partition name/);
    expect(() => slurmFiles(plan, { ...options, chdir: '/my project' })).toThrow(/without blanks/);
    expect(slurmFiles(plan, { ...options, mem: '4Gi' })['ablation.sbatch']).toContain('#SBATCH --mem=4G\n');
  });

  it('the CLI: one scheduler at a time, and a folder made with other settings is refused before any job', () => {
    const r = runCli(['plan', '--out', join(tmp, 'none')]);
    expect(r.status).toBe(2);
    expect(r.stderr.trim()).toBe('r3d-ablation: plan: choose one scheduler: --slurm or --k8s');
    const out = join(tmp, 'settings');
    expect(runCli(['plan', '--slurm', '--epochs', '1', '--out', out]).status).toBe(0);
    const other = runCli(['plan', '--slurm', '--epochs', '2', '--out', out]);
    expect(other.status).toBe(2);
    expect(other.stderr).toMatch(/holds results made with other settings/);
  });
});

// A real one-node Slurm cluster (slurmctld + slurmd + munged in a temporary folder) runs the
// plan. It needs root and Debian's slurm-wlm and munge (scripts/system-deps.sh); elsewhere it is
// skipped with the reason, except under CI=true, where it must run.
const unavailable = localSlurmUnavailable();
const mustRun = process.env.CI === 'true';
if (unavailable && !mustRun) process.stderr.write(`slurm.test.ts: skipping the real-Slurm test: ${unavailable}\n`);

const withoutTiming = (r: CellResult) => ({ ...r, seconds: 0 });
const byId = (cells: CellResult[]) => Object.fromEntries(cells.map((c) => [c.cell.id, withoutTiming(c)]));
const TERMINAL = new Set(['COMPLETED', 'FAILED', 'CANCELLED', 'TIMEOUT', 'OUT_OF_MEMORY', 'NODE_FAIL', 'PREEMPTED', 'BOOT_FAIL', 'DEADLINE']);

describe.skipIf(unavailable !== null && !mustRun)(`a real Slurm runs the plan${unavailable ? ` (${unavailable})` : ''}`, () => {
  let slurm: LocalSlurm | undefined;
  const dir = join(tmp, 'cluster');
  beforeAll(async () => {
    if (unavailable) throw new Error(`CI=true but the real-Slurm test cannot run here: ${unavailable}`);
    mkdirSync(dir);
    slurm = await startLocalSlurm(dir);
  }, 90_000);
  afterAll(async () => {
    await slurm?.stop();
  }, 60_000);

  /** JobState of each task of a job (one for a plain job, one per array task). */
  const states = (id: string) => {
    const r = spawnSync('scontrol', ['show', 'job', '-o', id], { env: slurm!.env, encoding: 'utf8', timeout: 10_000 });
    return r.stdout.split('\n').filter(Boolean).map((l) => /JobState=(\S+)/.exec(l)?.[1] ?? '?');
  };
  const waitFor = async (ids: string[], deadline: number, out: string) => {
    while (!ids.every((id) => { const s = states(id); return s.length > 0 && s.every((x) => TERMINAL.has(x)); })) {
      if (Date.now() > deadline) {
        const logs = existsSync(join(out, 'slurm')) ? readdirSync(join(out, 'slurm')).map((f) => `--- ${f}\n${readFileSync(join(out, 'slurm', f), 'utf8').slice(-2000)}`).join('\n') : '';
        throw new Error(`jobs ${ids.join(', ')} did not finish in time: ${ids.map((id) => `${id} ${states(id).join(',')}`).join('; ')}\n${logs}\n${slurm!.logs()}`);
      }
      await new Promise((r) => setTimeout(r, 1000));
    }
  };
  const submit = (out: string) => {
    const r = spawnSync('sh', [join(out, 'submit.sh')], { env: slurm!.env, encoding: 'utf8', timeout: 30_000 });
    expect(r.status, r.stderr).toBe(0);
    const m = /submitted: array job (\d+) .*merge job (\d+)/.exec(r.stdout);
    expect(m, r.stdout).not.toBeNull();
    return { array: m![1]!, merge: m![2]! };
  };

  it('plan --slurm, submit.sh: the array, then the merge, give the results of one process cell for cell; a re-plan runs only what is missing', async () => {
    const deadline = Date.now() + 270_000;
    const out = join(tmp, 'slurm-out');
    const cfg = join(tmp, 'tiny-slurm.json');
    const { out: _o, ...grid } = tinyConfig('unused');
    writeFileSync(cfg, JSON.stringify(grid));
    // one task per cell, one CPU each: on a 2-core node two shards run at once
    const plan = runCli(['plan', '--slurm', '--config', cfg, '--out', out, '--cpus', '1', '--time', '10:00']);
    expect(plan.status, plan.stderr).toBe(0);
    expect(readFileSync(join(out, 'ablation.sbatch'), 'utf8')).toContain('#SBATCH --array=0-2\n');
    const jobs = submit(out);

    // the single-process run of the same grid, while the cluster works
    const single = join(tmp, 'single');
    const silent = { write: () => true } as unknown as NodeJS.WritableStream;
    await runAblation(parseAblationConfig(tinyConfig(single)), { log: silent });

    await waitFor([jobs.array, jobs.merge], deadline, out);
    expect(states(jobs.array)).toEqual(['COMPLETED', 'COMPLETED', 'COMPLETED']);
    expect(states(jobs.merge)).toEqual(['COMPLETED']);
    expect(readdirSync(join(out, 'slurm')).filter((f) => f.startsWith('r3d-ablation-merge-'))).toHaveLength(1);
    const expected = byId(readCells(single));
    expect(Object.keys(expected)).toHaveLength(3);
    expect(byId(readCells(out))).toEqual(expected);
    // the merge job wrote the report over every cell
    const merged = JSON.parse(readFileSync(join(out, 'results.json'), 'utf8'));
    const one = JSON.parse(readFileSync(join(single, 'results.json'), 'utf8'));
    expect(merged.missing).toEqual([]);
    const strip = (g: Array<Record<string, unknown>>) => g.map(({ seconds: _s, ...x }) => x);
    expect(strip(merged.groups)).toEqual(strip(one.groups));
    expect(merged.recommendation).toEqual(one.recommendation);

    // a lost cell: the re-plan schedules its shard alone, and the folder ends complete again
    const lost = 'depth.rtf-variance.r0.3.s1';
    rmSync(join(out, 'cells', `${lost}.json`));
    const replan = runCli(['plan', '--slurm', '--config', cfg, '--out', out, '--cpus', '1', '--time', '10:00']);
    expect(replan.status, replan.stderr).toBe(0);
    const index = gridCells(parseAblationConfig(tinyConfig(out))).findIndex((c) => c.id === lost);
    expect(readFileSync(join(out, 'ablation.sbatch'), 'utf8')).toContain(`#SBATCH --array=${index}\n`);
    const again = submit(out);
    await waitFor([again.array, again.merge], deadline, out);
    expect(states(again.array)).toEqual(['COMPLETED']);
    expect(states(again.merge)).toEqual(['COMPLETED']);
    expect(byId(readCells(out))).toEqual(expected);
  }, 300_000);
});
