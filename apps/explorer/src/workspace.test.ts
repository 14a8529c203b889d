import { encodeNpy, encodeSafetensors, encodeTorchSave } from '@r3d-ts/tensor-io';
import { describe, expect, it } from 'vitest';
import { type InputFile, matricesOf, readTensorFile } from './tensor-files.js';
import { loadFiles } from './workspace.js';

const file = (path: string, bytes: Uint8Array): InputFile => ({ path, read: async () => bytes });
const values = (n: number, k = 1) => Float32Array.from({ length: n }, (_, i) => Math.sin(i * 0.37 * k) + ((i * k) % 5) / 5);

describe('tensor files', () => {
  it('a (1, T, C) tensor is one T x C matrix; a (B, T, C) stack is B of them; other ranks are one line', () => {
    expect(matricesOf({ name: 'x.pt', key: 'x', shape: [1, 4, 3], data: values(12) }).map((m) => [m.rows, m.cols])).toEqual([[4, 3]]);
    const stack = matricesOf({ name: 's.npy', key: 's', shape: [2, 4, 3], data: values(24) });
    expect(stack.map((m) => [m.rows, m.cols, m.data[0]])).toEqual([[4, 3, values(24)[0]], [4, 3, values(24)[12]]]);
    expect(() => matricesOf({ name: 'v.npy', key: 'v', shape: [5], data: values(5) })).toThrow('v.npy: expected a (T, C) token matrix or a (B, T, C) stack, found shape [5]');
    expect(() => matricesOf({ name: 'n.npy', key: 'n', shape: [2, 2], data: Float32Array.of(1, 2, Number.NaN, 4) })).toThrow('n.npy: expected finite token values, found NaN at flat index 2 of shape [2, 2]');
  });

  it('reads .npy, safetensors, a bare torch.save tensor and a state_dict', () => {
    expect(readTensorFile('a.npy', encodeNpy({ shape: [2, 3], data: values(6) }))[0]).toMatchObject({ key: 'a', shape: [2, 3] });
    const st = readTensorFile('w.safetensors', encodeSafetensors({ rgb_raw: { shape: [2, 3], data: values(6) }, depth_raw: { shape: [2, 3], data: values(6, 2) } }));
    expect(st.map((a) => a.key).sort()).toEqual(['depth_raw', 'rgb_raw']);
    expect(readTensorFile('t.pt', encodeTorchSave({ shape: [1, 2, 3], data: values(6) }))[0]).toMatchObject({ key: 't', shape: [1, 2, 3] });
    const sd = readTensorFile('m.pth', encodeTorchSave(new Map([['fc.weight', { shape: [4, 3], data: values(12) }]])));
    expect(sd.map((a) => [a.name, a.shape])).toEqual([['m.pth#fc.weight', [4, 3]]]);
  });
});

