/**
 * A configuration or input problem found before any work starts: `field` names the flag or
 * config key, `message` is one line saying what was expected and what was found.
 */
export class AblationConfigError extends Error {
  readonly code = 'ABLATION_CONFIG';
  readonly field: string;

  constructor(field: string, message: string) {
    super(`${field}: ${message}`);
    this.name = 'AblationConfigError';
    this.field = field;
  }
}

/** A result folder that cannot be read or merged (missing cells/, mismatched grids). */
export class AblationResultError extends Error {
  readonly code = 'ABLATION_RESULT';

  constructor(message: string) {
    super(message);
    this.name = 'AblationResultError';
  }
}
