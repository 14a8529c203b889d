import { describe, expect, it } from 'vitest';
import { EventFileError } from './errors.js';
import { decodeEvent, encodeEvent, encodeEventFile, FILE_VERSION, histogramEvent, readEvents, scalarEvent } from './event.js';
import { defaultBucketLimits, histogramOf } from './histogram.js';
import { frameRecord, readRecords } from './records.js';
import { decodeEventFile, decodeEventBytes, splitRecords } from './test-support/schema-decoder.js';

describe('event files against the published schema', () => {
  const file = encodeEventFile(
    [
      scalarEvent({ 'loss/train': 0.1234567891, lr: 1e-3, zero: 0, negative: -2.5 }, 1, 1700000001.25),
      scalarEvent({ 'loss/train': 0.09 }, 2 ** 40, 1700000002.5),
      histogramEvent('fuser/alpha', [0.25, 0.5, 0.5, 0.75, -1e-3, 0], 7, 1700000003),
    ],
    1700000000.125,
  );

  it('starts with file_version "brain.Event:2", and every record has correct masked CRCs', () => {
    const events = decodeEventFile(file); // throws on any CRC mismatch
    expect(events).toHaveLength(4);
    expect(events[0]).toMatchObject({ fileVersion: 'brain.Event:2', wallTime: 1700000000.125, step: 0n, values: [] });
    expect(FILE_VERSION).toBe('brain.Event:2');
  });

  it('round-trips scalars as float32 simple_value (a oneof: 0 is written too), steps as int64', () => {
    const events = decodeEventFile(file);
    expect(events[1]!.step).toBe(1n);
    expect(events[1]!.wallTime).toBe(1700000001.25);
    expect(events[1]!.values).toEqual([
      { tag: 'loss/train', simpleValue: Math.fround(0.1234567891) },
      { tag: 'lr', simpleValue: Math.fround(1e-3) },
      { tag: 'zero', simpleValue: 0 },
      { tag: 'negative', simpleValue: -2.5 },
    ]);
    expect(events[2]!.step).toBe(2n ** 40n);
    expect(events.every((e) => e.otherFields.length === 0)).toBe(true);
  });

  it('writes histograms as HistogramProto with packed bucket_limit and bucket', () => {
    const histo = decodeEventFile(file)[3]!.values[0]!;
    expect(histo.tag).toBe('fuser/alpha');
    const h = histo.histo as { min: number; max: number; num: number; sum: number; sumSquares: number; bucketLimit: number[]; bucket: number[] };
    expect(h).toMatchObject({ min: -1e-3, max: 0.75, num: 6, sum: 0.25 + 0.5 + 0.5 + 0.75 - 1e-3 });
    expect(h.sumSquares).toBeCloseTo(0.0625 + 0.25 + 0.25 + 0.5625 + 1e-6, 12);
    expect(h.bucket.reduce((a, b) => a + b, 0)).toBe(6);
    expect(h.bucketLimit).toHaveLength(h.bucket.length);
    // each value lies in its bucket's range [previous limit, limit)
    for (const v of [0.25, 0.5, 0.75, -1e-3, 0]) {
      const i = h.bucketLimit.findIndex((limit) => v < limit);
      expect(h.bucket[i], `value ${v}`).toBeGreaterThan(0);
    }
  });

  it('agrees with the exported reader, which verifies the CRCs too', () => {
    const ours = readEvents(file);
    const theirs = decodeEventFile(file);
    expect(ours.map((e) => [e.step, e.wallTime, e.fileVersion])).toEqual(theirs.map((e) => [Number(e.step), e.wallTime, e.fileVersion]));
    expect(ours[1]!.summary!.value).toEqual(theirs[1]!.values);
    expect(ours[3]!.summary!.value[0]!.histo).toEqual(theirs[3]!.values[0]!.histo);
  });

  it('round-trips negative and zero steps and skips fields it does not model', () => {
    expect(decodeEventBytes(encodeEvent(scalarEvent({ a: 1 }, -5, 1))).step).toBe(-5n);
    expect(decodeEvent(encodeEvent(scalarEvent({ a: 1 }, -5, 1))).step).toBe(-5);
    expect(decodeEvent(encodeEvent(scalarEvent({ a: 1 }, 0, 1))).step).toBe(0);
    // graph_def (field 4, bytes) and session_log (field 7, message) from another writer
    const foreign = Uint8Array.from([0x09, ...new Uint8Array(new Float64Array([3]).buffer), 0x22, 0x02, 0xaa, 0xbb, 0x3a, 0x02, 0x08, 0x01]);
    expect(decodeEvent(foreign)).toEqual({ wallTime: 3, step: 0 });
  });

  it.each([
    ['a flipped data byte', (b: Uint8Array) => (b[b.length - 6]! ^= 1), 'CRC_MISMATCH'],
    ['a flipped length byte', (b: Uint8Array) => (b[0]! ^= 1), 'CRC_MISMATCH'],
    ['a flipped stored CRC', (b: Uint8Array) => (b[b.length - 1]! ^= 0x80), 'CRC_MISMATCH'],
  ])('rejects %s', (_name, corrupt, code) => {
    const bytes = file.slice();
    corrupt(bytes);
    expect(() => readEvents(bytes)).toThrow(EventFileError);
    try {
      readEvents(bytes);
    } catch (e) {
      expect((e as EventFileError).code).toBe(code);
    }
  });

  it('reports a cut-short last record, or drops it on request', () => {
    const cut = file.subarray(0, file.length - 3);
    expect(() => readEvents(cut)).toThrow(/record 3 is cut short/);
    expect(readEvents(cut, { truncatedTail: 'drop' })).toHaveLength(3);
    expect(readRecords(file.subarray(0, 5), { truncatedTail: 'drop' })).toEqual({ records: [], bytesRead: 0 });
  });

  it('frames any payload as a TFRecord the independent reader accepts', () => {
    const payload = Uint8Array.from({ length: 1000 }, (_, i) => (i * 31) & 0xff);
    expect(splitRecords(frameRecord(payload))).toEqual([payload]);
    expect(splitRecords(frameRecord(new Uint8Array(0)))).toEqual([new Uint8Array(0)]);
  });

  it('refuses values it cannot encode', () => {
    expect(() => encodeEvent(scalarEvent({ a: 1 }, 1.5))).toThrow(/integer/);
    expect(() => encodeEvent({ wallTime: 1, step: 1, summary: { value: [{ tag: 'x' }] } })).toThrow(/exactly one/);
    expect(() => histogramOf([Number.NaN, Infinity])).toThrow(/no finite value/);
  });
});

