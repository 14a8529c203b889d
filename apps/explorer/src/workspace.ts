import { checkFinite, extensionOf, InputError, type InputFile, matricesOf, oneLine, readTensorFile, stemOf, TENSOR_EXTENSIONS, type TokenMatrix } from './tensor-files.js';

/** One sample of a modality pair: A and B before fusion and, when the files hold them, after. */
export interface PairSample {
  /** The sequence number (the demo layouts) or the index in the stack (other files). */
  seq: number;
  a: TokenMatrix;
  b: TokenMatrix;
  aAfter?: TokenMatrix;
  bAfter?: TokenMatrix;
}

/** The samples of one observation ratio (`null`: files without ratios). */
export interface PairGroup {
  ratio: number | null;
  samples: PairSample[];
}

/** A modality pair the page analyses: its samples by observation ratio. */
export interface PairSet {
  /** Where it came from: the folder (`pt_darai_depth`) or the files. */
  name: string;
  /** The two modalities, A first (RGB when present). */
  labels: [string, string];
  /** Ascending observation ratio. */
  groups: PairGroup[];
  /** Whether every sample has A and B after the exchange (`exchanged_<m>` files). */
  hasAfter: boolean;
  /** The trained per-channel blend weight, when the folder has `alpha.npy`. */
  alpha?: Float32Array;
  /** The authors' demo layouts, whose table averages sequences 0..32 (the README's and the ablation's range). */
  demo: boolean;
}

/** A matrix that is not part of a pair, for the spectrum view. */
export interface LoadedMatrix {
  name: string;
  matrix: TokenMatrix;
}

/** Everything one load gave the page. */
export interface Workspace {
  /** What was loaded, in a few words. */
  source: string;
  sets: PairSet[];
  matrices: LoadedMatrix[];
  /** Lines worth showing that are not errors (files ignored, modalities left out). */
  notes: string[];
}

/** What `loadFiles` returns: a workspace when anything was usable, and one line per bad file. */
export interface LoadResult {
  workspace?: Workspace;
  errors: string[];
}

/** The converted demo layout: `<kind>_obs<ratio>.npy` cut by `manifest.json`. */
const NPY_KIND = /^(.+)_obs(\d*\.?\d+)$/;
/** The authors' R3D-demo layout: `<kind>_<sequence>_<ratio>.pt`. */
const PT_KIND = /^(.+)_(\d+)_(\d*\.?\d+)$/;

interface Manifest {
  ratios: Record<string, Array<{ sequence: number; offset: number; frames: number }>>;
}

/** kind -> "ratio|seq" -> matrix, for one folder of one layout. */
type KindTable = Map<string, Map<string, TokenMatrix>>;

interface Collected {
  name: string;
  kinds: KindTable;
  /** Kinds in the order their files came, for pairs of two plain files. */
  order: string[];
  alpha?: Float32Array;
  demo: boolean;
}

const sampleKey = (ratio: number | null, seq: number) => `${ratio ?? ''}|${seq}`;

function dirOf(path: string): string {
  const i = path.lastIndexOf('/');
  return i < 0 ? '' : path.slice(0, i);
}

function baseOf(path: string): string {
  return path.slice(path.lastIndexOf('/') + 1);
}

function put(table: KindTable, kind: string, key: string, m: TokenMatrix): void {
  if (!table.has(kind)) table.set(kind, new Map());
  table.get(kind)!.set(key, m);
}

function alphaOf(data: Float32Array, shape: number[], file: string): Float32Array {
  if (shape.length !== 1) throw new InputError(file, 'a (C) per-channel blend weight', `shape [${shape.join(', ')}]`);
  return data;
}

/** Reads the converted layout of one folder: manifest.json plus `<kind>_obs<r>.npy` per kind and ratio. */
async function readManifestFolder(dir: string, manifestFile: InputFile, files: InputFile[]): Promise<Collected> {
  let manifest: Manifest;
  const text = new TextDecoder().decode(await manifestFile.read());
  try {
    manifest = JSON.parse(text) as Manifest;
  } catch (err) {
    throw new InputError(manifestFile.path, 'JSON (the converted darai-demo manifest)', oneLine(err));
  }
  if (!manifest.ratios || typeof manifest.ratios !== 'object') throw new InputError(manifestFile.path, 'a "ratios" object (ratio -> [{ sequence, offset, frames }])', 'none');
  const byName = new Map(files.map((f) => [baseOf(f.path), f]));
  const kinds = new Set<string>();
  for (const f of files) {
    const m = NPY_KIND.exec(stemOf(f.path));
    if (m && extensionOf(f.path) === '.npy') kinds.add(m[1]!);
  }
  const table: KindTable = new Map();
  for (const [r, entries] of Object.entries(manifest.ratios)) {
    for (const kind of [...kinds].sort()) {
      const file = byName.get(`${kind}_obs${r}.npy`);
      const path = `${dir ? `${dir}/` : ''}${kind}_obs${r}.npy`;
      if (!file) throw InputError.missing(path, `manifest.json lists ratio ${r}`);
      const [array] = readTensorFile(file.path, await file.read());
      if (array!.shape.length !== 2) throw new InputError(file.path, '(sum of T, C) stacked tokens', `shape [${array!.shape.join(', ')}]`);
      checkFinite(array!);
      const [rows, cols] = array!.shape as [number, number];
      for (const e of entries) {
        if (e.offset + e.frames > rows) throw new InputError(file.path, `${e.offset + e.frames} rows for sequence ${e.sequence} (manifest.json)`, `${rows}`);
        put(table, kind, sampleKey(Number(r), e.sequence), { data: array!.data.subarray(e.offset * cols, (e.offset + e.frames) * cols), rows: e.frames, cols });
      }
    }
  }
  const alphaFile = byName.get('alpha.npy');
  const collected: Collected = { name: baseOf(dir) || 'manifest.json', kinds: table, order: [...kinds], demo: true };
  if (alphaFile) {
    const [a] = readTensorFile(alphaFile.path, await alphaFile.read());
    collected.alpha = alphaOf(a!.data, a!.shape, alphaFile.path);
  }
  return collected;
}

