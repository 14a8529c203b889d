import { join } from 'node:path';
import type { AblationConfig } from '../config.js';
import type { DemoResult } from '../darai-demo.js';
import type { Cell } from '../grid.js';
import { writeFileAtomic } from '@r3d-ts/tensor-io/node';
import { jsonNumbers, recommendPartner, summariseGroups, type GroupSummary, type Recommendation } from '../results.js';
import type { CellResult, RankPoint } from '../run-cell.js';
import { balanceFigureSpec, escapeXml, gainFigureSpec, mocFigureSpec, renderFigure, type Figure, type GainPoint } from './figures.js';

/** What the report of a grid run is made of. */
export interface GridReport {
  config: AblationConfig;
  dataDescription: string;
  backend: string;
  cells: Cell[];
  results: CellResult[];
  groups: GroupSummary[];
  recommendation: Recommendation;
  missing: string[];
}

const f3 = (x: number) => (Number.isFinite(x) ? x.toFixed(3) : '-');
const pct = (x: number) => (Number.isFinite(x) ? (100 * x).toFixed(1) : '-');
const pm = (m: number, s: number) => (Number.isFinite(m) ? `${pct(m)} ± ${pct(s)}` : '-');
const label = (g: Pick<GroupSummary, 'partner' | 'fuser' | 'exchangeRatio'>) =>
  g.partner === 'rgb' ? 'rgb alone' : `${g.partner} + ${g.fuser}${g.exchangeRatio != null ? ` (${g.exchangeRatio})` : ''}`;

function mdTable(head: string[], rows: string[][]): string {
  return [`| ${head.join(' | ')} |`, `|${head.map(() => '---').join('|')}|`, ...rows.map((r) => `| ${r.join(' | ')} |`)].join('\n');
}

/** The MoC table: one row per partner/fuser group, one column per (obs, pred), mean +- std over seeds (%). */
export function mocTable(groups: readonly GroupSummary[]): { head: string[]; rows: string[][] } {
  const keys = groups[0]?.moc.map((m) => [m.observationRatio, m.predictionRatio] as const) ?? [];
  const head = ['partner + fuser', 'seeds', ...keys.map(([o, p]) => `obs ${o} / pred ${p}`), 'mean MoC'];
  const rows = groups.map((g) => [
    label(g),
    String(g.seeds.length),
    ...keys.map(([o, p]) => {
      const m = g.moc.find((x) => x.observationRatio === o && x.predictionRatio === p);
      return m ? pm(m.mean, m.std) : '-';
    }),
    pm(g.meanMoc.mean, g.meanMoc.std),
  ]);
  return { head, rows };
}

/** Gains and H per partner at each observation ratio (means over seeds). */
export function gainTable(groups: readonly GroupSummary[]): { head: string[]; rows: string[][] } {
  const ratios = groups.find((g) => g.partner !== 'rgb')?.ranks.map((r) => r.observationRatio) ?? [];
  const head = ['partner + fuser', 'quantity', ...ratios.map((r) => `${Math.round(100 * r)}%`), 'mean'];
  const rows: string[][] = [];
  for (const g of groups.filter((x) => x.partner !== 'rgb')) {
    for (const [name, key] of [['gain RGB', 'gainRgb'], [`gain ${g.partner}`, 'gainPartner'], ['H', 'balance']] as const) {
      const vals = ratios.map((r) => g.ranks.find((p) => p.observationRatio === r)?.[key] ?? Number.NaN);
      rows.push([label(g), name, ...vals.map(f3), f3(vals.reduce((a, b) => a + b, 0) / Math.max(vals.length, 1))]);
    }
  }
  return { head, rows };
}

/** The darai-demo table: gains and H per observation ratio, as the fixture README prints it. */
export function demoTable(ranks: readonly RankPoint[]): { head: string[]; rows: string[][] } {
  return {
    head: ['obs', 'gain RGB', 'gain depth', 'harmonic mean'],
    rows: ranks.map((r) => [String(r.observationRatio), r.gainRgb.toFixed(4), r.gainPartner.toFixed(4), r.balance.toFixed(4)]),
  };
}

