// A darai-demo folder in the R3D-demo clone layout holding one hostile token file: a `.pt` whose
// tensor is a stride-0 view of a huge size over a one-element storage (635 bytes once took 12 GB
// and a crash). Reading the folder is refused with the weight file's TorchFormatError, and the
// reading process's peak RSS stays within 4x the folder's bytes plus 64 MiB of a valid read.
import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { TorchFormatError, encodeTorchSave } from '@r3d-ts/tensor-io';
import { afterAll, describe, expect, it } from 'vitest';
import { DEMO_KINDS, readDemoTokens } from './darai-demo.js';
import { appDir } from './test-helpers.js';

const MiB = 2 ** 20;

/** The bytes of `torch.save(t)` for a float tensor viewing a one-element storage with `size`, stride 0. */
function broadcastPt(size: number[]): Uint8Array {
  const out: number[] = [0x80, 2];
  const text = (s: string) => [...new TextEncoder().encode(s)];
  const str = (s: string) => out.push(0x8c, s.length, ...text(s)); // SHORT_BINUNICODE
  const int = (n: number) => out.push(0x4a, n & 255, (n >>> 8) & 255, (n >>> 16) & 255, (n >>> 24) & 255); // BININT
  out.push(0x63, ...text('torch._utils\n_rebuild_tensor_v2\n'), 0x28); // GLOBAL, MARK (arguments)
  out.push(0x28);
  str('storage');
  out.push(0x63, ...text('torch\nFloatStorage\n'));
  str('0');
  str('cpu');
  int(1);
  out.push(0x74, 0x51); // TUPLE, BINPERSID: the storage
  int(0); // storage offset
  out.push(0x28);
  size.forEach(int);
  out.push(0x74, 0x28); // size, then strides: all 0
  size.forEach(() => int(0));
  out.push(0x74, 0x89, 0x63, ...text('collections\nOrderedDict\n'), 0x29, 0x52); // requires_grad, hooks
  out.push(0x74, 0x52, 0x2e); // TUPLE, REDUCE, STOP
  return storedZip([
    ['archive/data.pkl', Uint8Array.from(out)],
    ['archive/data/0', new Uint8Array(Float32Array.of(0.5).buffer)],
  ]);
}

/** A zip of stored entries (no CRC: the reader does not check it). */
function storedZip(entries: Array<[string, Uint8Array]>): Uint8Array {
  const parts: Uint8Array[] = [];
  const central: Uint8Array[] = [];
  let offset = 0;
  for (const [name, data] of entries) {
    const n = new TextEncoder().encode(name);
    const local = new Uint8Array(30 + n.length + data.length);
    const lv = new DataView(local.buffer);
    lv.setUint32(0, 0x04034b50, true);
    lv.setUint16(4, 20, true);
    lv.setUint32(18, data.length, true);
    lv.setUint32(22, data.length, true);
    lv.setUint16(26, n.length, true);
    local.set(n, 30);
    local.set(data, 30 + n.length);
    const c = new Uint8Array(46 + n.length);
    const cv = new DataView(c.buffer);
    cv.setUint32(0, 0x02014b50, true);
    cv.setUint16(6, 20, true);
    cv.setUint32(20, data.length, true);
    cv.setUint32(24, data.length, true);
    cv.setUint16(28, n.length, true);
    cv.setUint32(42, offset, true);
    c.set(n, 46);
    parts.push(local);
    central.push(c);
    offset += local.length;
  }
  const cdSize = central.reduce((a, c) => a + c.length, 0);
  const end = new Uint8Array(22);
  const ev = new DataView(end.buffer);
  ev.setUint32(0, 0x06054b50, true);
  ev.setUint16(8, entries.length, true);
  ev.setUint16(10, entries.length, true);
  ev.setUint32(12, cdSize, true);
  ev.setUint32(16, offset, true);
  const all = [...parts, ...central, end];
  const out = new Uint8Array(all.reduce((a, p) => a + p.length, 0));
  let at = 0;
  for (const p of all) {
    out.set(p, at);
    at += p.length;
  }
  return out;
}