/** The modality pair of a folder's kinds: `<m>_raw` (+ `exchanged_<m>`), or two plain arrays. */
function pairOf(c: Collected, notes: string[]): PairSet | undefined {
  const raw = [...c.kinds.keys()].filter((k) => k.endsWith('_raw')).map((k) => k.slice(0, -4)).sort();
  let kindA: string, kindB: string, afterA: string | undefined, afterB: string | undefined, labels: [string, string];
  if (raw.length >= 2) {
    const a = raw.includes('rgb') ? 'rgb' : raw[0]!;
    const b = raw.find((m) => m !== a)!;
    if (raw.length > 2) notes.push(`${c.name}: pairs ${a} with ${b}; also found ${raw.filter((m) => m !== a && m !== b).map((m) => `${m}_raw`).join(', ')}`);
    [kindA, kindB, labels] = [`${a}_raw`, `${b}_raw`, [a, b]];
    if (c.kinds.has(`exchanged_${a}`) && c.kinds.has(`exchanged_${b}`)) [afterA, afterB] = [`exchanged_${a}`, `exchanged_${b}`];
  } else if (c.order.length === 2 && !c.demo) {
    [kindA, kindB] = c.order as [string, string];
    labels = [kindA, kindB];
  } else {
    return undefined;
  }
  const tableA = c.kinds.get(kindA)!;
  const tableB = c.kinds.get(kindB)!;
  const groups = new Map<number | null, PairSample[]>();
  for (const [key, a] of tableA) {
    const b = tableB.get(key);
    const [ratioText, seqText] = key.split('|') as [string, string];
    const where = ratioText ? `sequence ${seqText} at ratio ${ratioText}` : `sample ${seqText}`;
    if (!b) throw InputError.missing(`${c.name}: ${kindB} of ${where}`, `${kindA} has it`);
    if (a.rows !== b.rows || a.cols !== b.cols) throw new InputError(c.name, `${kindA} and ${kindB} of the same shape for ${where}`, `(${a.rows}, ${a.cols}) and (${b.rows}, ${b.cols})`);
    const s: PairSample = { seq: Number(seqText), a, b };
    if (afterA && afterB) {
      const x = c.kinds.get(afterA)!.get(key);
      const y = c.kinds.get(afterB)!.get(key);
      if (!x || !y) throw InputError.missing(`${c.name}: ${x ? afterB : afterA} of ${where}`, `${kindA} has it`);
      [s.aAfter, s.bAfter] = [x, y];
    }
    const ratio = ratioText ? Number(ratioText) : null;
    if (!groups.has(ratio)) groups.set(ratio, []);
    groups.get(ratio)!.push(s);
  }
  if (groups.size === 0) return undefined;
  const sorted = [...groups].sort(([x], [y]) => (x ?? 0) - (y ?? 0));
  const set: PairSet = {
    name: c.name,
    labels,
    groups: sorted.map(([ratio, samples]) => ({ ratio, samples: samples.sort((p, q) => p.seq - q.seq) })),
    hasAfter: afterA !== undefined,
    demo: c.demo,
  };
  if (c.alpha) set.alpha = c.alpha;
  return set;
}

/**
 * Turns the files of one drop (or picker) into pairs and matrices. Recognised: the converted
 * darai-demo folder (`manifest.json` + `<kind>_obs<r>.npy`), the authors' R3D-demo folders
 * (`pt_darai_depth/<kind>/<kind>_<seq>_<ratio>.pt`, `pt_darai_erank_text/...`, or the bare
 * files), any `.npy`/safetensors/`.pt` arrays ((T, C) or (B, T, C)). Kinds `<m>_raw` and
 * `exchanged_<m>` make a pair with its exchange; two plain arrays of one shape make a pair the
 * RTF panel can fuse. A bad file costs one line in `errors`, never the others.
 *
 * @example
 * const { workspace, errors } = await loadFiles([{ path: 'a.npy', read: async () => bytes }]);
 */
