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
    `What each partner is computed from: ${partnerSources(report).join('; ')}.`,
    `Effective rank: the authors' form (uncentred singular values), per test video, averaged; gain = erank(after fusion) - erank(before); H = harmonic mean of the two mean gains (0 when either is <= 0).`,
    ...(report.missing.length ? [`Incomplete: ${report.missing.length} of ${report.cells.length} cells have no result yet (${report.missing.slice(0, 6).join(', ')}${report.missing.length > 6 ? ', ...' : ''}).`] : []),
  ];
}

/** What each modality of the synthetic world is made from (the report's disclosure). */
export const SYNTHETIC_SOURCES: Record<string, string> = {
  rgb: 'rgb = a fixed seeded sparse random projection (256-d, ReLU) of 2 x 2-pooled ray-cast colour frames of the scene',
  depth: 'depth = the z-buffer of the same render, min-max normalised per frame (24 x 32)',
  text: 'text = hashed word n-grams of phrases made from the observed frames\u2019 ground-truth action labels and target objects (label information, not a sensor)',
  imu: 'imu = the simulated wrist\u2019s acceleration (with gravity) and angular velocity in the sensor frame, with bias and noise',
  informative: 'informative (planted) = one-hots of the next three actions, the seconds left in the current action and its phase, and a luminance thumbnail of the scene a second ahead, from the episode\u2019s future: information no frame shows yet',
  redundant: 'redundant (planted) = RGB\u2019s own features again (the same camera through the same extractor): nothing RGB does not show',
  noise: 'noise (planted) = N(0, 1) values independent of the world',
};

function partnerSources(report: GridReport): string[] {
  const { config } = report;
  const partners = ['rgb', ...config.partners.filter((p) => p !== 'rgb')];
  if (config.dataset === 'synthetic') {
    // folders made before these options existed lack them: their RGB was the single frame, raw
    const rgb = [SYNTHETIC_SOURCES.rgb!, ...(config.synthetic.rgb === 'clip' ? ['each kept frame\u2019s features followed by their change since the previous kept frame (appearance and motion, as a clip extractor gives)'] : []), ...(config.synthetic.standardiseRgb ? ['standardised per channel with the training videos\u2019 mean and standard deviation'] : [])].join(', ');
    return [...partners.map((p) => (p === 'rgb' ? rgb : (SYNTHETIC_SOURCES[p] ?? p))), 'RGB alone = the same model with a constant zero partner and the mean fuser'];
  }
  if (config.dataset === 'futr') {
    // the text partner falls back to phrases of the labels when the folder has no features_text/
    const futr: Record<string, string> = {
      rgb: `rgb = features/<video>.npy of ${config.data}`,
      depth: `depth = features_depth/<video>.npy of ${config.data}`,
      imu: `imu = features_imu/<video>.npy of ${config.data}`,
      text: `text = features_text/<video>.npy of ${config.data} where that folder exists, else phrases made from the ground-truth labels (then label information, not an input a deployed model would have)`,
    };
    return [...partners.map((p) => futr[p] ?? p), 'RGB alone = the same model with a constant zero partner and the mean fuser'];
  }
  return [...partners.map((p) => `${p} = the ${p} features of ${config.data}`), 'RGB alone = the same model with a constant zero partner and the mean fuser'];
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
