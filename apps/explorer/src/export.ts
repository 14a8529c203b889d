import type { TableRow } from './analysis.js';

/** The CSV columns, in order (the page's table shows the same). */
export const CSV_HEADER = ['source', 'observation_ratio', 'samples', 'erank_A_before', 'erank_A_after', 'erank_B_before', 'erank_B_after', 'gain_A', 'gain_B', 'H'] as const;

/**
 * The current gain table as CSV: a comment line naming the pair, set and settings, the header,
 * then one line per source (files, RTF in page) and observation ratio, numbers at full precision.
 *
 * @example
 * tableCsv({ labels: ['rgb', 'depth'], set: 'darai-demo', files: rows }); // '# A = rgb, B = depth, ...\nsource,observation_ratio,...'
 */
export function tableCsv(input: { labels: [string, string]; set: string; variant?: string; rtfSettings?: string; files?: TableRow[]; rtf?: TableRow[] }): string {
  const quote = (s: string) => (/[",\n]/.test(s) ? `"${s.replace(/"/g, '""')}"` : s);
  const lines = [
    `# A = ${input.labels[0]}, B = ${input.labels[1]}, set = ${input.set}${input.variant ? `, effective rank = ${input.variant}` : ''}${input.rtfSettings ? `, RTF = ${input.rtfSettings}` : ''}`,
    CSV_HEADER.join(','),
  ];
  for (const [source, rows] of [['files', input.files], ['rtf', input.rtf]] as const) {
    for (const r of rows ?? []) {
      lines.push(
        [source, r.ratio ?? '', r.samples, r.erank.beforeA, r.erank.afterA, r.erank.beforeB, r.erank.afterB, r.gainA, r.gainB, r.balance]
          .map((v) => quote(String(v)))
          .join(','),
      );
    }
  }
  return `${lines.join('\n')}\n`;
}

/**
 * Offers a blob as a download named `name` (an object URL, never a request to anywhere).
 *
 * @example
 * download(new Blob(['a,b\n'], { type: 'text/csv' }), 'table.csv');
 */
export function download(blob: Blob, name: string): void {
  const url = URL.createObjectURL(blob);
  const a = document.createElement('a');
  a.href = url;
  a.download = name;
  document.body.append(a);
  a.click();
  a.remove();
  setTimeout(() => URL.revokeObjectURL(url), 10_000);
}

/**
 * Renders standalone SVG markup to a PNG blob at `scale` x its size, through an image and a canvas
 * (all in the page).
 *
 * @example
 * download(await svgToPng(gainFigure({ labels, files: rows })), 'gains.png');
 */
export async function svgToPng(svg: string, scale = 2): Promise<Blob> {
  const img = new Image();
  const url = URL.createObjectURL(new Blob([svg], { type: 'image/svg+xml' }));
  try {
    await new Promise<void>((resolve, reject) => {
      img.onload = () => resolve();
      img.onerror = () => reject(new Error('the figure could not be drawn as an image'));
      img.src = url;
    });
    const canvas = document.createElement('canvas');
    canvas.width = Math.round(img.width * scale);
    canvas.height = Math.round(img.height * scale);
    const ctx = canvas.getContext('2d')!;
    ctx.scale(scale, scale);
    ctx.drawImage(img, 0, 0);
    return await new Promise<Blob>((resolve, reject) => canvas.toBlob((b) => (b ? resolve(b) : reject(new Error('PNG encoding failed'))), 'image/png'));
  } finally {
    URL.revokeObjectURL(url);
  }
}
