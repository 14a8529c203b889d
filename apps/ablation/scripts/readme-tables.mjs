#!/usr/bin/env node
// Copies a finished run's report into the READMEs, so their tables and verdict are the command's
// output, never typed by hand: the sections of `<out>/report.md` from "Verdict" to the gains
// table go between the `ablation:default` markers of apps/ablation/README.md, the verdict and the
// summary table between the markers of the root README, and the figures into apps/ablation/docs/.
//
//   pnpm ablation && node apps/ablation/scripts/readme-tables.mjs out/ablation
import { copyFileSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const app = join(dirname(fileURLToPath(import.meta.url)), '..');
const root = join(app, '..', '..');
const out = process.argv[2] ?? join(root, 'out', 'ablation');
const report = readFileSync(join(out, 'report.md'), 'utf8');

/** The text of `## <heading>` up to the next `## `, without the heading line. */
function section(heading) {
  const start = report.indexOf(`\n## ${heading}\n`);
  if (start < 0) throw new Error(`${out}/report.md has no "## ${heading}" section`);
  const body = report.slice(start + heading.length + 5);
  const end = body.indexOf('\n## ');
  return (end < 0 ? body : body.slice(0, end)).trim();
}

function splice(file, name, text) {
  const before = readFileSync(file, 'utf8');
  const [open, close] = [`<!-- ${name}:begin -->`, `<!-- ${name}:end -->`];
  const i = before.indexOf(open);
  const j = before.indexOf(close);
  if (i < 0 || j < i) throw new Error(`${file} has no ${open} ... ${close} block`);
  writeFileSync(file, `${before.slice(0, i + open.length)}\n${text}\n${before.slice(j)}`);
}

const setup = report.split('\n').find((l) => l.startsWith('Dataset: ')) ?? '';
const demoted = (heading) => `#### ${heading}\n\n${section(heading)}`;
splice(
  join(app, 'README.md'),
  'ablation:default',
  [
    `\`${setup}\``.replace(/^`|`$/g, '_'),
    '',
    demoted('Verdict'),
    '',
    demoted('Summary, 95% intervals over seeds'),
    '',
    demoted('Baselines'),
    '',
    demoted('Paired comparisons'),
    '',
    demoted('MoC (%), mean ± half the 95% interval over seeds'),
    '',
    demoted('Effective-rank gains and balance H per partner'),
    '',
    '![Effective-rank gain vs observation, rtf-variance](docs/erank-gain.png)',
    '',
    '![Balance H per partner](docs/balance.png)',
  ].join('\n'),
);
const verdict = section('Verdict');
splice(join(root, 'README.md'), 'ablation:verdict', [`${section('Summary, 95% intervals over seeds')}`, '', verdict].join('\n'));
copyFileSync(join(out, 'figures', 'erank-gain-rtf-variance-r0.3.png'), join(app, 'docs', 'erank-gain.png'));
copyFileSync(join(out, 'figures', 'balance.png'), join(app, 'docs', 'balance.png'));
process.stderr.write(`README tables and figures copied from ${out}\n`);
