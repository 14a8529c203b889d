import type { GridReport } from '../analysis/grid-report.js';
import type { DemoResult } from '../darai-demo.js';
import type { Figure } from './figures.js';
import { demoSetup, gridSetup } from './prose.js';
import { baselineTable, comparisonTable, demoTable, gainTable, mocTable, summaryTable, type Table, timingTable } from './tables.js';

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
 * `report.md` of a grid run: setup, verdict (claims and caveats), the summary with 95% intervals,
 * the baselines, the paired comparisons, MoC per (obs, pred), gains and H, figures (PNG links) and
 * the wall time per cell.
 *
 * @example
 * writeFileAtomic(join(out, 'report.md'), gridMarkdown(report, figures));
 */
export function gridMarkdown(report: GridReport, figures: readonly Figure[]): string {
  const { verdict } = report;
  return [
    '# R3D partner ablation',
    '',
    ...gridSetup(report).map((s) => `${s}\n`),
    '## Verdict',
    '',
    verdict.claims.length ? 'Claims (Holm-adjusted p < 0.05):' : 'No claim: no comparison is significant (Holm-adjusted p < 0.05).',
    '',
    ...verdict.claims.map((c) => `- ${c}`),
    ...(verdict.claims.length ? [''] : []),
    'Caveats:',
    '',
    ...verdict.caveats.map((c) => `- ${c}`),
    '',
    '## Summary, 95% intervals over seeds',
    '',
    mdTable(summaryTable(report.groups)),
    '',
    '## Baselines',
    '',
    ...(report.baselines.length ? [mdTable(baselineTable(report.baselines))] : ['The cells carry no baselines (made before they were recorded): rerun to score them.']),
    '',
    '## Paired comparisons',
    '',
    COMPARISONS_NOTE,
    '',
    mdTable(comparisonTable(report.comparisons, report.groups)),
    '',
    '## MoC (%), mean ± half the 95% interval over seeds',
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

/** How to read the comparison table, the same words in report.md and index.html. */
export const COMPARISONS_NOTE =
  'Each row is a minus b, paired by seed; MoC differences are in points, H in its own units. p is the two-sided p of the named test, adjusted p is Holm over every row; "significant" means adjusted p < 0.05, the only rows the verdict may claim. "detectable difference" is the true difference these seeds find with 80% power at Holm\u2019s strictest level.';

/**
 * `report.md` of the darai-demo analysis: the setup, the gain table and the figure.
 *
 * @example
 * writeFileAtomic(join(out, 'report.md'), demoMarkdown(demo, figures));
 */
export function demoMarkdown(demo: DemoResult, figures: readonly Figure[]): string {
  return ['# DARai rank analysis (authors\u2019 tokens)', '', demoSetup(demo), '', mdTable(demoTable(demo.ranks)), '', ...figureLinks(figures)].join('\n');
}
