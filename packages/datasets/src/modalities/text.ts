import { DatasetFormatError } from '../errors.js';

/**
 * What turns phrases into vectors: any object with a dimension and an `encode` that returns
 * `phrases.length * dim` values (sync or async), so a sentence-embedding model can replace the
 * built-in hashed encoder without changing the loaders.
 */
export interface PhraseEncoder {
  readonly dim: number;
  encode(phrases: readonly string[]): Float32Array | Promise<Float32Array>;
}

function fnv1a(s: string, seed: number): number {
  let h = (0x811c9dc5 ^ seed) >>> 0;
  for (let i = 0; i < s.length; i++) {
    h ^= s.charCodeAt(i);
    h = Math.imul(h, 0x01000193);
  }
  h ^= h >>> 15;
  h = Math.imul(h, 0x2c1b3c6d);
  h ^= h >>> 12;
  return h >>> 0;
}

/**
 * A deterministic text encoder that needs no download: character n-grams (of the lower-cased
 * phrase with word boundaries marked) and word unigrams are hashed into `dim` buckets with a
 * hashed sign (the "hashing trick"), then the vector is L2-normalised. Phrases sharing words or
 * word pieces get similar vectors; the empty phrase (an UNDEFINED frame) gives the zero vector.
 *
 * @example
 * const enc = new HashedNgramEncoder({ dim: 128 });
 * const v = enc.encode(['Getting ingredients for Making pancake']); // Float32Array(128), |v| = 1
 */
export class HashedNgramEncoder implements PhraseEncoder {
  readonly dim: number;
  private readonly n: readonly number[];
  private readonly seed: number;
  private readonly wordWeight: number;
  private readonly cache = new Map<string, Float32Array>();

  constructor(options: { dim?: number; ngrams?: readonly number[]; seed?: number; wordWeight?: number } = {}) {
    this.dim = options.dim ?? 128;
    this.n = options.ngrams ?? [3, 4];
    this.seed = options.seed ?? 0;
    this.wordWeight = options.wordWeight ?? 2;
    if (!(Number.isInteger(this.dim) && this.dim > 0)) throw new RangeError(`HashedNgramEncoder: dim must be a positive integer, got ${this.dim}`);
  }

  /** Encodes one phrase (cached: frame-level phrases repeat a lot). */
  encodeOne(phrase: string): Float32Array {
    const hit = this.cache.get(phrase);
    if (hit) return hit;
    const v = new Float32Array(this.dim);
    const words = phrase.toLowerCase().split(/[^\p{L}\p{N}]+/u).filter((w) => w.length > 0);
    const add = (token: string, weight: number) => {
      const h = fnv1a(token, this.seed);
      v[h % this.dim]! += (h & 0x80000000 ? -1 : 1) * weight;
    };
    for (const w of words) {
      add(`w:${w}`, this.wordWeight);
      const padded = `<${w}>`;
      for (const n of this.n) for (let i = 0; i + n <= padded.length; i++) add(`c:${padded.slice(i, i + n)}`, 1);
    }
    let norm = 0;
    for (let i = 0; i < v.length; i++) norm += v[i]! * v[i]!;
    if (norm > 0) {
      const k = 1 / Math.sqrt(norm);
      for (let i = 0; i < v.length; i++) v[i]! *= k;
    }
    if (this.cache.size < 10_000) this.cache.set(phrase, v);
    return v;
  }

  encode(phrases: readonly string[]): Float32Array {
    const out = new Float32Array(phrases.length * this.dim);
    phrases.forEach((p, i) => out.set(this.encodeOne(p), i * this.dim));
    return out;
  }
}

/**
 * Encodes one phrase per frame with any `PhraseEncoder`, checking the size it returns.
 *
 * @example
 * const text = await encodePhrases(phrases, new HashedNgramEncoder({ dim: 128 })); // { dim: 128, data }
 */
export async function encodePhrases(phrases: readonly string[], encoder: PhraseEncoder): Promise<{ dim: number; data: Float32Array }> {
  const data = await encoder.encode(phrases);
  if (data.length !== phrases.length * encoder.dim) {
    throw new RangeError(`PhraseEncoder returned ${data.length} values for ${phrases.length} phrases of dim ${encoder.dim}`);
  }
  return { dim: encoder.dim, data };
}

/**
 * Per-frame phrases from frame labels, e.g. `template = (a) => \`${a} for Making pancake\``
 * gives "Getting ingredients for Making pancake". UNDEFINED frames (-1) get the empty phrase.
 *
 * @example
 * phrasesFromLabels(labels, ['Getting ingredients', 'Mixing'], (a) => `${a} for Making pancake`);
 */
export function phrasesFromLabels(labels: ArrayLike<number>, classNames: readonly string[], template: (action: string) => string = (a) => a): string[] {
  const out: string[] = [];
  for (let i = 0; i < labels.length; i++) {
    const l = labels[i]!;
    out.push(l >= 0 && l < classNames.length ? template(classNames[l]!) : '');
  }
  return out;
}

/**
 * Parses a phrase file's text: one phrase per frame, one per line (`\n` or `\r\n`; a final empty
 * line is ignored). Throws `DatasetFormatError` naming `file` when the count differs from
 * `frames`. `readPhraseFile` of `./node` reads the file.
 *
 * @example
 * parsePhrases('reach\nlift\n', 'video1.txt', 2) // ['reach', 'lift']
 */
export function parsePhrases(text: string, file = '<text>', frames?: number): string[] {
  const lines = text.split(/\r?\n/);
  if (lines.length > 0 && lines[lines.length - 1] === '') lines.pop();
  if (frames != null && lines.length !== frames) {
    throw new DatasetFormatError({ file, line: lines.length, expected: `${frames} phrases (one per frame)`, found: `${lines.length}` });
  }
  return lines;
}
