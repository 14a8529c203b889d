/** A fenced code block of a README that the doctest can run. */
export interface ExampleBlock {
  /** The README, relative to the repository root. */
  file: string;
  /** 1-based line of the opening fence. */
  line: number;
  /** `ts` (TypeScript or JavaScript, types stripped by esbuild, run with node) or `sh` (run with bash). */
  kind: 'ts' | 'sh';
  /** The info string's first word as written (`ts`, `js`, `sh`, `bash`, ...). */
  lang: string;
  code: string;
  /** Why the block is not run, from `<!-- not-run: reason -->` just before the fence; absent when it runs. */
  notRun?: string;
}

const KINDS: Record<string, 'ts' | 'sh'> = {
  ts: 'ts', typescript: 'ts', mts: 'ts', js: 'ts', javascript: 'ts', mjs: 'ts',
  sh: 'sh', bash: 'sh', shell: 'sh',
};

const NOT_RUN = /^\s*<!--\s*not-run:\s*(.*?)\s*-->\s*$/;

/**
 * Every fenced `ts`/`js`/`sh` block of a Markdown file, with its not-run mark. Fences may be
 * indented (inside a list) and use ``` or ~~~ of any length; blocks of other languages (yaml,
 * json, text, ...) are left out. The mark is the last non-blank line before the opening fence.
 *
 * @example
 * extractBlocks('<!-- not-run: needs a GPU -->\n```sh\nnvidia-smi\n```\n', 'README.md');
 * // [{ file: 'README.md', line: 2, kind: 'sh', lang: 'sh', code: 'nvidia-smi\n', notRun: 'needs a GPU' }]
 */
export function extractBlocks(markdown: string, file: string): ExampleBlock[] {
  const lines = markdown.split(/\r?\n/);
  const blocks: ExampleBlock[] = [];
  for (let i = 0; i < lines.length; i++) {
    const open = /^(\s*)(`{3,}|~{3,})\s*([\w+-]*)/.exec(lines[i]!);
    if (!open) continue;
    const [, indent, fence, info] = open as unknown as [string, string, string, string];
    const body: string[] = [];
    let j = i + 1;
    const close = new RegExp(`^\\s*${fence[0] === '`' ? '`' : '~'}{${fence.length},}\\s*$`);
    for (; j < lines.length && !close.test(lines[j]!); j++) body.push(lines[j]!.startsWith(indent) ? lines[j]!.slice(indent.length) : lines[j]!.trimStart());
    const kind = KINDS[info.toLowerCase()];
    if (kind) {
      let k = i - 1;
      while (k >= 0 && lines[k]!.trim() === '') k--;
      const mark = k >= 0 ? NOT_RUN.exec(lines[k]!) : null;
      blocks.push({ file, line: i + 1, kind, lang: info, code: `${body.join('\n')}\n`, ...(mark ? { notRun: mark[1] ?? '' } : {}) });
    }
    i = j;
  }
  return blocks;
}
