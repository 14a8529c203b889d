import { createReadStream, existsSync, statSync } from 'node:fs';
import { createServer, type IncomingMessage, type Server } from 'node:http';
import { extname, relative, resolve } from 'node:path';

const TYPES: Record<string, string> = { '.html': 'text/html', '.js': 'text/javascript', '.json': 'application/json', '.wasm': 'application/wasm' };

/** A static server on 127.0.0.1 (ephemeral port): URL prefixes mapped to folders, plus POST handlers. */
export interface StaticServer {
  url: string;
  server: Server;
  close(): Promise<void>;
}

/**
 * Serves each `routes` prefix from its folder (only files inside it) and hands POST bodies to
 * `onPost(path, body)`; everything else is 404.
 *
 * @example
 * const s = await serveStatic({ '/': pageDir, '/wasm/': wasmDir }, (path, body) => reports.push(body));
 */
export async function serveStatic(routes: Record<string, string>, onPost: (path: string, body: string) => void): Promise<StaticServer> {
  const server = createServer((req, res) => {
    const path = decodeURIComponent(new URL(req.url ?? '/', 'http://127.0.0.1').pathname);
    if (req.method === 'POST') {
      void readBody(req).then((body) => {
        onPost(path, body);
        res.writeHead(204).end();
      });
      return;
    }
    const prefix = Object.keys(routes).filter((p) => path.startsWith(p)).sort((a, b) => b.length - a.length)[0];
    if (prefix === undefined) return void res.writeHead(404).end();
    const root = resolve(routes[prefix]!);
    const file = resolve(root, path.slice(prefix.length) || 'index.html');
    const rel = relative(root, file);
    if (rel.startsWith('..') || !existsSync(file) || !statSync(file).isFile()) return void res.writeHead(404).end();
    res.writeHead(200, { 'content-type': TYPES[extname(file)] ?? 'application/octet-stream', 'cache-control': 'no-store' });
    createReadStream(file).pipe(res);
  });
  await new Promise<void>((done) => server.listen(0, '127.0.0.1', done));
  const { port } = server.address() as { port: number };
  return {
    url: `http://127.0.0.1:${port}`,
    server,
    close: () => new Promise<void>((done) => {
      server.closeAllConnections();
      server.close(() => done());
    }),
  };
}

function readBody(req: IncomingMessage): Promise<string> {
  return new Promise((done, fail) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => done(Buffer.concat(chunks).toString('utf8')));
    req.on('error', fail);
  });
}
