import { describe, expect, it } from 'vitest';
import { analyseDemo, type DemoTokens, type TokenMatrix } from './darai-demo.js';
import { formatSequenceList, parseSequenceList } from './sequences.js';

describe('--sequences lists (issue 14 class 11)', () => {
  it('parses numbers and ranges in order, without duplicates', () => {
    expect(parseSequenceList('0..3,7, 2-4')).toEqual([0, 1, 2, 3, 7, 4]);
    expect(formatSequenceList([7, 0, 1, 2, 3, 4])).toBe('0..4, 7');
  });

  it('refuses an absurd range at once, before expanding it', () => {
    const started = performance.now();
    expect(() => parseSequenceList('0..99999999')).toThrow(/sequence numbers go from 0 to 999999/);
    expect(() => parseSequenceList('0..999999')).toThrow(/lists more than 10000 sequences/);
    expect(() => parseSequenceList('0..9999,10000..10005')).toThrow(/lists more than 10000 sequences/);
    expect(performance.now() - started).toBeLessThan(500);
    expect(() => parseSequenceList('9..3')).toThrow(/empty range/);
    expect(() => parseSequenceList('1e3')).toThrow(/neither a sequence number nor a range/);
    expect(() => parseSequenceList(' , ')).toThrow(/got nothing/);
  });

  it('a named sequence the tokens do not hold, or one missing at some ratio, is an error', () => {
    const m: TokenMatrix = { data: Float32Array.from({ length: 12 }, (_, i) => Math.sin(i)), rows: 3, cols: 4 };
    const rec = { rgb_raw: m, depth_raw: m, exchanged_rgb: m, exchanged_depth: m };
    const tokens: DemoTokens = { layout: 'npy', root: 'demo', ratios: [0.3, 0.5], tokens: new Map([[0.3, new Map([[0, rec], [1, rec]])], [0.5, new Map([[0, rec]])]]) };
    expect(() => analyseDemo(tokens, [0, 1, 5, 6])).toThrow(/sequences: 5\.\.6 not found in demo \(it holds sequences 0\.\.1\)/);
    expect(() => analyseDemo(tokens, [0, 1])).toThrow(/demo: sequences 1 have no tokens at observation ratio 0\.5/);
    expect(() => analyseDemo(tokens)).toThrow(/sequences 1 have no tokens at observation ratio 0\.5/);
    expect(analyseDemo(tokens, [0]).sequences).toEqual([0]);
  });
});
