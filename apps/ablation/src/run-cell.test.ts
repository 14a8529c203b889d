import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { selectBackend } from '@r3d-ts/backend';
import { samplesFromSequences } from '@r3d-ts/datasets';
import { R3DModel } from '@r3d-ts/r3d-model';
import { RankEnhancingTokenFuser } from '@r3d-ts/rtf-fuser';
import { afterAll, describe, expect, it, vi } from 'vitest';
import { parseAblationConfig } from './config.js';
import { cellSequences, labelSpace, loadAblationData } from './data.js';
import { gridCells } from './grid.js';
import { runCell } from './run-cell.js';
import { tinyConfig } from './test-helpers.js';

const tmp = mkdtempSync(join(tmpdir(), 'r3d-ablation-cell-'));
afterAll(() => {
  vi.restoreAllMocks();
  rmSync(tmp, { recursive: true, force: true });
});

describe('one training cell (rtf-variance with depth, wasm)', () => {
  it('calls the fuser exactly once per forward pass: training and evaluation read the model outputs, the rank monitor and the rank measurement the pass up to the fuser', async () => {
    await selectBackend({ backend: 'wasm' });
    const config = parseAblationConfig(tinyConfig(join(tmp, 'out'), { partners: ['depth'] }));
    const [cell] = gridCells(config);
    const data = await loadAblationData(config);
    const fuserApply = vi.spyOn(RankEnhancingTokenFuser.prototype, 'apply');
    const fuserCallsPerPass: number[] = [];
    // a pass is a full forward pass (apply) or one that stops at the fuser (fuserTokens, the ranks)
    const passes = { apply: 0, fuserTokens: 0 };
    for (const method of ['apply', 'fuserTokens'] as const) {
      const original = R3DModel.prototype[method] as (...args: unknown[]) => unknown;
      vi.spyOn(R3DModel.prototype, method).mockImplementation(function (this: R3DModel, ...args: unknown[]) {
        const before = fuserApply.mock.calls.length;
        const out = original.apply(this, args);
        fuserCallsPerPass.push(fuserApply.mock.calls.length - before);
        passes[method]++;
        return out as never;
      });
    }
    const result = await runCell(cell!, config, data, { runDir: join(tmp, 'run'), backend: 'wasm' });
    // more passes than training steps: evaluation and both rank measurements ran forward passes too
    const trainSamples = samplesFromSequences(cellSequences(data.train, 'depth'), { observationRatios: config.trainObservationRatios, labels: labelSpace(data.classNames.length) });
    expect(fuserCallsPerPass.length).toBeGreaterThan(config.epochs * Math.ceil(trainSamples.length / config.batchSize));
    expect(fuserCallsPerPass.every((n) => n === 1)).toBe(true);
    expect(fuserApply).toHaveBeenCalledTimes(fuserCallsPerPass.length);
    // the rank monitor and the rank measurement stop at the fuser; training and evaluation do not
    expect(passes.fuserTokens).toBeGreaterThan(0);
    expect(passes.apply).toBeGreaterThan(config.epochs * Math.ceil(trainSamples.length / config.batchSize));
    expect(result.afterTokens).toBe('exchanged');
    expect(result.ranks.map((p) => p.observationRatio)).toEqual([0.3, 0.6, 0.9]);
  });
});
