import { readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { encodeNpy, parseNpy } from '@r3d-ts/tensor-io';
import { afterAll, describe, expect, it } from 'vitest';
import { DatasetFormatError } from '../errors.js';
import { depthFromNpy, featuresFromNpy } from '../modalities/features.js';
import { parsePhrases } from '../modalities/text.js';
import { parseTimeSeriesCsv } from '../modalities/timeseries.js';
import { tempDir, write } from '../test-fixtures.js';
import { numberedFiles } from './files.js';
import { readDepthNpy, readFeatureNpy, readPhraseFile, readTimeSeriesCsv } from './readers.js';

// Each ./node reader is its main-entry parser applied to the file's bytes, nothing more.
describe('./node readers = the in-memory parsers on the file bytes', () => {
  const dir = tempDir('r3d-readers-');
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('.npy features and depth', () => {
    const features = write(join(dir, 'f.npy'), encodeNpy({ shape: [3, 4], data: Float32Array.from({ length: 12 }, (_, i) => i / 7) }));
    expect(readFeatureNpy(features, 3)).toEqual(featuresFromNpy(parseNpy(readFileSync(features)), features, 3));
    const depth = write(join(dir, 'd.npy'), encodeNpy({ shape: [2, 1, 3, 4], data: Float32Array.from({ length: 24 }, (_, i) => (i * 37) % 11) }));
    const size = { height: 2, width: 2 };
    expect(readDepthNpy(depth, size, 2)).toEqual(depthFromNpy(parseNpy(readFileSync(depth)), depth, size, 2));
    expect(() => depthFromNpy(parseNpy(readFileSync(features)), 'f.npy')).toThrow(/f\.npy.*depth of shape \(T, H, W\)/);
  });

  it('phrases (\\n and \\r\\n, final newline ignored) and their count', () => {
    const file = write(join(dir, 'p.txt'), 'reach\r\nlift\n');
    expect(readPhraseFile(file, 2)).toEqual(['reach', 'lift']);
    expect(parsePhrases('reach\r\nlift\n', 'p.txt', 2)).toEqual(['reach', 'lift']);
    expect(() => parsePhrases('reach\n', 'p.txt', 2)).toThrow(DatasetFormatError);
    expect(() => readPhraseFile(join(dir, 'missing.txt'))).toThrow(/missing\.txt: expected a readable file/);
  });

  it('time-series CSV and numbered files', () => {
    const csv = 'time,ax,ay\n0,1,2\n0.5,3,4\n';
    const file = write(join(dir, 'imu.csv'), csv);
    expect(readTimeSeriesCsv(file)).toEqual(parseTimeSeriesCsv(csv, file));
    for (const n of [10, 9, 100]) write(join(dir, 'frames', `img${n}.png`), '');
    expect(numberedFiles(join(dir, 'frames'), /^img(\d+)\.png$/).map((f) => f.n)).toEqual([9, 10, 100]);
  });
});
