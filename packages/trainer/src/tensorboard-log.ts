import { SummaryWriter, truncateEventFiles } from '@r3d-ts/tensorboard/node';
import type { EpochRecord, StepEvent } from './loop.js';

/**
 * The tags a training run writes to TensorBoard, next to `log.jsonl` (same numbers, float32 in
 * the event file). Per step: `step/loss`, `step/loss.<term>` (the model's `lossTerms`),
 * `step/lr`, `step/samples_per_second`, `step/grad_norm` (when clipping). Per epoch, at the
 * epoch's last global step: `epoch/train_loss`, `epoch/lr`, `epoch/samples_per_second`,
 * `validation/moc_mean`, `validation/moc/obs<o>_pred<p>`, `validation/segmentation/obs<o>`,
 * `effective_rank/<before|after>.<modality>` and `effective_rank/fused`, and the model's
 * `histograms()` (e.g. `fuser/alpha`).
 */
export class TrainingBoard {
  private readonly writer: SummaryWriter;

  /**
   * Opens `logDir` for a run that starts fresh (`resumedAtStep` null: earlier event files there
   * are cleared, as `log.jsonl` is) or resumes after global step `resumedAtStep` (events logged
   * after it by the interrupted run are dropped, since this run logs those steps again).
   *
   * @example
   * const board = new TrainingBoard('runs/a/tb', null);
   */
  constructor(logDir: string, resumedAtStep: number | null) {
    truncateEventFiles(logDir, resumedAtStep ?? -1);
    this.writer = new SummaryWriter(logDir);
  }

  /** The event file being written. */
  get path(): string {
    return this.writer.path;
  }

  /**
   * Logs one optimisation step (buffered; see `flush`).
   *
   * @example
   * board.step(event, { segmentation: 1.2, action: 0.8, duration: 0.1 });
   */
  step(event: StepEvent, lossTerms?: Record<string, number>): void {
    const values: Record<string, number> = { 'step/loss': event.loss };
    for (const [name, v] of Object.entries(lossTerms ?? {})) values[`step/loss.${name}`] = v;
    values['step/lr'] = event.lr;
    values['step/samples_per_second'] = event.samplesPerSecond;
    if (event.gradNorm !== undefined) values['step/grad_norm'] = event.gradNorm;
    this.writer.scalars(values, event.globalStep);
  }

  /**
   * Logs an epoch's `log.jsonl` record and the model's histograms at the epoch's last step, and
   * writes everything buffered to the file.
   *
   * @example
   * board.epoch(record, { 'fuser/alpha': alpha });
   */
  epoch(record: EpochRecord, histograms: Record<string, ArrayLike<number>> = {}): void {
    const values: Record<string, number> = {
      'epoch/train_loss': record.trainLoss,
      'epoch/lr': record.lr,
      'epoch/samples_per_second': record.samplesPerSecond,
    };
    if (record.validation) {
      values['validation/moc_mean'] = record.validation.meanMoc;
      for (const c of record.validation.cells) values[`validation/moc/obs${c.observationRatio}_pred${c.predictionRatio}`] = c.moc;
      for (const s of record.validation.segmentation) values[`validation/segmentation/obs${s.observationRatio}`] = s.accuracy;
    }
    for (const [key, v] of Object.entries(record.effectiveRank ?? {})) values[`effective_rank/${key}`] = v;
    this.writer.scalars(values, record.globalStep);
    for (const [tag, v] of Object.entries(histograms)) {
      // a histogram of nothing finite (a diverged parameter) is no reason to stop training
      if (Array.prototype.some.call(v, Number.isFinite)) this.writer.histogram(tag, v, record.globalStep);
    }
    this.writer.flush();
  }

  /** Writes the buffered steps now (before a checkpoint, so a resume finds them on disk). */
  flush(): void {
    this.writer.flush();
  }

  close(): void {
    this.writer.close();
  }
}
