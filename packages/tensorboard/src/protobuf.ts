// The protocol buffer wire format (https://protobuf.dev/programming-guides/encoding/), only as
// much as the event messages need: varints, 64-bit doubles, 32-bit floats, length-delimited
// strings, bytes, sub-messages and packed doubles. No schema library: the messages are small and
// fixed, and the one schema-free library in reach (google-protobuf) is a CommonJS bundle that
// would be this package's only runtime dependency.
import { EventFileError } from './errors.js';

/** Wire types of the protocol buffer encoding. */
export const WireType = { varint: 0, fixed64: 1, lengthDelimited: 2, fixed32: 5 } as const;

const utf8 = new TextEncoder();
const utf8Decoder = new TextDecoder('utf-8', { fatal: true });

/**
 * Appends protocol buffer fields to a growing buffer. Fields are written in the order they are
 * called; `finish()` returns the message bytes.
 *
 * @example
 * const w = new ProtoWriter();
 * w.double(1, 1700000000.5).int64(2, 42).string(3, 'brain.Event:2');
 * const bytes = w.finish();
 */
export class ProtoWriter {
  private buf = new Uint8Array(64);
  private view = new DataView(this.buf.buffer);
  private pos = 0;

  private reserve(n: number): void {
    if (this.pos + n <= this.buf.length) return;
    let size = this.buf.length * 2;
    while (size < this.pos + n) size *= 2;
    const next = new Uint8Array(size);
    next.set(this.buf.subarray(0, this.pos));
    this.buf = next;
    this.view = new DataView(next.buffer);
  }

  private key(field: number, wire: number): void {
    this.rawVarint(field * 8 + wire);
  }

  /** A non-negative safe integer as a varint (no field key). */
  private rawVarint(value: number): void {
    this.reserve(10);
    let v = value;
    while (v >= 0x80) {
      this.buf[this.pos++] = (v % 0x80) | 0x80;
      v = Math.floor(v / 0x80);
    }
    this.buf[this.pos++] = v;
  }

  private rawBytes(bytes: Uint8Array): void {
    this.rawVarint(bytes.length);
    this.reserve(bytes.length);
    this.buf.set(bytes, this.pos);
    this.pos += bytes.length;
  }

  /** An `int64`/`uint64`/`int32`/enum field; negative values take 10 bytes (two's complement), as protobuf does. */
  int64(field: number, value: number): this {
    if (!Number.isSafeInteger(value)) throw new EventFileError('INVALID_VALUE', `field ${field}: an int64 must be a safe integer, got ${value}`);
    this.key(field, WireType.varint);
    if (value >= 0) {
      this.rawVarint(value);
    } else {
      let v = BigInt.asUintN(64, BigInt(value));
      this.reserve(10);
      while (v >= 0x80n) {
        this.buf[this.pos++] = Number(v & 0x7fn) | 0x80;
        v >>= 7n;
      }
      this.buf[this.pos++] = Number(v);
    }
    return this;
  }

  /** A `double` field (wire type 1, little-endian IEEE 754). */
  double(field: number, value: number): this {
    this.key(field, WireType.fixed64);
    this.reserve(8);
    this.view.setFloat64(this.pos, value, true);
    this.pos += 8;
    return this;
  }

  /** A `float` field (wire type 5): the value rounded to float32. */
  float(field: number, value: number): this {
    this.key(field, WireType.fixed32);
    this.reserve(4);
    this.view.setFloat32(this.pos, value, true);
    this.pos += 4;
    return this;
  }

  /** A `string` field, UTF-8. */
  string(field: number, value: string): this {
    return this.bytes(field, utf8.encode(value));
  }

  /** A `bytes` or embedded-message field. */
  bytes(field: number, value: Uint8Array): this {
    this.key(field, WireType.lengthDelimited);
    this.rawBytes(value);
    return this;
  }

  /** A `repeated double` field in packed form (one length-delimited run of 8-byte values). */
  packedDoubles(field: number, values: ArrayLike<number>): this {
    this.key(field, WireType.lengthDelimited);
    this.rawVarint(values.length * 8);
    this.reserve(values.length * 8);
    for (let i = 0; i < values.length; i++) {
      this.view.setFloat64(this.pos, values[i]!, true);
      this.pos += 8;
    }
    return this;
  }

