import { readFileSync } from 'node:fs';
import { TorchFormatError } from '../errors.js';
import type { HostTensor } from '../host-tensor.js';
import type { ReadOptions } from '../limits.js';
import { decodeTorchCheckpoint, decodeTorchTensor } from '../torch.js';
import { encodeTorchSave } from '../torch-save.js';
import { writeFileAtomic } from './atomic.js';

function readTorchFile(path: string): Uint8Array {
  try {
    return readFileSync(path);
  } catch (cause) {
    throw new TorchFormatError({ file: path, expected: 'a readable PyTorch checkpoint file', cause });
  }
}

/**
 * Reads a PyTorch checkpoint file written by `torch.save(state_dict, path)`; see
 * `decodeTorchCheckpoint` (and its `maxBytes` option). An unreadable file is a `TorchFormatError`
 * naming the path.
 *
 * @example
 * const weights = readTorchCheckpoint('checkpoints/best.pth');
 * model.setWeights(weights, { source: 'best.pth' }); // `module.` prefixes are stripped there
 */
export function readTorchCheckpoint(path: string, options?: ReadOptions): Map<string, HostTensor> {
  return decodeTorchCheckpoint(readTorchFile(path), path, options);
}

/**
 * Reads a single tensor written by `torch.save(tensor, path)` (the authors' demo tokens are saved
 * this way); see `decodeTorchTensor` (and its `maxBytes` option).
 *
 * @example
 * const { shape, data } = readTorchTensor('pt_darai_depth/rgb_raw/rgb_raw_0_0.5.pt'); // shape [T, 128]
 */
export function readTorchTensor(path: string, options?: ReadOptions): HostTensor {
  return decodeTorchTensor(readTorchFile(path), path, options);
}

/**
 * Writes `encodeTorchSave(value)` to `path` atomically (a temporary file, fsync, then a rename).
 *
 * @example
 * writeTorchSave('r3d.pth', hostWeights); // torch.load('r3d.pth') in Python
 */
export function writeTorchSave(path: string, value: HostTensor | Map<string, HostTensor>): void {
  writeFileAtomic(path, encodeTorchSave(value));
}
