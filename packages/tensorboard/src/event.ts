// The messages of an event file, by their field numbers in the published schemas:
//   tensorflow/core/util/event.proto           Event { double wall_time = 1; int64 step = 2;
//                                                      oneof what { string file_version = 3; Summary summary = 5; ... } }
//   tensorboard/compat/proto/summary.proto     Summary { repeated Value value = 1; }
//                                              Summary.Value { string tag = 1; oneof value { float simple_value = 2; HistogramProto histo = 5; ... } }
//   tensorboard/compat/proto/histogram.proto   HistogramProto { double min = 1, max = 2, num = 3, sum = 4, sum_squares = 5;
//                                                               repeated double bucket_limit = 6 [packed], bucket = 7 [packed]; }
import { EventFileError } from './errors.js';
import { type HistogramProto, histogramOf } from './histogram.js';
import { ProtoReader, ProtoWriter, WireType } from './protobuf.js';
import { frameRecord, readRecords, type ReadRecordsOptions } from './records.js';

/** The version string of the first record of every event file TensorBoard reads. */
export const FILE_VERSION = 'brain.Event:2';

/** One `Summary.Value`: a tag with a scalar (`simpleValue`, float32 on disk) or a histogram. */
export interface SummaryValue {
  tag: string;
  simpleValue?: number;
  histo?: HistogramProto;
}

/**
 * An `Event` of tensorflow/core/util/event.proto: a wall time in seconds, a step, and either the
 * file version (first record of a file) or a summary. Other kinds of event (graphs, session logs)
 * are skipped when reading.
 */
export interface TfEvent {
  wallTime: number;
  step: number;
  fileVersion?: string;
  summary?: { value: SummaryValue[] };
}

const now = (): number => Date.now() / 1000;

/**
 * The event that opens an event file: `file_version: "brain.Event:2"` at step 0.
 *
 * @example
 * encodeEvent(fileVersionEvent()); // the first record's data
 */
export function fileVersionEvent(wallTime: number = now()): TfEvent {
  return { wallTime, step: 0, fileVersion: FILE_VERSION };
}

/**
 * An event holding scalars at one step, one `Summary.Value` per tag. TensorBoard stores
 * `simple_value` as float32, so a value reads back rounded to float32 (`Math.fround`).
 *
 * @example
 * scalarEvent({ 'loss/train': 0.42, lr: 1e-3 }, 100);
 */
export function scalarEvent(values: Record<string, number>, step: number, wallTime: number = now()): TfEvent {
  return { wallTime, step, summary: { value: Object.entries(values).map(([tag, simpleValue]) => ({ tag, simpleValue })) } };
}

/**
 * An event holding the histogram of `values` under `tag` (TensorFlow's default buckets, see
 * `histogramOf`).
 *
 * @example
 * histogramEvent('fuser/alpha', alpha.dataSync(), 100);
 */
export function histogramEvent(tag: string, values: ArrayLike<number>, step: number, wallTime: number = now()): TfEvent {
  return { wallTime, step, summary: { value: [{ tag, histo: histogramOf(values) }] } };
}

/**
 * An `Event` as protocol buffer bytes (the data of one TFRecord).
 *
 * @example
 * const bytes = encodeEvent(scalarEvent({ loss: 0.5 }, 1));
 */
export function encodeEvent(event: TfEvent): Uint8Array {
  if (!Number.isSafeInteger(event.step)) throw new EventFileError('INVALID_VALUE', `event step must be an integer, got ${event.step}`);
  const w = new ProtoWriter().double(1, event.wallTime);
  if (event.step !== 0) w.int64(2, event.step);
  if (event.fileVersion != null) w.string(3, event.fileVersion);
  if (event.summary) {
    const summary = new ProtoWriter();
    for (const value of event.summary.value) summary.bytes(1, encodeValue(value));
    w.bytes(5, summary.finish());
  }
  return w.finish();
}

function encodeValue(value: SummaryValue): Uint8Array {
  if ((value.simpleValue == null) === (value.histo == null)) {
    throw new EventFileError('INVALID_VALUE', `summary value "${value.tag}": give exactly one of simpleValue and histo`);
  }
  if (value.simpleValue != null && typeof value.simpleValue !== 'number') {
    throw new EventFileError('INVALID_VALUE', `summary value "${value.tag}": simpleValue must be a number, got ${typeof value.simpleValue}`);
  }
  const w = new ProtoWriter().string(1, value.tag);
  // a oneof member is written even when 0: that is how a reader knows which member is set
  if (value.simpleValue != null) w.float(2, value.simpleValue);
  if (value.histo) w.bytes(5, encodeHistogram(value.histo));
  return w.finish();
}

function encodeHistogram(h: HistogramProto): Uint8Array {
  if (h.bucketLimit.length !== h.bucket.length) {
    throw new EventFileError('INVALID_VALUE', `histogram: ${h.bucketLimit.length} bucket limits for ${h.bucket.length} buckets`);
  }
  return new ProtoWriter()
    .double(1, h.min)
    .double(2, h.max)
    .double(3, h.num)
    .double(4, h.sum)
    .double(5, h.sumSquares)
    .packedDoubles(6, h.bucketLimit)
    .packedDoubles(7, h.bucket)
    .finish();
}

