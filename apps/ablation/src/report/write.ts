import { join } from 'node:path';
import type { GridReport } from '../analysis/grid-report.js';
import type { DemoResult } from '../darai-demo.js';
import { writeFileAtomic } from '@r3d-ts/tensor-io/node';
import { jsonNumbers } from '../store/result-folder.js';
import { demoCsv, resultsCsv } from './csv.js';
import { demoFigures, type Figure, gridFigures } from './figures.js';
import { demoPage, gridPage } from './html.js';
import { demoMarkdown, gridMarkdown } from './markdown.js';

function writeFigures(out: string, figures: readonly Figure[]): void {
  for (const f of figures) {
    writeFileAtomic(join(out, 'figures', `${f.name}.svg`), f.svg);
    writeFileAtomic(join(out, 'figures', `${f.name}.png`), f.png);
  }
}

const jsonText = (value: unknown) => `${JSON.stringify(value, jsonNumbers.replace, 2)}\n`;

/**
 * Writes results.json, results.csv, report.md, figures/*.svg|png and index.html for a grid run,
 * each file atomically.
 *
 * @example
 * await writeGridReport('out/ablation', gridReport(config, grid.cells, readCells('out/ablation'), description, 'wasm'));
 */
export async function writeGridReport(out: string, report: GridReport): Promise<{ figures: Figure[] }> {
  const figures = await gridFigures(report.groups);
  writeFigures(out, figures);
  writeFileAtomic(join(out, 'report.md'), gridMarkdown(report, figures));
  writeFileAtomic(join(out, 'results.csv'), resultsCsv(report));
  const json = {
    kind: 'grid',
    config: report.config,
    dataset: report.dataDescription,
    backend: report.backend,
    verdict: report.verdict,
    recommendation: report.recommendation,
    groups: report.groups,
    baselines: report.baselines,
    comparisons: report.comparisons,
    cells: report.results,
    missing: report.missing,
  };
  writeFileAtomic(join(out, 'results.json'), jsonText(json));
  writeFileAtomic(join(out, 'index.html'), gridPage(report, figures));
  return { figures };
}

/**
 * Writes the darai-demo report: the gain table at each ratio and the paper's figure (report.md,
 * results.csv, results.json, index.html, figures/).
 *
 * @example
 * await writeDemoReport('out/darai', analyseDemo(readDemoTokens('data/darai-demo')));
 */
export async function writeDemoReport(out: string, demo: DemoResult): Promise<{ figures: Figure[] }> {
  const figures = await demoFigures(demo);
  writeFigures(out, figures);
  writeFileAtomic(join(out, 'report.md'), demoMarkdown(demo, figures));
  writeFileAtomic(join(out, 'results.csv'), demoCsv(demo));
  writeFileAtomic(join(out, 'results.json'), jsonText({ kind: 'darai-demo', ...demo }));
  writeFileAtomic(join(out, 'index.html'), demoPage(demo, figures));
  return { figures };
}
