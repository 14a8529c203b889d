import { appendFileSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { eventFiles, truncateEventFiles } from './event-files.js';
import { encodeEvent, readEvents, scalarEvent } from './event.js';
import { frameRecord } from './records.js';
import { SummaryWriter } from './summary-writer.js';
import { decodeEventFile } from './test-support/schema-decoder.js';

const root = mkdtempSync(join(tmpdir(), 'r3d-tensorboard-'));
afterAll(() => rmSync(root, { recursive: true, force: true }));

describe('SummaryWriter', () => {
  it('writes events.out.tfevents.<secs>.<host>.<pid>.<n> that the schema decoder reads back', () => {
    const dir = join(root, 'basic');
    const tb = new SummaryWriter(dir, { wallTime: () => 1700000000.5 });
    expect(basename(tb.path)).toMatch(new RegExp(`^events\\.out\\.tfevents\\.1700000000\\.[^.]+.*\\.${process.pid}\\.\\d+$`));
    tb.scalar('loss', 0.75, 1).scalars({ 'loss': 0.5, 'lr': 0.01 }, 2).histogram('alpha', [0.1, 0.2, 0.3], 2);
    tb.close();
    tb.close(); // harmless
    expect(() => tb.scalar('loss', 1, 3)).toThrow(/closed/);
    const events = decodeEventFile(readFileSync(tb.path));
    expect(events.map((e) => [e.step, e.fileVersion ?? e.values.map((v) => v.tag).join(',')])).toEqual([
      [0n, 'brain.Event:2'],
      [1n, 'loss'],
      [2n, 'loss,lr'],
      [2n, 'alpha'],
    ]);
    expect(events[2]!.values.map((v) => v.simpleValue)).toEqual([0.5, Math.fround(0.01)]);
    expect(events.every((e) => e.wallTime === 1700000000.5)).toBe(true);
  });

  it('makes the file-version record visible at once and appends on flush, the file readable meanwhile', () => {
    const tb = new SummaryWriter(join(root, 'flush'));
    expect(readEvents(readFileSync(tb.path))).toHaveLength(1);
    tb.scalar('a', 1, 1);
    expect(readEvents(readFileSync(tb.path))).toHaveLength(1); // buffered
    tb.flush();
    expect(readEvents(readFileSync(tb.path))).toHaveLength(2);
    tb.close();
  });

  it('flushes by itself once the buffer passes flushBytes', () => {
    const tb = new SummaryWriter(join(root, 'auto'), { flushBytes: 200 });
    for (let s = 1; s <= 20; s++) tb.scalar('x', s, s);
    expect(readEvents(readFileSync(tb.path)).length).toBeGreaterThan(10);
    tb.close();
    expect(readEvents(readFileSync(tb.path))).toHaveLength(21);
  });

  it('never overwrites: writers opened in the same second get their own files', () => {
    const dir = join(root, 'many');
    const writers = [0, 1, 2].map(() => new SummaryWriter(dir, { wallTime: () => 1700000000 }));
    writers.forEach((w, i) => w.scalar('w', i, 1).close());
    expect(new Set(writers.map((w) => w.path)).size).toBe(3);
    expect(eventFiles(dir)).toEqual([...writers.map((w) => w.path)].sort());
  });
});

describe('truncateEventFiles', () => {
  const make = (dir: string) => {
    const tb = new SummaryWriter(dir);
    for (let s = 1; s <= 6; s++) tb.scalar('loss', 1 / s, s);
    tb.close();
    return tb.path;
  };

  it('drops the steps after a checkpoint and a record cut short by a kill, keeping the rest byte for byte', () => {
    const dir = join(root, 'resume');
    const path = make(dir);
    const before = readFileSync(path);
    appendFileSync(path, frameRecord(new Uint8Array(40)).subarray(0, 20)); // a torn write
    const report = truncateEventFiles(dir, 4);
    expect(report).toEqual({ dropped: 2, rewritten: [path], removed: [] });
    const after = readFileSync(path);
    expect(decodeEventFile(after).map((e) => e.step)).toEqual([0n, 1n, 2n, 3n, 4n]);
    expect(before.subarray(0, after.length).equals(after)).toBe(true);
    expect(readdirSync(dir)).toEqual([basename(path)]); // no temporary file left
    expect(truncateEventFiles(dir, 4)).toEqual({ dropped: 0, rewritten: [], removed: [] });
  });

  it('ends a file at a record whose CRC fails, keeping the records before it', () => {
    const dir = join(root, 'corrupt');
    const path = make(dir);
    const bytes = readFileSync(path);
    const events = decodeEventFile(bytes);
    expect(events).toHaveLength(7);
    bytes[bytes.length - 1]! ^= 0xff; // the data CRC of the step-6 record
    writeFileSync(path, bytes);
    expect(truncateEventFiles(dir, 100)).toEqual({ dropped: 0, rewritten: [path], removed: [] });
    expect(decodeEventFile(readFileSync(path)).map((e) => e.step)).toEqual([0n, 1n, 2n, 3n, 4n, 5n]);
  });

  it('removes files left with only their file-version record, and keeps records it does not model', () => {
    const dir = join(root, 'fresh');
    const path = make(dir);
    expect(truncateEventFiles(dir, -1)).toEqual({ dropped: 6, rewritten: [], removed: [path] });
    expect(eventFiles(dir)).toEqual([]);
    const foreignPath = join(dir, 'events.out.tfevents.1.other');
    // a session_log event (field 7) at step 3 from another writer, after a scalar at step 9
    const sessionLog = Uint8Array.from([0x10, 0x03, 0x3a, 0x02, 0x08, 0x01]);
    writeFileSync(foreignPath, Buffer.concat([frameRecord(sessionLog), frameRecord(encodeEvent(scalarEvent({ x: 1 }, 9, 1)))]));
    expect(truncateEventFiles(dir, 5)).toEqual({ dropped: 1, rewritten: [foreignPath], removed: [] });
    expect(readFileSync(foreignPath).equals(Buffer.from(frameRecord(sessionLog)))).toBe(true);
  });
});
