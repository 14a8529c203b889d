import type { GridReport } from '../analysis/grid-report.js';
import type { DemoResult } from '../darai-demo.js';

/**
 * The setup paragraphs of a grid report (dataset, grid, how ranks are measured, missing cells),
 * shared word for word by report.md and index.html.
 *
 * @example
 * gridSetup(report)[0]; // 'Dataset: synthetic (seed 1, 40 sequences, 1 frame in 3 of 15 fps). Backend: wasm.'
 */
export function gridSetup(report: GridReport): string[] {
  const { config } = report;
  return [
    `Dataset: ${report.dataDescription}. Backend: ${report.backend}.`,
    `Grid: partners ${config.partners.join(', ')}; fusers ${config.fusers.join(', ')}; exchange ratios ${config.exchangeRatios.join(', ')}; seeds ${config.seeds.join(', ')}; ${config.epochs} epochs, batch ${config.batchSize}, lr ${config.lr}, model C=${config.model.hidden}.`,
    `MoC protocol: ${[...new Set(report.results.map((r) => r.protocol ?? 'unrecorded (cells made before the released protocol)'))].join(', ') || 'none (no cell results)'}.`,
    `Effective rank: the authors' form (uncentred singular values), per test video, averaged; gain = erank(after fusion) - erank(before); H = harmonic mean of the two mean gains (0 when either is <= 0).`,
    ...(report.missing.length ? [`Incomplete: ${report.missing.length} of ${report.cells.length} cells have no result yet (${report.missing.slice(0, 6).join(', ')}${report.missing.length > 6 ? ', ...' : ''}).`] : []),
  ];
}

/**
 * The one setup paragraph of the darai-demo report: which tokens, which sequences, what is averaged.
 *
 * @example
 * demoSetup(analyseDemo(readDemoTokens(folder))); // "The authors' DARai tokens (converted .npy folder at ...), ..."
 */
export function demoSetup(demo: DemoResult): string {
  return `The authors' DARai tokens (${demo.layout === 'npy' ? 'converted .npy folder' : 'R3D-demo .pt files'} at ${demo.root}), RGB and depth before and after the rank-enhancing exchange; mean over sequences ${rangeText(demo.sequences)} of the effective-rank gain, and the harmonic mean H of the two mean gains. Rank analysis only: these tokens come with no labels to train on.`;
}

function rangeText(seqs: readonly number[]): string {
  if (seqs.length === 0) return 'none';
  const sorted = [...seqs].sort((a, b) => a - b);
  const contiguous = sorted.every((s, i) => i === 0 || s === sorted[i - 1]! + 1);
  return contiguous ? `${sorted[0]}..${sorted[sorted.length - 1]}` : sorted.join(', ');
}
