import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, readdirSync, existsSync, rmSync, rmdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { transformSync } from 'esbuild';
import { afterAll, describe, expect, it } from 'vitest';
import { repoRoot } from '@r3d-ts/tooling/vitest/fixtures';
import { extractBlocks, type ExampleBlock } from './extract.js';

// Every README a user reads: the root, each package and each app.
const root = repoRoot();
export const readmes = ['README.md', ...['packages', 'apps'].flatMap((group) =>
  readdirSync(join(root, group)).map((name) => join(group, name, 'README.md')).filter((f) => existsSync(join(root, f))))];
export const blocks: ExampleBlock[] = readmes.flatMap((f) => extractBlocks(readFileSync(join(root, f), 'utf8'), f));

// Blocks run inside this package (its node_modules has every @r3d-ts package, tfjs-core and the
// bins r3d and r3d-ablation). A README's blocks share one fresh folder and run top to bottom, as a
// reader would run them (a later block may use a file an earlier one wrote); nothing lands in the
// tree. Each test file that imports this module (a process of its own) gets its own scratch folder.
const here = join(root, 'test', 'doctest');
const scratchRoot = join(here, '.tmp');
mkdirSync(scratchRoot, { recursive: true });
const scratch = mkdtempSync(join(scratchRoot, 'run-'));

