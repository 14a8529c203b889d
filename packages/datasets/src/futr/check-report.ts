import type { DatasetCheckReport, DatasetProblem } from './check.js';

/**
 * The report of `checkFutrDataset` as text for a terminal: tables of the splits, modalities
 * (feature width, videos), class frequencies (train and all frames, share of train) and the
 * videos too short for the observation ratios, the majority-class MoC, then one line per problem,
 * `error <file>:<line>: <message>` or `warning <file>: <message>` (the line where there is one),
 * and a last line counting errors and warnings.
 *
 * @example
 * const report = await checkFutrDataset('data/my-dataset');
 * process.stdout.write(formatCheckReport(report) + '\n');
 */
export function formatCheckReport(report: DatasetCheckReport): string {
  const out: string[] = [`FUTR dataset ${report.root}: ${report.videos} videos`];
  out.push('', ...(report.splits.length > 0 ? table(['split', 'videos'], report.splits.map((s) => [s.name, String(s.videos)])) : ['splits: none (splits/ is missing or empty)']));
  out.push('', ...table(['modality', 'width', 'videos'], report.modalities.map((m) => [m.name, m.width == null ? (m.name === 'text' ? 'from labels' : '-') : Array.isArray(m.width) ? m.width.join('x') : String(m.width), String(m.videos)])));
  if (report.classes.length > 0) {
    const trainAll = report.classes.reduce((n, c) => n + c.trainFrames, 0);
    const rows = report.classes.map((c) => [String(c.index), c.name, String(c.trainFrames), String(c.totalFrames), trainAll > 0 ? `${((100 * c.trainFrames) / trainAll).toFixed(1)}%` : '-']);
    out.push('', ...table(['class', 'name', 'train frames', 'all frames', 'train share'], rows));
  }
  const m = report.majority;
  out.push('', m && Number.isFinite(report.majorityClassMoc)
    ? `majority-class MoC: ${report.majorityClassMoc.toFixed(4)} (always "${m.name}", the most frequent class of ${m.train}, scored on ${m.test})`
    : 'majority-class MoC: n/a (needs a train and a test split with labelled frames)');
  if (report.tooShort.length > 0) {
    out.push('', `${report.tooShort.length} video${report.tooShort.length === 1 ? '' : 's'} too short for the observation ratios:`, ...table(['video', 'frames', 'needs'], report.tooShort.map((v) => [v.video, String(v.frames), String(v.minFrames)])));
  }
  if (report.problems.length > 0) out.push('', ...report.problems.map(problemLine));
  const errors = report.problems.filter((p) => p.severity === 'error').length;
  const warnings = report.problems.length - errors;
  out.push('', errors + warnings === 0 ? 'no problems' : `${errors} error${errors === 1 ? '' : 's'}, ${warnings} warning${warnings === 1 ? '' : 's'}`);
  return out.join('\n');
}

/** One problem as one line: `error <file>:<line>: <message>`. */
export function problemLine(p: DatasetProblem): string {
  return `${p.severity} ${p.file}${p.line != null ? `:${p.line}` : ''}: ${p.message}`;
}

function table(head: string[], rows: string[][]): string[] {
  const widths = head.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i]!.length)));
  const line = (cells: string[]) => cells.map((c, i) => (i === cells.length - 1 ? c : c.padEnd(widths[i]!))).join('  ').trimEnd();
  return [line(head), ...rows.map(line)];
}
