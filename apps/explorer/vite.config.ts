import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { defineConfig, type Plugin } from 'vite';

const here = dirname(fileURLToPath(import.meta.url));
const require = createRequire(import.meta.url);
const wasmDist = dirname(require.resolve('@tensorflow/tfjs-backend-wasm/dist/tfjs-backend-wasm.wasm'));
/** The binaries tfjs-backend-wasm fetches at run time; served from the page's own origin. */
const WASM_FILES = ['tfjs-backend-wasm.wasm', 'tfjs-backend-wasm-simd.wasm', 'tfjs-backend-wasm-threaded-simd.wasm'];

/**
 * Copies tfjs-backend-wasm's binaries into `dist/wasm/` (and serves them there in `vite dev`):
 * the page must never fetch them from a CDN, so it keeps working offline and off any host.
 */
function tfjsWasmFiles(): Plugin {
  return {
    name: 'explorer-tfjs-wasm-files',
    configureServer(server) {
      server.middlewares.use((req, res, next) => {
        const name = req.url?.split('?')[0]?.replace(/^.*\/wasm\//, '');
        if (!req.url?.includes('/wasm/') || !name || !WASM_FILES.includes(name)) return next();
        res.setHeader('Content-Type', 'application/wasm');
        res.end(readFileSync(join(wasmDist, name)));
      });
    },
    generateBundle() {
      for (const name of WASM_FILES) this.emitFile({ type: 'asset', fileName: `wasm/${name}`, source: readFileSync(join(wasmDist, name)) });
    },
  };
}

export default defineConfig({
  root: here,
  // Relative URLs, so dist/ works from any folder of any static host.
  base: './',
  plugins: [tfjsWasmFiles()],
  worker: { format: 'es' },
  build: {
    outDir: 'dist',
    emptyOutDir: true,
    target: 'es2022',
    chunkSizeWarningLimit: 4000,
  },
});
