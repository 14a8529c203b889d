import { execFileSync, spawnSync } from 'node:child_process';
import { cpSync, existsSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { checkPackage, createPackageFromTarballData } from '@arethetypeswrong/core';
import { afterAll, describe, expect, it } from 'vitest';
import { repoRoot } from '@r3d-ts/tooling/vitest/fixtures';

const root = repoRoot();
const bin = (name: string) => join(root, 'node_modules', '.bin', name);

interface Manifest {
  name: string;
  version: string;
  private?: boolean;
  dependencies?: Record<string, string>;
  optionalDependencies?: Record<string, string>;
  peerDependencies?: Record<string, string>;
  peerDependenciesMeta?: Record<string, { optional?: boolean }>;
  exports?: Record<string, unknown>;
  files?: string[];
  sideEffects?: boolean | string[];
  keywords?: string[];
  engines?: Record<string, string>;
  homepage?: string;
  bugs?: { url?: string };
  repository?: { type?: string; url?: string; directory?: string };
  license?: string;
}

/** TensorFlow's native bindings download libtensorflow on install: users add them, packages never depend on them. */
const TF_BINDINGS = ['@tensorflow/tfjs-node', '@tensorflow/tfjs-node-gpu'];

/** The package and each of its module subpaths (`@r3d-ts/tensor-io/node`, `@r3d-ts/datasets/ntu`, ...); file exports are left out. */
function entryPoints(manifest: Manifest): string[] {
  const subpaths = Object.entries(manifest.exports ?? {})
    .filter(([key, target]) => key !== '.' && typeof target === 'object' && target !== null)
    .map(([key]) => `${manifest.name}${key.slice(1)}`);
  return [manifest.name, ...subpaths];
}

function publicPackages(): Array<{ dir: string; manifest: Manifest }> {
  const out: Array<{ dir: string; manifest: Manifest }> = [];
  for (const group of ['packages', 'apps']) {
    for (const name of readdirSync(join(root, group))) {
      const dir = join(root, group, name);
      const manifest = JSON.parse(readFileSync(join(dir, 'package.json'), 'utf8')) as Manifest;
      if (!manifest.private) out.push({ dir, manifest });
    }
  }
  return out;
}

const work = mkdtempSync(join(tmpdir(), 'r3d-publish-'));
afterAll(() => rmSync(work, { recursive: true, force: true }));

describe('publishing', () => {
  const packages = publicPackages();

  it('packs every public package, installs the tarballs outside the workspace, and imports, requires and type-checks each entry point', async () => {
    const tarballs = join(work, 'tarballs');
    mkdirSync(tarballs);
    // one pnpm for all of them (a pnpm start is about a second)
    execFileSync('pnpm', ['-r', ...packages.flatMap(({ dir }) => ['--filter', `./${dir.slice(root.length + 1)}`]), 'pack', '--pack-destination', tarballs], { cwd: root, stdio: 'pipe' });
    const files = readdirSync(tarballs).filter((f) => f.endsWith('.tgz'));
    expect(files.length).toBe(packages.length);

    // workspace: ranges must be rewritten to real versions in the packed manifests.
    for (const f of files) {
      const manifest = execFileSync('tar', ['-xzOf', join(tarballs, f), 'package/package.json'], { encoding: 'utf8' });
      expect(manifest).not.toContain('workspace:');
    }

    // Every tarball carries the license, README and changelog, and its manifest the metadata a
    // registry page shows; sideEffects names only files the tarball holds.
    for (const f of files) {
      const listing = execFileSync('tar', ['-tzf', join(tarballs, f)], { encoding: 'utf8' }).trim().split('\n');
      const m = JSON.parse(execFileSync('tar', ['-xzOf', join(tarballs, f), 'package/package.json'], { encoding: 'utf8' })) as Manifest;
      for (const file of ['LICENSE', 'README.md', 'CHANGELOG.md']) expect(listing, `${m.name} ships ${file}`).toContain(`package/${file}`);
      expect(execFileSync('tar', ['-xzOf', join(tarballs, f), 'package/LICENSE'], { encoding: 'utf8' })).toMatch(/^MIT License[\s\S]*r3d-ts contributors/);
      expect(m.license, m.name).toBe('MIT');
      expect(m.keywords?.length, `${m.name} keywords`).toBeGreaterThan(0);
      expect(m.engines?.node, m.name).toBe('>=20');
      expect(m.homepage, m.name).toMatch(/^https:\/\//);
      expect(m.bugs?.url, m.name).toMatch(/^https:\/\//);
      expect(m.repository?.directory, m.name).toMatch(/^(packages|apps)\//);
      if (Array.isArray(m.sideEffects)) {
        // each entry (a path or a glob such as ./dist/*.mjs) names at least one shipped file
        for (const entry of m.sideEffects) {
          const glob = new RegExp(`^package/${entry.replace(/^\.\//, '').replace(/[.+?^${}()|[\]\\]/g, '\\$&').replace(/\*/g, '[^/]*')}$`);
          expect(listing.some((f) => glob.test(f)), `${m.name} sideEffects ${entry} matches no shipped file`).toBe(true);
        }
      }
      for (const binding of TF_BINDINGS) {
        expect(m.dependencies?.[binding], `${m.name} depends on ${binding}`).toBeUndefined();
        expect(m.optionalDependencies?.[binding], `${m.name} depends on ${binding}`).toBeUndefined();
      }
    }

    // Are the types wrong? Every entry point, under node10, node16 (CJS and ESM) and bundler
    // resolution, read from the tarball itself (no registry: DefinitelyTyped is never asked).
    // attw's core in this process: one TypeScript for all the tarballs, not one per CLI start.
    for (const f of files) {
      const analysis = await checkPackage(createPackageFromTarballData(new Uint8Array(readFileSync(join(tarballs, f)))));
      expect(analysis.types, `${f}: no types found`).not.toBe(false);
      if (analysis.types === false) continue;
      expect(analysis.problems, `${f}: ${JSON.stringify(analysis.problems).slice(0, 2000)}`).toEqual([]);
      if (analysis.packageName === '@r3d-ts/datasets') expect(Object.keys(analysis.entrypoints)).toEqual(expect.arrayContaining(['./ntu', './utkinect', './darai', './futr', './synthetic']));
    }

    const app = join(work, 'app');
    mkdirSync(app);
    writeFileSync(join(app, 'package.json'), JSON.stringify({ name: 'consumer', private: true, version: '1.0.0' }));
    // Install scripts are skipped: optional native bindings are irrelevant to resolution. A Node
    // consumer has @types/node (the app's API mentions Node streams), and one who imports
    // @r3d-ts/rtf-fuser/layers adds that entry's optional peer, tfjs-layers.
    execFileSync('npm', ['install', '--no-audit', '--no-fund', '--prefer-offline', '--ignore-scripts', '--loglevel=error', '@types/node@20.19.43', '@tensorflow/tfjs-layers@4.22.0', ...files.map((f) => join(tarballs, f))], { cwd: app, stdio: 'pipe' });

    // Exactly one copy of tfjs-core: two copies mean two kernel registries ("backend not found").
    const cores = execFileSync('find', [join(app, 'node_modules'), '-path', '*@tensorflow/tfjs-core/package.json', '-not', '-path', '*/dist/*'], { encoding: 'utf8' }).trim().split('\n');
    expect(cores).toHaveLength(1);

    // A light install: neither TensorFlow binding (each downloads libtensorflow on install) is pulled in.
    for (const binding of TF_BINDINGS) {
      const found = execFileSync('find', [join(app, 'node_modules'), '-path', `*${binding}/package.json`, '-not', '-path', '*/dist/*'], { encoding: 'utf8' }).trim();
      expect(found, binding).toBe('');
    }

    const names = packages.flatMap((p) => entryPoints(p.manifest));
    expect(names).toContain('@r3d-ts/tensor-io/node');
    const esm = names.map((n, i) => `import * as m${i} from '${n}';\nif (typeof m${i} !== 'object') throw new Error('${n}: no ESM module');`).join('\n');
    writeFileSync(join(app, 'check.mjs'), `${esm}\nconsole.log('esm ok');\n`);
    const cjs = names.map((n) => `{ const m = require('${n}'); if (typeof m !== 'object') throw new Error('${n}: no CJS module'); }`).join('\n');
    writeFileSync(join(app, 'check.cjs'), `${cjs}\nconsole.log('cjs ok');\n`);
    expect(execFileSync('node', ['check.mjs'], { cwd: app, encoding: 'utf8' })).toContain('esm ok');
    expect(execFileSync('node', ['check.cjs'], { cwd: app, encoding: 'utf8' })).toContain('cjs ok');

    // tensor-io's two entries share one copy of its modules: what ./node throws is an instance of
    // the error class the main entry exports, under import and require.
    const probe = "try { readSafetensors('missing.safetensors'); } catch (e) { console.log(e instanceof SafetensorsFormatError); }\n";
    writeFileSync(join(app, 'tensor-io.mjs'), `import { SafetensorsFormatError } from '@r3d-ts/tensor-io';\nimport { readSafetensors } from '@r3d-ts/tensor-io/node';\n${probe}`);
    writeFileSync(join(app, 'tensor-io.cjs'), `const { SafetensorsFormatError } = require('@r3d-ts/tensor-io');\nconst { readSafetensors } = require('@r3d-ts/tensor-io/node');\n${probe}`);
    expect(execFileSync('node', ['tensor-io.mjs'], { cwd: app, encoding: 'utf8' }).trim()).toBe('true');
    expect(execFileSync('node', ['tensor-io.cjs'], { cwd: app, encoding: 'utf8' }).trim()).toBe('true');

    // The command-line tools run from the installed tarballs (what `npx` would run): r3d-ablation
    // from @r3d-ts/ablation, r3d from @r3d-ts/train.
    expect(execFileSync(join(app, 'node_modules', '.bin', 'r3d-ablation'), ['--help'], { encoding: 'utf8' })).toMatch(/r3d-ablation/);
    expect(execFileSync(join(app, 'node_modules', '.bin', 'r3d-ablation'), ['run', '--help'], { encoding: 'utf8' })).toMatch(/--partners/);
    expect(execFileSync(join(app, 'node_modules', '.bin', 'r3d'), ['--help'], { encoding: 'utf8' })).toMatch(/train/);

    // Types resolve through the exports map for both module systems.
    writeFileSync(join(app, 'types.mts'), names.map((n, i) => `import type * as t${i} from '${n}';\nexport type T${i} = typeof t${i};`).join('\n'));
    writeFileSync(join(app, 'types.cts'), names.map((n, i) => `import t${i} = require('${n}');\nexport type C${i} = typeof t${i};`).join('\n'));
    writeFileSync(join(app, 'tsconfig.json'), JSON.stringify({ compilerOptions: { module: 'node16', moduleResolution: 'node16', strict: true, noEmit: true, skipLibCheck: false }, files: ['types.mts', 'types.cts'] }));
    const tsc = spawnSync(bin('tsc'), ['-p', app], { cwd: app, encoding: 'utf8' });
    // Full lib checking, except the errors tfjs-layers' own declarations raise under `strict` (its
    // .d.ts files are not strict-clean: theirs to fix, not ours); every error in our packages' or
    // tfjs-core's declarations still fails. An error's continuation lines are indented.
    const diagnostics = `${tsc.stdout}${tsc.stderr}`.split(/\n(?! )/).filter((d) => d.trim() !== '' && !d.startsWith('node_modules/@tensorflow/tfjs-layers/'));
    expect(diagnostics.join('\n')).toBe('');
  });

  it('changeset version bumps a changed package and patches its dependents (dry run in a copy)', () => {
    const copy = join(work, 'changesets');
    mkdirSync(join(copy, '.changeset'), { recursive: true });
    cpSync(join(root, '.changeset', 'config.json'), join(copy, '.changeset', 'config.json'));
    for (const f of ['package.json', 'pnpm-workspace.yaml']) cpSync(join(root, f), join(copy, f));
    for (const { dir } of [...packages, { dir: join(root, 'tooling') }, { dir: join(root, 'test', 'publish') }]) {
      const rel = dir.slice(root.length + 1);
      mkdirSync(join(copy, rel), { recursive: true });
      cpSync(join(dir, 'package.json'), join(copy, rel, 'package.json'));
    }
    writeFileSync(join(copy, '.changeset', 'sample.md'), '---\n"@r3d-ts/rank-metrics": minor\n---\n\nA sample change.\n');
    execFileSync('git', ['init', '-q', '-b', 'main'], { cwd: copy });
    execFileSync(bin('changeset'), ['version'], { cwd: copy, stdio: 'pipe' });
    const version = (rel: string) => (JSON.parse(readFileSync(join(copy, rel, 'package.json'), 'utf8')) as Manifest).version;
    expect(version('packages/rank-metrics')).toBe('0.1.0');
    expect(readFileSync(join(copy, 'packages/rank-metrics/CHANGELOG.md'), 'utf8')).toContain('A sample change.');
    // Dependents on workspace:^ get a patch bump; unrelated packages stay.
    expect(version('packages/rtf-fuser')).toBe('0.0.1');
    expect(version('packages/backend')).toBe('0.0.0');
  });

  it('the pending changesets are the first release plan: changeset version takes every public package to 0.1.0 with a changelog entry (in a copy)', () => {
    const copy = join(work, 'release-plan');
    cpSync(join(root, '.changeset'), join(copy, '.changeset'), { recursive: true });
    for (const f of ['package.json', 'pnpm-workspace.yaml']) cpSync(join(root, f), join(copy, f));
    // every workspace package, private apps and test packages too: a changeset may name any of them
    const workspaceDirs = ['packages', 'apps', 'test'].flatMap((group) =>
      readdirSync(join(root, group)).map((name) => join(group, name)).filter((rel) => existsSync(join(root, rel, 'package.json'))),
    );
    for (const rel of [...workspaceDirs, 'tooling']) {
      mkdirSync(join(copy, rel), { recursive: true });
      for (const f of ['package.json', 'CHANGELOG.md']) if (existsSync(join(root, rel, f))) cpSync(join(root, rel, f), join(copy, rel, f));
    }
    // 0.x: a breaking change is a minor bump with a BREAKING: line, never a major one.
    for (const f of readdirSync(join(root, '.changeset')).filter((n) => n.endsWith('.md') && n !== 'README.md')) {
      expect(readFileSync(join(root, '.changeset', f), 'utf8').split('---')[1], f).not.toMatch(/:\s*["']?major/);
    }
    execFileSync('git', ['init', '-q', '-b', 'main'], { cwd: copy });
    execFileSync(bin('changeset'), ['version'], { cwd: copy, stdio: 'pipe' });
    for (const { dir, manifest } of packages) {
      const rel = dir.slice(root.length + 1);
      const bumped = JSON.parse(readFileSync(join(copy, rel, 'package.json'), 'utf8')) as Manifest;
      expect(bumped.version, manifest.name).toBe('0.1.0');
      const changelog = readFileSync(join(copy, rel, 'CHANGELOG.md'), 'utf8');
      expect(changelog, manifest.name).toMatch(new RegExp(`^# ${manifest.name}\\n\\n## 0\\.1\\.0\\n\\n### Minor Changes\\n\\n- `));
    }
  });
});
