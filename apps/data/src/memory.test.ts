import { spawnSync } from 'node:child_process';
import { copyFileSync, mkdirSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { makeExample } from './example.js';
import { app, cliPath } from './test-helpers.js';

const tmp = mkdtempSync(join(tmpdir(), 'r3d-data-memory-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

describe('r3d-data import memory', () => {
  it('imports 200 short videos under 300 MB peak RSS', () => {
    // one 3 s clip of the example, copied 200 times: decoding is what is measured, not generating
    makeExample(join(tmp, 'example'), { videos: 3, height: 24, width: 32 });
    const videos = join(tmp, 'videos');
    mkdirSync(videos);
    const rows = ['video,start,end,label'];
    for (let i = 0; i < 200; i++) {
      const id = `v${String(i).padStart(3, '0')}`;
      copyFileSync(join(tmp, 'example', 'videos', 'clip-03.mp4'), join(videos, `${id}.mp4`));
      rows.push(`${id},0,1.5,${['reach', 'lift', 'pour'][i % 3]}`, `${id},1.5,3.2,place`);
    }
    writeFileSync(join(tmp, 'labels.csv'), `${rows.join('\n')}\n`);
    const out = join(tmp, 'out');
    const r = spawnSync('/usr/bin/time', ['-v', process.execPath, cliPath(), 'import', '--videos', videos, '--labels', join(tmp, 'labels.csv'), '--out', out, '--fps', '5', '--no-progress'], { cwd: app, encoding: 'utf8', env: { ...process.env, CI: 'true' }, timeout: 600_000 });
    expect(r.status, r.stderr.slice(-3000)).toBe(0);
    expect(readdirSync(join(out, 'groundTruth'))).toHaveLength(200);
    const kb = Number(/Maximum resident set size \(kbytes\): (\d+)/.exec(r.stderr)?.[1]);
    const cpu = Number(/User time \(seconds\): ([\d.]+)/.exec(r.stderr)?.[1]) + Number(/System time \(seconds\): ([\d.]+)/.exec(r.stderr)?.[1]);
    console.log(`200 videos: peak RSS ${(kb / 1024).toFixed(0)} MB, ${cpu.toFixed(1)} s CPU (user + sys)`);
    expect(kb).toBeGreaterThan(0);
    expect(kb / 1024).toBeLessThan(300);
  });
});
