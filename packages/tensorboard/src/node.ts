// Node only: the file writer and folder helpers, plus everything of the browser-safe entry
export * from './index.js';
export { SummaryWriter } from './summary-writer.js';
export type { SummaryWriterOptions } from './summary-writer.js';
export { eventFiles, truncateEventFiles } from './event-files.js';
export type { TruncateReport } from './event-files.js';
