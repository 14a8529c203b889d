import { singularValues, type EffectiveRankVariant } from '@r3d-ts/rank-metrics';
import { breathe, gainTable, painted, rankOf, Superseded, type Progress, type TableRow } from './analysis.js';
import { type BackendName, BACKENDS, chooseBackend } from './backend.js';
import { COLOURS, gainFigure, spectrumFigure, type SpectrumSeries } from './charts.js';
import { droppedFiles, inputFile } from './dropped-files.js';
import { exampleSet } from './example.js';
import { download, svgToPng, tableCsv } from './export.js';
import { DEFAULT_RTF, type Exchanged, exchangeSamples, rtfKey, type RtfSettings } from './rtf.js';
import { type InputFile, oneLine, type TokenMatrix } from './tensor-files.js';
import { loadFiles, type PairGroup, type PairSet, type Workspace } from './workspace.js';

const $ = <T extends HTMLElement = HTMLElement>(id: string) => document.getElementById(id) as T;

interface State {
  workspace?: Workspace;
  set?: PairSet;
  variant: EffectiveRankVariant;
  authorsRange: boolean;
  rtf: RtfSettings;
  files?: TableRow[];
  rtfRows?: TableRow[];
  rtfApplied?: string;
  rtfOut: Map<PairGroup, Exchanged[]>;
  /** Bumped by every new load or table request; a run that sees another number stops. */
  loadRun: number;
  rtfRun: number;
}

const state: State = { variant: 'authors', authorsRange: true, rtf: { ...DEFAULT_RTF }, rtfOut: new Map(), loadRun: 0, rtfRun: 0 };
const body = document.body;

// ---- status line, progress, message ----

function message(text: string | null, all: string[] = []): void {
  const el = $('message');
  el.hidden = text === null;
  el.textContent = text ?? '';
  el.title = all.join('\n');
}

const progress: Progress = (done, total, what) => {
  $('progress-row').hidden = false;
  const bar = $<HTMLProgressElement>('progress');
  bar.max = Math.max(1, total);
  bar.value = done;
  $('progress-text').textContent = `${what}: ${done} / ${total}`;
};

let working = 0;
/** Brackets a piece of work: the page reads `busy` while any runs, and hides the progress bar after. */
async function job<T>(work: () => Promise<T>): Promise<T> {
  working++;
  body.dataset.state = 'busy';
  try {
    return await work();
  } finally {
    if (--working === 0) {
      body.dataset.state = 'ready';
      $('progress-row').hidden = true;
    }
  }
}

function esc(s: string): string {
  return s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
}

function fmt(v: number, digits = 4): string {
  return Number.isFinite(v) ? v.toFixed(digits) : '–';
}

// ---- rendering ----

