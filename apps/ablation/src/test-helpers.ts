// Test-only helpers: a tiny grid that trains in seconds, a CLI runner, and a torch.save writer.
import { spawnSync, type SpawnSyncReturns } from 'node:child_process';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { zipSync } from 'fflate';
import type { AblationConfigInput } from './config.js';

export const appDir = join(dirname(fileURLToPath(import.meta.url)), '..');

/** A grid small enough for a test: 8 short synthetic videos, C = 32, one epoch. */
export function tinyConfig(out: string, extra: AblationConfigInput = {}): AblationConfigInput {
  return {
    partners: ['rgb', 'depth', 'text'],
    fusers: ['rtf-variance'],
    seeds: [1],
    epochs: 1,
    batchSize: 8,
    rankObservationRatios: [0.3, 0.6, 0.9],
    predictionRatios: [0.2, 0.5],
    model: { hidden: 32, heads: 4, ffnDim: 64 },
    synthetic: { count: 8, sampleRate: 4 },
    backend: 'wasm',
    progress: false,
    out,
    ...extra,
  };
}

/** Runs the CLI from source (tsx) and returns its exit status and output. */
export function runCli(args: string[], options: { cwd?: string; timeout?: number } = {}): SpawnSyncReturns<string> {
  return spawnSync(process.execPath, ['--import', 'tsx', join(appDir, 'src', 'cli.ts'), ...args], {
    cwd: options.cwd ?? appDir,
    encoding: 'utf8',
    timeout: options.timeout ?? 120_000,
    env: { ...process.env, R3D_BACKEND: 'wasm' },
  });
}

/** Writes what `torch.save(tensor, path)` writes for a bare float32 tensor (zip, protocol 2 pickle). */
export function torchSaveTensor(values: Float32Array, shape: number[]): Uint8Array {
  const out: number[] = [];
  let memo = 0;
  const u32 = (n: number) => out.push(n & 255, (n >>> 8) & 255, (n >>> 16) & 255, (n >>> 24) & 255);
  const put = () => out.push(0x71, memo++);
  const str = (s: string) => { const b = Buffer.from(s, 'utf8'); out.push(0x58); u32(b.length); out.push(...b); put(); };
  const int = (n: number) => { if (n < 256) out.push(0x4b, n); else if (n < 65536) out.push(0x4d, n & 255, n >> 8); else { out.push(0x4a); u32(n); } };
  const global = (mod: string, name: string) => { out.push(0x63, ...Buffer.from(`${mod}\n${name}\n`, 'latin1')); put(); };
  const tuple = (items: number[]) => { out.push(0x28); items.forEach(int); out.push(0x74); put(); };
  const stride = shape.map((_, i) => shape.slice(i + 1).reduce((a, b) => a * b, 1));
  out.push(0x80, 2);
  global('torch._utils', '_rebuild_tensor_v2');
  out.push(0x28); // MARK: the args
  out.push(0x28); // MARK: the persistent id
  str('storage');
  global('torch', 'FloatStorage');
  str('0');
  str('cpu');
  int(values.length);
  out.push(0x74); put(); // TUPLE
  out.push(0x51); // BINPERSID
  int(0);
  tuple(shape);
  tuple(stride);
  out.push(0x89); // False (requires_grad)
  global('collections', 'OrderedDict');
  out.push(0x29, 0x52); put(); // OrderedDict()
  out.push(0x74); put(); // TUPLE
  out.push(0x52); put(); // REDUCE
  out.push(0x2e); // STOP
  return zipSync({
    'archive/data.pkl': Uint8Array.from(out),
    'archive/data/0': new Uint8Array(values.buffer.slice(values.byteOffset, values.byteOffset + values.byteLength)),
    'archive/byteorder': Buffer.from('little'),
    'archive/version': Buffer.from('3\n'),
  }, { level: 0 });
}