describe('loadFiles', () => {
  it('a corrupt file is one line naming it and what was expected; the good files still load', async () => {
    const { workspace, errors } = await loadFiles([file('broken.npy', new Uint8Array([1, 2, 3, 4, 5, 6, 7, 8, 9, 10])), file('ok.npy', encodeNpy({ shape: [4, 3], data: values(12) }))]);
    expect(errors).toHaveLength(1);
    expect(errors[0]).toMatch(/^broken\.npy.*expected/);
    expect(errors[0]).not.toContain('\n');
    expect(workspace!.matrices.map((m) => m.name)).toEqual(['ok.npy']);
    expect(workspace!.sets).toEqual([]);
    const other = await loadFiles([file('notes.txt', new Uint8Array(3))]);
    expect(other.workspace).toBeUndefined();
    expect(other.errors).toEqual(['notes.txt: expected a tensor file (.npy, .safetensors, .pt, .pth) or a folder of them, found a .txt file']);
  });

  it('two plain arrays of one shape are a pair without exchanged tokens (the RTF panel fuses them)', async () => {
    const { workspace, errors } = await loadFiles([file('rgb.npy', encodeNpy({ shape: [3, 5, 4], data: values(60) })), file('depth.npy', encodeNpy({ shape: [3, 5, 4], data: values(60, 3) }))]);
    expect(errors).toEqual([]);
    const [set] = workspace!.sets;
    expect(set!.labels).toEqual(['rgb', 'depth']);
    expect(set!.hasAfter).toBe(false);
    expect(set!.groups.map((g) => [g.ratio, g.samples.length])).toEqual([[null, 3]]);
  });

  it('safetensors entries <m>_raw and exchanged_<m> make a pair with its exchange, RGB first', async () => {
    const st = encodeSafetensors({
      depth_raw: { shape: [2, 6, 4], data: values(48, 2) },
      rgb_raw: { shape: [2, 6, 4], data: values(48) },
      exchanged_rgb: { shape: [2, 6, 4], data: values(48, 5) },
      exchanged_depth: { shape: [2, 6, 4], data: values(48, 7) },
    });
    const { workspace } = await loadFiles([file('tokens.safetensors', st)]);
    const [set] = workspace!.sets;
    expect(set!.labels).toEqual(['rgb', 'depth']);
    expect(set!.hasAfter).toBe(true);
    expect(set!.groups[0]!.samples[1]!.aAfter!.data[0]).toBe(values(48, 5)[24]);
  });

  it('recognises the R3D-demo folders: pt_darai_depth and pt_darai_erank_text are two sets with ratios and sequences', async () => {
    const files: InputFile[] = [];
    for (const [dir, partner] of [['pt_darai_depth', 'depth'], ['pt_darai_erank_text', 'text']] as const) {
      for (const kind of ['rgb_raw', `${partner}_raw`, 'exchanged_rgb', `exchanged_${partner}`]) {
        for (const seq of [0, 1, 33]) {
          for (const ratio of ['0.5', '0.9']) files.push(file(`R3D-demo/${dir}/${kind}/${kind}_${seq}_${ratio}.pt`, encodeTorchSave({ shape: [1, 4 + seq % 3, 8], data: values((4 + (seq % 3)) * 8, seq + kind.length) })));
        }
      }
    }
    files.push(file('R3D-demo/README.md', new Uint8Array(4)));
    const { workspace, errors } = await loadFiles(files);
    expect(errors).toEqual([]);
    expect(workspace!.sets.map((s) => [s.name, s.labels, s.hasAfter, s.demo])).toEqual([
      ['pt_darai_depth', ['rgb', 'depth'], true, true],
      ['pt_darai_erank_text', ['rgb', 'text'], true, true],
    ]);
    expect(workspace!.sets[0]!.groups.map((g) => [g.ratio, g.samples.map((s) => s.seq)])).toEqual([[0.5, [0, 1, 33]], [0.9, [0, 1, 33]]]);
    expect(workspace!.notes).toContain('ignored R3D-demo/README.md');
  });

  it('a missing exchanged file in the .pt layout is one line naming it', async () => {
    const files = ['rgb_raw', 'depth_raw', 'exchanged_rgb', 'exchanged_depth'].map((k) => file(`${k}_0_0.5.pt`, encodeTorchSave({ shape: [3, 4], data: values(12) })));
    files.push(file('rgb_raw_1_0.5.pt', encodeTorchSave({ shape: [3, 4], data: values(12) })), file('depth_raw_1_0.5.pt', encodeTorchSave({ shape: [3, 4], data: values(12) })));
    const { workspace, errors } = await loadFiles(files);
    expect(workspace).toBeUndefined();
    expect(errors).toEqual(['R3D-demo .pt files: exchanged_rgb of sequence 1 at ratio 0.5 is missing (rgb_raw has it)']);
  });

  it('the converted layout is cut by manifest.json; alpha.npy comes along; a missing ratio file is named', async () => {
    const manifest = { channels: 4, ratios: { '0.5': [{ sequence: 0, offset: 0, frames: 2 }, { sequence: 1, offset: 2, frames: 3 }] } };
    const files = [file('demo/manifest.json', new TextEncoder().encode(JSON.stringify(manifest))), file('demo/alpha.npy', encodeNpy({ shape: [4], data: values(4) }))];
    for (const k of ['rgb_raw', 'depth_raw', 'exchanged_rgb', 'exchanged_depth']) files.push(file(`demo/${k}_obs0.5.npy`, encodeNpy({ shape: [5, 4], data: values(20, k.length) })));
    const { workspace, errors } = await loadFiles(files);
    expect(errors).toEqual([]);
    const [set] = workspace!.sets;
    expect(set!.name).toBe('demo');
    expect(set!.alpha).toHaveLength(4);
    expect(set!.groups[0]!.samples.map((s) => [s.seq, s.a.rows, s.a.data[0]])).toEqual([[0, 2, values(20, 7)[0]], [1, 3, values(20, 7)[8]]]);
    const broken = await loadFiles(files.filter((f) => !f.path.includes('exchanged_depth')).concat([file('demo/exchanged_depth_obs0.9.npy', encodeNpy({ shape: [5, 4], data: values(20) }))]));
    expect(broken.errors).toEqual(['demo/exchanged_depth_obs0.5.npy is missing (manifest.json lists ratio 0.5)']);
  });
});