function renderTable(): void {
  const set = state.set;
  const tbody = $('gain-table').querySelector('tbody')!;
  tbody.replaceChildren();
  if (!set) return;
  const [a, b] = set.labels;
  $('col-a-before').innerHTML = `${esc(a)}<br>before`;
  $('col-a-after').innerHTML = `${esc(a)}<br>after`;
  $('col-b-before').innerHTML = `${esc(b)}<br>before`;
  $('col-b-after').innerHTML = `${esc(b)}<br>after`;
  $('col-gain-a').innerHTML = `gain<br>${esc(a)}`;
  $('col-gain-b').innerHTML = `gain<br>${esc(b)}`;
  for (const [source, rows] of [['files', state.files], ['rtf', state.rtfRows]] as const) {
    for (const r of rows ?? []) {
      const tr = document.createElement('tr');
      tr.dataset.source = source;
      tr.dataset.ratio = r.ratio === null ? 'all' : String(r.ratio);
      const cells: Array<[string, string, number | null]> = [
        ['source', source === 'files' ? 'files' : 'RTF', null],
        ['ratio', r.ratio === null ? 'all' : `${Math.round(r.ratio * 100)}%`, r.ratio],
        ['samples', String(r.samples), r.samples],
        ['erankBeforeA', fmt(r.erank.beforeA, 3), r.erank.beforeA],
        ['erankAfterA', fmt(r.erank.afterA, 3), r.erank.afterA],
        ['erankBeforeB', fmt(r.erank.beforeB, 3), r.erank.beforeB],
        ['erankAfterB', fmt(r.erank.afterB, 3), r.erank.afterB],
        ['gainA', fmt(r.gainA), r.gainA],
        ['gainB', fmt(r.gainB), r.gainB],
        ['balance', fmt(r.balance), r.balance],
      ];
      for (const [key, text, value] of cells) {
        const td = document.createElement('td');
        td.dataset.key = key;
        if (value !== null) td.dataset.value = String(value);
        td.textContent = text;
        tr.append(td);
      }
      tbody.append(tr);
    }
  }
  const any = !!(state.files?.length || state.rtfRows?.length);
  for (const id of ['export-csv', 'export-svg', 'export-png']) $<HTMLButtonElement>(id).disabled = !any;
  $('gain-figure').innerHTML = any ? currentFigure() : '';
}

function currentFigure(): string {
  const set = state.set!;
  const figure: Parameters<typeof gainFigure>[0] = { labels: set.labels, title: `Effective-rank gain and H: ${set.labels[0]} + ${set.labels[1]}` };
  if (state.files) figure.files = state.files;
  if (state.rtfRows) figure.rtf = state.rtfRows;
  return gainFigure(figure);
}

function fillSelect(el: HTMLSelectElement, options: Array<[string, string]>, keep = true): void {
  const old = el.value;
  el.replaceChildren(...options.map(([value, text]) => new Option(text, value)));
  if (keep && options.some(([v]) => v === old)) el.value = old;
}

function renderSettings(): void {
  const ws = state.workspace;
  const sets = ws?.sets ?? [];
  fillSelect($<HTMLSelectElement>('set'), sets.map((s, i) => [String(i), `${s.name} (${s.labels.join(' + ')})`]), false);
  $<HTMLSelectElement>('set').value = String(state.set ? sets.indexOf(state.set) : 0);
  $('set').parentElement!.hidden = sets.length < 2;
  $('authors-range-label').hidden = !state.set?.demo;
  $('rtf-loaded-alpha-label').hidden = !state.set?.alpha;
  $<HTMLInputElement>('rtf-alpha').disabled = state.rtf.loadedAlpha && !!state.set?.alpha;
  const src = $('source');
  src.textContent = ws
    ? `Loaded: ${ws.source}${state.set ? ` · ${state.set.groups.length} observation ratio${state.set.groups.length === 1 ? '' : 's'} × ${Math.max(...state.set.groups.map((g) => g.samples.length))} samples of ${state.set.labels.join(' + ')}, ${state.set.hasAfter ? 'with' : 'without'} exchanged tokens` : ''}`
    : '';
  const notes = ws?.notes ?? [];
  $('notes-box').hidden = notes.length === 0;
  $('notes').replaceChildren(...notes.slice(0, 50).map((n) => Object.assign(document.createElement('li'), { textContent: n })));
  renderSpectrumChoices();
}

let spectrumSet: PairSet | undefined;

