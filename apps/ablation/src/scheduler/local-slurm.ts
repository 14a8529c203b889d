// Test-only: a one-node Slurm cluster (munged, slurmctld, slurmd) in a temporary folder, as root,
// with Debian's slurm-wlm and munge. Not exported by the package.
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { chmodSync, existsSync, mkdirSync, openSync, readFileSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { cpus, hostname, totalmem } from 'node:os';
import { join } from 'node:path';

const DAEMONS = { munged: '/usr/sbin/munged', slurmctld: '/usr/sbin/slurmctld', slurmd: '/usr/sbin/slurmd' } as const;
const CLIENTS = ['sbatch', 'sinfo', 'squeue', 'scontrol', 'scancel'] as const;

/** A running one-node cluster: the environment its clients need, and how to stop it. */
export interface LocalSlurm {
  /** `SLURM_CONF` pointing at this cluster's configuration, over the current environment. */
  env: NodeJS.ProcessEnv;
  /** Process ids of munged, slurmctld and slurmd. */
  pids: number[];
  /** The folder's log files, for a failing test's message. */
  logs(): string;
  /** Cancels every job of the cluster, then stops the daemons by their pids (SIGTERM, then SIGKILL). */
  stop(): Promise<void>;
}

/**
 * Why a local Slurm cluster cannot start here (not root, a binary missing), or null when it can.
 *
 * @example
 * const why = localSlurmUnavailable(); // 'not root' on a developer's laptop
 */
export function localSlurmUnavailable(): string | null {
  if (process.platform !== 'linux') return `not Linux (${process.platform})`;
  if (process.getuid?.() !== 0) return 'not root (slurmd runs the jobs as root here)';
  for (const path of Object.values(DAEMONS)) if (!existsSync(path)) return `${path} is missing (apt-get install slurm-wlm munge, or scripts/system-deps.sh)`;
  for (const c of CLIENTS) if (spawnSync('sh', ['-c', `command -v ${c}`]).status !== 0) return `${c} is not on PATH`;
  return null;
}

/**
 * Starts munged, slurmctld and slurmd on a one-node configuration in `dir` (this host's name and
 * CPUs, state, spool, logs and munge socket all in `dir`, free ports) and waits until `sinfo`
 * shows the node idle. On any failure the daemons already started are stopped before it throws.
 *
 * @example
 * const slurm = await startLocalSlurm(mkdtempSync(join(tmpdir(), 'slurm-')));
 * try { spawnSync('sbatch', ['--wrap', 'true'], { env: slurm.env }); } finally { await slurm.stop(); }
 */
export async function startLocalSlurm(dir: string, options: { timeoutMs?: number } = {}): Promise<LocalSlurm> {
  const deadline = Date.now() + (options.timeoutMs ?? 60_000);
  const munge = join(dir, 'munge');
  for (const sub of ['etc', 'lib', 'log']) mkdirSync(join(munge, sub), { recursive: true, mode: 0o700 });
  mkdirSync(join(munge, 'run'), { recursive: true, mode: 0o755 });
  const key = join(munge, 'etc', 'munge.key');
  writeFileSync(key, randomBytes(1024), { mode: 0o600 });
  chmodSync(key, 0o600);
  const socket = join(munge, 'run', 'munge.socket');
  const slurm = join(dir, 'slurm');
  for (const sub of ['state', 'spool', 'log', 'run']) mkdirSync(join(slurm, sub), { recursive: true, mode: 0o755 });
  const host = hostname().split('.')[0]!;
  const ctldPort = await freePort();
  let dPort = await freePort();
  while (dPort === ctldPort) dPort = await freePort();
  const conf = join(slurm, 'slurm.conf');
  writeFileSync(
    conf,
    [
      'ClusterName=r3dtest',
      `SlurmctldHost=${host}`,
      'SlurmUser=root',
      'SlurmdUser=root',
      'AuthType=auth/munge',
      `AuthInfo=socket=${socket}`,
      'CredType=cred/munge',
      'ProctrackType=proctrack/linuxproc',
      'TaskPlugin=task/none',
      'SelectType=select/cons_tres',
      'SelectTypeParameters=CR_Core',
      `StateSaveLocation=${join(slurm, 'state')}`,
      `SlurmdSpoolDir=${join(slurm, 'spool')}`,
      `SlurmctldPidFile=${join(slurm, 'run', 'slurmctld.pid')}`,
      `SlurmdPidFile=${join(slurm, 'run', 'slurmd.pid')}`,
      `SlurmctldLogFile=${join(slurm, 'log', 'slurmctld.log')}`,
      `SlurmdLogFile=${join(slurm, 'log', 'slurmd.log')}`,
      `SlurmctldPort=${ctldPort}`,
      `SlurmdPort=${dPort}`,
      'ReturnToService=2',
      'JobCompType=jobcomp/none',
      'JobAcctGatherType=jobacct_gather/none',
      'AccountingStorageType=accounting_storage/none',
      // finished jobs stay visible to scontrol while the test reads their states
      'MinJobAge=600',
      // a merge whose array failed is cancelled instead of pending forever
      'DependencyParameters=kill_invalid_depend',
      'SchedulerParameters=sched_interval=2',
      'MailProg=/bin/true',
      `NodeName=${host} CPUs=${cpus().length} RealMemory=${Math.max(512, Math.floor(totalmem() / 2 ** 20) - 1024)} State=UNKNOWN`,
      `PartitionName=debug Nodes=${host} Default=YES MaxTime=INFINITE State=UP`,
      '',
    ].join('\n'),
  );
  const env: NodeJS.ProcessEnv = { ...process.env, SLURM_CONF: conf };
  const children: ChildProcess[] = [];
  const logFiles = [join(munge, 'log', 'munged.log'), join(slurm, 'log', 'slurmctld.log'), join(slurm, 'log', 'slurmd.log'), join(dir, 'daemons.out')];
  const out = openSync(join(dir, 'daemons.out'), 'a');
  const daemon = (path: string, args: string[]) => {
    const child = spawn(path, args, { env, stdio: ['ignore', out, out] });
    child.on('error', () => undefined);
    children.push(child);
    return child;
  };
  const cluster: LocalSlurm = {
    env,
    get pids() {
      return children.map((c) => c.pid!).filter(Boolean);
    },
    logs: () => logFiles.filter(existsSync).map((f) => `--- ${f}\n${readFileSync(f, 'utf8').split('\n').slice(-30).join('\n')}`).join('\n'),
    stop: async () => {
      if (children.some((c) => c.exitCode === null && c.signalCode === null)) {
        // jobs first, so no slurmstepd outlives the daemons
        spawnSync('scancel', ['--user', 'root', '--quiet'], { env, timeout: 10_000 });
        const until = Date.now() + 15_000;
        while (Date.now() < until && squeueCount(env) > 0) await sleep(500);
      }
      for (const child of [...children].reverse()) await stopChild(child);
    },
  };
  try {
    daemon(DAEMONS.munged, ['-F', '--force', `--key-file=${key}`, `--socket=${socket}`, `--pid-file=${join(munge, 'run', 'munged.pid')}`, `--log-file=${join(munge, 'log', 'munged.log')}`, `--seed-file=${join(munge, 'lib', 'munged.seed')}`]);
    await until(() => existsSync(socket), deadline, 'munged did not open its socket');
    daemon(DAEMONS.slurmctld, ['-D', '-f', conf]);
    daemon(DAEMONS.slurmd, ['-D', '-f', conf, '-N', host]);
    await until(
      () => {
        if (children.some((c) => c.exitCode !== null || c.signalCode !== null)) throw new Error('a Slurm daemon exited');
        const r = spawnSync('sinfo', ['-h', '-N', '-o', '%T'], { env, encoding: 'utf8', timeout: 10_000 });
        return r.status === 0 && r.stdout.trim() === 'idle';
      },
      deadline,
      'sinfo did not show the node idle',
    );
  } catch (err) {
    const logs = cluster.logs();
    await cluster.stop();
    throw new Error(`${(err as Error).message}\n${logs}`);
  }
  return cluster;
}

function squeueCount(env: NodeJS.ProcessEnv): number {
  const r = spawnSync('squeue', ['-h', '-o', '%i'], { env, encoding: 'utf8', timeout: 10_000 });
  return r.status === 0 ? r.stdout.split('\n').filter(Boolean).length : 0;
}

async function stopChild(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null || !child.pid) return;
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  child.kill('SIGTERM');
  const timer = setTimeout(() => child.kill('SIGKILL'), 10_000);
  await exited;
  clearTimeout(timer);
}

async function until(test: () => boolean, deadline: number, message: string): Promise<void> {
  while (!test()) {
    if (Date.now() > deadline) throw new Error(message);
    await sleep(250);
  }
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, () => {
      const port = (server.address() as { port: number }).port;
      server.close(() => resolve(port));
    });
  });
}
