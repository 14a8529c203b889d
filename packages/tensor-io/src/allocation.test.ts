// No input makes a reader allocate more than 4x the file's size plus 64 MiB unless the header's
// claim is backed by bytes present. Each worst case is read in a fresh Node process and its peak
// resident set (process.resourceUsage().maxRSS) compared with a process that read a valid file.
import { mkdtempSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { deflatedZeros, f32, MiB, npyClaiming, packageDir, probe, type ProbeResult, ptFile, safetensorsClaiming } from './test-helpers.js';

const readers = join(packageDir, 'src', 'node', 'index.ts');

describe('peak memory on hostile files', { timeout: 60_000 }, () => {
  const tmp = mkdtempSync(join(tmpdir(), 'tensor-io-rss-'));
  let baseline: ProbeResult;
  const write = (name: string, bytes: Uint8Array) => {
    const path = join(tmp, name);
    writeFileSync(path, bytes);
    return path;
  };
  /** Reads `file` in a child and checks the bound; returns what the child reported. */
  const bounded = (fn: string, file: string): ProbeResult => {
    const r = probe(readers, fn, file);
    const size = statSync(file).size;
    const extraMiB = (r.maxRss - baseline.maxRss) / MiB;
    console.log(`${fn}(${file.slice(tmp.length + 1)}): ${size} bytes, peak RSS +${extraMiB.toFixed(1)} MiB over the baseline, ${r.ok ? 'read' : `${r.name}: ${r.message}`}`);
    expect(r.maxRss).toBeLessThanOrEqual(baseline.maxRss + 4 * size + 64 * MiB);
    return r;
  };

  beforeAll(() => {
    baseline = probe(readers, 'readTorchTensor', write('valid.pt', ptFile({ key: '0', numel: 4, offset: 0, size: [4], stride: [1] }, { '0': f32([1, 2, 3, 4]) })));
    expect(baseline.ok).toBe(true);
  });
  afterAll(() => rmSync(tmp, { recursive: true, force: true }));

  it('.pt: stride 0 over a one-element storage, claiming 256 MiB, is refused', () => {
    const size = [1, 2 ** 20, 64];
    const r = bounded('readTorchTensor', write('stride0.pt', ptFile({ key: '0', numel: 1, offset: 0, size, stride: [0, 0, 0] }, { '0': f32([1]) })));
    expect(r.name).toBe('TorchFormatError');
  });

  it('.pt: a 200 MiB unused entry of deflated zeros is never inflated', () => {
    const bytes = ptFile(
      [['fc.bias', { key: '0', numel: 4, offset: 0, size: [4], stride: [1] }]],
      { '0': f32([1, 2, 3, 4]) },
      [{ name: 'archive/extra/zeros.bin', data: deflatedZeros(200), method: 8, size: 200 * MiB }],
    );
    const r = bounded('readTorchCheckpoint', write('unused.pt', bytes));
    expect(r.ok).toBe(true);
  });

  it('.npy: a shape claiming 1 GiB over 16 bytes of data is refused', () => {
    const r = bounded('readNpy', write('claims.npy', npyClaiming('(268435456,)', 16)));
    expect(r.name).toBe('NpyFormatError');
  });

  it('safetensors: offsets and a shape beyond the file are refused', () => {
    const bytes = safetensorsClaiming({ dtype: 'F32', shape: [2 ** 28], data_offsets: [0, 2 ** 30] }, 16);
    const r = bounded('readSafetensors', write('claims.safetensors', bytes));
    expect(r.name).toBe('SafetensorsFormatError');
  });
});
