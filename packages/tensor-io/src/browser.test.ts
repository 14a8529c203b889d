// The main entry promises to bundle for a browser: bytes in, bytes out, no Node built-in reached
// directly or through an import, and no Node global (`Buffer`, `process`) used by the code.
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';
import { describe, expect, it } from 'vitest';

const here = dirname(fileURLToPath(import.meta.url));

function bundle(entry: string) {
  return build({ entryPoints: [join(here, entry)], absWorkingDir: join(here, '..'), bundle: true, platform: 'browser', format: 'esm', write: false, metafile: true, logLevel: 'silent' });
}

describe('browser bundle', () => {
  it('bundles the main entry with platform browser, with no Node built-in and no Node global', async () => {
    const result = await bundle('index.ts');
    expect(result.errors).toEqual([]);
    const inputs = Object.keys(result.metafile.inputs);
    expect(inputs.filter((f) => f.startsWith('node:') || f.includes('src/node/'))).toEqual([]);
    expect(inputs).toContain('src/torch.ts');
    const code = result.outputFiles[0]!.text;
    expect(code).not.toMatch(/\bBuffer\.|\bprocess\.|\brequire\(/);
  });

  it('the ./node entry does not bundle for a browser (so the check above can fail)', async () => {
    await expect(bundle('node/index.ts')).rejects.toThrow(/node:fs/);
  });
});