/** One CSV row per cell and seed. */
export function resultsCsv(results: readonly CellResult[]): string {
  const mocKeys = results[0]?.moc.map((m) => [m.observationRatio, m.predictionRatio] as const) ?? [];
  const ratios = results.find((r) => r.ranks.length)?.ranks.map((p) => p.observationRatio) ?? [];
  const head = [
    'cell', 'partner', 'fuser', 'exchange_ratio', 'seed', 'mean_moc',
    ...mocKeys.map(([o, p]) => `moc_obs${o}_pred${p}`),
    ...ratios.flatMap((r) => [`gain_rgb_obs${r}`, `gain_partner_obs${r}`, `h_obs${r}`]),
    'after_tokens', 'seconds', 'backend',
  ];
  const num = (x: number | null | undefined) => (x == null || !Number.isFinite(x) ? '' : String(Number(x.toPrecision(6))));
  const lines = results.map((r) => [
    r.cell.id, r.cell.partner, r.cell.fuser, num(r.cell.exchangeRatio), String(r.cell.seed), num(r.meanMoc),
    ...mocKeys.map(([o, p]) => num(r.moc.find((m) => m.observationRatio === o && m.predictionRatio === p)?.moc)),
    ...ratios.flatMap((ratio) => {
      const p = r.ranks.find((x) => x.observationRatio === ratio);
      return [num(p?.gainRgb), num(p?.gainPartner), num(p?.balance)];
    }),
    r.afterTokens, r.seconds.toFixed(1), r.backend,
  ].join(','));
  return `${[head.join(','), ...lines].join('\n')}\n`;
}

/** Figures of a grid run: the paper's gain figure per fuser, H per partner, MoC bars. */
export async function gridFigures(groups: readonly GroupSummary[]): Promise<Figure[]> {
  const figures: Figure[] = [];
  const fused = groups.filter((g) => g.partner !== 'rgb');
  const byFuser = new Map<string, GroupSummary[]>();
  for (const g of fused) {
    const key = `${g.fuser}${g.exchangeRatio != null ? `-r${g.exchangeRatio}` : ''}`;
    if (!byFuser.has(key)) byFuser.set(key, []);
    byFuser.get(key)!.push(g);
  }
  for (const [key, gs] of byFuser) {
    const points: GainPoint[] = gs.flatMap((g) =>
      g.ranks.flatMap((r) => [
        { panel: g.partner, series: 'RGB gain', observation: r.observationRatio, value: r.gainRgb },
        { panel: g.partner, series: 'partner gain', observation: r.observationRatio, value: r.gainPartner },
        { panel: g.partner, series: 'harmonic mean H', observation: r.observationRatio, value: r.balance },
      ]),
    );
    const title = `Effective-rank gain vs observation, ${key}`;
    figures.push(await renderFigure(`erank-gain-${key}`, title, gainFigureSpec(points, title)));
  }
  if (fused.length) {
    const points = fused.flatMap((g) => g.ranks.map((r) => ({ panel: `${g.fuser}${g.exchangeRatio != null ? ` (${g.exchangeRatio})` : ''}`, partner: g.partner, observation: r.observationRatio, value: r.balance })));
    figures.push(await renderFigure('balance', 'Balance H of RGB and partner gains', balanceFigureSpec(points, 'Balance H of RGB and partner gains')));
  }
  const mocRows = groups.filter((g) => Number.isFinite(g.meanMoc.mean)).map((g) => ({ label: label(g), partner: g.partner, mean: g.meanMoc.mean, std: g.meanMoc.std }));
  if (mocRows.length) figures.push(await renderFigure('moc', 'Mean MoC over the obs x pred grid (± std over seeds)', mocFigureSpec(mocRows, 'Mean MoC over the obs x pred grid (± std over seeds)')));
  return figures;
}

function htmlTable(t: { head: string[]; rows: string[][] }): string {
  return `<table>\n<thead><tr>${t.head.map((h) => `<th>${escapeXml(h)}</th>`).join('')}</tr></thead>\n<tbody>\n${t.rows.map((r) => `<tr>${r.map((c) => `<td>${escapeXml(c)}</td>`).join('')}</tr>`).join('\n')}\n</tbody>\n</table>`;
}

function mdInline(text: string): string {
  return escapeXml(text).replace(/\*\*(.+?)\*\*/g, '<strong>$1</strong>');
}

