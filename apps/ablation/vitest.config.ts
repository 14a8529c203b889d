import { dirname } from 'node:path';
import { fileURLToPath } from 'node:url';
import { defineConfig, type TestProjectInlineConfiguration } from 'vitest/config';
import { preset } from '@r3d-ts/tooling/vitest';

// Two groups, one after the other: every file but the planted self-check two at a time, then the
// self-check alone. It trains as a user's run does, with `--workers auto` counting idle cores, and
// beside another test file it would find one and take three times as long. The root config runs
// these two projects among the others (vitest does not read projects nested in a project). It
// starts projects in the order of their names: the package's name puts its long files (concurrent
// runs, cell workers, the Slurm end-to-end test) first, where short files of later projects can
// fill the other worker, rather than last, where one of them would run on alone.
const PLANTED = 'src/planted.test.ts';
const base = preset().test!;
const root = dirname(fileURLToPath(import.meta.url));

export const projects: TestProjectInlineConfiguration[] = [
  { root, test: { ...base, name: '@r3d-ts/ablation', exclude: [PLANTED, '**/node_modules/**'], sequence: { groupOrder: 0 } } },
  { root, test: { ...base, name: '@r3d-ts/ablation (planted)', include: [PLANTED], maxWorkers: 1, sequence: { groupOrder: 1 } } },
];

export default defineConfig({ test: { projects } });