/**
 * Parses the bytes of one `Event` message. Fields this package does not model are skipped, as
 * any protocol buffer reader does; a field of the wrong wire type throws `MALFORMED`.
 *
 * @example
 * decodeEvent(encodeEvent(scalarEvent({ loss: 0.5 }, 3))).summary?.value[0]; // { tag: 'loss', simpleValue: 0.5 }
 */
export function decodeEvent(bytes: Uint8Array): TfEvent {
  const r = new ProtoReader(bytes, 'Event');
  const event: TfEvent = { wallTime: 0, step: 0 };
  for (let f = r.next(); f; f = r.next()) {
    if (f.field === 1) (r.expect(1, f.wire, WireType.fixed64), (event.wallTime = r.double()));
    else if (f.field === 2) (r.expect(2, f.wire, WireType.varint), (event.step = r.int64()));
    else if (f.field === 3) (r.expect(3, f.wire, WireType.lengthDelimited), (event.fileVersion = r.string()));
    else if (f.field === 5) {
      r.expect(5, f.wire, WireType.lengthDelimited);
      // a message field seen twice merges: repeated values append
      const values = decodeSummary(r.bytes());
      event.summary = { value: [...(event.summary?.value ?? []), ...values] };
    } else r.skip(f.wire);
  }
  return event;
}

function decodeSummary(bytes: Uint8Array): SummaryValue[] {
  const r = new ProtoReader(bytes, 'Summary');
  const values: SummaryValue[] = [];
  for (let f = r.next(); f; f = r.next()) {
    if (f.field === 1) (r.expect(1, f.wire, WireType.lengthDelimited), values.push(decodeValue(r.bytes())));
    else r.skip(f.wire);
  }
  return values;
}

function decodeValue(bytes: Uint8Array): SummaryValue {
  const r = new ProtoReader(bytes, 'Summary.Value');
  const value: SummaryValue = { tag: '' };
  for (let f = r.next(); f; f = r.next()) {
    if (f.field === 1) (r.expect(1, f.wire, WireType.lengthDelimited), (value.tag = r.string()));
    else if (f.field === 2) (r.expect(2, f.wire, WireType.fixed32), (value.simpleValue = r.float()));
    else if (f.field === 5) (r.expect(5, f.wire, WireType.lengthDelimited), (value.histo = decodeHistogram(r.bytes())));
    else r.skip(f.wire);
  }
  return value;
}

function decodeHistogram(bytes: Uint8Array): HistogramProto {
  const r = new ProtoReader(bytes, 'HistogramProto');
  const h: HistogramProto = { min: 0, max: 0, num: 0, sum: 0, sumSquares: 0, bucketLimit: [], bucket: [] };
  const keys = ['min', 'max', 'num', 'sum', 'sumSquares'] as const;
  for (let f = r.next(); f; f = r.next()) {
    if (f.field >= 1 && f.field <= 5) (r.expect(f.field, f.wire, WireType.fixed64), (h[keys[f.field - 1]!] = r.double()));
    else if (f.field === 6) h.bucketLimit.push(...r.doubles(f.wire));
    else if (f.field === 7) h.bucket.push(...r.doubles(f.wire));
    else r.skip(f.wire);
  }
  return h;
}

/**
 * A whole event file in memory: the file-version record, then `events`, each framed as a
 * TFRecord. Browser-safe; in Node, `SummaryWriter` from `@r3d-ts/tensorboard/node` appends to
 * a file as training goes.
 *
 * @example
 * const file = encodeEventFile([scalarEvent({ loss: 0.9 }, 1), scalarEvent({ loss: 0.7 }, 2)]);
 * // save as `runs/a/events.out.tfevents.1700000000.browser`
 */
export function encodeEventFile(events: readonly TfEvent[], wallTime: number = now()): Uint8Array {
  const records = [fileVersionEvent(wallTime), ...events].map((e) => frameRecord(encodeEvent(e)));
  const out = new Uint8Array(records.reduce((n, r) => n + r.length, 0));
  let pos = 0;
  for (const r of records) (out.set(r, pos), (pos += r.length));
  return out;
}

/**
 * Every event of an event file, in order, after verifying both CRCs of every record (a mismatch
 * throws `EventFileError` `CRC_MISMATCH` with the record's offset). A last record cut short
 * throws `TRUNCATED` unless `truncatedTail: 'drop'`.
 *
 * @example
 * const events = readEvents(readFileSync('runs/a/events.out.tfevents.1700000000.host.1.0'));
 * events[0].fileVersion; // 'brain.Event:2'
 */
export function readEvents(bytes: Uint8Array, options: ReadRecordsOptions = {}): TfEvent[] {
  return readRecords(bytes, options).records.map(decodeEvent);
}
