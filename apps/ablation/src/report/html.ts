import type { GridReport } from '../analysis/grid-report.js';
import type { DemoResult } from '../darai-demo.js';
import { escapeXml, type Figure } from './figures.js';
import { demoSetup, gridSetup } from './prose.js';
import { COMPARISONS_NOTE } from './markdown.js';
import { baselineTable, comparisonTable, demoTable, gainTable, mocTable, summaryTable, type Table, timingTable } from './tables.js';

/** One section of a page: a heading, then paragraphs, the highlighted verdict, a table and figures, each optional. */
export interface HtmlSection {
  heading: string;
  paragraphs?: readonly string[];
  /** A paragraph set off as the page's conclusion (`class="verdict"`). */
  verdict?: string;
  /** Bulleted lists, each under a lead-in line. */
  lists?: ReadonlyArray<{ lead: string; items: readonly string[] }>;
  table?: Table;
  /** The table's element id (e.g. `comparisons`), so tools and tests can find it. */
  tableId?: string;
  figures?: readonly Figure[];
}

function htmlTable(t: Table, id?: string): string {
  return `<table${id ? ` id="${escapeXml(id)}"` : ''}>\n<thead><tr>${t.head.map((h) => `<th>${escapeXml(h)}</th>`).join('')}</tr></thead>\n<tbody>\n${t.rows.map((r) => `<tr>${r.map((c) => `<td>${escapeXml(c)}</td>`).join('')}</tr>`).join('\n')}\n</tbody>\n</table>`;
}

// the report's sentences are Markdown: only **bold** is used
function mdInline(text: string): string {
  return escapeXml(text).replace(/\*\*(.+?)\*\*/g, '<strong>$1</strong>');
}

function htmlSection(s: HtmlSection): string {
  return [
    `<section>\n<h2>${escapeXml(s.heading)}</h2>`,
    ...(s.paragraphs ?? []).map((p) => `<p>${mdInline(p)}</p>`),
    ...(s.verdict != null ? [`<p class="verdict">${mdInline(s.verdict)}</p>`] : []),
    ...(s.lists ?? []).flatMap((l) => [`<p>${mdInline(l.lead)}</p>`, ...(l.items.length ? [`<ul>\n${l.items.map((i) => `<li>${mdInline(i)}</li>`).join('\n')}\n</ul>`] : [])]),
    ...(s.table ? [htmlTable(s.table, s.tableId)] : []),
    ...(s.figures ?? []).map((f) => `<figure id="${escapeXml(f.name)}">\n${f.svg}\n<figcaption>${escapeXml(f.title)}</figcaption>\n</figure>`),
    '</section>',
  ].join('\n');
}

/**
 * The page template: a self-contained HTML page (tables and inline SVG figures, no script, no
 * network) made whole from its title and sections.
 *
 * @example
 * htmlPage('R3D partner ablation', [{ heading: 'Verdict', verdict: recommendation.text }]);
 */
export function htmlPage(title: string, sections: readonly HtmlSection[]): string {
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
${sections.map(htmlSection).join('\n')}
</body>
</html>
`;
}

/**
 * `index.html` of a grid run: setup, the verdict (highlighted, then its claims and caveats), the
 * summary with intervals, gains and H with the figures, the baselines, the comparison table
 * (`id="comparisons"`), MoC, and the wall time per cell.
 *
 * @example
 * writeFileAtomic(join(out, 'index.html'), gridPage(report, await gridFigures(report.groups)));
 */
export function gridPage(report: GridReport, figures: readonly Figure[]): string {
  const { verdict } = report;
  return htmlPage('R3D partner ablation', [
    { heading: 'Setup', paragraphs: gridSetup(report) },
    {
      heading: 'Verdict',
      verdict: verdict.text,
      lists: [
        { lead: verdict.claims.length ? 'Claims (Holm-adjusted p < 0.05):' : 'No claim: no comparison is significant (Holm-adjusted p < 0.05).', items: verdict.claims },
        { lead: 'Caveats:', items: verdict.caveats },
      ],
    },
    { heading: 'Summary, 95% intervals over seeds', table: summaryTable(report.groups), tableId: 'summary' },
    // the paper's figure right after the summary: it is what a reader looks for first
    { heading: 'Effective-rank gains and balance H', table: gainTable(report.groups), tableId: 'gains', figures },
    report.baselines.length
      ? { heading: 'Baselines', table: baselineTable(report.baselines), tableId: 'baselines' }
      : { heading: 'Baselines', paragraphs: ['The cells carry no baselines (made before they were recorded): rerun to score them.'] },
    { heading: 'Paired comparisons', paragraphs: [COMPARISONS_NOTE], table: comparisonTable(report.comparisons, report.groups), tableId: 'comparisons' },
    { heading: 'MoC (%), mean ± half the 95% interval over seeds', table: mocTable(report.groups), tableId: 'moc' },
    { heading: 'Wall time per cell (s)', table: timingTable(report.results), tableId: 'timing' },
  ]);
}

/**
 * `index.html` of the darai-demo analysis: the setup, the gain table and the figure.
 *
 * @example
 * writeFileAtomic(join(out, 'index.html'), demoPage(demo, figures));
 */
export function demoPage(demo: DemoResult, figures: readonly Figure[]): string {
  return htmlPage('DARai rank analysis (authors\u2019 tokens)', [{ heading: 'Effective-rank gain and balance H', paragraphs: [demoSetup(demo)], table: demoTable(demo.ranks), figures }]);
}