function renderSpectrumChoices(): void {
  const set = state.set;
  const ws = state.workspace;
  const pair = !!set;
  $('spec-ratio-label').hidden = !pair;
  $('spec-seq-label').hidden = !pair;
  $('spec-matrix-label').hidden = pair || !ws || ws.matrices.length === 0;
  if (set) {
    const fresh = spectrumSet !== set;
    spectrumSet = set;
    fillSelect($<HTMLSelectElement>('spec-ratio'), set.groups.map((g, i) => [String(i), g.ratio === null ? 'all' : `${Math.round(g.ratio * 100)}%`]), !fresh);
    // A new pair opens on its longest observation, where the spectra have the most tokens.
    if (fresh) $<HTMLSelectElement>('spec-ratio').value = String(set.groups.length - 1);
    const g = set.groups[Number($<HTMLSelectElement>('spec-ratio').value)]!;
    fillSelect($<HTMLSelectElement>('spec-seq'), g.samples.map((s, i) => [String(i), `${s.seq} (T = ${s.a.rows})`]));
  } else if (ws) {
    fillSelect($<HTMLSelectElement>('spec-matrix'), ws.matrices.map((m, i) => [String(i), m.name]));
  }
  renderSpectrum();
}

function renderSpectrum(): void {
  const tbody = $('spectrum-ranks').querySelector('tbody')!;
  tbody.replaceChildren();
  $('spectrum-figure').innerHTML = '';
  const rows: Array<[string, TokenMatrix, string, boolean]> = [];
  const set = state.set;
  if (set) {
    const g = set.groups[Number($<HTMLSelectElement>('spec-ratio').value)];
    const i = Number($<HTMLSelectElement>('spec-seq').value);
    const s = g?.samples[i];
    if (!g || !s) return;
    const [a, b] = set.labels;
    rows.push([`${a} before`, s.a, COLOURS.a, false], [`${b} before`, s.b, COLOURS.b, false]);
    if (s.aAfter && s.bAfter) rows.push([`${a} after (files)`, s.aAfter, '#174a7c', false], [`${b} after (files)`, s.bAfter, '#b35806', false]);
    const x = state.rtfOut.get(g)?.[i];
    if (x) rows.push([`${a} after (RTF)`, x.a, COLOURS.a, true], [`${b} after (RTF)`, x.b, COLOURS.b, true]);
  } else if (state.workspace) {
    const m = state.workspace.matrices[Number($<HTMLSelectElement>('spec-matrix').value)];
    if (!m) return;
    rows.push([m.name, m.matrix, COLOURS.a, false]);
  }
  try {
    const series: SpectrumSeries[] = [];
    for (const [label, m, colour, dashed] of rows) {
      series.push({ label, values: singularValues(m), colour, dashed });
      const tr = document.createElement('tr');
      tr.dataset.matrix = label;
      const rank = rankOf(m, state.variant);
      tr.innerHTML = `<td></td><td>${m.rows} × ${m.cols}</td><td data-value="${rank}">${fmt(rank)}</td>`;
      tr.firstElementChild!.textContent = label;
      tbody.append(tr);
    }
    $('spectrum-figure').innerHTML = spectrumFigure(series, `Normalised singular spectrum (${state.variant} rank below)`);
  } catch (err) {
    message(oneLine(err));
  }
}

// ---- work ----

async function analyse(): Promise<void> {
  const run = ++state.loadRun;
  state.rtfRun++;
  const isCurrent = () => run === state.loadRun;
  const set = state.set;
  state.files = undefined;
  state.rtfRows = undefined;
  state.rtfApplied = undefined;
  state.rtfOut = new Map();
  delete $('gain-table').dataset.files;
  delete $('gain-table').dataset.rtf;
  renderTable();
  if (!set) return;
  await job(async () => {
    try {
      if (set.hasAfter) {
        const t0 = performance.now();
        state.files = await gainTable(set.groups, (s) => ({ a: s.aAfter!, b: s.bAfter! }), { variant: state.variant, authorsRange: set.demo && state.authorsRange, onProgress: progress, isCurrent });
        body.dataset.analysisMs = String(Math.round(performance.now() - t0));
        $('gain-table').dataset.files = `${set.name}|${state.variant}`;
        renderTable();
        // The table is the answer; the RTF panel's exchange that follows blocks the main thread
        // for a second per ratio under WebGL, so let the table reach the screen first.
        await painted(isCurrent);
      }
    } catch (err) {
      if (!(err instanceof Superseded)) message(oneLine(err));
      return;
    }
    await runRtf(isCurrent);
  });
}

