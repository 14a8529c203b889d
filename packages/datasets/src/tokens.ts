import { DatasetFormatError } from './errors.js';

/**
 * A whitespace token stream over a text file that knows each token's 1-based line, so parsers
 * of token formats (NTU `.skeleton`, OpenCV `<data>`) report where a file went wrong.
 */
export class TokenStream {
  private readonly re = /\S+/g;
  private line = 1;
  private scanned = 0;
  private peeked: { text: string; line: number } | null | undefined;

  constructor(private readonly text: string, readonly file: string, private readonly lineOffset = 0) {}

  private read(): { text: string; line: number } | null {
    const m = this.re.exec(this.text);
    if (!m) return null;
    for (let i = this.scanned; i < m.index; i++) if (this.text.charCodeAt(i) === 10) this.line++;
    this.scanned = m.index;
    return { text: m[0], line: this.line + this.lineOffset };
  }

  /** The next token without consuming it, or null at the end. */
  peek(): { text: string; line: number } | null {
    if (this.peeked === undefined) this.peeked = this.read();
    return this.peeked;
  }

  /** The next token; at the end of the file throws, naming what was expected. */
  next(expected: string): { text: string; line: number } {
    const t = this.peek();
    this.peeked = undefined;
    if (t == null) throw new DatasetFormatError({ file: this.file, line: this.line + this.lineOffset, expected, found: 'the end of the file' });
    return t;
  }

  /** An integer token in [min, max]. */
  int(expected: string, min = -Infinity, max = Infinity): number {
    const t = this.next(expected);
    if (!/^[+-]?\d+$/.test(t.text)) this.fail(t, expected);
    const v = Number(t.text);
    if (!(v >= min && v <= max)) this.fail(t, `${expected} in [${min}, ${max}]`);
    return v;
  }

  /** A finite decimal number token. */
  float(expected: string): number {
    const t = this.next(expected);
    const v = Number(t.text);
    if (t.text === '' || !Number.isFinite(v)) this.fail(t, expected);
    return v;
  }

  /** Throws unless every token has been read. */
  end(expected = 'the end of the file'): void {
    const t = this.peek();
    if (t != null) this.fail(t, expected);
  }

  fail(t: { text: string; line: number }, expected: string): never {
    throw new DatasetFormatError({ file: this.file, line: t.line, expected, found: t.text });
  }
}
