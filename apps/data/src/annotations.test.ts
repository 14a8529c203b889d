import { describe, expect, it } from 'vitest';
import { DatasetFormatError } from '@r3d-ts/datasets';
import { assignSplits, classList, expandLabels, parseCsv, parseSegments } from './annotations.js';

describe('parseSegments', () => {
  it('reads rows with or without a header, keeping extra columns by name', () => {
    const withHeader = parseSegments('label,video,start,end,subject\npour,v1,0,1.5,s2\n', 'l.csv');
    expect(withHeader.segments).toEqual([{ video: 'v1', start: 0, end: 1.5, label: 'pour', line: 2, extra: { subject: 's2' } }]);
    const bare = parseSegments('v1,0,2,cut\n\nv2,1,3,"pour, slowly"\n', 'l.csv');
    expect(bare.segments.map((s) => [s.video, s.label, s.line])).toEqual([['v1', 'cut', 1], ['v2', 'pour, slowly', 3]]);
  });

  it('names the file and line of a bad row', () => {
    const bad = (text: string, line: number): void => {
      try {
        parseSegments(text, 'labels.csv');
        expect.unreachable();
      } catch (e) {
        expect(e).toBeInstanceOf(DatasetFormatError);
        expect((e as DatasetFormatError).line).toBe(line);
        expect((e as Error).message).toMatch(new RegExp(`^labels\\.csv:${line}: `));
      }
    };
    bad('video,start,end,label\nv1,0,1,a\nv1,2,1,b\n', 3); // end before start
    bad('video,start,end,label\nv1,0,1,a\nv1,x,2,b\n', 3); // not a number
    bad('video,start,end,label\nv1,0,1\n', 2); // missing column
    bad('video,start,end,label\nv1,0,1,"open\n', 2); // unterminated quote
    bad('name,a,b,c\nv1,0,1,x\n', 1); // header without the columns
  });

  it('splits quoted cells across lines and keeps line numbers', () => {
    expect(parseCsv('a,"x\ny",b\nc,d\n')).toEqual([{ info: { lines: 1 }, record: ['a', 'x\ny', 'b'] }, { info: { lines: 3 }, record: ['c', 'd'] }]);
  });
});

describe('expandLabels', () => {
  const seg = (start: number, end: number, label: string, line: number) => ({ video: 'v', start, end, label, line, extra: {} });

  it('covers [start, end) in seconds at the fps, gaps get the gap label', () => {
    // 4 fps: frames at 0, 0.25, 0.5, ..., 1.75 s
    expect(expandLabels([seg(0, 0.5, 'a', 1), seg(1, 1.5, 'b', 2)], 8, { unit: 'seconds', fps: 4 })).toEqual(['a', 'a', 'UNDEFINED', 'UNDEFINED', 'b', 'b', 'UNDEFINED', 'UNDEFINED']);
    expect(expandLabels([seg(0.1, 0.3, 'a', 1)], 3, { unit: 'seconds', fps: 10, gapLabel: 'background' })).toEqual(['background', 'a', 'a']);
  });

  it('in frames, and drops what lies past the last frame', () => {
    expect(expandLabels([seg(1, 3, 'a', 1), seg(3, 99, 'b', 2)], 5, { unit: 'frames', fps: 15 })).toEqual(['UNDEFINED', 'a', 'a', 'b', 'b']);
  });

  it('resolves overlaps: the later-starting segment wins, on equal starts the later row', () => {
    const long = seg(0, 10, 'cook', 1);
    const inner = seg(3, 5, 'stir', 2);
    expect(expandLabels([inner, long], 8, { unit: 'frames', fps: 1 })).toEqual(['cook', 'cook', 'cook', 'stir', 'stir', 'cook', 'cook', 'cook']);
    expect(expandLabels([seg(0, 2, 'x', 1), seg(0, 2, 'y', 2)], 2, { unit: 'frames', fps: 1 })).toEqual(['y', 'y']);
  });
});

describe('classList and assignSplits', () => {
  it('sorts the classes and adds a gap class that is not UNDEFINED', () => {
    expect(classList([{ label: 'pour' }, { label: 'cut' }, { label: 'pour' }])).toEqual(['cut', 'pour']);
    expect(classList([{ label: 'pour' }], 'background')).toEqual(['background', 'pour']);
  });

  it('is seeded, covers every video once, and keeps groups apart', () => {
    const ids = Array.from({ length: 20 }, (_, i) => `v${String(i).padStart(2, '0')}`);
    const a = assignSplits(ids, { ratios: [0.6, 0.2, 0.2], seed: 3 });
    expect(assignSplits(ids, { ratios: [0.6, 0.2, 0.2], seed: 3 })).toEqual(a);
    expect([...a.train, ...a.val, ...a.test].sort()).toEqual(ids);
    expect([a.train.length, a.val.length, a.test.length]).toEqual([12, 4, 4]);
    expect(assignSplits(ids, { ratios: [0.6, 0.2, 0.2], seed: 4 })).not.toEqual(a);
    const subject = (v: string): string => `s${Number(v.slice(1)) % 5}`;
    const g = assignSplits(ids, { ratios: [0.6, 0.2, 0.2], seed: 3, groupOf: subject });
    const where = new Map<string, string>();
    for (const [split, vs] of Object.entries(g)) for (const v of vs) {
      const s = subject(v);
      expect(where.get(s) ?? split).toBe(split);
      where.set(s, split);
    }
    expect([g.train.length, g.val.length, g.test.length]).toEqual([12, 4, 4]);
  });
});
