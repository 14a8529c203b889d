/**
 * The matrix whose effective rank the page and Node compare: 12 tokens x 8 channels of thirds,
 * a few repeating patterns plus a diagonal, so its spectrum is neither flat nor rank one. Thirds
 * are not float32 numbers, so a tensor of it really differs from the plain numbers; and no
 * Math.sin, whose last bit may differ between engines.
 */
export function fixedMatrix(): number[][] {
  return Array.from({ length: 12 }, (_, i) => Array.from({ length: 8 }, (_, j) => (((i * 7 + j * 3) % 11) - 5) / 3 + (i === j ? 2 : 0)));
}
