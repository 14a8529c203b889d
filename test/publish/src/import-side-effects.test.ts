import { execFileSync } from 'node:child_process';
import { readFileSync, readdirSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { repoRoot } from '@r3d-ts/tooling/vitest/fixtures';

const root = repoRoot();
const here = dirname(dirname(fileURLToPath(import.meta.url))); // test/publish, whose node_modules resolve every package

interface Manifest {
  name: string;
  private?: boolean;
  exports?: Record<string, unknown>;
}

/**
 * Every published package's module entry points (`@r3d-ts/x` and its subpaths such as
 * `@r3d-ts/x/node`): the libraries, and the apps, whose main entries are libraries too.
 */
function libraryEntries(): string[] {
  return ['packages', 'apps'].flatMap((group) => readdirSync(join(root, group)).map((dir) => join(root, group, dir, 'package.json'))).flatMap((path) => {
    const manifest = JSON.parse(readFileSync(path, 'utf8')) as Manifest;
    if (manifest.private) return [];
    const subpaths = Object.entries(manifest.exports ?? {})
      .filter(([key, target]) => key !== '.' && typeof target === 'object' && target !== null)
      .map(([key]) => `${manifest.name}${key.slice(1)}`);
    return [manifest.name, ...subpaths];
  });
}

interface RegistryChanges {
  gradientsChanged: string[];
  gradientsAdded: string[];
  kernelsChanged: string[];
  kernelsAdded: string[];
  backendsAdded: string[];
}

// Runs in a fresh Node process: the user's tfjs (core, the cpu backend, their own Sum gradient,
// tfjs-layers when the entry needs it), a snapshot of tfjs's gradient, kernel and backend
// registries, the import, and what changed: a changed entry is one whose registered object is no
// longer the same.
const probe = `
import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-backend-cpu';
const entry = process.argv[1];
if (process.argv[2] === 'layers') await import('@tensorflow/tfjs-layers');
tf.registerGradient({ kernelName: 'Sum', gradFunc: (dy) => ({ x: () => dy }) });
const globals = globalThis._tfGlobals;
const grads = () => globals.get('gradRegistry') ?? new Map();
const kernels = () => globals.get('kernelRegistry') ?? new Map();
const backends = () => Object.keys(tf.engine().registryFactory);
const before = { grads: new Map(grads()), kernels: new Map(kernels()), backends: backends() };
await import(entry);
const changed = (was, now) => [...was].filter(([k, v]) => now.get(k) !== v).map(([k]) => k);
const added = (was, now) => [...now.keys()].filter((k) => !was.has(k));
console.log(JSON.stringify({
  gradientsChanged: changed(before.grads, grads()),
  gradientsAdded: added(before.grads, grads()),
  kernelsChanged: changed(before.kernels, kernels()),
  kernelsAdded: added(before.kernels, kernels()),
  backendsAdded: backends().filter((b) => !before.backends.includes(b)),
}));
`;

function importChanges(entry: string): RegistryChanges {
  const layers = entry.endsWith('/layers') ? ['layers'] : [];
  const out = execFileSync(process.execPath, ['--input-type=module', '--eval', probe, entry, ...layers], { cwd: here, encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
  return JSON.parse(out.trim().split('\n').pop()!) as RegistryChanges;
}

describe('importing a library package changes nothing in the tfjs registries the user already had', () => {
  const entries = libraryEntries();

  it('covers every library package', () => {
    for (const name of ['@r3d-ts/rank-metrics', '@r3d-ts/rtf-fuser', '@r3d-ts/rtf-fuser/layers', '@r3d-ts/r3d-model', '@r3d-ts/tensor-io', '@r3d-ts/datasets', '@r3d-ts/trainer', '@r3d-ts/backend', '@r3d-ts/tfjs-gradients', '@r3d-ts/kernel-names', '@r3d-ts/optim', '@r3d-ts/tensorboard', '@r3d-ts/native-blas', '@r3d-ts/step-capture']) {
      expect(entries).toContain(name);
    }
  });

  it.each(entries)('%s', (entry) => {
    const changes = importChanges(entry);
    // Nothing the user registered is replaced, and no gradient is added (registerGradients() is explicit).
    expect(changes.gradientsChanged).toEqual([]);
    expect(changes.gradientsAdded).toEqual([]);
    expect(changes.kernelsChanged).toEqual([]);
    // New kernels only for a backend the import adds (native-blas registers itself, as tfjs's backend packages do).
    expect(changes.kernelsAdded.filter((k) => !changes.backendsAdded.some((b) => k.startsWith(`${b}_`)))).toEqual([]);
    expect(changes.backendsAdded.filter((b) => b !== 'native-blas')).toEqual([]);
  });

  it('the probe sees a registration: importing tfjs-layers over tfjs-core alone adds core\'s gradients and replaces the user\'s Sum', () => {
    const changes = importChanges('@tensorflow/tfjs-layers');
    expect(changes.gradientsChanged).toEqual(['Sum']);
    expect(changes.gradientsAdded.length).toBeGreaterThan(90);
  });
});