async function runRtf(outer: () => boolean = () => true): Promise<void> {
  const set = state.set;
  if (!set) return;
  const run = ++state.rtfRun;
  const isCurrent = () => outer() && run === state.rtfRun;
  const settings = { ...state.rtf };
  const key = rtfKey(settings, set.alpha);
  $('rtf-status').textContent = 'exchanging…';
  await job(async () => {
    const t0 = performance.now();
    try {
      const out = new Map<PairGroup, Exchanged[]>();
      for (const [i, g] of set.groups.entries()) {
        progress(i, set.groups.length, 'RTF exchange (tfjs), observation ratios');
        out.set(g, await exchangeSamples(g.samples, settings, set.alpha));
        await breathe(isCurrent);
      }
      const rows = await gainTable(set.groups, (s, g, i) => out.get(g)![i]!, { variant: state.variant, authorsRange: set.demo && state.authorsRange, onProgress: progress, what: 'effective ranks after RTF', isCurrent });
      state.rtfOut = out;
      state.rtfRows = rows;
      state.rtfApplied = key;
      body.dataset.rtfMs = String(Math.round(performance.now() - t0));
      $('gain-table').dataset.rtf = `${key}|${state.variant}`;
      $('rtf-status').textContent = `applied: ${key.replace(/\|/g, ', ')}`;
      renderTable();
      renderSpectrum();
    } catch (err) {
      if (err instanceof Superseded) return;
      $('rtf-status').textContent = '';
      message(oneLine(err));
    }
  });
}

/** A new workspace replaces the old one; a load that gave nothing leaves the page as it was. */
function show(workspace: Workspace): void {
  state.workspace = workspace;
  state.set = workspace.sets[0];
  renderSettings();
  void analyse();
}

let readRun = 0;
async function load(files: InputFile[]): Promise<void> {
  if (files.length === 0) return;
  const run = ++readRun;
  message(null);
  await job(async () => {
    const t0 = performance.now();
    try {
      const { workspace, errors } = await loadFiles(files, (d, t) => progress(d, t, 'reading files'));
      if (run !== readRun) return;
      body.dataset.loadMs = String(Math.round(performance.now() - t0));
      if (errors.length > 0) message(errors.length === 1 ? errors[0]! : `${errors[0]} (and ${errors.length - 1} more; hover for all)`, errors);
      if (workspace) show(workspace);
    } catch (err) {
      message(oneLine(err));
    }
  });
}

async function loadExample(): Promise<void> {
  const run = ++readRun;
  message(null);
  await job(async () => {
    try {
      const set = await exampleSet(progress, () => run === readRun);
      show({ source: set.name, sets: [set], matrices: [], notes: [] });
    } catch (err) {
      if (!(err instanceof Superseded)) message(oneLine(err));
    }
  });
}

// ---- events ----

function readRtfControls(): void {
  state.rtf = {
    selection: $<HTMLSelectElement>('rtf-selection').value as RtfSettings['selection'],
    ratio: Number($<HTMLInputElement>('rtf-ratio').value),
    alpha: Number($<HTMLInputElement>('rtf-alpha').value),
    loadedAlpha: $<HTMLInputElement>('rtf-loaded-alpha').checked,
  };
  $('rtf-ratio-out').textContent = String(state.rtf.ratio);
  $('rtf-alpha-out').textContent = String(state.rtf.alpha);
  $<HTMLInputElement>('rtf-alpha').disabled = state.rtf.loadedAlpha && !!state.set?.alpha;
}

let rtfTimer: ReturnType<typeof setTimeout> | undefined;
function rtfChanged(): void {
  readRtfControls();
  clearTimeout(rtfTimer);
  rtfTimer = setTimeout(() => void runRtf(), 250);
}

