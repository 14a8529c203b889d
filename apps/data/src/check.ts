import { FutrDataset } from '@r3d-ts/datasets/futr';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { SPLIT_FILES } from './import.js';

/** One problem `check` found (the interface of `checkFutrDataset` in `@r3d-ts/datasets/node`). */
export interface CheckProblem {
  severity: 'error' | 'warning';
  code: string;
  file: string;
  line?: number;
  message: string;
}

/** What `check` reports: exit code 0 (clean), 1 (warnings) or 2 (errors), and the problems. */
export interface CheckReport {
  exitCode: 0 | 1 | 2;
  problems: CheckProblem[];
}

/**
 * Checks a FUTR-layout folder. A local adapter until `checkFutrDataset` of
 * `@r3d-ts/datasets/node` is available: it loads every split file's videos with the FUTR loader
 * (features, depth, labels against the mapping) and reports the first error of each video.
 *
 * @example
 * const report = await checkDataset('data/mine'); process.exitCode = report.exitCode;
 */
export async function checkDataset(root: string): Promise<CheckReport> {
  const problems: CheckProblem[] = [];
  const splits = Object.values(SPLIT_FILES).filter((s) => existsSync(join(root, 'splits', s)));
  const modalities: ('rgb' | 'depth')[] = existsSync(join(root, 'features_depth')) ? ['rgb', 'depth'] : ['rgb'];
  for (const split of splits.length ? splits : [undefined]) {
    const ds = new FutrDataset({ root, ...(split ? { split } : {}), modalities, lengthMismatch: 'error' });
    let ids: string[];
    try {
      ids = ds.ids();
    } catch (e) {
      problems.push(toProblem(e, join(root, 'splits', split ?? '')));
      continue;
    }
    for (const id of ids) {
      try {
        await ds.load(id);
      } catch (e) {
        problems.push(toProblem(e, join(root, 'groundTruth', `${id}.txt`)));
      }
    }
  }
  const exitCode = problems.some((p) => p.severity === 'error') ? 2 : problems.length ? 1 : 0;
  return { exitCode, problems };
}

function toProblem(e: unknown, fallback: string): CheckProblem {
  const err = e as { file?: string; line?: number; message?: string; code?: string };
  return { severity: 'error', code: err.code ?? 'LOAD', file: err.file ?? fallback, ...(err.line != null ? { line: err.line } : {}), message: err.message ?? String(e) };
}

/**
 * One line per problem (`file:line: severity: message`) and a last line with the verdict.
 *
 * @example
 * console.log(formatCheck(await checkDataset('data/mine')));
 */
export function formatCheck(report: CheckReport): string {
  const lines = report.problems.map((p) => `${p.file}${p.line != null ? `:${p.line}` : ''}: ${p.severity}: ${p.message}`);
  lines.push(report.exitCode === 0 ? 'check: no problems' : `check: ${report.problems.filter((p) => p.severity === 'error').length} error(s), ${report.problems.filter((p) => p.severity === 'warning').length} warning(s)`);
  return lines.join('\n');
}
