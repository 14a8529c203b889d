import type { InputFile } from './tensor-files.js';

/**
 * A picked or dropped file as the loaders take it: its path in the folder and lazy bytes.
 *
 * @example
 * const files = Array.from(folderInput.files!).map((f) => inputFile(f)); // paths like 'darai-demo/alpha.npy'
 */
export function inputFile(file: File, path = file.webkitRelativePath || file.name): InputFile {
  return { path, read: async () => new Uint8Array(await file.arrayBuffer()) };
}

function readEntries(dir: FileSystemDirectoryEntry): Promise<FileSystemEntry[]> {
  const reader = dir.createReader();
  const all: FileSystemEntry[] = [];
  // readEntries returns at most ~100 entries per call: read until it returns none.
  return new Promise((resolve, reject) => {
    const next = () =>
      reader.readEntries((batch) => {
        if (batch.length === 0) return resolve(all);
        all.push(...batch);
        next();
      }, reject);
    next();
  });
}

async function walk(entry: FileSystemEntry, out: InputFile[]): Promise<void> {
  if (entry.isFile) {
    const file = await new Promise<File>((resolve, reject) => (entry as FileSystemFileEntry).file(resolve, reject));
    out.push(inputFile(file, entry.fullPath.replace(/^\//, '')));
  } else if (entry.isDirectory) {
    for (const child of await readEntries(entry as FileSystemDirectoryEntry)) await walk(child, out);
  }
}

/**
 * Every file of a drop, folders walked recursively with their paths kept (so the R3D-demo layout
 * `pt_darai_depth/<kind>/...` is recognised). The entries are taken synchronously, as the drop
 * event requires, and read afterwards.
 *
 * @example
 * document.addEventListener('drop', async (e) => load(await droppedFiles(e.dataTransfer!)));
 */
export function droppedFiles(dt: DataTransfer): Promise<InputFile[]> {
  const entries: FileSystemEntry[] = [];
  const loose: File[] = [];
  for (const item of Array.from(dt.items)) {
    if (item.kind !== 'file') continue;
    const entry = item.webkitGetAsEntry?.();
    if (entry) entries.push(entry);
    else {
      const f = item.getAsFile();
      if (f) loose.push(f);
    }
  }
  if (entries.length === 0 && loose.length === 0) loose.push(...Array.from(dt.files));
  return (async () => {
    const out = loose.map((f) => inputFile(f));
    for (const e of entries) await walk(e, out);
    return out;
  })();
}
