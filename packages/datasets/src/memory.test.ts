// Streaming keeps memory bounded: iterating 5,000 feature files grows the heap by far less than
// the data read (5,000 x 4 KB = 20 MB), because no loader keeps what it has yielded.
import { describe, expect, it } from 'vitest';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { encodeNpy } from '@r3d-ts/tensor-io';
import { FutrDataset } from './futr/index.js';
import { tempDir } from './test-fixtures.js';

function collector(): () => void {
  const g = (globalThis as { gc?: () => void }).gc;
  if (g) return g;
  setFlagsFromString('--expose-gc');
  return runInNewContext('gc') as () => void;
}

// Typed-array backing stores live outside the V8 heap: count them too, or a leak of the data would hide.
const used = () => { const m = process.memoryUsage(); return m.heapUsed + m.arrayBuffers; };

describe('streaming memory', () => {
  it('iterates 5,000 feature files with bounded heap growth', async () => {
    const root = tempDir('mem');
    mkdirSync(join(root, 'features'));
    mkdirSync(join(root, 'groundTruth'));
    writeFileSync(join(root, 'mapping.txt'), '0 a\n1 b\n');
    const T = 16, D = 64;
    const gt = Array.from({ length: T }, (_, t) => (t < 8 ? 'a' : 'b')).join('\n');
    for (let i = 0; i < 5000; i++) {
      const id = `v${String(i).padStart(5, '0')}`;
      writeFileSync(join(root, 'features', `${id}.npy`), encodeNpy({ shape: [T, D], data: new Float32Array(T * D).fill(i) }));
      writeFileSync(join(root, 'groundTruth', `${id}.txt`), gt);
    }
    const gc = collector();
    const ds = new FutrDataset({ root });
    let n = 0;
    let checksum = 0;
    let base = 0;
    let peak = 0;
    for await (const seq of ds.sequences()) {
      checksum += seq.modalities.rgb!.data[0]! + seq.labels[T - 1]!;
      n++;
      if (n === 500) {
        gc();
        gc();
        base = used();
      }
      if (n > 500 && n % 500 === 0) {
        gc();
        gc();
        peak = Math.max(peak, used());
      }
    }
    expect(n).toBe(5000);
    expect(checksum).toBe((4999 * 5000) / 2 + 5000);
    const growthMB = (peak - base) / 2 ** 20;
    console.log(`heap + array-buffer growth over 4,500 sequences: ${growthMB.toFixed(2)} MB (data read: ${((5000 * T * D * 4) / 2 ** 20).toFixed(1)} MB)`);
    // Keeping every sequence would add >= 17.6 MB (4,500 x 4 KB of Float32 data alone).
    expect(growthMB).toBeLessThan(10);
  });
});
