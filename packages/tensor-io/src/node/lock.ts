import { randomBytes } from 'node:crypto';
import { closeSync, fsyncSync, linkSync, mkdirSync, openSync, readFileSync, realpathSync, renameSync, rmSync, writeSync } from 'node:fs';
import { hostname } from 'node:os';
import { join } from 'node:path';
import { fsyncDir, isProcessRunning } from './atomic.js';

/** The lock file inside a locked folder. */
export const LOCK_FILE = '.r3d-lock';

/** Who holds a folder: what the lock file records. */
export interface LockHolder {
  pid: number;
  host: string;
  /** ISO time the lock was taken. */
  since: string;
  /** The holder's command line, for the message a second writer reads. */
  command: string;
  /** Start time of the process (Linux `/proc/<pid>/stat`), so a reused pid is not taken for the holder. */
  processStart?: string;
  /** Random per lock, so a release or a takeover never removes someone else's lock. */
  token: string;
}

/** A held folder lock; `release()` is idempotent. */
export interface FolderLock {
  readonly dir: string;
  readonly path: string;
  readonly holder: LockHolder;
  release(): void;
}

/**
 * A folder another process is writing: the message names the folder and the holder (pid, host,
 * since when), in one line.
 *
 * @example
 * try { lockFolder('out/ablation'); } catch (e) { if (e instanceof OutputFolderLockedError) console.error(e.holder?.pid); }
 */
export class OutputFolderLockedError extends Error {
  readonly code = 'OUTPUT_FOLDER_LOCKED';
  /** A user's to resolve (wait, or choose another folder): a command line exits 2 with the message. */
  readonly userError = true;
  readonly dir: string;
  readonly holder: LockHolder | undefined;

  constructor(dir: string, holder: LockHolder | undefined, lockPath: string) {
    const who = holder ? `pid ${holder.pid} on host ${holder.host} (since ${holder.since})` : 'a lock file this tool cannot read';
    super(`${dir} is in use by ${who}: wait for that run to end or choose another folder (if it is gone, delete ${lockPath})`);
    this.name = 'OutputFolderLockedError';
    this.dir = dir;
    this.holder = holder;
  }
}

interface Held {
  lock: FolderLock;
  count: number;
}

// Locks this process holds, by real path: a second lockFolder of the same folder in this process
// nests (a library function that locks, called by one that already did) instead of failing.
const held = new Map<string, Held>();
let exitHookInstalled = false;

/**
 * Takes the exclusive advisory lock of an output folder (created if needed), so two runs never
 * write one folder at once. The lock is the file `<dir>/.r3d-lock` holding the pid, host, start
 * time and command of the holder; it appears atomically, complete (written aside, then hard-linked
 * into place, which fails if a lock exists). A second writer gets an `OutputFolderLockedError`
 * naming the holder. `release()` removes the file; so does the process's exit, however it exits
 * short of a kill (an error, `process.exit`, a signal handler that exits).
 *
 * A lock is stale, and taken over, when its holder ran on this host and that process is gone:
 * its pid is not running, or runs a process started at another time (a reused pid), or is this
 * very process (a restarted container reuses pids) without holding the lock. A lock from another
 * host is never taken over: its holder cannot be checked from here, so the message names the
 * file to delete once that run is known to be gone.
 *
 * `waitMs` waits that long for a live holder to release (polling; the thread sleeps meanwhile)
 * before giving up, for locks held briefly (a settings commit, a report).
 *
 * @example
 * const lock = lockFolder('out/ablation');
 * try { writeEverything(); } finally { lock.release(); }
 */
export function lockFolder(dir: string, options: { waitMs?: number } = {}): FolderLock {
  const deadline = Date.now() + (options.waitMs ?? 0);
  for (;;) {
    try {
      return lockOnce(dir);
    } catch (err) {
      if (!(err instanceof OutputFolderLockedError) || Date.now() >= deadline) throw err;
      Atomics.wait(SLEEPER, 0, 0, 25);
    }
  }
}

const SLEEPER = new Int32Array(new SharedArrayBuffer(4));

/**
 * Who holds a folder's lock, without taking it: undefined when nobody does, else the holder
 * (undefined when the file cannot be read) and whether it is live (`false`: a stale lock that
 * `lockFolder` would take over).
 *
 * @example
 * const lock = readFolderLock('out/ablation/.r3d-writers/all'); if (lock?.live) console.log(lock.holder?.pid);
 */
export function readFolderLock(dir: string): { holder: LockHolder | undefined; live: boolean } | undefined {
  const current = readHolder(join(dir, LOCK_FILE));
  if (current === 'gone') return undefined;
  if (current === 'unreadable') return { holder: undefined, live: true };
  let mine = false;
  try {
    mine = held.has(realpathSync(dir));
  } catch {
    // the folder went away meanwhile
  }
  return { holder: current, live: mine || !isStale(current) };
}

