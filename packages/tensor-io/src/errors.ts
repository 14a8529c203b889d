/**
 * A tensor file (or byte image) that breaks its format: it names the file, where in it (a byte
 * offset, when one applies), what was expected and what was found, so a user can fix the file.
 * Every reader and writer of this package throws one of its subclasses (`NpyFormatError`,
 * `SafetensorsFormatError`, `TorchFormatError`) for bad input, so `instanceof TensorFormatError`
 * catches them all. `found` keeps what was found in full (the message shortens it), for callers
 * that re-throw it as their own error.
 *
 * @example
 * try { decodeSafetensors(bytes, 'w.safetensors'); } catch (e) { if (e instanceof TensorFormatError) console.error(e.file, e.expected); }
 */
export class TensorFormatError extends Error {
  readonly code: string = 'TENSOR_FORMAT';
  readonly file: string;
  readonly offset?: number;
  readonly expected: string;
  readonly found?: string;

  constructor(init: { file: string; offset?: number; expected: string; found?: string; cause?: unknown }) {
    const where = init.offset != null ? ` @byte ${init.offset}` : '';
    const found = init.found != null ? `, found ${truncate(init.found)}` : '';
    super(`${init.file}${where}: expected ${init.expected}${found}`, init.cause != null ? { cause: init.cause } : undefined);
    this.name = 'TensorFormatError';
    this.file = init.file;
    if (init.offset != null) this.offset = init.offset;
    this.expected = init.expected;
    if (init.found != null) this.found = init.found;
  }
}

/**
 * A `.npy` file that is not a C-order, little-endian numeric array numpy wrote: bad magic, an
 * unknown format version, a header without `descr`/`fortran_order`/`shape`, a big-endian or
 * complex dtype, or too few data bytes. `offset` points at the field.
 *
 * @example
 * try { parseNpy(bytes, 'x.npy'); } catch (e) { if (e instanceof NpyFormatError) console.log(e.offset, e.expected); }
 */
export class NpyFormatError extends TensorFormatError {
  override readonly code = 'NPY_FORMAT';

  constructor(init: { file: string; offset?: number; expected: string; found?: string; cause?: unknown }) {
    super(init);
    this.name = 'NpyFormatError';
  }
}

/**
 * A safetensors file (or image) that breaks the format: truncated, trailing bytes, a bad header,
 * an unknown dtype, offsets that do not match the shapes; or an entry the encoder cannot write.
 *
 * @example
 * try { decodeSafetensors(bytes, 'w.safetensors'); } catch (e) { if (e instanceof SafetensorsFormatError) console.error(e.file, e.found); }
 */
export class SafetensorsFormatError extends TensorFormatError {
  override readonly code = 'SAFETENSORS_FORMAT';

  constructor(file: string, expected: string, found?: string, cause?: unknown) {
    super({ file, expected, ...(found !== undefined ? { found } : {}), ...(cause != null ? { cause } : {}) });
    this.name = 'SafetensorsFormatError';
  }
}

/**
 * A PyTorch `.pt` file this reader cannot read: not a zip checkpoint (the legacy pre-1.6 format,
 * or not torch at all), a zip entry whose declared size its data does not back, a pickle it does
 * not understand, a whole pickled model instead of a state_dict, a tensor view that is not exact
 * (negative, fractional or out-of-storage offset, size or stride), or more bytes than `maxBytes`.
 * For a bad view, `tensor` names the state_dict key (`<tensor>` for a bare tensor) and `field`
 * the part of the view (`storage offset`, `size`, `stride`, `size and stride`, `storage`).
 *
 * @example
 * try { decodeTorchCheckpoint(bytes, 'best.pth'); } catch (e) { if (e instanceof TorchFormatError) console.error(e.tensor, e.field, e.expected); }
 */
export class TorchFormatError extends TensorFormatError {
  override readonly code = 'TORCH_FORMAT';
  readonly tensor?: string;
  readonly field?: string;

  constructor(init: { file: string; expected: string; found?: string; cause?: unknown; tensor?: string; field?: string }) {
    super(init);
    this.name = 'TorchFormatError';
    if (init.tensor != null) this.tensor = init.tensor;
    if (init.field != null) this.field = init.field;
  }
}

function truncate(s: string, max = 80): string {
  const oneLine = JSON.stringify(s);
  return oneLine.length > max ? `${oneLine.slice(0, max - 4)}..."` : oneLine;
}
