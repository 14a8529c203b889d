/** Why a rank-metrics function refused its input. */
export type RankMetricsErrorCode = 'NON_FINITE' | 'SHAPE_MISMATCH' | 'INVALID_INPUT';

/**
 * The one error class of this package. `code` says what kind of problem it is; the message names
 * the offending row and column, or both shapes, so the caller can find the bad value.
 *
 * @example
 * try { effectiveRank(m); } catch (e) { if (e instanceof RankMetricsError && e.code === 'NON_FINITE') ... }
 */
export class RankMetricsError extends Error {
  constructor(
    readonly code: RankMetricsErrorCode,
    message: string,
  ) {
    super(message);
    this.name = 'RankMetricsError';
  }
}

/** Lazily built assertion: the message costs nothing unless the check fails (tfjs style). */
export function check(cond: boolean, code: RankMetricsErrorCode, message: () => string): asserts cond {
  if (!cond) throw new RankMetricsError(code, message());
}
