import { describe, expect, it } from 'vitest';
import { appScripts, blocks, describeReadmeExamples, readmes, SLOW_READMES } from './readme-examples.js';

describe('the README examples', () => {
  it('are found in every README, and each not-run block says why', () => {
    expect(readmes.length).toBeGreaterThanOrEqual(10);
    expect(blocks.length).toBeGreaterThan(20);
    for (const slow of SLOW_READMES) expect(readmes).toContain(slow);
    expect(Object.keys(appScripts)).toEqual(expect.arrayContaining(['ablation', 'data', 'r3d']));
    for (const b of blocks.filter((x) => x.notRun !== undefined)) expect(b.notRun, `${b.file}:${b.line} not-run needs a reason`).not.toBe('');
  });
});

// Every README but the slow ones, which slow-readmes.test.ts runs at the same time.
describeReadmeExamples('the rest', (readme) => !SLOW_READMES.includes(readme));
