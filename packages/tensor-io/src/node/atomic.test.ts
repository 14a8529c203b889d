import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { fsyncDir, writeFileAtomic } from './atomic.js';

describe('writeFileAtomic', () => {
  const root = mkdtempSync(join(tmpdir(), 'r3d-atomic-'));
  afterAll(() => rmSync(root, { recursive: true, force: true }));

  it('creates missing folders, replaces the whole content and leaves no temporary file', () => {
    const path = join(root, 'a', 'b', 'f.bin');
    writeFileAtomic(path, 'first, longer content');
    writeFileAtomic(path, Uint8Array.from([1, 2, 3]));
    expect(Array.from(readFileSync(path))).toEqual([1, 2, 3]);
    writeFileAtomic(path, '');
    expect(readFileSync(path).byteLength).toBe(0);
    expect(readdirSync(join(root, 'a', 'b'))).toEqual(['f.bin']);
  });

  it('a failed write keeps what was there and removes its temporary file', () => {
    const dir = join(root, 'keep');
    mkdirSync(join(dir, 'target'), { recursive: true });
    writeFileSync(join(dir, 'target', 'inside'), 'x');
    // renaming a file over a non-empty folder fails after the data was written
    expect(() => writeFileAtomic(join(dir, 'target'), 'new')).toThrow();
    expect(readdirSync(dir)).toEqual(['target']);
    expect(readFileSync(join(dir, 'target', 'inside'), 'utf8')).toBe('x');
  });

  it('fsyncDir tolerates folders it cannot open', () => {
    expect(() => fsyncDir(join(root, 'no-such-folder'))).not.toThrow();
  });
});
