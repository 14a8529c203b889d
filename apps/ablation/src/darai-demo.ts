import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { readNpy, readTorchTensor } from '@r3d-ts/tensor-io/node';
import { meanRankGain, pairRanks } from '@r3d-ts/rank-metrics';
import { AblationConfigError } from './errors.js';
import { formatSequenceList } from './sequences.js';
import type { RankPoint } from './run-cell.js';

/** The four token sets of the authors' demo: RGB and depth before and after the exchange. */
export const DEMO_KINDS = ['rgb_raw', 'depth_raw', 'exchanged_rgb', 'exchanged_depth'] as const;
export type DemoKind = (typeof DEMO_KINDS)[number];

/** One sequence's tokens: T rows of C channels, row-major. */
export interface TokenMatrix {
  data: Float32Array;
  rows: number;
  cols: number;
}

/** Per observation ratio, per sequence, the (T, C) token matrix of each kind. */
export interface DemoTokens {
  layout: 'npy' | 'pt';
  root: string;
  ratios: number[];
  /** ratio -> sequence -> kind -> matrix */
  tokens: Map<number, Map<number, Record<DemoKind, TokenMatrix>>>;
}

/** What the darai-demo analysis reports: the paper's gain table and H per ratio. */
export interface DemoResult {
  layout: 'npy' | 'pt';
  root: string;
  sequences: number[];
  ranks: RankPoint[];
}

interface Manifest {
  channels: number;
  ratios: Record<string, Array<{ sequence: number; offset: number; frames: number }>>;
}

/**
 * Finds which layout a folder holds: the converted one (`<kind>_obs<r>.npy` + `manifest.json`)
 * or a clone of the authors' R3D-demo repository (`pt_darai_depth/<kind>/<kind>_<seq>_<r>.pt`,
 * given as the clone or as its `pt_darai_depth` folder).
 */
export function detectDemoLayout(root: string): { layout: 'npy'; dir: string } | { layout: 'pt'; dir: string } {
  if (existsSync(join(root, 'manifest.json'))) return { layout: 'npy', dir: root };
  for (const dir of [join(root, 'pt_darai_depth'), root]) {
    if (DEMO_KINDS.every((k) => existsSync(join(dir, k)) && statSync(join(dir, k)).isDirectory())) return { layout: 'pt', dir };
  }
  throw new AblationConfigError('data', `${root} holds neither manifest.json + <kind>_obs<r>.npy (converted darai-demo) nor pt_darai_depth/{${DEMO_KINDS.join(',')}}/ (R3D-demo clone)`);
}

