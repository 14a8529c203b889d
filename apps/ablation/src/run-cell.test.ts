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
  it('calls the fuser exactly once per forward pass: training, the rank monitor, evaluation and the rank measurement read the model outputs', async () => {
    await selectBackend({ backend: 'wasm' });
    const config = parseAblationConfig(tinyConfig(join(tmp, 'out'), { partners: ['depth'] }));
    const [cell] = gridCells(config);
    const data = await loadAblationData(config);
    const fuserApply = vi.spyOn(RankEnhancingTokenFuser.prototype, 'apply');
    const modelApply = R3DModel.prototype.apply;
    const fuserCallsPerPass: number[] = [];
    vi.spyOn(R3DModel.prototype, 'apply').mockImplementation(function (this: R3DModel, ...args: Parameters<R3DModel['apply']>) {
      const before = fuserApply.mock.calls.length;
      const out = modelApply.apply(this, args);
      fuserCallsPerPass.push(fuserApply.mock.calls.length - before);
      return out;
    });
    const result = await runCell(cell!, config, data, { runDir: join(tmp, 'run'), backend: 'wasm' });
    // more passes than training steps: evaluation and both rank measurements ran forward passes too
    const trainSamples = samplesFromSequences(cellSequences(data.train, 'depth'), { observationRatios: config.trainObservationRatios, labels: labelSpace(data.classNames.length) });
    expect(fuserCallsPerPass.length).toBeGreaterThan(config.epochs * Math.ceil(trainSamples.length / config.batchSize));
    expect(fuserCallsPerPass.every((n) => n === 1)).toBe(true);
    expect(fuserApply).toHaveBeenCalledTimes(fuserCallsPerPass.length);
    expect(result.afterTokens).toBe('exchanged');
    expect(result.ranks.map((p) => p.observationRatio)).toEqual([0.3, 0.6, 0.9]);
  });
});
