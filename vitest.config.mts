import { availableParallelism } from 'node:os';
import { defineConfig } from 'vitest/config';
import { projects as ablation } from './apps/ablation/vitest.config.js';

// The whole suite in one vitest run: every package's own vitest.config.ts is a project, and all
// projects share one pool of workers, so that a package's last slow file no longer leaves a core
// idle while the next package waits its turn (as `turbo run test --concurrency=1` did). Projects
// whose tests time themselves run alone, after the rest, through `sequence.groupOrder` in their
// own configs (the ablation's planted self-check, the explorer's browser test).
export default defineConfig({
  test: {
    maxWorkers: Math.max(2, availableParallelism() - 1),
    projects: ['packages/*', 'apps/{data,explorer,train}', 'test/*', ...ablation],
  },
});