/** Reads the converted layout: one stacked array per kind and ratio, cut by the manifest. */
function readNpyLayout(dir: string): DemoTokens {
  let manifest: Manifest;
  try {
    manifest = JSON.parse(readFileSync(join(dir, 'manifest.json'), 'utf8')) as Manifest;
  } catch (err) {
    throw new AblationConfigError('data', `${join(dir, 'manifest.json')} is not readable JSON (${(err as Error).message})`);
  }
  if (!manifest.ratios || typeof manifest.ratios !== 'object') throw new AblationConfigError('data', `${join(dir, 'manifest.json')} has no "ratios" object`);
  const tokens: DemoTokens['tokens'] = new Map();
  for (const [r, entries] of Object.entries(manifest.ratios)) {
    const arrays = Object.fromEntries(
      DEMO_KINDS.map((k) => {
        const file = join(dir, `${k}_obs${r}.npy`);
        if (!existsSync(file)) throw new AblationConfigError('data', `${file} is missing (manifest lists ratio ${r})`);
        const a = readNpy(file);
        if (a.shape.length !== 2) throw new AblationConfigError('data', `${file}: expected (sum of T, C), found shape [${a.shape.join(', ')}]`);
        return [k, a];
      }),
    ) as Record<DemoKind, ReturnType<typeof readNpy>>;
    const perSeq = new Map<number, Record<DemoKind, TokenMatrix>>();
    if (!Array.isArray(entries)) throw new AblationConfigError('data', `${join(dir, 'manifest.json')}: ratio ${r}: expected a list of { sequence, offset, frames }`);
    for (const e of entries) {
      const bad = !Number.isSafeInteger(e?.sequence) || e.sequence < 0 ? 'sequence' : !Number.isSafeInteger(e.offset) || e.offset < 0 ? 'offset' : !Number.isSafeInteger(e.frames) || e.frames < 0 ? 'frames' : null;
      if (bad) throw new AblationConfigError('data', `${join(dir, 'manifest.json')}: ratio ${r}: expected entries { sequence, offset, frames } of non-negative integers, found ${bad} ${JSON.stringify(e?.[bad as keyof typeof e])}`);
      if (e.frames === 0) throw new AblationConfigError('data', `${join(dir, 'manifest.json')}: ratio ${r}: sequence ${e.sequence} has 0 frames (a zero-length video has no effective rank)`);
      const rec = {} as Record<DemoKind, TokenMatrix>;
      for (const k of DEMO_KINDS) {
        const a = arrays[k];
        const C = a.shape[1]!;
        if (e.offset + e.frames > a.shape[0]!) throw new AblationConfigError('data', `${k}_obs${r}.npy has ${a.shape[0]} rows, manifest needs ${e.offset + e.frames} for sequence ${e.sequence}`);
        rec[k] = { data: (a.data as Float32Array).subarray(e.offset * C, (e.offset + e.frames) * C), rows: e.frames, cols: C };
      }
      perSeq.set(e.sequence, rec);
    }
    tokens.set(Number(r), perSeq);
  }
  return { layout: 'npy', root: dir, ratios: [...tokens.keys()].sort((a, b) => a - b), tokens };
}

/**
 * Reads one of the authors' demo `.pt` files (a tensor saved with `torch.save`, (T, C) with
 * optional leading 1s) as a token matrix.
 *
 * @example
 * readPtMatrix('R3D-demo/pt_darai_depth/rgb_raw/rgb_raw_0_0.5.pt'); // { rows: T, cols: 128, data }
 */
export function readPtMatrix(file: string): TokenMatrix {
  const t = readTorchTensor(file);
  const shape = [...t.shape];
  while (shape.length > 2 && shape[0] === 1) shape.shift();
  if (shape.length !== 2) throw new AblationConfigError('data', `${file}: expected a (T, C) tensor (leading 1s allowed), found shape [${t.shape.join(', ')}]`);
  if (shape[0] === 0 || shape[1] === 0) throw new AblationConfigError('data', `${file}: expected at least one token of at least one channel, found shape [${t.shape.join(', ')}]`);
  return { data: Float32Array.from(t.data), rows: shape[0]!, cols: shape[1]! };
}

/** Reads the clone layout: one `.pt` per kind, sequence and ratio. */
function readPtLayout(dir: string): DemoTokens {
  const tokens: DemoTokens['tokens'] = new Map();
  const pattern = /^(.+)_(\d+)_(\d*\.?\d+)\.pt$/;
  const found = new Map<string, string>();
  for (const k of DEMO_KINDS) {
    for (const f of readdirSync(join(dir, k))) {
      const m = pattern.exec(f);
      if (!m || m[1] !== k) continue;
      found.set(`${k}|${Number(m[2])}|${Number(m[3])}`, join(dir, k, f));
    }
  }
  const keys = [...found.keys()].filter((x) => x.startsWith(`${DEMO_KINDS[0]}|`));
  if (keys.length === 0) throw new AblationConfigError('data', `${join(dir, DEMO_KINDS[0])} holds no ${DEMO_KINDS[0]}_<seq>_<ratio>.pt files`);
  for (const key of keys) {
    const [, seqText, ratioText] = key.split('|');
    const seq = Number(seqText);
    const ratio = Number(ratioText);
    const rec = {} as Record<DemoKind, TokenMatrix>;
    for (const k of DEMO_KINDS) {
      const file = found.get(`${k}|${seq}|${ratio}`);
      if (!file) throw new AblationConfigError('data', `${join(dir, k)}: ${k}_${seq}_${ratioText}.pt is missing (${DEMO_KINDS[0]} has it)`);
      rec[k] = readPtMatrix(file);
    }
    if (!tokens.has(ratio)) tokens.set(ratio, new Map());
    tokens.get(ratio)!.set(seq, rec);
  }
  return { layout: 'pt', root: dir, ratios: [...tokens.keys()].sort((a, b) => a - b), tokens };
}

