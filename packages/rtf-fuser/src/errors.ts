/**
 * The one error this package throws for a bad configuration, a bad input shape or a weight that
 * does not fit. `field` names what was wrong (an option, an input, a weight name), `expected`
 * says what would have been accepted and `found` what was given.
 *
 * @example
 * try { fuser.setWeights({ alpha: { shape: [3], data: [1, 2, 3] } }); }
 * catch (e) { if (e instanceof FuserError) console.log(e.field, e.expected, e.found); }
 */
export class FuserError extends Error {
  readonly code = 'FUSER_INVALID';
  readonly field: string;
  readonly expected: string;
  readonly found?: string;

  constructor(init: { field: string; expected: string; found?: string }) {
    const found = init.found != null ? `, found ${init.found}` : '';
    super(`${init.field}: expected ${init.expected}${found}`);
    this.name = 'FuserError';
    this.field = init.field;
    this.expected = init.expected;
    if (init.found != null) this.found = init.found;
  }
}

export function shapeText(shape: readonly number[]): string {
  return `[${shape.join(', ')}]`;
}
