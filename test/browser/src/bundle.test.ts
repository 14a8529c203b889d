// Each library's main entry must bundle for a browser: esbuild with platform 'browser' refuses
// any Node built-in (`fs`, `node:path`, `zlib` through a dependency, ...), so a build error or a
// built-in among the bundle's inputs fails the test, naming the import.
import { builtinModules } from 'node:module';
import { runInNewContext } from 'node:vm';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { build, type Message, type Metafile } from 'esbuild';
import { describe, expect, it } from 'vitest';

const here = dirname(fileURLToPath(import.meta.url));
const builtins = new Set(builtinModules.flatMap((m) => [m, `node:${m}`]));

async function bundle(entry: string): Promise<{ errors: string[]; inputs: string[]; code: string }> {
  try {
    const result = await build({
      stdin: { contents: `export * as entry from '${entry}';`, resolveDir: here, loader: 'js' },
      bundle: true, platform: 'browser', format: 'iife', write: false, metafile: true, logLevel: 'silent',
    });
    return { errors: [], inputs: Object.keys((result.metafile as Metafile).inputs), code: result.outputFiles[0]!.text };
  } catch (err) {
    const errors = ((err as { errors?: Message[] }).errors ?? [{ text: String(err) } as Message]).map((e) => `${e.location?.file ?? ''}: ${e.text}`);
    return { errors, inputs: [], code: '' };
  }
}

describe('browser bundles (esbuild, platform browser)', () => {
  it.each([
    '@r3d-ts/rank-metrics',
    '@r3d-ts/rtf-fuser',
    '@r3d-ts/r3d-model',
    '@r3d-ts/tensor-io',
    '@r3d-ts/datasets',
    '@r3d-ts/datasets/synthetic',
  ])('%s bundles with no Node built-in and evaluates without Node globals', async (entry) => {
    const { errors, inputs, code } = await bundle(entry);
    expect(errors).toEqual([]);
    expect(inputs.filter((f) => builtins.has(f) || f.startsWith('node:'))).toEqual([]);
    expect(inputs.some((f) => f.includes('/dist/'))).toBe(true);
    // a fresh context has only what a page has of these: no Buffer, process, require or setImmediate,
    // so a dependency that touches one when it is imported (csv-parse's Buffer.from) fails here
    const page = { TextDecoder, TextEncoder, URL, URLSearchParams, setTimeout, clearTimeout, queueMicrotask, console, performance, WebAssembly, fetch };
    expect(() => runInNewContext(code, { ...page, self: page }, { filename: `${entry}.bundle.js` })).not.toThrow();
  });

  it.each(['@r3d-ts/r3d-model/node', '@r3d-ts/datasets/node', '@r3d-ts/tensor-io/node'])('%s (Node only) does not: the check can fail', async (entry) => {
    const { errors } = await bundle(entry);
    expect(errors.join('\n')).toMatch(/Could not resolve "(node:)?(fs|path|zlib|stream|util)"/);
  });
});
