import { XMLParser } from 'fast-xml-parser';
import { DatasetFormatError } from '../errors.js';
import { readFile } from '../node/files.js';

/**
 * Parses a UTKinect depth frame stored by OpenCV (`<opencv_storage><depthImg190>` with `<width>`,
 * `<height>` and `<data>`; `<rows>`/`<cols>` are accepted too). The structure goes through
 * fast-xml-parser with `<data>` as a stop node, so its 76,800 numbers stay one string that is
 * tokenised here, never a DOM. Values are row-major, in the file's units (millimetres).
 *
 * @example
 * const d = parseDepthXml(readFileSync('depthImg190.xml', 'utf8'), 'depthImg190.xml'); // 320 x 240
 */
export function parseDepthXml(text: string, file = '<buffer>'): { width: number; height: number; data: Float32Array } {
  const fail = (expected: string, found?: string, offset = 0): never => {
    throw new DatasetFormatError({ file, offset, expected, ...(found != null ? { found } : {}) });
  };
  let doc: Record<string, unknown>;
  try {
    const parser = new XMLParser({ ignoreAttributes: true, parseTagValue: false, stopNodes: ['*.data'], ignoreDeclaration: true, trimValues: true });
    doc = parser.parse(text, true) as Record<string, unknown>;
  } catch (e) {
    return fail('well-formed OpenCV XML storage', (e as Error).message);
  }
  const root = doc.opencv_storage;
  if (root == null || typeof root !== 'object' || Array.isArray(root)) return fail('a single <opencv_storage> root element');
  const children = Object.entries(root as Record<string, unknown>);
  if (children.length !== 1) return fail('exactly one matrix inside <opencv_storage> (e.g. <depthImg190>)', `${children.length} elements`);
  const [name, node] = children[0]!;
  if (node == null || typeof node !== 'object' || Array.isArray(node)) return fail(`a matrix element <${name}> with width, height and data`);
  const m = node as Record<string, unknown>;
  const dim = (a: string, b: string): number => {
    const v = m[a] ?? m[b];
    if (typeof v !== 'string' || !/^\d+$/.test(v.trim())) return fail(`<${a}> (or <${b}>) in <${name}> as a positive integer`, v == null ? 'none' : String(v));
    const n = Number(v);
    if (n < 1 || n > 8192) return fail(`<${a}> between 1 and 8192`, String(n));
    return n;
  };
  const width = dim('width', 'cols');
  const height = dim('height', 'rows');
  const raw = m.data;
  if (typeof raw !== 'string') return fail(`a single <data> element in <${name}> holding ${width * height} numbers`, raw == null ? 'none' : typeof raw);
  // every number takes at least one character and one separator: a <data> too short to hold
  // width x height of them is refused before the array is allocated (a tiny file cannot claim 256 MB)
  if (raw.length < 2 * width * height - 1) return fail(`${width * height} numbers in <data> (width x height)`, `fewer (<data> holds ${raw.length} characters)`);
  const data = new Float32Array(width * height);
  const re = /\S+/g;
  let count = 0;
  for (let t = re.exec(raw); t; t = re.exec(raw)) {
    if (count >= data.length) return fail(`${width * height} numbers in <data> (width x height)`, 'more');
    const v = Number(t[0]);
    if (!Number.isFinite(v)) return fail(`a number in <data> (value ${count + 1})`, t[0]);
    data[count++] = v;
  }
  if (count !== data.length) return fail(`${width * height} numbers in <data> (width x height)`, String(count));
  return { width, height, data };
}

/** Reads and parses a UTKinect depth XML file; see `parseDepthXml`. */
export function readDepthXml(path: string): { width: number; height: number; data: Float32Array } {
  return parseDepthXml(new TextDecoder().decode(readFile(path)), path);
}
