import type { GridReport } from '../analysis/grid-report.js';
import type { DemoResult } from '../darai-demo.js';
import type { Figure } from './figures.js';
import { demoSetup, gridSetup } from './prose.js';
import { demoTable, gainTable, mocTable, type Table, timingTable } from './tables.js';

/**
 * A table as GitHub Markdown.
 *
 * @example
 * mdTable({ head: ['cell', 'seconds'], rows: [['rgb.none.s1', '6.5']] }); // '| cell | seconds |\n|---|---|\n| rgb.none.s1 | 6.5 |'
 */
export function mdTable(t: Table): string {
  return [`| ${t.head.join(' | ')} |`, `|${t.head.map(() => '---').join('|')}|`, ...t.rows.map((r) => `| ${r.join(' | ')} |`)].join('\n');
}

const figureLinks = (figures: readonly Figure[]) => figures.map((f) => `![${f.title}](figures/${f.name}.png)\n`);

/**
 * `report.md` of a grid run: setup, verdict, MoC table, gains and H, figures (PNG links) and the
 * wall time per cell.
 *
 * @example
 * writeFileAtomic(join(out, 'report.md'), gridMarkdown(report, figures));
 */
export function gridMarkdown(report: GridReport, figures: readonly Figure[]): string {
  return [
    '# R3D partner ablation',
    '',
    ...gridSetup(report).map((s) => `${s}\n`),
    '## Verdict',
    '',
    report.recommendation.text,
    '',
    '## MoC (%), mean ± std over seeds',
    '',
    mdTable(mocTable(report.groups)),
    '',
    '## Effective-rank gains and balance H per partner',
    '',
    mdTable(gainTable(report.groups)),
    '',
    '## Figures',
    '',
    ...figureLinks(figures),
    '## Wall time per cell (s)',
    '',
    mdTable(timingTable(report.results)),
    '',
  ].join('\n');
}

/**
 * `report.md` of the darai-demo analysis: the setup, the gain table and the figure.
 *
 * @example
 * writeFileAtomic(join(out, 'report.md'), demoMarkdown(demo, figures));
 */
export function demoMarkdown(demo: DemoResult, figures: readonly Figure[]): string {
  return ['# DARai rank analysis (authors\u2019 tokens)', '', demoSetup(demo), '', mdTable(demoTable(demo.ranks)), '', ...figureLinks(figures)].join('\n');
}
