import { describe, expect, it } from 'vitest';
import { ConfigError } from './errors.js';
import { defaultWarmupEpochs, parseTrainConfig } from './config.js';

describe('warm-up defaults', () => {
  it('the released recipe warms up for 10 of 60 epochs', () => {
    const c = parseTrainConfig({});
    expect([c.epochs, c.warmupEpochs]).toEqual([60, 10]);
  });

  it('an unset warm-up scales with a short run (a sixth, rounded, at most 10)', () => {
    expect(parseTrainConfig({ epochs: 5 }).warmupEpochs).toBe(1);
    expect(parseTrainConfig({ epochs: 1 }).warmupEpochs).toBe(0);
    expect(parseTrainConfig({ epochs: 30 }).warmupEpochs).toBe(5);
    expect(parseTrainConfig({ epochs: 200 }).warmupEpochs).toBe(10);
    expect([5, 12, 60, 61, 600].map(defaultWarmupEpochs)).toEqual([1, 2, 10, 10, 10]);
  });

  it('an explicit warm-up is kept, and one longer than the run is still an error', () => {
    expect(parseTrainConfig({ epochs: 5, warmupEpochs: 0 }).warmupEpochs).toBe(0);
    expect(() => parseTrainConfig({ epochs: 5, warmupEpochs: 10 })).toThrow(ConfigError);
  });
});
