import type { TableRow } from './analysis.js';

/** Colours of modality A, modality B and H (matching the ablation report's figure). */
export const COLOURS = { a: '#1f77b4', b: '#ff7f0e', h: '#2ca02c' } as const;

const W = 640;
const H = 360;
const M = { left: 58, right: 160, top: 34, bottom: 46 };

function esc(s: string): string {
  return s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');
}

function fmt(v: number): string {
  return Number.isInteger(v) ? String(v) : v.toFixed(Math.abs(v) < 0.1 ? 3 : 2).replace(/0+$/, '').replace(/\.$/, '');
}

/** About five round tick values spanning [lo, hi]. */
function ticks(lo: number, hi: number): number[] {
  const span = hi - lo || 1;
  const step0 = span / 5;
  const mag = 10 ** Math.floor(Math.log10(step0));
  const step = [1, 2, 5, 10].map((m) => m * mag).find((s) => s >= step0)!;
  const out: number[] = [];
  for (let v = Math.ceil(lo / step) * step; v <= hi + step * 1e-9; v += step) out.push(Number(v.toFixed(10)));
  return out;
}

/** Where a row sits on the x axis: observation % when rows have ratios, else its index. */
function xOf(row: TableRow, i: number): number {
  return row.ratio === null ? i + 1 : row.ratio * 100;
}

function frame(title: string, xLabel: string, yLabel: string, body: string, axes: string): string {
  return (
    `<svg xmlns="http://www.w3.org/2000/svg" role="img" width="${W}" height="${H}" viewBox="0 0 ${W} ${H}" font-family="system-ui, sans-serif" font-size="12">` +
    `<title>${esc(title)}</title><rect width="${W}" height="${H}" fill="#fff"/>` +
    `<text x="${M.left}" y="20" font-size="14" font-weight="600">${esc(title)}</text>${axes}${body}` +
    `<text x="${M.left + (W - M.left - M.right) / 2}" y="${H - 8}" text-anchor="middle">${esc(xLabel)}</text>` +
    `<text transform="translate(14 ${M.top + (H - M.top - M.bottom) / 2}) rotate(-90)" text-anchor="middle">${esc(yLabel)}</text></svg>`
  );
}

/**
 * The paper's figure as standalone SVG: each modality's effective-rank gain and the balance H
 * against the observation ratio, from the files' exchange (solid) and the page's RTF (dashed).
 *
 * @example
 * gainFigure({ labels: ['rgb', 'depth'], files: rows }); // '<svg xmlns=...'
 */
export function gainFigure(input: { labels: [string, string]; files?: TableRow[]; rtf?: TableRow[]; title?: string }): string {
  const series = [input.files, input.rtf].filter((r): r is TableRow[] => !!r && r.length > 0);
  const all = series.flat();
  const values = all.flatMap((r) => [r.gainA, r.gainB, r.balance]);
  const yLo = Math.min(0, ...values);
  const yHi = Math.max(0.1, ...values) * 1.08;
  const byRatio = all.every((r) => r.ratio !== null);
  const nX = Math.max(1, ...series.map((r) => r.length));
  const [xLo, xHi] = byRatio ? [0, 100] : [0, nX + 1];
  const px = (x: number) => M.left + ((x - xLo) / (xHi - xLo)) * (W - M.left - M.right);
  const py = (y: number) => H - M.bottom - ((y - yLo) / (yHi - yLo)) * (H - M.top - M.bottom);
  let axes = `<g stroke="#ccc">`;
  for (const t of ticks(yLo, yHi)) axes += `<line x1="${M.left}" x2="${W - M.right}" y1="${py(t)}" y2="${py(t)}"/>`;
  axes += `</g><g fill="#333">`;
  for (const t of ticks(yLo, yHi)) axes += `<text x="${M.left - 6}" y="${py(t) + 4}" text-anchor="end">${fmt(t)}</text>`;
  const xt = byRatio ? [0, 20, 40, 60, 80, 100] : Array.from({ length: nX }, (_, i) => i + 1);
  for (const t of xt) axes += `<text x="${px(t)}" y="${H - M.bottom + 16}" text-anchor="middle">${t}</text>`;
  axes += `</g><line x1="${M.left}" x2="${W - M.right}" y1="${py(0)}" y2="${py(0)}" stroke="#666"/>`;
  let body = '';
  const lines: Array<[keyof typeof COLOURS, (r: TableRow) => number, string]> = [
    ['a', (r) => r.gainA, `${input.labels[0]} gain`],
    ['b', (r) => r.gainB, `${input.labels[1]} gain`],
    ['h', (r) => r.balance, 'harmonic mean H'],
  ];
  const sources: Array<[TableRow[] | undefined, string, string]> = [
    [input.files, '', 'files'],
    [input.rtf, '6 4', 'RTF in page'],
  ];
  for (const [rows, dash, source] of sources) {
    if (!rows || rows.length === 0) continue;
    for (const [key, value, label] of lines) {
      const pts = rows.map((r, i) => `${px(xOf(r, i)).toFixed(1)},${py(value(r)).toFixed(1)}`);
      body += `<polyline fill="none" stroke="${COLOURS[key]}" stroke-width="2"${dash ? ` stroke-dasharray="${dash}"` : ''} points="${pts.join(' ')}" data-series="${source}:${key}"><title>${esc(`${label} (${source})`)}</title></polyline>`;
      for (const p of pts) {
        const [cx, cy] = p.split(',');
        body += `<circle cx="${cx}" cy="${cy}" r="${dash ? 2.5 : 3}" fill="${dash ? '#fff' : COLOURS[key]}" stroke="${COLOURS[key]}"/>`;
      }
    }
  }
  let ly = M.top + 6;
  const lx = W - M.right + 14;
  for (const [key, , label] of lines) {
    body += `<line x1="${lx}" x2="${lx + 22}" y1="${ly}" y2="${ly}" stroke="${COLOURS[key]}" stroke-width="2"/><text x="${lx + 28}" y="${ly + 4}">${esc(label)}</text>`;
    ly += 18;
  }
  ly += 6;
  for (const [rows, dash, source] of sources) {
    if (!rows || rows.length === 0) continue;
    body += `<line x1="${lx}" x2="${lx + 22}" y1="${ly}" y2="${ly}" stroke="#333" stroke-width="2"${dash ? ` stroke-dasharray="${dash}"` : ''}/><text x="${lx + 28}" y="${ly + 4}">${esc(source)}</text>`;
    ly += 18;
  }
  const title = input.title ?? 'Effective-rank gain after fusion and balance H';
  return frame(title, byRatio ? 'observation (%)' : 'sample', 'gain in effective rank / H', body, axes);
}