function wire(): void {
  $<HTMLInputElement>('file-input').addEventListener('change', (e) => {
    const input = e.target as HTMLInputElement;
    void load(Array.from(input.files ?? []).map((f) => inputFile(f, f.name)));
    input.value = '';
  });
  $<HTMLInputElement>('folder-input').addEventListener('change', (e) => {
    const input = e.target as HTMLInputElement;
    void load(Array.from(input.files ?? []).map((f) => inputFile(f)));
    input.value = '';
  });
  $('example').addEventListener('click', () => void loadExample());
  document.addEventListener('dragover', (e) => {
    e.preventDefault();
    body.classList.add('dragging');
  });
  document.addEventListener('dragleave', (e) => {
    if (e.target === document.documentElement || !e.relatedTarget) body.classList.remove('dragging');
  });
  document.addEventListener('drop', (e) => {
    e.preventDefault();
    body.classList.remove('dragging');
    if (e.dataTransfer) void droppedFiles(e.dataTransfer).then(load, (err) => message(oneLine(err)));
  });
  $('set').addEventListener('change', () => {
    state.set = state.workspace?.sets[Number($<HTMLSelectElement>('set').value)];
    renderSettings();
    void analyse();
  });
  $('variant').addEventListener('change', () => {
    state.variant = $<HTMLSelectElement>('variant').value as EffectiveRankVariant;
    renderSpectrum();
    void analyse();
  });
  $('authors-range').addEventListener('change', () => {
    state.authorsRange = $<HTMLInputElement>('authors-range').checked;
    void analyse();
  });
  for (const id of ['rtf-selection', 'rtf-ratio', 'rtf-alpha', 'rtf-loaded-alpha']) $(id).addEventListener('input', rtfChanged);
  $('rtf-apply').addEventListener('click', () => {
    readRtfControls();
    clearTimeout(rtfTimer);
    void runRtf();
  });
  $('spec-ratio').addEventListener('change', renderSpectrumChoices);
  $('spec-seq').addEventListener('change', renderSpectrum);
  $('spec-matrix').addEventListener('change', renderSpectrum);
  const name = () => (state.set?.name ?? 'tokens').replace(/[^\w.-]+/g, '_');
  $('export-csv').addEventListener('click', () => {
    const set = state.set;
    if (!set) return;
    const input: Parameters<typeof tableCsv>[0] = { labels: set.labels, set: set.name, variant: state.variant };
    if (state.rtfApplied) input.rtfSettings = state.rtfApplied;
    if (state.files) input.files = state.files;
    if (state.rtfRows) input.rtf = state.rtfRows;
    download(new Blob([tableCsv(input)], { type: 'text/csv' }), `r3d-gains-${name()}.csv`);
  });
  $('export-svg').addEventListener('click', () => download(new Blob([currentFigure()], { type: 'image/svg+xml' }), `r3d-gains-${name()}.svg`));
  $('export-png').addEventListener('click', () => {
    void svgToPng(currentFigure()).then((png) => download(png, `r3d-gains-${name()}.png`), (err) => message(oneLine(err)));
  });
}

async function start(): Promise<void> {
  wire();
  readRtfControls();
  const params = new URLSearchParams(location.search);
  const wanted = params.get('backend');
  const prefer = (BACKENDS as readonly string[]).includes(wanted ?? '') ? (wanted as BackendName) : undefined;
  try {
    const choice = await chooseBackend(new URL('./wasm/', document.baseURI).href, prefer);
    const el = $('backend');
    el.textContent = `tfjs backend: ${choice.name}`;
    el.dataset.backend = choice.name;
    el.title = choice.skipped.length > 0 ? choice.skipped.map((s) => `${s.name} skipped: ${s.reason}`).join('\n') : 'the best backend loaded';
  } catch (err) {
    message(oneLine(err));
  }
  if (params.get('example') !== '0') await loadExample();
  else body.dataset.state = 'ready';
}

void start();