export async function loadFiles(files: InputFile[], onProgress?: (done: number, total: number) => void): Promise<LoadResult> {
  const errors: string[] = [];
  const notes: string[] = [];
  const visible = files.filter((f) => !f.path.split('/').some((p) => p.startsWith('.')));
  const collected: Collected[] = [];
  const used = new Set<InputFile>();
  let done = 0;
  const step = () => onProgress?.(++done, visible.length);

  // The converted layout, one per folder that has a manifest.
  for (const manifest of visible.filter((f) => baseOf(f.path) === 'manifest.json')) {
    const dir = dirOf(manifest.path);
    const inDir = visible.filter((f) => dirOf(f.path) === dir);
    try {
      collected.push(await readManifestFolder(dir, manifest, inDir));
    } catch (err) {
      errors.push(oneLine(err));
    }
    for (const f of inDir) {
      if (f === manifest || NPY_KIND.test(stemOf(f.path)) || baseOf(f.path) === 'alpha.npy') {
        used.add(f);
        step();
      }
    }
  }

  // The authors' .pt layout: one set per folder above the kind folders.
  const ptSets = new Map<string, Collected>();
  for (const f of visible) {
    if (used.has(f) || extensionOf(f.path) !== '.pt') continue;
    const m = PT_KIND.exec(stemOf(f.path));
    if (!m) continue;
    used.add(f);
    const kind = m[1]!;
    let dir = dirOf(f.path);
    if (baseOf(dir) === kind) dir = dirOf(dir);
    if (!ptSets.has(dir)) ptSets.set(dir, { name: baseOf(dir) || 'R3D-demo .pt files', kinds: new Map(), order: [], demo: true });
    const set = ptSets.get(dir)!;
    try {
      const arrays = readTensorFile(f.path, await f.read());
      const ms = arrays.length === 1 ? matricesOf(arrays[0]!) : [];
      if (ms.length !== 1) throw new InputError(f.path, 'one (T, C) token tensor (leading 1s allowed)', `shape [${arrays[0]?.shape.join(', ')}]`);
      put(set.kinds, kind, sampleKey(Number(m[3]), Number(m[2])), ms[0]!);
      if (!set.order.includes(kind)) set.order.push(kind);
    } catch (err) {
      errors.push(oneLine(err));
    }
    step();
  }
  collected.push(...ptSets.values());

  // Everything else: plain arrays, one kind per file (or per safetensors / state_dict entry).
  const plain: Collected = { name: '', kinds: new Map(), order: [], demo: false };
  const plainNames: string[] = [];
  const matrices: LoadedMatrix[] = [];
  for (const f of visible) {
    if (used.has(f)) continue;
    const ext = extensionOf(f.path);
    const inFolder = f.path.includes('/');
    if (!(TENSOR_EXTENSIONS as readonly string[]).includes(ext)) {
      // Inside a dropped folder other files (READMEs, notebooks) are normal; alone they are a mistake.
      if (!inFolder) errors.push(oneLine(new InputError(f.path, `a tensor file (${TENSOR_EXTENSIONS.join(', ')}) or a folder of them`, ext ? `a ${ext} file` : 'no extension')));
      else notes.push(`ignored ${f.path}`);
      step();
      continue;
    }
    try {
      for (const a of readTensorFile(f.path, await f.read())) {
        if (a.key === 'alpha' && a.shape.length === 1) {
          plain.alpha = alphaOf(a.data, a.shape, a.name);
          continue;
        }
        const ms = matricesOf(a);
        let kind = a.key;
        while (plain.kinds.has(kind)) kind = `${kind}'`;
        ms.forEach((m, i) => {
          put(plain.kinds, kind, sampleKey(null, i), m);
          matrices.push({ name: ms.length > 1 ? `${a.name}[${i}]` : a.name, matrix: m });
        });
        plain.order.push(kind);
      }
      plainNames.push(baseOf(f.path));
    } catch (err) {
      errors.push(oneLine(err));
    }
    step();
  }
  plain.name = plainNames.join(' + ');

  const sets: PairSet[] = [];
  for (const c of collected) {
    try {
      const set = pairOf(c, notes);
      if (set) sets.push(set);
      else notes.push(`${c.name}: no <modality>_raw pair found`);
    } catch (err) {
      errors.push(oneLine(err));
    }
  }
  if (plain.order.length > 0) {
    try {
      const set = pairOf(plain, notes);
      if (set) {
        sets.push(set);
        matrices.length = 0; // they are browsed as the pair
      }
    } catch (err) {
      notes.push(oneLine(err));
    }
  }
  if (sets.length === 0 && matrices.length === 0) return { errors: errors.length > 0 ? errors : ['no token matrices found in what was given (expected .npy, .safetensors or .pt files, or a folder of them)'] };
  const source = [...sets.map((s) => s.name), ...(sets.length === 0 ? [plain.name] : [])].filter(Boolean).join(', ');
  return { workspace: { source, sets, matrices, notes }, errors };
}