// `npx r3d` and `npx r3d-ablation` run the workspace's own commands: the scratch folder is a tiny
// project whose node_modules/.bin holds one shim per bin of a public package. (pnpm links bins at
// install time, before a fresh clone has built the dist/ files they point at, and skips them.)
const shims = join(scratch, 'node_modules', '.bin');
mkdirSync(shims, { recursive: true });
writeFileSync(join(scratch, 'package.json'), JSON.stringify({ name: 'doctest-scratch', private: true }));
for (const group of ['packages', 'apps']) {
  for (const name of readdirSync(join(root, group))) {
    const manifestPath = join(root, group, name, 'package.json');
    if (!existsSync(manifestPath)) continue;
    const manifest = JSON.parse(readFileSync(manifestPath, 'utf8')) as { bin?: Record<string, string> };
    for (const [bin, target] of Object.entries(manifest.bin ?? {})) {
      writeFileSync(join(shims, bin), `#!/bin/sh\nexec "${process.execPath}" "${join(root, group, name, target)}" "$@"\n`, { mode: 0o755 });
    }
  }
}
// `pnpm <script> ...` runs a root script as a clone's reader would, from the scratch folder: the
// scripts that build and then start an app (`turbo run build ... && node apps/<app>/dist/cli.mjs`)
// start the app directly, since CI has built everything before the tests. Any other pnpm command
// in a block that is not marked not-run fails the block.
const rootScripts = (JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')) as { scripts: Record<string, string> }).scripts;
/**
 * The READMEs whose examples take longest (the ablation's library example trains ten cells: 34-42 s
 * on a 2-core Zen 1; r3d-data imports a folder: 12 s), run by `slow-readmes.test.ts` beside
 * `readmes.test.ts`, which runs every other README. On the Zen 1, the package's tests took 112 s
 * as one file, 81 s with the apps' READMEs split off, 74 s split this way.
 */
export const SLOW_READMES = ['apps/ablation/README.md', 'apps/data/README.md'];

export const appScripts = Object.fromEntries(Object.entries(rootScripts).flatMap(([name, command]) => {
  const m = /^turbo run build [^&]*&& node (\S+\.mjs)$/.exec(command);
  return m ? [[name, join(root, m[1]!)]] : [];
}));
writeFileSync(join(scratch, 'pnpm-shim.mjs'), [
  `const apps = ${JSON.stringify(appScripts)};`,
  `const [name, ...args] = process.argv.slice(2);`,
  `if (!(name in apps)) { console.error(\`doctest: pnpm \${name} is not a root script that starts an app (\${Object.keys(apps).join(', ')})\`); process.exit(127); }`,
  `const { spawnSync } = await import('node:child_process');`,
  `const r = spawnSync(process.execPath, [apps[name], ...args], { stdio: 'inherit' });`,
  `process.exit(r.status ?? 1);`,
].join('\n'));
writeFileSync(join(shims, 'pnpm'), `#!/bin/sh\nexec "${process.execPath}" "${join(scratch, 'pnpm-shim.mjs')}" "$@"\n`, { mode: 0o755 });
const TIMEOUT_MS = 150_000;

// A Node stack frame ("    at fn (file.js:1:2)"): an example that prints one has failed even if it exits 0.
const STACK_FRAME = /^\s+at .*(\(.*:\d+:\d+\)|:\d+:\d+)$/m;

const folders = new Map<string, string>();
function folderOf(readme: string): string {
  if (!folders.has(readme)) folders.set(readme, mkdtempSync(join(scratch, `${readme.replace(/[/.]/g, '-')}-`)));
  return folders.get(readme)!;
}

/** The end of a long output, with minified one-line bundles cut short: enough to see what failed. */
function tail(text: string): string {
  return text.split('\n').map((l) => (l.length > 400 ? `${l.slice(0, 400)} ...` : l)).join('\n').slice(-6000);
}

/**
 * A ts/js block as the ES module Node runs: its types stripped by esbuild, the compiler tsx and
 * tsup use, once here rather than through a loader in every example's process (0.8 s against
 * 0.3 s a start). A block that does not parse fails with esbuild's message and its README line.
 */
function typeScriptToModule(block: ExampleBlock): string {
  try {
    return transformSync(block.code, { loader: 'ts', format: 'esm', target: 'node20', sourcefile: `${block.file}:${block.line}` }).code;
  } catch (err) {
    return `throw new Error(${JSON.stringify(`${block.file}:${block.line} does not compile: ${err instanceof Error ? err.message : String(err)}`)});\n`;
  }
}

function runBlock(block: ExampleBlock): { status: number | null; output: string } {
  const dir = folderOf(block.file);
  const env = { ...process.env, PATH: `${shims}:${process.env.PATH ?? ''}`, NO_COLOR: '1', FORCE_COLOR: '0' };
  const run = block.kind === 'ts'
    ? (writeFileSync(join(dir, `example-${block.line}.mjs`), typeScriptToModule(block)), spawnSync(process.execPath, [`example-${block.line}.mjs`], { cwd: dir, env, encoding: 'utf8', timeout: TIMEOUT_MS }))
    : (writeFileSync(join(dir, `example-${block.line}.sh`), block.code), spawnSync('bash', ['-eo', 'pipefail', `example-${block.line}.sh`], { cwd: dir, env, encoding: 'utf8', timeout: TIMEOUT_MS }));
  return { status: run.status, output: `${run.stdout ?? ''}${run.stderr ?? ''}${run.error ? `\n${run.error.message}` : ''}` };
}

/**
 * Declares one test per runnable block of the READMEs that `which` picks (in README order, each
 * README's blocks top to bottom) and one skipped test per not-run block, with its reason; prints
 * the counts when the file ends. The doctest's files split the READMEs between them so that two
 * run at once.
 *
 * @example
 * describeReadmeExamples('apps', (readme) => readme.startsWith('apps/'));
 */
export function describeReadmeExamples(title: string, which: (readme: string) => boolean): void {
  const mine = blocks.filter((b) => which(b.file));
  const counts = { run: 0, marked: 0 };
  afterAll(() => {
    rmSync(scratch, { recursive: true, force: true });
    try {
      rmdirSync(scratchRoot); // the last file to finish removes the shared parent
    } catch {
      // another file's scratch is still there
    }
    console.log(`README examples (${title}): ${counts.run} run, ${counts.marked} marked not-run, of ${mine.length} in ${new Set(mine.map((b) => b.file)).size} READMEs`);
  });

  describe(`README examples: ${title}`, () => {
    for (const block of mine) {
      const name = `${block.file}:${block.line} (${block.lang})`;
      if (block.notRun !== undefined) {
        it.skip(`${name}: not-run: ${block.notRun}`, () => {});
        counts.marked++;
        continue;
      }
      counts.run++;
      it(name, () => {
        const { status, output } = runBlock(block);
        expect(status, `${name} exited ${status}:\n${tail(output)}`).toBe(0);
        expect(STACK_FRAME.test(output), `${name} printed a stack trace:\n${tail(output)}`).toBe(false);
      });
    }
  });
}
