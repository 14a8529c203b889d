import { DatasetFormatError } from './errors.js';
import type { Sequence } from './sequence.js';

/** Where a loaded sequence came from: the file (or folder) each modality and the labels were read from. */
export interface SequenceSources {
  /** The label file (or the folder the frame count comes from). */
  labels: string;
  /** Per modality name, its file or folder. */
  modalities?: Record<string, string>;
}

/**
 * Checks every sequence a dataset opener loads, as it loads it, so a bad video is reported with
 * its file before any model sees it: at least one frame, one label per frame, every modality
 * holding whole frames, and every modality as wide (values per frame, and frame shape) as in the
 * first video loaded. A `DatasetFormatError` names the file that breaks the rule and the file it
 * disagrees with. One checker per dataset instance.
 *
 * @example
 * const checker = new SequenceChecker();
 * const seq = checker.check(loaded, { labels: 'groundTruth/v2.txt', modalities: { rgb: 'features/v2.npy' } });
 */
export class SequenceChecker {
  private readonly first = new Map<string, { dim: number; shape?: number[]; file: string }>();

  check(seq: Sequence, sources: SequenceSources): Sequence {
    const fileOf = (name: string) => sources.modalities?.[name] ?? sources.labels;
    if (!Number.isSafeInteger(seq.frames) || seq.frames < 1) {
      throw new DatasetFormatError({ file: sources.labels, expected: `a video with at least one frame (${seq.id})`, found: `${seq.frames} frames` });
    }
    if (seq.labels.length !== seq.frames) {
      throw new DatasetFormatError({ file: sources.labels, expected: `one label per frame of ${seq.id} (${seq.frames})`, found: `${seq.labels.length} labels` });
    }
    for (const [name, m] of Object.entries(seq.modalities)) {
      if (!m) continue;
      const file = fileOf(name);
      if (!Number.isSafeInteger(m.dim) || m.dim < 1) throw new DatasetFormatError({ file, expected: `at least one ${name} value per frame`, found: `${m.dim}` });
      if (m.data.length !== seq.frames * m.dim) {
        throw new DatasetFormatError({ file, expected: `${seq.frames} frames x ${m.dim} ${name} values`, found: `${m.data.length} values` });
      }
      const ref = this.first.get(name);
      if (!ref) {
        this.first.set(name, { dim: m.dim, ...(m.shape ? { shape: [...m.shape] } : {}), file });
        continue;
      }
      const shapeOf = (dim: number, shape?: number[]) => (shape ? `(${shape.join(' x ')})` : `${dim}`);
      if (ref.dim !== m.dim || (ref.shape != null && m.shape != null && ref.shape.join() !== m.shape.join())) {
        throw new DatasetFormatError({ file, expected: `${name} frames of ${shapeOf(ref.dim, ref.shape)} values like ${ref.file}`, found: shapeOf(m.dim, m.shape) });
      }
    }
    return seq;
  }
}

/**
 * Collects what a dataset opener leaves out or shortens (a frame or a video) and reports it as one
 * line that counts it, through `warn` (default `process.emitWarning`), when the stream ends: a
 * dataset never drops data without a word.
 *
 * @example
 * const dropped = new DropCounter('FUTR data/darai', 'videos truncated to their shortest modality');
 * dropped.add('v1: 100 labels, rgb 99 rows', 1); dropped.report(console.warn);
 */
export class DropCounter {
  private items: string[] = [];
  private amount = 0;

  constructor(
    private readonly source: string,
    private readonly what: string,
    private readonly unit: string,
  ) {}

  add(example: string, amount: number): void {
    this.items.push(example);
    this.amount += amount;
  }

  /** Reports and resets; nothing when nothing was dropped. */
  report(warn: (message: string) => void = (m) => process.emitWarning(m, 'DatasetWarning'), total?: number): void {
    if (this.items.length === 0) return;
    const of = total != null ? ` of ${total}` : '';
    const examples = `${this.items.slice(0, 3).join('; ')}${this.items.length > 3 ? '; ...' : ''}`;
    warn(`${this.source}: ${this.items.length}${of} ${this.what} (${this.amount} ${this.unit} dropped in all): ${examples}`);
    this.items = [];
    this.amount = 0;
  }
}
