export { crc32c, maskCrc, unmaskCrc, maskedCrc32c } from './crc32c.js';
export { frameRecord, readRecords } from './records.js';
export type { ReadRecordsOptions, RecordsRead } from './records.js';
export { FILE_VERSION, fileVersionEvent, scalarEvent, histogramEvent, encodeEvent, decodeEvent, encodeEventFile, readEvents } from './event.js';
export type { TfEvent, SummaryValue } from './event.js';
export { histogramOf, defaultBucketLimits } from './histogram.js';
export type { HistogramProto } from './histogram.js';
export { EventFileError } from './errors.js';
export type { EventFileErrorCode } from './errors.js';
