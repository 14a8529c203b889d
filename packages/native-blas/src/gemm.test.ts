import { Worker } from 'node:worker_threads';
import { describe, expect, it } from 'vitest';
import { gemmIsaWanted, loadAddon, ownGemmWanted } from './addon.js';
import { fmaf, float32Bits, gemmInKernelOrder, kernelFor } from './testing/gemm-order.js';
import { randomArray } from './testing/random-array.js';

const status = loadAddon();
const addon = status.ok ? status.addon : undefined;
// Our kernels run where the CPU has AVX-512 or AVX2 + FMA; elsewhere setOwnGemm(true) reports false.
const own = addon ? addon.setOwnGemm(true) : false;


/** op(A) op(B) in float64, row-major: each element's products summed in reduction order. */
function referenceProduct(a: Float32Array, b: Float32Array, m: number, n: number, k: number, ta: boolean, tb: boolean): Float64Array {
  // rows of op(A) and columns of op(B) copied out contiguous first: the same sums, read in order
  const rowsA = new Float64Array(m * k);
  const colsB = new Float64Array(n * k);
  for (let i = 0; i < m; i++) for (let p = 0; p < k; p++) rowsA[i * k + p] = ta ? a[p * m + i]! : a[i * k + p]!;
  for (let j = 0; j < n; j++) for (let p = 0; p < k; p++) colsB[j * k + p] = tb ? b[j * k + p]! : b[p * n + j]!;
  const out = new Float64Array(m * n);
  for (let i = 0; i < m; i++) {
    const row = i * k;
    for (let j = 0; j < n; j++) {
      const col = j * k;
      let s = 0;
      for (let p = 0; p < k; p++) s += rowsA[row + p]! * colsB[col + p]!;
      out[i * n + j] = s;
    }
  }
  return out;
}

/** C = op(A) op(B) + beta C in float64 from the product above. */
function reference(product: Float64Array, c0: Float32Array, beta: number): Float64Array {
  return product.map((s, i) => s + beta * c0[i]!);
}

// Every shape is past the kernels' 8 MFLOP floor; the odd sizes hit the row, column and
// reduction edges of both kernels (6 x 4 and 12 x 32 tiles, 16-wide vectors, 1024-long blocks).
const cases: Array<[number, number, number, boolean, boolean]> = [
  [45, 70, 1300, false, true], // dot kernel, reduction tail of 4
  [61, 43, 1600, false, true], // dot kernel, rows a multiple of 16 floats: loads realigned
  [30, 70, 3072, false, true], // the same over three full reduction blocks
  [301, 129, 2049, false, true], // dot kernel over three reduction blocks
  [150, 130, 4100, false, true], // dot kernel, a 2 MB B for few rows: one row chunk per thread
  [300, 77, 200, false, true], // short reduction: B transposed, outer kernel
  [64, 512, 128, false, true], // the same, B (512 x 128, a feed-forward weight) transposed 16 rows at a time
  [131, 97, 1500, true, false], // A^T B (weight gradients), two reduction blocks
  [250, 67, 333, false, false], // A B
  [70, 90, 700, true, true], // A^T B^T: B transposed, outer kernel
  // rows of B a multiple of 16 floats: the outer kernel's column tiles shift to B's cache lines
  [131, 160, 800, true, false], // A^T B (the depth projection's weight gradient, smaller)
  [100, 96, 900, false, false], // A B
  [100, 128, 512, false, false], // A B, 128 columns: shifting them would add a fifth column tile, so no shift
  [200, 16, 2000, true, false], // one 16-column strip: a cut first tile and a short second one
  // rows of B 4 KB or wider: B's columns are packed 64 at a time before the row tiles run over them
  [40, 1100, 300, true, false], // A^T B, a last packed block of 12 columns
  [30, 1040, 500, true, false], // the same with rows a multiple of 16 floats (shifted first block)
  [50, 1030, 1200, false, false], // A B over two reduction blocks
  // a long reduction over many rows of A, a narrow B: C^T = B A^T on the outer kernel, A's rows
  // transposed into its packed blocks (9 column tiles of C^T, a last pack of 36 rows, a tail of 8)
  [260, 100, 8200, false, true],
];

