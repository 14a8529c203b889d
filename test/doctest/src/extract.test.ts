import { describe, expect, it } from 'vitest';
import { extractBlocks } from './extract.js';

describe('extractBlocks', () => {
  it('finds ts, js and sh blocks with their lines and leaves other languages out', () => {
    const md = ['# t', '', '```ts', 'const a = 1;', '```', '```yaml', 'a: 1', '```', '```js', 'x()', '```', '```bash', 'ls', '```'].join('\n');
    const blocks = extractBlocks(md, 'R.md');
    expect(blocks.map((b) => [b.line, b.kind, b.lang, b.code])).toEqual([
      [3, 'ts', 'ts', 'const a = 1;\n'],
      [9, 'ts', 'js', 'x()\n'],
      [12, 'sh', 'bash', 'ls\n'],
    ]);
  });

  it('reads the not-run mark on the last non-blank line before the fence, and only there', () => {
    const md = ['<!-- not-run: needs a CUDA GPU -->', '', '```sh', 'nvidia-smi', '```', '<!-- not-run: far away -->', 'text', '```sh', 'ls', '```'].join('\n');
    const [gpu, ls] = extractBlocks(md, 'R.md');
    expect(gpu!.notRun).toBe('needs a CUDA GPU');
    expect(ls!.notRun).toBeUndefined();
  });

  it('handles indented fences, longer fences and a fence inside a block', () => {
    const md = ['1. step', '   ```ts', '   const x = 1;', '     nested();', '   ```', '````md', '```ts', 'not a block', '```', '````'].join('\n');
    const blocks = extractBlocks(md, 'R.md');
    expect(blocks).toHaveLength(1);
    expect(blocks[0]!.code).toBe('const x = 1;\n  nested();\n');
  });
});
