// Writers of tiny files in each real format, shared by the format, fuzz and memory tests.
import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { PNG } from 'pngjs';
import jpeg from 'jpeg-js';

export function tempDir(prefix: string): string {
  return mkdtempSync(join(tmpdir(), `r3d-${prefix}-`));
}

export function write(path: string, content: string | Uint8Array): string {
  mkdirSync(dirname(path), { recursive: true });
  writeFileSync(path, content);
  return path;
}

/** A grey PNG of 8 or 16 bits per sample. */
export function greyPng(width: number, height: number, values: ArrayLike<number>, bitDepth: 8 | 16): Uint8Array {
  const png = new PNG({ width, height, bitDepth, colorType: 0, inputColorType: 0, inputHasAlpha: false });
  if (bitDepth === 16) png.data = Buffer.from(Uint16Array.from(values).buffer);
  else png.data = Buffer.from(Uint8Array.from(values));
  return PNG.sync.write(png, { bitDepth, colorType: 0, inputColorType: 0, inputHasAlpha: false });
}

/** An RGB JPEG of a flat colour. */
export function flatJpeg(width: number, height: number, rgb: [number, number, number]): Uint8Array {
  const data = Buffer.alloc(width * height * 4);
  for (let i = 0; i < width * height; i++) data.set([...rgb, 255], i * 4);
  return jpeg.encode({ data, width, height }, 95).data;
}

/** An NTU skeleton file: frame 1 with two bodies, frame 2 with none, frame 3 with one. */
export function skeletonText(bigId = '72057594037931101', joints = 25): string {
  const body = (id: string, base: number) => {
    const lines = [`${id} 0 1 2 1 2 0 0.1250 -0.0625 2`, String(joints)];
    for (let j = 0; j < joints; j++) lines.push(`${(base + j / 100).toFixed(4)} 0.5 3.25 250.5 200.25 1000.5 500.5 0.9 0 0.1 0 ${j % 3}`);
    return lines.join('\n');
  };
  return ['3', '2', body(bigId, 0.1), body('72057594037931102', -0.3), '0', '1', body(bigId, 0.2)].join('\r\n') + '\n';
}

/** A UTKinect actionLabel.txt with every quirk of the real file. */
export const UTK_LABELS = [
  's01_e01',
  'walk: 252 390  ',
  'sitDown:  572  686',
  'standUp: 704 752',
  'pickUp: 752 822',
  'carry: 390 600',
  'throw: NaN NaN',
  'push: 1014 1056',
  'pull: 1104 1150',
  'waveHands: 1212 1268',
  's01_e02',
  'walk: 10 20',
  'clapHands: 15 30',
].join('\n');

/** An OpenCV depth XML of `w x h` values. */
export function depthXml(name: string, w: number, h: number, values: ArrayLike<number>): string {
  const nums: string[] = [];
  for (let i = 0; i < values.length; i++) nums.push(String(values[i]));
  return `<?xml version="1.0"?>\n<opencv_storage>\n<${name} type_id="opencv-image">\n  <width>${w}</width>\n  <height>${h}</height>\n  <origin>top-left</origin>\n  <layout>interleaved</layout>\n  <dt>u</dt>\n  <data>\n    ${nums.join(' ')}</data></${name}>\n</opencv_storage>\n`;
}