describe.skipIf(!own)(own ? 'own GEMM' : 'own GEMM (skipped: this CPU has neither AVX-512 nor AVX2 + FMA, or the addon is not built)', () => {
  for (const [m, n, k, ta, tb] of cases) {
    const name = `${m}x${n}x${k} ${ta ? 'T' : 'N'}${tb ? 'T' : 'N'}`;
    it(`${name}: matches float64 and BLAS for beta 0, 1 and 0.5`, () => {
      const a = randomArray(m * k, m);
      const b = randomArray(k * n, n);
      const c0 = randomArray(m * n, k);
      const product = referenceProduct(a, b, m, n, k, ta, tb);
      for (const beta of [0, 1, 0.5]) {
        const want = reference(product, c0, beta);
        const ours = Float32Array.from(c0);
        const blas = Float32Array.from(c0);
        addon!.setOwnGemm(true);
        addon!.sgemm(a, b, ours, 1, 1, 1, m, n, k, ta, tb, 1, beta);
        addon!.setOwnGemm(false);
        addon!.sgemm(a, b, blas, 1, 1, 1, m, n, k, ta, tb, 1, beta);
        addon!.setOwnGemm(true);
        // sums of k products of numbers below 0.5: float32 rounding stays below 1e-5 relative up to
        // k = 4096; past that, the outer kernel's chains of 1024 sequential FMAs per element (the
        // rows case) round about in proportion to k
        const tolerance = 1e-5 * Math.max(1, k / 4096);
        let worstOurs = 0;
        let worstBlas = 0;
        for (let i = 0; i < m * n; i++) {
          worstOurs = Math.max(worstOurs, Math.abs(ours[i]! - want[i]!) / (1 + Math.abs(want[i]!)));
          worstBlas = Math.max(worstBlas, Math.abs(ours[i]! - blas[i]!) / (1 + Math.abs(blas[i]!)));
        }
        expect(worstOurs, `beta ${beta}`).toBeLessThan(tolerance);
        expect(worstBlas, `beta ${beta}`).toBeLessThan(tolerance);
      }
    });
  }

  it('gives bit-identical results on 1, 2 and 3 threads', () => {
    const before = addon!.getNumThreads();
    try {
      for (const [m, n, k, ta, tb] of cases) {
        const a = randomArray(m * k, 1);
        const b = randomArray(k * n, 2);
        const results = [1, 2, 3].map((threads) => {
          addon!.setNumThreads(threads);
          const c = new Float32Array(m * n);
          addon!.sgemm(a, b, c, 1, 1, 1, m, n, k, ta, tb, 1, 0);
          return c;
        });
        expect(Buffer.from(results[1]!.buffer).equals(Buffer.from(results[0]!.buffer))).toBe(true);
        expect(Buffer.from(results[2]!.buffer).equals(Buffer.from(results[0]!.buffer))).toBe(true);
      }
    } finally {
      addon!.setNumThreads(before);
    }
  });

  it('gives bit-identical results wherever the operands lie in memory (aligned loads do not change the sums)', () => {
    for (const [m, n, k, ta, tb] of cases) {
      const a = randomArray(m * k, 3);
      const b = randomArray(k * n, 4);
      const results = [0, 1, 3, 7, 13].map((offset) => {
        // the same numbers, starting `offset` floats past a fresh allocation
        const at = new Float32Array(m * k + 16).subarray(offset, offset + m * k);
        const bt = new Float32Array(k * n + 16).subarray(15 - offset, 15 - offset + k * n);
        at.set(a);
        bt.set(b);
        const c = new Float32Array(m * n);
        addon!.sgemm(at, bt, c, 1, 1, 1, m, n, k, ta, tb, 1, 0);
        return Buffer.from(c.buffer);
      });
      for (const r of results.slice(1)) expect(r.equals(results[0]!), `${m}x${n}x${k}`).toBe(true);
    }
  });

  it('adds a row bias as it stores: the same bits as a C prefilled with the bias and beta 1, in our kernels and in BLAS', () => {
    const before = addon!.ownGemm();
    try {
      for (const [m, n, k, ta, tb] of [...cases, [50, 30, 40, false, true] as const]) {
        const a = randomArray(m * k, 7);
        const b = randomArray(k * n, 8);
        const bias = randomArray(n, 9);
        for (const ownKernels of [true, false]) {
          addon!.setOwnGemm(ownKernels);
          const prefilled = new Float32Array(m * n);
          for (let r = 0; r < m * n; r += n) prefilled.set(bias, r);
          addon!.sgemm(a, b, prefilled, 1, 1, 1, m, n, k, ta, tb, 1, 1);
          const stored = new Float32Array(m * n).fill(Number.NaN); // every element must be written
          addon!.sgemm(a, b, stored, 1, 1, 1, m, n, k, ta, tb, 1, 0, bias);
          expect(Buffer.from(stored.buffer).equals(Buffer.from(prefilled.buffer)), `${m}x${n}x${k} own ${ownKernels}`).toBe(true);
        }
      }
      // a batch against one weight, and an empty reduction (the bias alone)
      addon!.setOwnGemm(true);
      const [batch, m, n, k] = [3, 40, 50, 1100];
      const a = randomArray(batch * m * k, 10);
      const w = randomArray(n * k, 11);
      const bias = randomArray(n, 12);
      const prefilled = new Float32Array(batch * m * n);
      for (let r = 0; r < prefilled.length; r += n) prefilled.set(bias, r);
      addon!.sgemm(a, w, prefilled, batch, batch, 1, m, n, k, false, true, 1, 1);
      const stored = new Float32Array(batch * m * n);
      addon!.sgemm(a, w, stored, batch, batch, 1, m, n, k, false, true, 1, 0, bias);
      expect(Buffer.from(stored.buffer).equals(Buffer.from(prefilled.buffer))).toBe(true);
      const empty = new Float32Array(2 * n);
      addon!.sgemm(new Float32Array(0), new Float32Array(0), empty, 1, 1, 1, 2, n, 0, false, true, 1, 0, bias);
      expect([...empty.subarray(n)]).toEqual([...bias]);
    } finally {
      addon!.setOwnGemm(before);
    }
  });

  it('computes a long, narrow A * B^T as C^T = B A^T: the same bits as A * B with B^T given, for beta 0, 0.5, 1 and a bias', () => {
    for (const [m, n, k] of [
      [260, 100, 8200],
      [300, 128, 8192], // the evaluation's depth projection, shorter: whole 1024 blocks, 16-row groups
      [257, 97, 9000], // one row past 8 tiles, a last pack of 1 row
    ]) {
      const a = randomArray(m * k, 13);
      const b = randomArray(n * k, 14);
      const bt = new Float32Array(k * n);
      for (let j = 0; j < n; j++) for (let p = 0; p < k; p++) bt[p * n + j] = b[j * k + p]!;
      const c0 = randomArray(m * n, 15);
      const bias = randomArray(n, 16);
      for (const [beta, withBias] of [[0, false], [0.5, false], [1, false], [0, true]] as const) {
        const rows = Float32Array.from(c0);
        const given = Float32Array.from(c0);
        addon!.sgemm(a, b, rows, 1, 1, 1, m, n, k, false, true, 1, beta, ...(withBias ? [bias] : []));
        addon!.sgemm(a, bt, given, 1, 1, 1, m, n, k, false, false, 1, beta, ...(withBias ? [bias] : []));
        expect(Buffer.from(rows.buffer).equals(Buffer.from(given.buffer)), `${m}x${n}x${k} beta ${beta} bias ${withBias}`).toBe(true);
      }
    }
  });

  it('reads B from panels packed once (packWeightPanels) with the same bits as packing it per call, and names panels of the wrong size', () => {
    for (const [m, n, k] of [
      [300, 128, 19200], // the evaluation's depth projection
      [257, 97, 9000], // a last panel of 1 row, a short last block
    ]) {
      expect(addon!.rowsPath(false, true, m, n, k)).toBe(true);
      const a = randomArray(m * k, 17);
      const b = randomArray(n * k, 18);
      const c0 = randomArray(m * n, 19);
      const bias = randomArray(n, 20);
      const panels = addon!.packWeightPanels(b, n, k);
      expect(panels.length).toBe(Math.ceil(n / 12) * 12 * k);
      for (const [beta, withBias] of [[0, true], [0.5, false]] as const) {
        const packedNow = Float32Array.from(c0);
        const packedOnce = Float32Array.from(c0);
        addon!.sgemm(a, b, packedNow, 1, 1, 1, m, n, k, false, true, 1, beta, withBias ? bias : null);
        addon!.sgemm(a, b, packedOnce, 1, 1, 1, m, n, k, false, true, 1, beta, withBias ? bias : null, panels);
        expect(Buffer.from(packedOnce.buffer).equals(Buffer.from(packedNow.buffer)), `${m}x${n}x${k} beta ${beta}`).toBe(true);
      }
    }
    expect(addon!.rowsPath(false, true, 100, 128, 19200)).toBe(false); // too few rows of A
    expect(addon!.rowsPath(false, false, 300, 128, 19200)).toBe(false);
    const [a, b, c] = [new Float32Array(300 * 8192), new Float32Array(128 * 8192), new Float32Array(300 * 128)];
    expect(() => addon!.sgemm(a, b, c, 1, 1, 1, 300, 128, 8192, false, true, 1, 0, null, new Float32Array(128 * 8192))).toThrow(
      /bPanels must be packWeightPanels\(b, n, k\) of one B: 1081344 floats for n 128, k 8192, got 1048576/,
    );
  });

  it('names a bias of the wrong length, or one with beta other than 0', () => {
    const [a, b, c] = [new Float32Array(6), new Float32Array(6), new Float32Array(4)];
    expect(() => addon!.sgemm(a, b, c, 1, 1, 1, 2, 2, 3, false, true, 1, 0, new Float32Array(3))).toThrow(/bias must have n elements/);
    expect(() => addon!.sgemm(a, b, c, 1, 1, 1, 2, 2, 3, false, true, 1, 1, new Float32Array(2))).toThrow(/beta 0/);
  });

  it('follows the batch broadcasting rule (one weight for every batch item)', () => {
    const [batch, m, n, k] = [3, 40, 50, 1100];
    const a = randomArray(batch * m * k, 5);
    const w = randomArray(n * k, 6);
    const c = new Float32Array(batch * m * n);
    addon!.sgemm(a, w, c, batch, batch, 1, m, n, k, false, true, 1, 0);
    for (let bi = 0; bi < batch; bi++) {
      const want = reference(referenceProduct(a.subarray(bi * m * k, (bi + 1) * m * k), w, m, n, k, false, true), new Float32Array(m * n), 0);
      const got = c.subarray(bi * m * n, (bi + 1) * m * n);
      for (let i = 0; i < m * n; i += 97) expect(Math.abs(got[i]! - want[i]!)).toBeLessThan(1e-4);
    }
  });
});

