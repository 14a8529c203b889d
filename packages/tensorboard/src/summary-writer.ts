import { closeSync, mkdirSync, openSync, writeSync } from 'node:fs';
import { hostname } from 'node:os';
import { join } from 'node:path';
import { EventFileError } from './errors.js';
import { encodeEvent, fileVersionEvent, histogramEvent, scalarEvent, type TfEvent } from './event.js';
import { frameRecord } from './records.js';

/** Options of `SummaryWriter`. */
export interface SummaryWriterOptions {
  /** Buffered bytes that trigger a write to the file (default 64 KiB); `flush()` writes at once. */
  flushBytes?: number;
  /** Seconds since the epoch for each event (default: the clock); tests pin it. */
  wallTime?: () => number;
}

// one process may open several writers on one folder in the same second
let fileCounter = 0;

// TensorFlow's `events.out.tfevents.<%010d seconds>.<host>`, then pid and counter; 'ax' never clobbers
function createEventFile(logDir: string, seconds: number): { fd: number; path: string } {
  const host = hostname().replace(/[^A-Za-z0-9._-]/g, '_') || 'localhost';
  for (;;) {
    const path = join(logDir, `events.out.tfevents.${String(seconds).padStart(10, '0')}.${host}.${process.pid}.${fileCounter++}`);
    try {
      return { fd: openSync(path, 'ax'), path };
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
    }
  }
}

/**
 * Writes a TensorBoard event file in `logDir`: `events.out.tfevents.<seconds>.<host>.<pid>.<n>`
 * (TensorFlow's name plus the process id and a counter, so writers never collide), opened with
 * the `brain.Event:2` record. Events are buffered and appended as whole TFRecords by one write
 * each, so a crash leaves at most a cut-short last record, which TensorBoard and `readEvents`
 * (`truncatedTail: 'drop'`) skip. The file is created exclusively: an existing file is never
 * overwritten. Point `tensorboard --logdir` at the folder (or at its parent, one run per folder).
 *
 * @example
 * const tb = new SummaryWriter('runs/exp1');
 * tb.scalar('loss/train', 0.42, 100);
 * tb.histogram('fuser/alpha', [0.1, 0.5, 0.9], 100);
 * tb.close();
 */
export class SummaryWriter {
  readonly logDir: string;
  /** The event file this writer appends to. */
  readonly path: string;
  private fd: number | null;
  private pending: Uint8Array[] = [];
  private pendingBytes = 0;
  private readonly flushBytes: number;
  private readonly clock: () => number;

  constructor(logDir: string, options: SummaryWriterOptions = {}) {
    this.logDir = logDir;
    this.flushBytes = options.flushBytes ?? 64 * 1024;
    this.clock = options.wallTime ?? (() => Date.now() / 1000);
    mkdirSync(logDir, { recursive: true });
    const opened = createEventFile(logDir, Math.floor(this.clock()));
    this.fd = opened.fd;
    this.path = opened.path;
    this.write(fileVersionEvent(this.clock()));
    this.flush();
  }

  /**
   * Logs one scalar at `step` (stored as float32, as TensorBoard's `simple_value` is).
   *
   * @example
   * tb.scalar('lr', 1e-3, step);
   */
  scalar(tag: string, value: number, step: number): this {
    return this.write(scalarEvent({ [tag]: value }, step, this.clock()));
  }

  /**
   * Logs several scalars at one step in one event (one record for all tags).
   *
   * @example
   * tb.scalars({ 'loss/train': 0.4, 'loss/val': 0.5 }, step);
   */
  scalars(values: Record<string, number>, step: number): this {
    if (Object.keys(values).length === 0) return this;
    return this.write(scalarEvent(values, step, this.clock()));
  }

  /**
   * Logs the histogram of `values` at `step` (TensorFlow's default exponential buckets; NaN and
   * Infinity left out).
   *
   * @example
   * tb.histogram('weights/fc', w.dataSync(), step);
   */
  histogram(tag: string, values: ArrayLike<number>, step: number): this {
    return this.write(histogramEvent(tag, values, step, this.clock()));
  }

  /**
   * Appends any event (see `TfEvent`), e.g. one built with `scalarEvent` with its own wall time.
   *
   * @example
   * tb.write(scalarEvent({ loss: 0.3 }, 7, 1700000000));
   */
  write(event: TfEvent): this {
    if (this.fd == null) throw new EventFileError('INVALID_VALUE', `SummaryWriter: ${this.path} is closed`);
    const record = frameRecord(encodeEvent(event));
    this.pending.push(record);
    this.pendingBytes += record.length;
    if (this.pendingBytes >= this.flushBytes) this.flush();
    return this;
  }

  /**
   * Appends the buffered records to the file now (one write), so TensorBoard sees them.
   *
   * @example
   * tb.flush(); // e.g. before a checkpoint
   */
  flush(): void {
    if (this.fd == null || this.pendingBytes === 0) return;
    const out = new Uint8Array(this.pendingBytes);
    let pos = 0;
    for (const r of this.pending) (out.set(r, pos), (pos += r.length));
    this.pending = [];
    this.pendingBytes = 0;
    let written = 0;
    while (written < out.length) written += writeSync(this.fd, out, written, out.length - written);
  }

  /**
   * Flushes and closes the file; later writes throw. Closing twice is harmless.
   *
   * @example
   * try { train(); } finally { tb.close(); }
   */
  close(): void {
    if (this.fd == null) return;
    try {
      this.flush();
    } finally {
      closeSync(this.fd);
      this.fd = null;
    }
  }
}
