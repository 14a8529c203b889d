// The libraries in a real browser: headless Chromium (Debian's, software WebGL through
// SwiftShader) loads a page bundled from src/page/main.ts and served, with the wasm binaries and
// the parity fixture's R3D as tf.io artefacts, by a local server on 127.0.0.1. The page runs
// the checks on the wasm and webgl backends and posts one report per backend.
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { selectBackend } from '@r3d-ts/backend';
import { depthEncoder, rgbEncoder } from '@r3d-ts/r3d-model';
import { fileSystem, load } from '@r3d-ts/r3d-model/node';
import { effectiveRank } from '@r3d-ts/rank-metrics';
import { sharedFixture } from '@r3d-ts/tooling/vitest/fixtures';
import * as tf from '@tensorflow/tfjs-core';
import { build } from 'esbuild';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { fixedMatrix } from './page/fixed-matrix.js';
import type { BackendReport } from './page/report.js';
import { serveStatic, type StaticServer } from './server.js';

const here = dirname(fileURLToPath(import.meta.url));
const BACKENDS = ['wasm', 'webgl'] as const;
const TOL = 1e-4;
const PAGE_TIMEOUT_MS = 90_000;

const chromium = ['/usr/bin/chromium', 'chromium', 'chromium-browser', 'google-chrome'].find((b) => spawnSync('sh', ['-c', `command -v ${b}`]).status === 0);
const fixture = sharedFixture('r3d-parity');
if (process.env.CI === 'true' && (!chromium || !fixture)) throw new Error(`the browser test needs ${chromium ? 'the r3d-parity fixture (../shared)' : 'chromium (scripts/system-deps.sh installs it)'} under CI`);
if (!chromium) console.warn('[skip] chromium is not installed: the browser test is skipped (apt-get install chromium)');

/** Chromium's flags: headless, no GPU but SwiftShader's WebGL, a throwaway profile. */
function flags(profile: string): string[] {
  return [
    '--headless=new', '--no-sandbox', '--use-angle=swiftshader', '--enable-unsafe-swiftshader', '--ignore-gpu-blocklist',
    '--no-first-run', '--no-default-browser-check', '--disable-extensions', '--disable-background-networking', '--mute-audio',
    `--user-data-dir=${profile}`,
  ];
}