function lockOnce(dir: string): FolderLock {
  mkdirSync(dir, { recursive: true });
  const key = realpathSync(dir);
  const mine = held.get(key);
  if (mine) {
    mine.count += 1;
    return nested(mine);
  }
  const path = join(dir, LOCK_FILE);
  const holder: LockHolder = {
    pid: process.pid,
    host: hostname(),
    since: new Date().toISOString(),
    command: process.argv.slice(1).join(' ').slice(0, 300),
    ...(processStartTime(process.pid) ? { processStart: processStartTime(process.pid)! } : {}),
    token: randomBytes(8).toString('hex'),
  };
  const tmp = join(dir, `${LOCK_FILE}.${process.pid}.${holder.token}.tmp`);
  writeDurably(tmp, `${JSON.stringify(holder)}\n`);
  try {
    for (let attempt = 0; attempt < 8; attempt++) {
      if (tryLink(tmp, path)) {
        fsyncDir(dir);
        const entry: Held = { count: 1, lock: undefined as unknown as FolderLock };
        entry.lock = { dir, path, holder, release: () => release(key, entry) };
        held.set(key, entry);
        installExitHook();
        return nested(entry);
      }
      const current = readHolder(path);
      if (current === 'gone') continue; // released between our attempt and the read
      if (current === 'unreadable' || !isStale(current)) throw new OutputFolderLockedError(dir, current === 'unreadable' ? undefined : current, path);
      takeOver(path, current);
    }
    throw new OutputFolderLockedError(dir, undefined, path);
  } finally {
    rmSync(tmp, { force: true });
  }
}

function nested(entry: Held): FolderLock {
  let released = false;
  return {
    dir: entry.lock.dir,
    path: entry.lock.path,
    holder: entry.lock.holder,
    release: () => {
      if (released) return;
      released = true;
      entry.count -= 1;
      if (entry.count === 0) entry.lock.release();
    },
  };
}

function release(key: string, entry: Held): void {
  if (held.get(key) !== entry) return;
  held.delete(key);
  const current = readHolder(entry.lock.path);
  // only our own lock: a folder taken over (we were presumed dead) belongs to its new holder
  if (typeof current === 'object' && current.token === entry.lock.holder.token) rmSync(entry.lock.path, { force: true });
}

function installExitHook(): void {
  if (exitHookInstalled) return;
  exitHookInstalled = true;
  process.on('exit', () => {
    for (const [key, entry] of [...held]) release(key, entry);
  });
}

/** Hard-links `tmp` to `path`; false when `path` exists. Falls back to an exclusive create where links are not supported. */
function tryLink(tmp: string, path: string): boolean {
  try {
    linkSync(tmp, path);
    return true;
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code === 'EEXIST') return false;
    if (code !== 'EPERM' && code !== 'ENOTSUP' && code !== 'EOPNOTSUPP' && code !== 'ENOSYS') throw err;
  }
  let fd: number;
  try {
    fd = openSync(path, 'wx');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'EEXIST') return false;
    throw err;
  }
  try {
    const bytes = readFileSync(tmp);
    writeSync(fd, bytes);
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
  return true;
}

function readHolder(path: string): LockHolder | 'gone' | 'unreadable' {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'ENOENT' ? 'gone' : 'unreadable';
  }
  try {
    const h = JSON.parse(text) as LockHolder;
    if (Number.isInteger(h?.pid) && h.pid > 0 && typeof h.host === 'string' && typeof h.token === 'string') return h;
  } catch {
    // fall through
  }
  return 'unreadable';
}

function isStale(h: LockHolder): boolean {
  if (h.host !== hostname()) return false;
  if (h.pid === process.pid) return true; // not in `held`, so an earlier process with our pid
  if (!isProcessRunning(h.pid)) return true;
  const start = processStartTime(h.pid);
  return h.processStart != null && start != null && start !== h.processStart;
}

/**
 * Moves a stale lock aside and removes it, but only if what was moved is the stale lock that was
 * judged: another process may have taken the folder over in between, in which case its lock is
 * put back. Then the caller tries again.
 */
function takeOver(path: string, stale: LockHolder): void {
  const aside = `${path}.stale-${process.pid}-${randomBytes(4).toString('hex')}`;
  try {
    renameSync(path, aside);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return;
    throw err;
  }
  const moved = readHolder(aside);
  if (typeof moved === 'object' && moved.token !== stale.token) {
    try {
      linkSync(aside, path);
    } catch {
      // a third process locked the folder in that instant; its lock stands
    }
  }
  rmSync(aside, { force: true });
}

function writeDurably(path: string, text: string): void {
  const fd = openSync(path, 'w');
  try {
    writeSync(fd, text);
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
}

/** Start time of a process in clock ticks since boot (Linux), or undefined where /proc has none. */
function processStartTime(pid: number): string | undefined {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    // the command name (field 2) may hold spaces and parentheses: count from the last ')'
    return stat.slice(stat.lastIndexOf(')') + 2).split(' ')[19];
  } catch {
    return undefined;
  }
}

/**
 * Runs `fn` holding the lock of `dir`, and releases it however `fn` ends.
 *
 * @example
 * await withFolderLock('out/merged', async () => { merge(); await writeReport(); });
 */
export async function withFolderLock<T>(dir: string, fn: () => T | Promise<T>): Promise<T> {
  const lock = lockFolder(dir);
  try {
    return await fn();
  } finally {
    lock.release();
  }
}
