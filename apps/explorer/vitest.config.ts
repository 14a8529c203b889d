import { defineConfig } from 'vitest/config';
import { preset } from '@r3d-ts/tooling/vitest';

// One test file at a time, and in the root run after every other project (groupOrder 2, after the
// ablation's planted self-check): the browser test times the page's analysis, which a Node test
// file running beside it on the same two cores would slow down.
export default defineConfig(preset({ fileParallelism: false, sequence: { groupOrder: 2 } }));
