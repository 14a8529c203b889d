/**
 * The largest difference between `actual` and `expected`, relative to expected's scale (its largest
 * magnitude, at least 1): how far a backend's values or gradients stray from a reference run.
 *
 * @example
 * expect(worstRelative(native, cpu)).toBeLessThan(1e-5);
 */
export function worstRelative(actual: ArrayLike<number>, expected: ArrayLike<number>): number {
  let scale = 1;
  for (let i = 0; i < expected.length; i++) scale = Math.max(scale, Math.abs(expected[i]!));
  let worst = 0;
  for (let i = 0; i < actual.length; i++) worst = Math.max(worst, Math.abs(actual[i]! - expected[i]!) / scale);
  return worst;
}