/** A clone-layout folder: one sequence at ratio 0.5, four (4, 8) token files. */
function demoFolder(root: string): string {
  for (const [k, kind] of DEMO_KINDS.entries()) {
    mkdirSync(join(root, 'pt_darai_depth', kind), { recursive: true });
    writeFileSync(join(root, 'pt_darai_depth', kind, `${kind}_0_0.5.pt`), encodeTorchSave({ shape: [4, 8], data: Float32Array.from({ length: 32 }, (_, i) => Math.sin(i + k)) }));
  }
  return join(root, 'pt_darai_depth', 'exchanged_depth', 'exchanged_depth_0_0.5.pt');
}

/** The bytes of the four token files of `demoFolder(root)`. */
function folderBytes(root: string): number {
  return DEMO_KINDS.reduce((a, kind) => a + statSync(join(root, 'pt_darai_depth', kind, `${kind}_0_0.5.pt`)).size, 0);
}

/** `readDemoTokens(root)` in a fresh Node process: what it threw and its peak RSS. */
function probe(root: string): { ok: boolean; name?: string; message?: string; maxRss: number } {
  const script = [
    'const [mod, root] = process.argv.slice(1);',
    'const { readDemoTokens } = await import(mod);',
    'let r = { ok: true };',
    'try { readDemoTokens(root); } catch (e) { r = { ok: false, name: e?.name, message: String(e?.message) }; }',
    'r.maxRss = process.resourceUsage().maxRSS * 1024;',
    'console.log(JSON.stringify(r));',
  ].join('\n');
  const res = spawnSync(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', script, join(appDir, 'src', 'darai-demo.ts'), root], { cwd: appDir, encoding: 'utf8', timeout: 60_000 });
  const line = res.stdout.trim().split('\n').pop() ?? '';
  if (res.status !== 0 || !line.startsWith('{')) throw new Error(`probe of ${root} exited ${res.status}: ${res.stderr.slice(-2000)}`);
  return JSON.parse(line);
}

describe('darai-demo folder with a hostile .pt', { timeout: 60_000 }, () => {
  const tmp = mkdtempSync(join(tmpdir(), 'r3d-darai-bounds-'));
  afterAll(() => rmSync(tmp, { recursive: true, force: true }));

  it('a stride-0 view of 2^40 elements over one stored element is a TorchFormatError naming the file', () => {
    const root = join(tmp, 'huge');
    const bad = demoFolder(root);
    expect(readDemoTokens(root).tokens.get(0.5)!.get(0)!.exchanged_depth.rows).toBe(4);
    writeFileSync(bad, broadcastPt([1, 2 ** 20, 2 ** 20]));
    let err: unknown;
    try {
      readDemoTokens(root);
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(TorchFormatError);
    expect((err as TorchFormatError).file).toBe(bad);
  });

  it('reading the folder with a 256 MiB stride-0 claim stays within 4x its bytes plus 64 MiB of a valid read', () => {
    const root = join(tmp, 'rss');
    const bad = demoFolder(root);
    const baseline = probe(root);
    expect(baseline.ok).toBe(true);
    writeFileSync(bad, broadcastPt([1, 2 ** 20, 64]));
    const r = probe(root);
    const size = folderBytes(root);
    console.log(`readDemoTokens: ${size} bytes in the folder, peak RSS +${((r.maxRss - baseline.maxRss) / MiB).toFixed(1)} MiB over a valid read, ${r.ok ? 'read' : `${r.name}: ${r.message}`}`);
    expect(r.name).toBe('TorchFormatError');
    expect(r.maxRss).toBeLessThanOrEqual(baseline.maxRss + 4 * size + 64 * MiB);
  });
});