/** A self-contained page: tables and inline SVG figures, no script, no network. */
export function htmlPage(title: string, sections: Array<{ heading: string; paragraphs?: string[]; table?: { head: string[]; rows: string[][] }; figures?: Figure[] }>): string {
  const body = sections
    .map((s) => [
      `<section>\n<h2>${escapeXml(s.heading)}</h2>`,
      ...(s.paragraphs ?? []).map((p) => `<p>${mdInline(p)}</p>`),
      ...(s.table ? [htmlTable(s.table)] : []),
      ...(s.figures ?? []).map((f) => `<figure id="${escapeXml(f.name)}">\n${f.svg}\n<figcaption>${escapeXml(f.title)}</figcaption>\n</figure>`),
      '</section>',
    ].join('\n'))
    .join('\n');
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<title>${escapeXml(title)}</title>
<style>
body { font-family: "DejaVu Sans", Arial, sans-serif; margin: 2rem auto; max-width: 1200px; color: #222; padding: 0 1rem; }
table { border-collapse: collapse; margin: 1rem 0; font-size: 0.85rem; }
th, td { border: 1px solid #ccc; padding: 0.25rem 0.5rem; text-align: right; }
th:first-child, td:first-child { text-align: left; }
thead { background: #f3f3f3; }
figure { margin: 1.5rem 0; overflow-x: auto; }
figcaption { color: #555; font-size: 0.85rem; }
.verdict { background: #eef6ee; border-left: 4px solid #54a24b; padding: 0.5rem 1rem; }
</style>
</head>
<body>
<h1>${escapeXml(title)}</h1>
${body}
</body>
</html>
`;
}

/** Writes results.json, results.csv, report.md, figures/*.svg|png and index.html for a grid run. */
export async function writeGridReport(out: string, report: GridReport): Promise<{ figures: Figure[] }> {
  const figures = await gridFigures(report.groups);
  for (const f of figures) {
    writeFileAtomic(join(out, 'figures', `${f.name}.svg`), f.svg);
    writeFileAtomic(join(out, 'figures', `${f.name}.png`), f.png);
  }
  const moc = mocTable(report.groups);
  const gains = gainTable(report.groups);
  const { config } = report;
  const setup = [
    `Dataset: ${report.dataDescription}. Backend: ${report.backend}.`,
    `Grid: partners ${config.partners.join(', ')}; fusers ${config.fusers.join(', ')}; exchange ratios ${config.exchangeRatios.join(', ')}; seeds ${config.seeds.join(', ')}; ${config.epochs} epochs, batch ${config.batchSize}, lr ${config.lr}, model C=${config.model.hidden}.`,
    `MoC protocol: ${[...new Set(report.results.map((r) => r.protocol ?? 'unrecorded (cells made before the released protocol)'))].join(', ') || 'none (no cell results)'}.`,
    `Effective rank: the authors' form (uncentred singular values), per test video, averaged; gain = erank(after fusion) - erank(before); H = harmonic mean of the two mean gains (0 when either is <= 0).`,
    ...(report.missing.length ? [`Incomplete: ${report.missing.length} of ${report.cells.length} cells have no result yet (${report.missing.slice(0, 6).join(', ')}${report.missing.length > 6 ? ', ...' : ''}).`] : []),
  ];
  const timing = report.results.map((r) => [r.cell.id, r.seconds.toFixed(1)]);
  const md = [
    '# R3D partner ablation',
    '',
    ...setup.map((s) => `${s}\n`),
    '## Verdict',
    '',
    report.recommendation.text,
    '',
    '## MoC (%), mean ± std over seeds',
    '',
    mdTable(moc.head, moc.rows),
    '',
    '## Effective-rank gains and balance H per partner',
    '',
    mdTable(gains.head, gains.rows),
    '',
    '## Figures',
    '',
    ...figures.map((f) => `![${f.title}](figures/${f.name}.png)\n`),
    '## Wall time per cell (s)',
    '',
    mdTable(['cell', 'seconds'], timing),
    '',
  ].join('\n');
  writeFileAtomic(join(out, 'report.md'), md);
  writeFileAtomic(join(out, 'results.csv'), resultsCsv(report.results));
  const json = {
    kind: 'grid',
    config: report.config,
    dataset: report.dataDescription,
    backend: report.backend,
    recommendation: report.recommendation,
    groups: report.groups,
    cells: report.results,
    missing: report.missing,
  };
  writeFileAtomic(join(out, 'results.json'), `${JSON.stringify(json, jsonNumbers.replace, 2)}\n`);
  const html = htmlPage('R3D partner ablation', [
    { heading: 'Setup', paragraphs: setup },
    { heading: 'Verdict', paragraphs: [report.recommendation.text] },
    { heading: 'MoC (%), mean ± std over seeds', table: moc },
    { heading: 'Effective-rank gains and balance H', table: gains, figures },
    { heading: 'Wall time per cell (s)', table: { head: ['cell', 'seconds'], rows: timing } },
  ]).replace('<p>' + mdInline(report.recommendation.text) + '</p>', `<p class="verdict">${mdInline(report.recommendation.text)}</p>`);
  writeFileAtomic(join(out, 'index.html'), html);
  return { figures };
}

/** Builds the grid report's content from cell results. */
export function gridReport(config: AblationConfig, cells: Cell[], results: CellResult[], dataDescription: string, backend: string): GridReport {
  const order = new Map(cells.map((c, i) => [c.id, i]));
  const sorted = [...results].sort((a, b) => (order.get(a.cell.id) ?? 1e9) - (order.get(b.cell.id) ?? 1e9));
  const groups = summariseGroups(sorted);
  const have = new Set(sorted.map((r) => r.cell.id));
  return {
    config,
    dataDescription,
    backend,
    cells,
    results: sorted,
    groups,
    recommendation: recommendPartner(groups, config.fusers),
    missing: cells.filter((c) => !have.has(c.id)).map((c) => c.id),
  };
}

/** Writes the darai-demo report: the gain table at each ratio and the paper's figure. */
export async function writeDemoReport(out: string, demo: DemoResult): Promise<{ figures: Figure[] }> {
  const points: GainPoint[] = demo.ranks.flatMap((r) => [
    { panel: 'DARai, RGB + depth (authors\u2019 tokens)', series: 'RGB gain', observation: r.observationRatio, value: r.gainRgb },
    { panel: 'DARai, RGB + depth (authors\u2019 tokens)', series: 'partner gain', observation: r.observationRatio, value: r.gainPartner },
    { panel: 'DARai, RGB + depth (authors\u2019 tokens)', series: 'harmonic mean H', observation: r.observationRatio, value: r.balance },
  ]);
  const title = 'Effective-rank gain vs observation (DARai, RGB + depth)';
  const figures = [await renderFigure('erank-gain-darai-demo', title, gainFigureSpec(points, title, 1))];
  for (const f of figures) {
    writeFileAtomic(join(out, 'figures', `${f.name}.svg`), f.svg);
    writeFileAtomic(join(out, 'figures', `${f.name}.png`), f.png);
  }
  const table = demoTable(demo.ranks);
  const setup = [
    `The authors' DARai tokens (${demo.layout === 'npy' ? 'converted .npy folder' : 'R3D-demo .pt files'} at ${demo.root}), RGB and depth before and after the rank-enhancing exchange; mean over sequences ${rangeText(demo.sequences)} of the effective-rank gain, and the harmonic mean H of the two mean gains. Rank analysis only: these tokens come with no labels to train on.`,
  ];
  const md = ['# DARai rank analysis (authors\u2019 tokens)', '', setup[0]!, '', mdTable(table.head, table.rows), '', ...figures.map((f) => `![${f.title}](figures/${f.name}.png)\n`)].join('\n');
  writeFileAtomic(join(out, 'report.md'), md);
  const csv = ['obs,gain_rgb,gain_depth,h,erank_rgb_before,erank_rgb_after,erank_depth_before,erank_depth_after,sequences', ...demo.ranks.map((r) => [r.observationRatio, r.gainRgb, r.gainPartner, r.balance, r.erank.rgbBefore, r.erank.rgbAfter, r.erank.partnerBefore, r.erank.partnerAfter, r.samples].join(','))].join('\n');
  writeFileAtomic(join(out, 'results.csv'), `${csv}\n`);
  writeFileAtomic(join(out, 'results.json'), `${JSON.stringify({ kind: 'darai-demo', ...demo }, jsonNumbers.replace, 2)}\n`);
  writeFileAtomic(join(out, 'index.html'), htmlPage('DARai rank analysis (authors\u2019 tokens)', [{ heading: 'Effective-rank gain and balance H', paragraphs: setup, table, figures }]));
  return { figures };
}

function rangeText(seqs: readonly number[]): string {
  if (seqs.length === 0) return 'none';
  const sorted = [...seqs].sort((a, b) => a - b);
  const contiguous = sorted.every((s, i) => i === 0 || s === sorted[i - 1]! + 1);
  return contiguous ? `${sorted[0]}..${sorted[sorted.length - 1]}` : sorted.join(', ');
}
