import { execFileSync } from 'node:child_process';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

const pkg = dirname(dirname(fileURLToPath(import.meta.url)));

describe('README', () => {
  it('opens with a runnable example: a fuser Layer in tf.model trains, saves and reloads', () => {
    const readme = readFileSync(join(pkg, 'README.md'), 'utf8');
    const block = /```ts\n([\s\S]*?)```/.exec(readme)?.[1];
    expect(block).toBeDefined();
    expect(block).toContain('tfl.model(');
    // The example imports the package by name; run it against this checkout's sources.
    const source = block!
      .replaceAll("'@r3d-ts/rtf-fuser/layers'", JSON.stringify(join(pkg, 'src', 'layers', 'index.ts')))
      .replaceAll("'@r3d-ts/rtf-fuser'", JSON.stringify(join(pkg, 'src', 'index.ts')));
    const dir = join(pkg, '.tmp');
    mkdirSync(dir, { recursive: true });
    const file = join(dir, 'readme-example.mts');
    writeFileSync(file, source);
    const out = execFileSync(process.execPath, ['--import', 'tsx', file], { cwd: pkg, encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
    expect(out).toMatch(/rt_fuser_\d+ 24 weights saved; identical predictions: true/);
  });
});