describe.skipIf(!own)(own ? 'own GEMM scratch buffers' : 'own GEMM scratch buffers (skipped: no AVX-512 or AVX2 + FMA, or no addon)', () => {
  it('keeps its packing buffers between calls: a repeated weight-gradient product faults in no new pages', () => {
    // 128 x 512 x 1600, A^T B: 2.2 MB of packed panels and blocks of B on 2 threads. Fresh buffers
    // every call were ~540 page faults a call (11 us each on the VMs this was measured on).
    const [m, n, k] = [128, 512, 1600];
    const a = randomArray(k * m, 7);
    const b = randomArray(k * n, 8);
    const c = new Float32Array(m * n);
    const before = addon!.getNumThreads();
    try {
      addon!.setNumThreads(2);
      addon!.sgemm(a, b, c, 1, 1, 1, m, n, k, true, false, 1, 0);
      const first = Float32Array.from(c);
      const faults = process.resourceUsage().minorPageFault;
      for (let r = 0; r < 5; r++) addon!.sgemm(a, b, c, 1, 1, 1, m, n, k, true, false, 1, 0);
      expect(process.resourceUsage().minorPageFault - faults).toBeLessThan(100);
      expect(Buffer.from(c.buffer).equals(Buffer.from(first.buffer))).toBe(true);
    } finally {
      addon!.setNumThreads(before);
    }
  });

  it('gives each calling thread its own buffers: products from two worker threads at once equal the main thread', async () => {
    // worker_threads load the same addon; products on one thread skip the pool's lock, so the
    // two workers really pack into their buffers at the same time.
    const shapes: Array<[number, number, number, boolean, boolean]> = [[131, 97, 1500, true, false], [300, 77, 200, false, true], [40, 1100, 300, true, false]];
    const want = shapes.map(([m, n, k, ta, tb]) => {
      const c = new Float32Array(m * n);
      addon!.sgemm(randomArray(m * k, m), randomArray(k * n, n), c, 1, 1, 1, m, n, k, ta, tb, 1, 0);
      return Buffer.from(c.buffer).toString('base64');
    });
    const source = `
      const { parentPort, workerData } = require('node:worker_threads');
      const addon = require(workerData.path);
      addon.setOwnGemm(true);
      addon.setNumThreads(1);
      const randomArray = ${randomArray.toString()};
      const out = [];
      for (let round = 0; round < 20; round++) {
        // each worker walks the shapes in its own order, so their buffers grow and shrink out of step
        for (let i = 0; i < workerData.shapes.length; i++) {
          const s = workerData.order[(i + round) % workerData.order.length];
          const [m, n, k, ta, tb] = workerData.shapes[s];
          const c = new Float32Array(m * n);
          addon.sgemm(randomArray(m * k, m), randomArray(k * n, n), c, 1, 1, 1, m, n, k, ta, tb, 1, 0);
          out.push([s, Buffer.from(c.buffer).toString('base64')]);
        }
      }
      parentPort.postMessage(out);
    `;
    const run = (order: number[]) =>
      new Promise<Array<[number, string]>>((resolve, reject) => {
        const w = new Worker(source, { eval: true, workerData: { path: (status as { path: string }).path, shapes, order } });
        w.once('message', resolve);
        w.once('error', reject);
      });
    const results = await Promise.all([run([0, 1, 2]), run([2, 1, 0])]);
    for (const result of results) {
      expect(result.length).toBe(60);
      for (const [s, got] of result) expect(got, `shape ${shapes[s]!.join('x')}`).toBe(want[s]);
    }
  });
});

