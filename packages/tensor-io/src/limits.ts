/**
 * The read option every reader of this package takes. `maxBytes` is the most memory a read may
 * allocate for what it decodes (arrays returned, storages inflated), checked against the header's
 * claims before anything is allocated; the file readers of `./node` also refuse a file larger than
 * it before reading it. Default `DEFAULT_MAX_BYTES` (4 GiB).
 *
 * @example
 * const weights = decodeTorchCheckpoint(bytes, 'best.pth', { maxBytes: 16 * 2 ** 30 }); // a 16 GiB checkpoint
 */
export interface ReadOptions {
  maxBytes?: number;
}

/**
 * The default `maxBytes` of every reader: 4 GiB, more than any checkpoint or feature file of this
 * project decodes to, and less than what would take a typical machine down. Raise it per call.
 *
 * @example
 * parseNpy(bytes, 'big.npy', { maxBytes: 2 * DEFAULT_MAX_BYTES });
 */
export const DEFAULT_MAX_BYTES = 4 * 2 ** 30;

/** `options.maxBytes` or the default; a value that is not a non-negative number is a RangeError. */
export function maxBytesOf(options: ReadOptions | undefined): number {
  const max = options?.maxBytes ?? DEFAULT_MAX_BYTES;
  if (typeof max !== 'number' || !(max >= 0)) throw new RangeError(`maxBytes must be a non-negative number of bytes, got ${String(max)}`);
  return max;
}

/**
 * How far a `.pt` file may go beyond the bytes it holds: views that repeat stored elements (stride
 * 0 broadcasts, tied weights sharing one storage) plus deflated entries that inflate beyond their
 * compressed size, together at most twice the file's size plus 16 MiB. Beyond that, what the
 * header claims is not backed by bytes present (`torch.save` stores its entries uncompressed).
 */
export function expansionAllowance(fileBytes: number): number {
  return 2 * fileBytes + 16 * 2 ** 20;
}

/** `1073741824 bytes (1 GiB)`: bytes, and a rounded size a user reads at a glance. */
export function formatBytes(n: number): string {
  if (n < 1024) return `${n} bytes`;
  const units = ['KiB', 'MiB', 'GiB', 'TiB', 'PiB', 'EiB'];
  let v = n / 1024;
  let u = 0;
  while (v >= 1024 && u < units.length - 1) {
    v /= 1024;
    u++;
  }
  return `${n} bytes (${v >= 100 ? v.toFixed(0) : v.toPrecision(3)} ${units[u]})`;
}
