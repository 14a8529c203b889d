/** At most this many sequences may be listed: the authors' demo has 34, any dataset is far below. */
export const MAX_LISTED_SEQUENCES = 10_000;
/** The largest sequence number accepted (a guard against a typo such as 0..99999999). */
export const MAX_SEQUENCE_NUMBER = 999_999;

/**
 * Parses a sequence list such as `0..32`, `0-32` or `0,4,7..9` into sequence numbers, in order,
 * without duplicates. Each range is checked before it is expanded (its ends and its length are
 * bounded by `MAX_SEQUENCE_NUMBER` and `MAX_LISTED_SEQUENCES`), so an absurd range is refused at
 * once instead of filling memory. Throws an `Error` whose message says what is wrong.
 *
 * @example
 * parseSequenceList('0..3,7'); // [0, 1, 2, 3, 7]
 * parseSequenceList('0..99999999'); // throws: the range ends above 999999
 */
export function parseSequenceList(text: string): number[] {
  const out = new Set<number>();
  const parts = text.split(',').map((s) => s.trim()).filter(Boolean);
  if (parts.length === 0) throw new Error('expected sequence numbers or ranges a..b, got nothing');
  const number = (s: string, part: string): number => {
    const n = Number(s);
    if (!Number.isSafeInteger(n) || n > MAX_SEQUENCE_NUMBER) throw new Error(`"${part}": sequence numbers go from 0 to ${MAX_SEQUENCE_NUMBER}`);
    return n;
  };
  for (const part of parts) {
    const m = /^(\d+)(?:\.\.|-)(\d+)$/.exec(part);
    if (!m) {
      if (!/^\d+$/.test(part)) throw new Error(`"${part}" is neither a sequence number nor a range a..b`);
      out.add(number(part, part));
    } else {
      const a = number(m[1]!, part);
      const b = number(m[2]!, part);
      if (b < a) throw new Error(`"${part}" is an empty range (it ends before it starts)`);
      if (out.size + (b - a + 1) > MAX_LISTED_SEQUENCES) throw new Error(`"${part}" lists more than ${MAX_LISTED_SEQUENCES} sequences`);
      for (let n = a; n <= b; n++) out.add(n);
    }
    if (out.size > MAX_LISTED_SEQUENCES) throw new Error(`more than ${MAX_LISTED_SEQUENCES} sequences listed`);
  }
  return [...out];
}

/**
 * Writes sequence numbers compactly, runs as ranges: `[0, 1, 2, 5]` -> `0..2, 5`.
 *
 * @example
 * formatSequenceList([0, 1, 2, 5]); // '0..2, 5'
 */
export function formatSequenceList(numbers: readonly number[]): string {
  const sorted = [...numbers].sort((a, b) => a - b);
  const runs: string[] = [];
  for (let i = 0; i < sorted.length; ) {
    let j = i;
    while (j + 1 < sorted.length && sorted[j + 1] === sorted[j]! + 1) j++;
    runs.push(j > i ? `${sorted[i]}..${sorted[j]}` : `${sorted[i]}`);
    i = j + 1;
  }
  return runs.join(', ');
}