// The AVX2 kernels sum every element as the AVX-512 ones do (src/addon/gemm_kernels.h), so a
// seeded run gives the same numbers on CPUs with and without AVX-512. Only a CPU with both can
// compare them.
const avx512 = own && /own AVX-512 GEMM/.test(addon!.config());
describe.skipIf(!avx512)(avx512 ? 'AVX2 kernels' : 'AVX2 kernels against AVX-512 (skipped: this CPU has no AVX-512 to compare them with)', () => {
  const run = (isa: 'best' | 'avx2', f: () => Float32Array): Buffer => {
    addon!.setOwnGemm(true, isa);
    return Buffer.from(f().buffer);
  };

  it('give the AVX-512 kernels\' bits for every case, for beta 0, 0.5 and 1, with a bias, at any alignment', () => {
    try {
      for (const [m, n, k, ta, tb] of cases) {
        for (const offset of [0, 5]) {
          const a = new Float32Array(m * k + 16).subarray(offset, offset + m * k);
          const b = new Float32Array(k * n + 16).subarray(11 - offset, 11 - offset + k * n);
          a.set(randomArray(m * k, 21));
          b.set(randomArray(k * n, 22));
          const c0 = randomArray(m * n, 23);
          const bias = randomArray(n, 24);
          for (const [beta, withBias] of [[0, false], [0.5, false], [1, false], [0, true]] as const) {
            const product = () => {
              const c = Float32Array.from(c0);
              addon!.sgemm(a, b, c, 1, 1, 1, m, n, k, ta, tb, 1, beta, withBias ? bias : null);
              return c;
            };
            const wide = run('best', product);
            const narrow = run('avx2', product);
            expect(narrow.equals(wide), `${m}x${n}x${k} ${ta ? 'T' : 'N'}${tb ? 'T' : 'N'} offset ${offset} beta ${beta}${withBias ? ' bias' : ''}`).toBe(true);
          }
        }
      }
    } finally {
      addon!.setOwnGemm(true);
    }
  });

  it('pack the same weight panels, and read them to the same bits', () => {
    try {
      const [m, n, k] = [300, 128, 8200];
      const a = randomArray(m * k, 25);
      const w = randomArray(n * k, 26);
      const bias = randomArray(n, 27);
      const panels = { best: run('best', () => addon!.packWeightPanels(w, n, k)), avx2: run('avx2', () => addon!.packWeightPanels(w, n, k)) };
      expect(panels.avx2.equals(panels.best)).toBe(true);
      const product = () => {
        const c = new Float32Array(m * n);
        addon!.sgemm(a, w, c, 1, 1, 1, m, n, k, false, true, 1, 0, bias, new Float32Array(panels.best.buffer.slice(panels.best.byteOffset, panels.best.byteOffset + panels.best.byteLength)));
        return c;
      };
      expect(run('avx2', product).equals(run('best', product))).toBe(true);
    } finally {
      addon!.setOwnGemm(true);
    }
  });
});

