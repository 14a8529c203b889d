import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { coreGradConfigs } from './core-gradients.js';

describe('coreGradConfigs', () => {
  it("holds exactly the gradients tfjs-core's own register_all_gradients registers", () => {
    const coreDir = join(createRequire(import.meta.url).resolve('@tensorflow/tfjs-core/package.json'), '..');
    const source = readFileSync(join(coreDir, 'dist', 'register_all_gradients.js'), 'utf8');
    const listed = source.slice(source.indexOf('const gradConfigs'), source.indexOf('];'));
    const names = [...listed.matchAll(/(\w+GradConfig)\b/g)].map((m) => m[1]!);
    expect(names.length).toBeGreaterThan(90);
    // core's list names a few configs twice (maxGradConfig, padV2GradConfig, ...): compare kernels
    const imported = new Map([...source.matchAll(/import \{ (\w+GradConfig) \} from '\.\/gradients\/(\w+)_grad'/g)].map((m) => [m[1]!, m[2]!]));
    const expected = [...new Set(names.map((n) => imported.get(n)))].sort();
    const got = [...new Set(coreGradConfigs.map((c) => c.kernelName))].sort();
    expect(got).toEqual(expected);
  });
});
