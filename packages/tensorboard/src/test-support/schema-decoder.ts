// An event-file decoder for tests, written from the published schemas and the TFRecord format
// alone and sharing no code with the package: a bitwise CRC-32C (no table), TensorFlow's mask
// formula, a varint reader, and fields picked by number.
//   Event (tensorflow/core/util/event.proto): wall_time = 1 double, step = 2 int64,
//     file_version = 3 string, summary = 5 Summary
//   Summary (summary.proto): value = 1 repeated Value; Value: tag = 1 string, simple_value = 2 float, histo = 5
//   HistogramProto (histogram.proto): min..sum_squares = 1..5 double, bucket_limit = 6, bucket = 7 packed double

export function bitwiseCrc32c(bytes: Uint8Array): number {
  let crc = ~0 >>> 0;
  for (const byte of bytes) {
    crc ^= byte;
    for (let k = 0; k < 8; k++) crc = crc & 1 ? ((crc >>> 1) ^ 0x82f63b78) >>> 0 : crc >>> 1;
  }
  return ~crc >>> 0;
}

export function tfMask(crc: number): number {
  return (((crc >>> 15) | (crc << 17)) + 0xa282ead8) >>> 0;
}

export interface DecodedValue { tag?: string; simpleValue?: number; histo?: Record<string, number | number[]> }
export interface DecodedEvent { wallTime?: number; step: bigint; fileVersion?: string; values: DecodedValue[]; otherFields: number[] }

/** Splits TFRecords, asserting every masked CRC; returns the data of each record. */
export function splitRecords(file: Uint8Array): Uint8Array[] {
  const out: Uint8Array[] = [];
  const view = new DataView(file.buffer, file.byteOffset, file.byteLength);
  let pos = 0;
  while (pos < file.length) {
    const len = Number(view.getBigUint64(pos, true));
    if (tfMask(bitwiseCrc32c(file.subarray(pos, pos + 8))) !== view.getUint32(pos + 8, true)) throw new Error(`length CRC wrong at ${pos}`);
    const data = file.subarray(pos + 12, pos + 12 + len);
    if (tfMask(bitwiseCrc32c(data)) !== view.getUint32(pos + 12 + len, true)) throw new Error(`data CRC wrong at ${pos}`);
    out.push(data);
    pos += 16 + len;
  }
  if (pos !== file.length) throw new Error('trailing bytes');
  return out;
}

type Field = { n: number; wire: number; varint?: bigint; fixed64?: DataView; fixed32?: DataView; bytes?: Uint8Array };

function fields(msg: Uint8Array): Field[] {
  const out: Field[] = [];
  let pos = 0;
  const varint = (): bigint => {
    let v = 0n;
    for (let shift = 0n; ; shift += 7n) {
      const b = msg[pos++]!;
      v |= BigInt(b & 0x7f) << shift;
      if (b < 0x80) return v;
    }
  };
  while (pos < msg.length) {
    const key = varint();
    const f: Field = { n: Number(key >> 3n), wire: Number(key & 7n) };
    if (f.wire === 0) f.varint = varint();
    else if (f.wire === 1) (f.fixed64 = new DataView(msg.buffer, msg.byteOffset + pos, 8)), (pos += 8);
    else if (f.wire === 5) (f.fixed32 = new DataView(msg.buffer, msg.byteOffset + pos, 4)), (pos += 4);
    else if (f.wire === 2) {
      const len = Number(varint());
      f.bytes = msg.subarray(pos, pos + len);
      pos += len;
    } else throw new Error(`wire type ${f.wire}`);
    out.push(f);
  }
  return out;
}

const f64 = (f: Field) => f.fixed64!.getFloat64(0, true);
const packed = (b: Uint8Array) => Array.from({ length: b.length / 8 }, (_, i) => new DataView(b.buffer, b.byteOffset + 8 * i, 8).getFloat64(0, true));

export function decodeEventBytes(msg: Uint8Array): DecodedEvent {
  const e: DecodedEvent = { step: 0n, values: [], otherFields: [] };
  for (const f of fields(msg)) {
    if (f.n === 1 && f.wire === 1) e.wallTime = f64(f);
    else if (f.n === 2 && f.wire === 0) e.step = BigInt.asIntN(64, f.varint!);
    else if (f.n === 3 && f.wire === 2) e.fileVersion = new TextDecoder().decode(f.bytes);
    else if (f.n === 5 && f.wire === 2) {
      for (const v of fields(f.bytes!)) {
        if (v.n !== 1 || v.wire !== 2) throw new Error('Summary: unexpected field');
        const value: DecodedValue = {};
        for (const g of fields(v.bytes!)) {
          if (g.n === 1 && g.wire === 2) value.tag = new TextDecoder().decode(g.bytes);
          else if (g.n === 2 && g.wire === 5) value.simpleValue = g.fixed32!.getFloat32(0, true);
          else if (g.n === 5 && g.wire === 2) {
            const h: Record<string, number | number[]> = {};
            const names = ['', 'min', 'max', 'num', 'sum', 'sumSquares'];
            for (const k of fields(g.bytes!)) {
              if (k.n >= 1 && k.n <= 5 && k.wire === 1) h[names[k.n]!] = f64(k);
              else if (k.n === 6 && k.wire === 2) h.bucketLimit = packed(k.bytes!);
              else if (k.n === 7 && k.wire === 2) h.bucket = packed(k.bytes!);
              else throw new Error(`HistogramProto: unexpected field ${k.n}/${k.wire}`);
            }
            value.histo = h;
          } else throw new Error(`Summary.Value: unexpected field ${g.n}/${g.wire}`);
        }
        e.values.push(value);
      }
    } else e.otherFields.push(f.n);
  }
  return e;
}

/** Every event of an event file, every CRC checked. */
export function decodeEventFile(file: Uint8Array): DecodedEvent[] {
  return splitRecords(file).map(decodeEventBytes);
}