/** Reads the authors' DARai tokens from either layout. */
export function readDemoTokens(root: string): DemoTokens {
  const { layout, dir } = detectDemoLayout(root);
  return layout === 'npy' ? readNpyLayout(dir) : readPtLayout(dir);
}

/** The sequences the authors' demo averages: 0..32 of the 34. */
const DEFAULT_DEMO_SEQUENCES = Array.from({ length: 33 }, (_, i) => i);

/**
 * The paper's rank analysis on the authors' own tokens: per observation ratio, the mean over
 * sequences of each modality's effective-rank gain (exchanged minus raw) and the harmonic mean H
 * of the two mean gains (rank-metrics' `pairRanks` + `meanRankGain`, which the explorer page
 * runs too). `sequences` defaults to those of 0..32 the tokens hold, the range the authors' demo
 * averages. A requested sequence the tokens do not hold, or one missing at some ratio, is an
 * `AblationConfigError` naming it: no sequence is left out without a word.
 *
 * @example
 * analyseDemo(readDemoTokens('../shared/fixtures/darai-demo')).ranks[8]; // obs 0.9: H ~0.914
 */
export function analyseDemo(tokens: DemoTokens, sequences?: readonly number[]): DemoResult {
  const present = new Set<number>();
  for (const perSeq of tokens.tokens.values()) for (const s of perSeq.keys()) present.add(s);
  const held = () => (present.size ? formatSequenceList([...present]) : 'none');
  let wanted: number[];
  if (sequences) {
    const missing = sequences.filter((s) => !present.has(s));
    if (missing.length > 0) throw new AblationConfigError('sequences', `${formatSequenceList(missing)} not found in ${tokens.root} (it holds sequences ${held()})`);
    wanted = [...sequences];
  } else {
    wanted = DEFAULT_DEMO_SEQUENCES.filter((s) => present.has(s));
    if (wanted.length === 0) throw new AblationConfigError('sequences', `${tokens.root} holds none of the default sequences 0..32 (it holds ${held()}): name them with --sequences`);
  }
  const ranks: RankPoint[] = [];
  for (const ratio of tokens.ratios) {
    const perSeq = tokens.tokens.get(ratio)!;
    const absent = wanted.filter((s) => !perSeq.has(s));
    if (absent.length > 0) throw new AblationConfigError('data', `${tokens.root}: sequences ${formatSequenceList(absent)} have no tokens at observation ratio ${ratio} (other ratios have them)`);
    const row = meanRankGain(
      wanted.map((s) => {
        const r = perSeq.get(s)!;
        return pairRanks({ beforeA: r.rgb_raw, afterA: r.exchanged_rgb, beforeB: r.depth_raw, afterB: r.exchanged_depth });
      }),
    );
    const erank = { rgbBefore: row.erank.beforeA, rgbAfter: row.erank.afterA, partnerBefore: row.erank.beforeB, partnerAfter: row.erank.afterB, fused: Number.NaN };
    ranks.push({ observationRatio: ratio, samples: row.samples, erank, gainRgb: row.gainA, gainPartner: row.gainB, balance: row.balance });
  }
  return { layout: tokens.layout, root: tokens.root, sequences: wanted, ranks };
}
