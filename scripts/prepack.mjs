// Runs as every public package's `prepack` (pnpm pack, pnpm publish, changeset publish):
// copies the repository's one LICENSE into the package folder, so the tarball carries it while
// the repository keeps a single source of truth (packages/*/LICENSE is git-ignored), and fails
// when `files` names something that does not exist, so a tarball never silently lacks a file
// its manifest promises.
import { copyFileSync, existsSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const dir = process.cwd();
copyFileSync(join(root, 'LICENSE'), join(dir, 'LICENSE'));
const manifest = JSON.parse(readFileSync(join(dir, 'package.json'), 'utf8'));
const missing = (manifest.files ?? []).filter((f) => !existsSync(join(dir, f)));
if (missing.length > 0) {
  console.error(`${manifest.name}: "files" names what does not exist at pack time: ${missing.join(', ')}`);
  process.exit(1);
}
