import { spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { hostname, tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import { LOCK_FILE, lockFolder, OutputFolderLockedError, readFolderLock, type LockHolder } from './lock.js';
import { removeOrphanTemporaries } from './atomic.js';

const lockModule = join(dirname(fileURLToPath(import.meta.url)), 'lock.ts');
const root = mkdtempSync(join(tmpdir(), 'r3d-lock-'));
afterAll(() => rmSync(root, { recursive: true, force: true }));

/** A child process that runs `body` with `lockFolder` in scope (an ES module, from source). */
function child(body: string): ReturnType<typeof spawn> {
  const code = `import { lockFolder } from ${JSON.stringify(lockModule)};\n${body}`;
  return spawn(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', code], { stdio: ['ignore', 'pipe', 'pipe'] });
}

function output(c: ReturnType<typeof spawn>): Promise<{ code: number | null; stdout: string; stderr: string }> {
  let stdout = '';
  let stderr = '';
  c.stdout!.on('data', (d) => (stdout += d));
  c.stderr!.on('data', (d) => (stderr += d));
  return new Promise((resolve) => c.on('close', (code) => resolve({ code, stdout, stderr })));
}

function writeLock(dir: string, holder: Partial<LockHolder>): void {
  mkdirSync(dir, { recursive: true });
  writeFileSync(join(dir, LOCK_FILE), JSON.stringify({ pid: 1, host: hostname(), since: '2026-01-01T00:00:00.000Z', command: 'test', token: 'feedfeed', ...holder }));
}

function deadPid(): number {
  const r = spawnSync(process.execPath, ['-e', 'process.stdout.write(String(process.pid))'], { encoding: 'utf8' });
  return Number(r.stdout);
}

describe('lockFolder', () => {
  it('creates the folder and a lock file naming this process; release removes it', () => {
    const dir = join(root, 'a', 'b');
    const lock = lockFolder(dir);
    const holder = JSON.parse(readFileSync(join(dir, LOCK_FILE), 'utf8')) as LockHolder;
    expect(holder).toMatchObject({ pid: process.pid, host: hostname() });
    expect(readdirSync(dir)).toEqual([LOCK_FILE]);
    lock.release();
    lock.release();
    expect(readdirSync(dir)).toEqual([]);
  });

  it('nests inside one process: the file stays until the outer holder releases', () => {
    const dir = join(root, 'nested');
    const outer = lockFolder(dir);
    const inner = lockFolder(dir);
    inner.release();
    expect(existsSync(join(dir, LOCK_FILE))).toBe(true);
    outer.release();
    expect(existsSync(join(dir, LOCK_FILE))).toBe(false);
  });

  it('refuses a second process in one line naming the holder, and frees the folder when the holder exits', async () => {
    const dir = join(root, 'held');
    // the handler goes in before 'locked' is printed: a SIGTERM that came first would kill the
    // child without its exit hook (CI once caught the child between the two, and the file stayed)
    const holder = child(`process.on('SIGTERM', () => process.exit(0)); lockFolder(${JSON.stringify(dir)}); console.log('locked'); setTimeout(() => process.exit(0), 60000);`);
    const held = output(holder);
    await new Promise<void>((resolve) => holder.stdout!.on('data', () => resolve()));
    let error: unknown;
    try {
      lockFolder(dir);
    } catch (err) {
      error = err;
    }
    expect(error).toBeInstanceOf(OutputFolderLockedError);
    const message = (error as Error).message;
    expect(message).toContain(`${dir} is in use by pid ${holder.pid} on host ${hostname()}`);
    expect(message).not.toContain('\n');
    expect((error as OutputFolderLockedError).holder?.pid).toBe(holder.pid);
    holder.kill('SIGTERM'); // the child's handler exits, and exiting releases
    await held;
    expect(existsSync(join(dir, LOCK_FILE))).toBe(false);
    lockFolder(dir).release();
  });

  it.each([
    ['a dead process of this host', () => ({ pid: deadPid() })],
    ['a reused pid (the running process started at another time)', () => ({ pid: process.ppid, processStart: '1' })],
    ['this very pid, in a process that does not hold it (a restarted container)', () => ({ pid: process.pid })],
  ])('takes over a stale lock: %s', (_name, holder) => {
    const dir = join(root, `stale-${_name.replace(/\W+/g, '-')}`);
    writeLock(dir, holder());
    const lock = lockFolder(dir);
    expect(JSON.parse(readFileSync(join(dir, LOCK_FILE), 'utf8')).pid).toBe(process.pid);
    lock.release();
    expect(readdirSync(dir)).toEqual([]);
  });

  it.each([
    ['a live process of this host', { pid: process.ppid }],
    ['another host, even with a pid that is not running here', { host: `not-${hostname()}`, pid: 999_999_999 }],
  ])('never takes over the lock of %s', (_name, holder) => {
    const dir = join(root, `live-${_name.replace(/\W+/g, '-')}`);
    writeLock(dir, holder);
    expect(() => lockFolder(dir)).toThrow(OutputFolderLockedError);
    expect(JSON.parse(readFileSync(join(dir, LOCK_FILE), 'utf8')).token).toBe('feedfeed');
  });

  it('refuses a lock file it cannot read, saying which file to delete', () => {
    const dir = join(root, 'garbage');
    mkdirSync(dir);
    writeFileSync(join(dir, LOCK_FILE), 'not json');
    expect(() => lockFolder(dir)).toThrow(`delete ${join(dir, LOCK_FILE)}`);
  });

  it('release leaves alone a lock that another process took over', () => {
    const dir = join(root, 'taken');
    const lock = lockFolder(dir);
    writeLock(dir, { pid: process.ppid, token: 'other' });
    lock.release();
    expect(JSON.parse(readFileSync(join(dir, LOCK_FILE), 'utf8')).token).toBe('other');
  });

  it('waitMs waits for a live holder to release', async () => {
    const dir = join(root, 'wait');
    const holder = child(`lockFolder(${JSON.stringify(dir)}); console.log('locked'); setTimeout(() => process.exit(0), 700);`);
    const held = output(holder);
    await new Promise<void>((resolve) => holder.stdout!.on('data', () => resolve()));
    expect(() => lockFolder(dir)).toThrow(OutputFolderLockedError);
    const lock = lockFolder(dir, { waitMs: 60_000 });
    expect(JSON.parse(readFileSync(join(dir, LOCK_FILE), 'utf8')).pid).toBe(process.pid);
    lock.release();
    await held;
  });

  it('readFolderLock says who holds a folder and whether that holder is live', () => {
    const dir = join(root, 'read');
    mkdirSync(dir);
    expect(readFolderLock(dir)).toBeUndefined();
    const lock = lockFolder(dir);
    expect(readFolderLock(dir)).toMatchObject({ live: true, holder: { pid: process.pid } });
    lock.release();
    writeLock(dir, { pid: deadPid() });
    expect(readFolderLock(dir)).toMatchObject({ live: false });
    writeLock(dir, { pid: process.ppid });
    expect(readFolderLock(dir)).toMatchObject({ live: true, holder: { pid: process.ppid } });
  });

  it('8 processes racing for one folder: exactly one gets it', async () => {
    const dir = join(root, 'race');
    mkdirSync(dir);
    const go = join(root, 'race-go');
    const racers = Array.from({ length: 8 }, () =>
      output(child(`import { existsSync } from 'node:fs';
while (!existsSync(${JSON.stringify(go)})) await new Promise((r) => setTimeout(r, 2));
try { lockFolder(${JSON.stringify(dir)}); console.log('got'); await new Promise((r) => setTimeout(r, 1500)); } catch (e) { console.log(e.code); }`)),
    );
    await new Promise((r) => setTimeout(r, 1500));
    writeFileSync(go, '');
    const results = await Promise.all(racers);
    expect(results.map((r) => r.stdout.trim()).sort()).toEqual(['OUTPUT_FOLDER_LOCKED', 'OUTPUT_FOLDER_LOCKED', 'OUTPUT_FOLDER_LOCKED', 'OUTPUT_FOLDER_LOCKED', 'OUTPUT_FOLDER_LOCKED', 'OUTPUT_FOLDER_LOCKED', 'OUTPUT_FOLDER_LOCKED', 'got']);
    expect(readdirSync(dir)).toEqual([]);
  });
});

describe('removeOrphanTemporaries', () => {
  it("removes writeFileAtomic's leftovers of dead writers (and our own pid's) and nothing else", () => {
    const dir = join(root, 'orphans');
    mkdirSync(dir);
    const dead = spawnSync('true').pid!; // exited: its temporary files are orphans
    const live = spawn('sleep', ['30']); // a writer of the same folder still at work (another shard)
    try {
      const orphans = [`.log.jsonl.${dead}.lx1k2abc.tmp`, `.grid.json.${process.pid}.m0abc12.tmp`];
      const kept = [`.cell.json.${live.pid!}.m0abc13.tmp`, 'keep.json', '.hidden', `${LOCK_FILE}.4242.abcd.tmp`, 'x.tmp'];
      for (const f of [...orphans, ...kept]) writeFileSync(join(dir, f), '');
      expect(removeOrphanTemporaries(dir).sort()).toEqual(orphans.sort());
      expect(readdirSync(dir).sort()).toEqual(kept.sort());
    } finally {
      live.kill();
    }
  });
});