describe('histogramOf', () => {
  it("uses TensorFlow's default buckets: 0 and +-1e-12 growing by 10% to 1e20, closed by +-DBL_MAX", () => {
    const limits = defaultBucketLimits();
    expect(limits).toHaveLength(1551);
    expect(limits[775]).toBe(0);
    expect(limits[776]).toBe(1e-12);
    expect(limits[777]).toBe(1e-12 * 1.1);
    expect(limits.at(-1)).toBe(Number.MAX_VALUE);
    expect(limits[0]).toBe(-Number.MAX_VALUE);
    for (let i = 1; i < limits.length; i++) expect(limits[i]).toBeGreaterThan(limits[i - 1]!);
    for (let i = 0; i < 775; i++) expect(limits[i]).toBe(-limits[limits.length - 1 - i]!);
  });

  it('collapses runs of empty buckets, counts every finite value once and leaves NaN/Infinity out', () => {
    const h = histogramOf([1, 1, 1, 2, 1e15, Number.NaN, -Infinity, Number.MAX_VALUE]);
    expect(h.num).toBe(6);
    expect(h.bucket.reduce((a, b) => a + b, 0)).toBe(6);
    expect(h.max).toBe(Number.MAX_VALUE);
    for (let i = 1; i < h.bucket.length; i++) expect(h.bucket[i] === 0 && h.bucket[i - 1] === 0).toBe(false);
    expect(h.bucketLimit.at(-1)).toBe(Number.MAX_VALUE);
  });
});
