import { decodeSafetensors, decodeTorchCheckpoint, decodeTorchTensor, parseNpy, TensorFormatError } from '@r3d-ts/tensor-io';

/** A file the user gave the page: its path inside the dropped folder (or its name) and its bytes. */
export interface InputFile {
  path: string;
  read(): Promise<Uint8Array>;
}

/** T tokens by C channels, row-major, as every view of the page takes them. */
export interface TokenMatrix {
  data: Float32Array;
  rows: number;
  cols: number;
}

/** One array found in a file: an `.npy` holds one, a safetensors file or a state_dict several. */
export interface FileArray {
  /** The file's path, plus `#key` for an entry of a safetensors file or a state_dict. */
  name: string;
  /** The entry's key, or the file's stem for a single-array file. */
  key: string;
  shape: number[];
  data: Float32Array;
}

/**
 * A file the page cannot use, with the one line the page shows: the file's name, what was expected
 * and what was found. Every reader of the page throws this (or tensor-io's `TensorFormatError`,
 * whose message has the same shape), so no bad file can blank the page.
 *
 * @example
 * new InputError('v.npy', 'a (T, C) token matrix', 'shape [5]').message; // 'v.npy: expected a (T, C) token matrix, found shape [5]'
 */
export class InputError extends Error {
  constructor(file: string, expected: string, found?: string) {
    super(`${file}: expected ${expected}${found !== undefined ? `, found ${found}` : ''}`);
    this.name = 'InputError';
  }

  /** A file a layout needs that is not there: `<file> is missing (<why>)`. */
  static missing(file: string, why: string): InputError {
    const err = new InputError(file, '');
    err.message = `${file} is missing (${why})`;
    return err;
  }
}

/** The extensions the page reads as tensors. */
export const TENSOR_EXTENSIONS = ['.npy', '.safetensors', '.pt', '.pth'] as const;

/**
 * The last path component without its extension.
 *
 * @example
 * stemOf('a/b/rgb_raw_3_0.5.pt'); // 'rgb_raw_3_0.5'
 */
export function stemOf(path: string): string {
  const base = path.slice(path.lastIndexOf('/') + 1);
  const dot = base.lastIndexOf('.');
  return dot > 0 ? base.slice(0, dot) : base;
}

/**
 * The lower-case extension with its dot, or '' when there is none.
 *
 * @example
 * extensionOf('x/Y.NPY'); // '.npy'
 */
export function extensionOf(path: string): string {
  const base = path.slice(path.lastIndexOf('/') + 1);
  const dot = base.lastIndexOf('.');
  return dot > 0 ? base.slice(dot).toLowerCase() : '';
}

function toFloat32(data: ArrayLike<number> | BigInt64Array, file: string): Float32Array {
  if (data instanceof Float32Array) return data;
  if (data instanceof BigInt64Array) throw new InputError(file, 'a float array (float32 or float64)', 'int64');
  return Float32Array.from(data as ArrayLike<number>);
}

/**
 * Decodes one tensor file's bytes by its extension: `.npy` (one array), safetensors (every entry),
 * `.pt`/`.pth` (a bare `torch.save(tensor)`, as the authors' demo tokens are, or a state_dict).
 * Bad bytes raise a one-line error naming the file.
 *
 * @example
 * const arrays = readTensorFile('rgb_raw_0_0.5.pt', bytes); // [{ name, key: 'rgb_raw_0_0.5', shape: [1, 14, 128], data }]
 */
export function readTensorFile(path: string, bytes: Uint8Array): FileArray[] {
  const ext = extensionOf(path);
  const key = stemOf(path);
  if (ext === '.npy') {
    const a = parseNpy(bytes, path);
    if (a.dtype === 'bool') throw new InputError(path, 'a numeric array of token values', 'dtype bool');
    return [{ name: path, key, shape: [...a.shape], data: toFloat32(a.data, path) }];
  }
  if (ext === '.safetensors') {
    const { tensors } = decodeSafetensors(bytes, path);
    return [...tensors].map(([k, e]) => ({ name: `${path}#${k}`, key: k, shape: [...e.shape], data: toFloat32(e.data, path) }));
  }
  if (ext === '.pt' || ext === '.pth') {
    try {
      const t = decodeTorchTensor(bytes, path);
      return [{ name: path, key, shape: [...t.shape], data: toFloat32(t.data, path) }];
    } catch (err) {
      // A state_dict is a dict, not one tensor: read its tensors instead.
      if (!(err instanceof TensorFormatError && err.found?.startsWith('a dict'))) throw err;
      return [...decodeTorchCheckpoint(bytes, path)].map(([k, t]) => ({ name: `${path}#${k}`, key: k, shape: [...t.shape], data: toFloat32(t.data, path) }));
    }
  }
  throw new InputError(path, `a tensor file (${TENSOR_EXTENSIONS.join(', ')}) or a folder of them`, ext ? `a ${ext} file` : 'no extension');
}

/**
 * Refuses NaN and Inf in one line naming the file and the first bad value's flat index: effective
 * rank would refuse them later, where the file's name is no longer known.
 *
 * @example
 * checkFinite({ name: 'x.npy', key: 'x', shape: [2], data: Float32Array.of(1, NaN) }); // throws 'x.npy: expected finite token values, ...'
 */
export function checkFinite(a: FileArray): void {
  for (let i = 0; i < a.data.length; i++) {
    const v = a.data[i]!;
    if (v - v !== 0) throw new InputError(a.name, 'finite token values', `${v} at flat index ${i} of shape [${a.shape.join(', ')}]`);
  }
}

/**
 * The token matrices of one array: a (T, C) matrix is one, a (B, T, C) stack is B of them; leading
 * singleton axes are dropped first (the authors save (1, T, C)). Anything else is refused in one
 * line naming the array.
 *
 * @example
 * matricesOf({ name: 'x.npy', key: 'x', shape: [2, 5, 8], data }); // two 5 x 8 matrices
 */
export function matricesOf(a: FileArray): TokenMatrix[] {
  checkFinite(a);
  const shape = [...a.shape];
  while (shape.length > 2 && shape[0] === 1) shape.shift();
  if (shape.length === 2) return [{ data: a.data, rows: shape[0]!, cols: shape[1]! }];
  if (shape.length === 3) {
    const [b, t, c] = shape as [number, number, number];
    return Array.from({ length: b }, (_, i) => ({ data: a.data.subarray(i * t * c, (i + 1) * t * c), rows: t, cols: c }));
  }
  throw new InputError(a.name, 'a (T, C) token matrix or a (B, T, C) stack', `shape [${a.shape.join(', ')}]`);
}

/**
 * The one line the page shows for any error while loading or analysing: the message's first line.
 *
 * @example
 * oneLine(new Error('x.npy: expected ...\n  at ...')); // 'x.npy: expected ...'
 */
export function oneLine(err: unknown): string {
  const text = err instanceof Error ? err.message : String(err);
  return text.split('\n')[0]!.trim();
}
