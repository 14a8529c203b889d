/**
 * Thrown when a model configuration or a call's inputs do not fit the model: names the field,
 * what was expected and what was found, so the caller can fix the call.
 *
 * @example
 * try { createR3DModel({ numClasses: 0 }); } catch (e) { if (e instanceof ModelConfigError) console.log(e.field); }
 */
export class ModelConfigError extends Error {
  readonly code = 'R3D_MODEL_CONFIG';
  readonly field: string;
  readonly expected: string;
  readonly found?: string;

  constructor(field: string, expected: string, found?: unknown) {
    const shown = found === undefined ? '' : `, found ${truncate(found)}`;
    super(`${field}: expected ${expected}${shown}`);
    this.name = 'ModelConfigError';
    this.field = field;
    this.expected = expected;
    if (found !== undefined) this.found = truncate(found);
  }
}

/**
 * Thrown when weights cannot be read or do not fit the model: names the file (or weight) and
 * what was expected. `missing` lists required weights that were absent.
 *
 * @example
 * try { await loadTorchCheckpoint(model, 'best.pt'); } catch (e) { if (e instanceof WeightImportError) console.log(e.missing); }
 */
export class WeightImportError extends Error {
  readonly code = 'R3D_WEIGHT_IMPORT';
  readonly file: string;
  readonly expected: string;
  readonly found?: string;
  readonly missing: string[];

  constructor(init: { file: string; expected: string; found?: unknown; missing?: string[]; cause?: unknown }) {
    const found = init.found === undefined ? '' : `, found ${truncate(init.found)}`;
    super(`${init.file}: expected ${init.expected}${found}`, init.cause != null ? { cause: init.cause } : undefined);
    this.name = 'WeightImportError';
    this.file = init.file;
    this.expected = init.expected;
    if (init.found !== undefined) this.found = truncate(init.found);
    this.missing = init.missing ?? [];
  }
}

function truncate(value: unknown, max = 80): string {
  const text = typeof value === 'string' ? JSON.stringify(value) : Array.isArray(value) ? `[${value.join(', ')}]` : String(value);
  return text.length > max ? `${text.slice(0, max - 4)}...` : text;
}
