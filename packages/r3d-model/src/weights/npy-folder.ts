import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { parseNpy } from '@r3d-ts/datasets';
import { WeightImportError } from '../errors.js';
import type { HostTensor } from '../r3d.js';

/**
 * Reads a folder of `<state_dict name>.npy` files (the parity fixture's layout, or
 * `{k: v.numpy() for k, v in sd.items()}` saved one by one) into a name -> weight map.
 * Integer arrays (BatchNorm `num_batches_tracked`) are kept as numbers; the model reports them as
 * unused.
 *
 * @example
 * const report = model.setWeights(readNpyFolder('weights/'), { source: 'weights/' });
 */
export function readNpyFolder(dir: string): Map<string, HostTensor> {
  let names: string[];
  try {
    if (!statSync(dir).isDirectory()) throw new Error('not a directory');
    names = readdirSync(dir).filter((f) => f.endsWith('.npy')).sort();
  } catch (cause) {
    throw new WeightImportError({ file: dir, expected: 'a readable folder of <name>.npy weights', cause });
  }
  if (names.length === 0) throw new WeightImportError({ file: dir, expected: 'at least one <name>.npy file', found: 'none' });
  const out = new Map<string, HostTensor>();
  for (const f of names) {
    const path = join(dir, f);
    const arr = parseNpy(readFileSync(path), path);
    const data = arr.data instanceof BigInt64Array ? Float64Array.from(arr.data, (v) => Number(v)) : arr.data;
    out.set(f.slice(0, -'.npy'.length), { shape: arr.shape, data });
  }
  return out;
}