  /** The message written so far (a copy; the writer can go on). */
  finish(): Uint8Array {
    return this.buf.slice(0, this.pos);
  }
}

/**
 * Reads protocol buffer fields one by one. `next()` returns the next field's number and wire
 * type (or null at the end); then exactly one read or `skip` consumes its value. Every read
 * checks the bounds and throws an `EventFileError` naming the offset.
 *
 * @example
 * const r = new ProtoReader(bytes);
 * for (let f = r.next(); f; f = r.next()) if (f.field === 2) step = r.int64(); else r.skip(f.wire);
 */
export class ProtoReader {
  private pos = 0;
  private readonly view: DataView;

  constructor(private readonly buf: Uint8Array, private readonly what = 'message') {
    this.view = new DataView(buf.buffer, buf.byteOffset, buf.byteLength);
  }

  private fail(message: string, at = this.pos): never {
    throw new EventFileError('MALFORMED', `${this.what}: ${message}`, at);
  }

  private need(n: number): void {
    if (this.pos + n > this.buf.length) this.fail(`${n} more bytes expected, the message ends`);
  }

  private rawVarint(): bigint {
    const start = this.pos;
    let result = 0n;
    for (let shift = 0n; shift < 70n; shift += 7n) {
      if (this.pos >= this.buf.length) this.fail('varint runs past the end', start);
      const b = this.buf[this.pos++]!;
      result |= BigInt(b & 0x7f) << shift;
      if ((b & 0x80) === 0) return result;
    }
    return this.fail('varint longer than 10 bytes', start);
  }

  private length(): number {
    const n = this.rawVarint();
    if (n > BigInt(this.buf.length - this.pos)) this.fail(`length ${n} runs past the end of the ${this.buf.length}-byte ${this.what}`);
    return Number(n);
  }

  /** The next field key, or null at the end of the message. */
  next(): { field: number; wire: number } | null {
    if (this.pos >= this.buf.length) return null;
    const at = this.pos;
    const key = Number(this.rawVarint());
    const field = Math.floor(key / 8);
    if (field === 0) this.fail('field number 0', at);
    return { field, wire: key & 7 };
  }

  /** An `int64` (two's complement) as a number; exact up to 2^53. */
  int64(): number {
    return Number(BigInt.asIntN(64, this.rawVarint()));
  }

  double(): number {
    this.need(8);
    const v = this.view.getFloat64(this.pos, true);
    this.pos += 8;
    return v;
  }

  float(): number {
    this.need(4);
    const v = this.view.getFloat32(this.pos, true);
    this.pos += 4;
    return v;
  }

  bytes(): Uint8Array {
    const n = this.length();
    const out = this.buf.subarray(this.pos, this.pos + n);
    this.pos += n;
    return out;
  }

  string(): string {
    const at = this.pos;
    try {
      return utf8Decoder.decode(this.bytes());
    } catch (err) {
      if (err instanceof EventFileError) throw err;
      return this.fail('string is not valid UTF-8', at);
    }
  }

  /** A `repeated double`, packed (wire type 2) or one unpacked element (wire type 1); both are valid encodings. */
  doubles(wire: number): number[] {
    if (wire === WireType.fixed64) return [this.double()];
    if (wire !== WireType.lengthDelimited) this.fail(`repeated double with wire type ${wire}`);
    const chunk = this.bytes();
    if (chunk.length % 8 !== 0) this.fail(`packed doubles of ${chunk.length} bytes (not a multiple of 8)`);
    const view = new DataView(chunk.buffer, chunk.byteOffset, chunk.byteLength);
    return Array.from({ length: chunk.length / 8 }, (_, i) => view.getFloat64(i * 8, true));
  }

  /** Skips a field this reader does not need. */
  skip(wire: number): void {
    if (wire === WireType.varint) this.rawVarint();
    else if (wire === WireType.fixed64) this.double();
    else if (wire === WireType.lengthDelimited) this.bytes();
    else if (wire === WireType.fixed32) this.float();
    else this.fail(`unsupported wire type ${wire}`);
  }

  /** Throws unless the field has the wire type its schema gives it. */
  expect(field: number, wire: number, expected: number): void {
    if (wire !== expected) this.fail(`field ${field} has wire type ${wire}, the schema says ${expected}`);
  }
}