// Every element in the order gemm_kernels.h writes down, checked against that order carried out in
// float32 (src/testing/gemm-order.ts): this holds the kernels of the CPU at hand to the bit, the
// AVX2 ones included where no AVX-512 is there to compare them with. Smaller shapes than `cases`
// (the reference runs in JavaScript), reaching the same edges; store modes and alignments rotate.
describe.skipIf(!own)(own ? 'own GEMM, summation order' : 'own GEMM, summation order (skipped: no AVX-512 or AVX2 + FMA, or no addon)', () => {
  const orderCases: Array<[number, number, number, boolean, boolean]> = [
    [45, 70, 1300, false, true], // dot kernel: a 6 x 4 tile edge each way, a reduction tail of 276
    [61, 43, 1600, false, true], // dot kernel, rows a multiple of 16 floats: loads realigned
    [20, 9, 3072, false, true], // dot kernel over three reduction blocks (a small product)
    [7, 5, 40, false, true], // dot kernel, a reduction shorter than one 16-wide step
    [300, 77, 200, false, true], // short reduction: B transposed into the outer kernel's blocks
    [131, 40, 1500, true, false], // A^T B, two reduction blocks
    [250, 67, 333, false, false], // A B
    [70, 90, 700, true, true], // A^T B^T
    [50, 160, 800, true, false], // rows of B a multiple of 16 floats: column tiles shifted
    [20, 1100, 300, true, false], // B's columns packed 32 at a time, a last block of 12
  ];
  const modes = [[0, false], [0.5, false], [1, false], [0, true]] as const;

  for (const isa of avx512 ? (['best', 'avx2'] as const) : (['best'] as const)) {
    it(`${isa === 'avx2' ? 'AVX2 kernels (capped)' : 'this CPU\'s kernels'}: every element as a float32 sum in the documented order`, () => {
      try {
        addon!.setOwnGemm(true, isa);
        orderCases.forEach(([m, n, k, ta, tb], index) => {
          const [beta, withBias] = modes[index % modes.length]!;
          const offset = index % 3 === 1 ? 5 : 0;
          const a = new Float32Array(m * k + 16).subarray(offset, offset + m * k);
          const b = new Float32Array(k * n + 16).subarray(11 - offset, 11 - offset + k * n);
          a.set(randomArray(m * k, 31 + index));
          b.set(randomArray(k * n, 61 + index));
          const c0 = randomArray(m * n, 91 + index);
          const bias = withBias ? randomArray(n, 121 + index) : null;
          const got = Float32Array.from(c0);
          addon!.sgemm(a, b, got, 1, 1, 1, m, n, k, ta, tb, 1, beta, bias);
          const want = gemmInKernelOrder(a, b, c0, m, n, k, ta, tb, beta, bias);
          const at = got.findIndex((x, i) => float32Bits(x) !== float32Bits(want[i]!));
          const what = `${m}x${n}x${k} ${ta ? 'T' : 'N'}${tb ? 'T' : 'N'} (${kernelFor(m, n, k, ta, tb)} kernel), beta ${beta}${withBias ? ' + bias' : ''}, offset ${offset}`;
          expect(at === -1 ? 'all equal' : `element ${at}: ${got[at]} vs ${want[at]}`, what).toBe('all equal');
        });
      } finally {
        addon!.setOwnGemm(true);
      }
    });
  }

  it('gives a sum of products that all underflow to -0 the sign the AVX-512 layout gives it, at every alignment of A', () => {
    // Every chain underflows to -0; a lane the AVX-512 kernel's last step masks turns +0, and then
    // so does the sum. Which lanes those are depends on where A lies (its line offset), which a test
    // cannot read, so: some offset of the allocation must explain all sixteen subarrays.
    try {
      for (const isa of avx512 ? (['best', 'avx2'] as const) : (['best'] as const)) {
        addon!.setOwnGemm(true, isa);
        for (const [m, n, k] of [[7, 5, 48], [7, 5, 1056], [13, 6, 300]] as const) {
          const base = new Float32Array(m * k + 16);
          const b = new Float32Array(n * k).fill(1e-30);
          const got = Array.from({ length: 16 }, (_, offset) => {
            const a = base.subarray(offset, offset + m * k).fill(-1e-30);
            const c = new Float32Array(m * n).fill(Number.NaN);
            addon!.sgemm(a, b, c, 1, 1, 1, m, n, k, false, true, 1, 0);
            return c;
          });
          const a = new Float32Array(m * k).fill(-1e-30);
          const explains = (line: number) => got.every((c, offset) => {
            const want = gemmInKernelOrder(a, b, new Float32Array(m * n), m, n, k, false, true, 0, null, (line + offset) % 16);
            return c.every((x, i) => Object.is(x, want[i]));
          });
          const signs = got.map((c) => (Object.is(c[0], -0) ? '-' : Object.is(c[0], 0) ? '+' : String(c[0]))).join('');
          expect(Array.from({ length: 16 }, (_, line) => line).some(explains), `${isa} ${m}x${n}x${k}: signs ${signs} over offsets 0-15`).toBe(true);
        }
      }
    } finally {
      addon!.setOwnGemm(true);
    }
  });

  it('the reference FMA rounds once, where a double sum and a float32 rounding would round twice', () => {
    // a b + c = 1 + 2^-23 + 2^-24 - 2^-60 exactly: below the float32 midpoint 1 + 2^-23 + 2^-24,
    // so one rounding gives 1 + 2^-23; the double sum is the midpoint itself, which rounds to even
    const [a, b, c] = [2 ** -24 * (1 + 2 ** -18), 1 - 2 ** -18, 1 + 2 ** -23];
    expect(Math.fround(a * b + c)).toBe(1 + 2 ** -22);
    expect(fmaf(a, b, c)).toBe(1 + 2 ** -23);
    expect(fmaf(-a, b, -c)).toBe(-(1 + 2 ** -23));
    expect(fmaf(3, Math.fround(1 / 3), -1)).toBe(Math.fround(3 * Math.fround(1 / 3) - 1));
    expect(fmaf(2, 3, 4)).toBe(10);
  });
});

describe('R3D_NATIVE_GEMM', () => {
  it('selects our kernels by default and BLAS on request, and names a bad value', () => {
    expect(ownGemmWanted({})).toBe(true);
    expect(ownGemmWanted({ R3D_NATIVE_GEMM: 'own' })).toBe(true);
    expect(ownGemmWanted({ R3D_NATIVE_GEMM: 'blas' })).toBe(false);
    expect(ownGemmWanted({ R3D_NATIVE_GEMM: 'avx2' })).toBe(true);
    expect(gemmIsaWanted({})).toBe('best');
    expect(gemmIsaWanted({ R3D_NATIVE_GEMM: 'avx2' })).toBe('avx2');
    expect(() => ownGemmWanted({ R3D_NATIVE_GEMM: 'mkl' })).toThrow(/R3D_NATIVE_GEMM must be 'own', 'avx2' or 'blas', got 'mkl'/);
  });

  it.skipIf(!addon)('is reported in the addon configuration', () => {
    expect(addon!.config()).toMatch(/own (AVX-512|AVX2) GEMM (on|off)|own GEMM unsupported on this CPU/);
  });
});
