/** What went wrong in an event file or message. */
export type EventFileErrorCode = 'CRC_MISMATCH' | 'TRUNCATED' | 'MALFORMED' | 'INVALID_VALUE';

/**
 * An event file or protocol buffer that cannot be read or written: a CRC that does not match
 * (`CRC_MISMATCH`), a record cut short (`TRUNCATED`), bytes that are not the expected message
 * (`MALFORMED`), or a value that cannot be encoded (`INVALID_VALUE`). `offset` is the byte
 * position in the file or message where the problem starts, when there is one.
 *
 * @example
 * try { readEvents(bytes); } catch (e) { if (e instanceof EventFileError && e.code === 'CRC_MISMATCH') console.error(e.offset); }
 */
export class EventFileError extends Error {
  readonly code: EventFileErrorCode;
  readonly offset: number | undefined;

  constructor(code: EventFileErrorCode, message: string, offset?: number) {
    super(offset != null ? `${message} (at byte ${offset})` : message);
    this.name = 'EventFileError';
    this.code = code;
    this.offset = offset;
  }
}
