import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { NpyFormatError } from '../errors.js';
import type { HostTensor } from '../host-tensor.js';
import { type ReadOptions, maxBytesOf } from '../limits.js';
import { parseNpy } from '../npy.js';

/**
 * Reads a folder of `<state_dict name>.npy` files (the parity fixture's layout, or
 * `{k: v.numpy() for k, v in sd.items()}` saved one by one) into a name -> weight map.
 * Integer arrays (BatchNorm `num_batches_tracked`) are kept as numbers (int64 as float64). A
 * missing or empty folder, or a bad file in it, is an `NpyFormatError` naming it. `maxBytes`
 * (default 4 GiB) bounds the arrays of the whole folder, each checked before it is allocated.
 *
 * @example
 * const report = model.setWeights(readNpyFolder('weights/'), { source: 'weights/' });
 */
export function readNpyFolder(dir: string, options?: ReadOptions): Map<string, HostTensor> {
  let left = maxBytesOf(options);
  let names: string[];
  try {
    if (!statSync(dir).isDirectory()) throw new Error('not a directory');
    names = readdirSync(dir).filter((f) => f.endsWith('.npy')).sort();
  } catch (cause) {
    throw new NpyFormatError({ file: dir, expected: 'a readable folder of <name>.npy weights', cause });
  }
  if (names.length === 0) throw new NpyFormatError({ file: dir, expected: 'at least one <name>.npy file', found: 'none' });
  const out = new Map<string, HostTensor>();
  for (const f of names) {
    const path = join(dir, f);
    const arr = parseNpy(readFileSync(path), path, { maxBytes: left });
    left -= arr.data.byteLength;
    const data = arr.data instanceof BigInt64Array ? Float64Array.from(arr.data, (v) => Number(v)) : arr.data;
    out.set(f.slice(0, -'.npy'.length), { shape: arr.shape, data });
  }
  return out;
}