/** One line of the spectrum figure. */
export interface SpectrumSeries {
  label: string;
  values: ArrayLike<number>;
  colour: string;
  dashed?: boolean;
}

/**
 * Normalised singular spectra p_i = s_i / sum s (log scale) as standalone SVG: the distribution
 * whose entropy is the effective rank, so a collapsed matrix shows as a steep drop.
 *
 * @example
 * spectrumFigure([{ label: 'rgb before', values: singularValues(m), colour: '#1f77b4' }]);
 */
export function spectrumFigure(series: SpectrumSeries[], title = 'Normalised singular spectrum'): string {
  const norm = series.map((s) => {
    const v = Array.from(s.values);
    const total = v.reduce((a, b) => a + b, 0);
    return v.map((x) => (total > 0 ? x / total : 0));
  });
  const n = Math.max(2, ...norm.map((v) => v.length));
  const positive = norm.flat().filter((v) => v > 0);
  const lo = Math.max(-8, Math.floor(Math.log10(Math.min(1, ...positive))));
  const hi = 0;
  const px = (i: number) => M.left + ((i - 1) / (n - 1)) * (W - M.left - M.right);
  const py = (p: number) => H - M.bottom - ((Math.max(lo, Math.log10(p)) - lo) / (hi - lo || 1)) * (H - M.top - M.bottom);
  let axes = `<g stroke="#ccc">`;
  for (let e = lo; e <= hi; e++) axes += `<line x1="${M.left}" x2="${W - M.right}" y1="${py(10 ** e)}" y2="${py(10 ** e)}"/>`;
  axes += `</g><g fill="#333">`;
  for (let e = lo; e <= hi; e++) axes += `<text x="${M.left - 6}" y="${py(10 ** e) + 4}" text-anchor="end">1e${e}</text>`;
  for (const t of ticks(1, n)) if (t >= 1) axes += `<text x="${px(t)}" y="${H - M.bottom + 16}" text-anchor="middle">${t}</text>`;
  axes += `</g>`;
  let body = '';
  norm.forEach((v, k) => {
    const s = series[k]!;
    const pts = v.map((p, i) => (p > 0 ? `${px(i + 1).toFixed(1)},${py(p).toFixed(1)}` : '')).filter(Boolean);
    body += `<polyline fill="none" stroke="${s.colour}" stroke-width="1.8"${s.dashed ? ' stroke-dasharray="6 4"' : ''} points="${pts.join(' ')}"><title>${esc(s.label)}</title></polyline>`;
  });
  let ly = M.top + 6;
  const lx = W - M.right + 14;
  for (const s of series) {
    body += `<line x1="${lx}" x2="${lx + 22}" y1="${ly}" y2="${ly}" stroke="${s.colour}" stroke-width="2"${s.dashed ? ' stroke-dasharray="6 4"' : ''}/><text x="${lx + 28}" y="${ly + 4}">${esc(s.label)}</text>`;
    ly += 18;
  }
  return frame(title, 'singular value index', 's_i / sum s (log)', body, axes);
}
