// TFRecord framing (tensorflow/core/lib/io/record_writer.cc): each record is
//   uint64 length (little-endian) | uint32 masked crc32c(length bytes) | data | uint32 masked crc32c(data)
import { maskedCrc32c } from './crc32c.js';
import { EventFileError } from './errors.js';

const HEADER = 12;
const FOOTER = 4;

/**
 * One TFRecord: `data` framed with its length and the masked CRC-32C of both. Concatenated
 * records make a TFRecord file; an event file is one whose records are `Event` messages.
 *
 * @example
 * const record = frameRecord(encodeEvent(scalarEvent('loss', 0.5, 1)));
 */
export function frameRecord(data: Uint8Array): Uint8Array {
  const out = new Uint8Array(HEADER + data.length + FOOTER);
  const view = new DataView(out.buffer);
  view.setBigUint64(0, BigInt(data.length), true);
  view.setUint32(8, maskedCrc32c(out.subarray(0, 8)), true);
  out.set(data, HEADER);
  view.setUint32(HEADER + data.length, maskedCrc32c(data), true);
  return out;
}

/** Options of `readRecords`. */
export interface ReadRecordsOptions {
  /**
   * What to do with a last record cut short (a writer killed mid-write, or a file still being
   * written): `error` (default) throws `TRUNCATED`; `drop` returns the records before it.
   */
  truncatedTail?: 'error' | 'drop';
}

/** The records of a TFRecord file, and how many bytes of it they cover. */
export interface RecordsRead {
  records: Uint8Array[];
  /** Bytes of complete records; less than the input when a truncated tail was dropped. */
  bytesRead: number;
}

/**
 * Splits a TFRecord file into its records, verifying both CRCs of every record: a mismatch
 * throws `EventFileError` with code `CRC_MISMATCH` and the record's offset. The returned arrays
 * are views into `bytes`.
 *
 * @example
 * const { records } = readRecords(readFileSync(path)); // each a serialized Event
 */
export function readRecords(bytes: Uint8Array, options: ReadRecordsOptions = {}): RecordsRead {
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const records: Uint8Array[] = [];
  let pos = 0;
  while (pos < bytes.length) {
    const truncated = (what: string): RecordsRead => {
      if (options.truncatedTail === 'drop') return { records, bytesRead: pos };
      throw new EventFileError('TRUNCATED', `record ${records.length} is cut short: ${what}, the file ends after ${bytes.length} bytes`, pos);
    };
    if (pos + HEADER > bytes.length) return truncated('its 12-byte header is incomplete');
    const lengthBytes = bytes.subarray(pos, pos + 8);
    const lengthCrc = view.getUint32(pos + 8, true);
    if (maskedCrc32c(lengthBytes) !== lengthCrc) {
      throw new EventFileError('CRC_MISMATCH', `record ${records.length}: the length's CRC does not match (stored 0x${hex(lengthCrc)}, computed 0x${hex(maskedCrc32c(lengthBytes))})`, pos);
    }
    const length = view.getBigUint64(pos, true);
    if (length > BigInt(bytes.length - pos - HEADER - FOOTER)) return truncated(`it announces ${length} bytes of data`);
    const n = Number(length);
    const data = bytes.subarray(pos + HEADER, pos + HEADER + n);
    const dataCrc = view.getUint32(pos + HEADER + n, true);
    if (maskedCrc32c(data) !== dataCrc) {
      throw new EventFileError('CRC_MISMATCH', `record ${records.length}: the data's CRC does not match (stored 0x${hex(dataCrc)}, computed 0x${hex(maskedCrc32c(data))})`, pos);
    }
    records.push(data);
    pos += HEADER + n + FOOTER;
  }
  return { records, bytesRead: pos };
}

function hex(n: number): string {
  return n.toString(16).padStart(8, '0');
}