describe.skipIf(!chromium || !fixture)('libraries in headless Chromium (wasm, webgl)', () => {
  const reports = new Map<string, BackendReport>();
  let tmp: string;
  let server: StaticServer | undefined;
  let browser: ChildProcess | undefined;
  let nodeRank: { plain: number; tensor: number };
  let pageSeconds = 0;

  beforeAll(async () => {
    const started = Date.now();
    tmp = mkdtempSync(join(tmpdir(), 'r3d-browser-'));
    // the parity fixture's weights as tf.io artefacts, through the Node loader and file handler
    await selectBackend({ backend: 'cpu' });
    const cfg = JSON.parse(readFileSync(join(fixture!, 'manifest.json'), 'utf8')).config;
    const model = await load(fixture!, {
      config: {
        numClasses: cfg.n_class, rgb: rgbEncoder(cfg.input_dim), partner: depthEncoder(cfg.H, cfg.W), padIndex: cfg.pad_idx, noneIndex: cfg.none_idx,
        fuser: { name: 'rtf', options: { selection: 'bn-gamma', ratio: cfg.ratio, dropout: 0 } },
      },
    });
    await model.save(fileSystem(join(tmp, 'model')));
    model.dispose();
    const t = tf.tensor2d(fixedMatrix());
    nodeRank = { plain: effectiveRank(fixedMatrix()), tensor: effectiveRank(t) };
    t.dispose();

    await build({ entryPoints: [join(here, 'page', 'main.ts')], bundle: true, platform: 'browser', format: 'esm', outfile: join(tmp, 'page', 'main.js'), logLevel: 'silent' });
    // an error before main runs (a module that fails to evaluate) is reported by this inline script
    const onError = "const fail = (e) => fetch('/report', { method: 'POST', body: JSON.stringify({ backend: 'page', error: String((e && e.stack) || e) }) });"
      + "addEventListener('error', (e) => fail(e.error || e.message)); addEventListener('unhandledrejection', (e) => fail(e.reason));";
    writeFileSync(join(tmp, 'page', 'index.html'), `<!doctype html><meta charset="utf-8"><title>r3d-ts</title><script>${onError}</script><script type="module" src="/main.js"></script>\n`);
    const wasmDir = dirname(createRequire(join(here, 'package.json')).resolve('@tensorflow/tfjs-backend-wasm/dist/tfjs-backend-wasm.wasm'));

    let done: () => void = () => undefined;
    const finished = new Promise<void>((resolve) => (done = resolve));
    server = await serveStatic({ '/': join(tmp, 'page'), '/wasm/': wasmDir, '/model/': join(tmp, 'model'), '/fixture/': fixture! }, (path, body) => {
      if (path === '/report') {
        const report = JSON.parse(body) as BackendReport;
        reports.set(report.backend, report);
      }
      if (path === '/done' || (path === '/report' && reports.has('page'))) done();
    });
    const profile = join(tmp, 'profile');
    // its own process group, so that the browser and its helpers are ended together, by this pid
    // R3D_BROWSER_LOG=1 shows the browser's log (the page's console included) when a run needs a look
    const log = process.env.R3D_BROWSER_LOG === '1';
    const url = `${server.url}/?backends=${BACKENDS.join(',')}`;
    browser = spawn(chromium!, [...flags(profile), ...(log ? ['--enable-logging=stderr', '--v=0'] : []), url], { stdio: ['ignore', 'ignore', log ? 'inherit' : 'ignore'], detached: true });
    const exited = new Promise<void>((resolve) => browser!.once('exit', () => resolve()));
    const timeout = new Promise<void>((resolve) => setTimeout(resolve, PAGE_TIMEOUT_MS).unref());
    const pageStart = Date.now();
    await Promise.race([finished, exited, timeout]);
    pageSeconds = (Date.now() - pageStart) / 1000;
    console.log(`browser test: setup ${((pageStart - started) / 1000).toFixed(1)} s, page ${pageSeconds.toFixed(1)} s`);
    for (const r of reports.values()) console.log(`  ${r.backend}: ${r.seconds?.toFixed(1)} s, out_action error ${r.r3d?.actionError.toExponential(2)}, out_duration error ${r.r3d?.durationError.toExponential(2)}${r.error ? `, ERROR ${r.error}` : ''}`);
  });

  afterAll(async () => {
    if (browser?.pid && browser.exitCode === null) {
      try {
        process.kill(-browser.pid, 'SIGKILL');
      } catch {
        // already gone
      }
    }
    await server?.close();
    if (tmp) rmSync(tmp, { recursive: true, force: true });
  });

  it('the page reported for every backend within the time limit', () => {
    expect(reports.get('page')?.error).toBeUndefined();
    expect([...reports.keys()].sort()).toEqual([...BACKENDS].sort());
    expect(pageSeconds).toBeLessThan(PAGE_TIMEOUT_MS / 1000);
  });

  describe.each(BACKENDS)('on %s', (backend) => {
    const report = () => {
      const r = reports.get(backend);
      expect(r, `no report from the ${backend} run`).toBeDefined();
      expect(r!.error).toBeUndefined();
      expect(r!.active).toBe(backend);
      return r!;
    };

    it("effective rank of the fixed matrix equals Node's to 1e-12 (plain numbers, and a float32 tensor read back from the backend)", () => {
      const { rank } = report();
      // to 12 decimals: Chromium's V8 and Node's differ in the last bit or two of a Math function
      expect(rank!.plain).toBeCloseTo(nodeRank.plain, 12);
      expect(rank!.tensor).toBeCloseTo(nodeRank.tensor, 12);
      expect(rank!.tensor).not.toBe(rank!.plain); // the float32 tensor really was read back
      expect(rank!.plain).toBeGreaterThan(2);
    });

    it('an RTF Layer in a tf.model: forward, finite non-zero gradients, and a model.fit step that moves every fuser weight', () => {
      const { rtf } = report();
      expect(rtf!.className).toBe('r3d>RTFuser');
      expect(Number.isFinite(rtf!.loss)).toBe(true);
      expect(rtf!.variables).toBeGreaterThan(0);
      expect(rtf!.finiteGradients).toBe(true);
      expect(rtf!.gradientL1).toBeGreaterThan(0);
      expect(rtf!.changed).toBe(rtf!.variables);
    });

    it("R3D loaded with load() from the served tf.io artefact predicts the fixture's out_action and out_duration to 1e-4", () => {
      const { r3d } = report();
      expect(r3d!.actionError).toBeLessThan(TOL);
      expect(r3d!.durationError).toBeLessThan(TOL);
      expect(r3d!.fuserLayer).toBe('r3d>RTFuser'); // R3D's fuser is the Layer
      expect(r3d!.predictions).toHaveLength(2);
      for (const p of r3d!.predictions) {
        expect(p.frames).toBe(10);
        expect(p.durations).toHaveLength(p.actions.length);
      }
    });

    it("datasets' in-memory parsers (npy features, CSV) run in the page", () => {
      const { datasets } = report();
      // inputs_rgb is (B, T, D) = (2, 24, 2048): one "frame" per item, the rest flattened
      expect(datasets).toEqual({ featureDim: 24 * 2048, frames: 2, csvChannels: 3 });
    });
  });
});
