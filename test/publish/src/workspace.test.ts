import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { repoRoot } from '@r3d-ts/tooling/vitest/fixtures';

describe('the workspace install', () => {
  it('holds exactly one copy of @tensorflow/tfjs-core', () => {
    const store = readdirSync(join(repoRoot(), 'node_modules', '.pnpm'));
    const cores = store.filter((d) => d.startsWith('@tensorflow+tfjs-core@'));
    expect(cores).toEqual([expect.stringMatching(/^@tensorflow\+tfjs-core@4\.22\.0$/)]);
  });
});
