import { FuserError } from '../errors.js';
import { FUSER_NAMES, type Fuser, type FuserName } from '../fuser.js';
import { RankEnhancingTokenFuser, type RtfOptions } from '../rtf.js';
import { ConcatFuser } from './concat.js';
import { LateFusion } from './late.js';
import { MeanFuser } from './mean.js';
import { SaFuser } from './sa-fuser.js';

export { SaFuser, type SaFuserOptions } from './sa-fuser.js';
export { ConcatFuser, type ConcatFuserOptions } from './concat.js';
export { MeanFuser } from './mean.js';
export { LateFusion, lateFusion } from './late.js';

/** Options every fuser accepts; each reads the ones that apply to it (see README). */
export type FuserOptions = RtfOptions;

/**
 * Builds a fuser by name: `rtf` (options.selection: variance | svd-energy | bn-gamma), `sa-fuser`
 * (no exchange, cross-modal block with modality tokens), `hard-swap` (CEN-style: the k lowest
 * channels are replaced by the partner's, no blend, then the same block), `concat` (2C -> C),
 * `mean`, `late` (per-modality predictions averaged; see `LateFusion`).
 *
 * @example
 * const fuser = createFuser('rtf', { selection: 'variance', ratio: 0.3 });
 * const baseline = createFuser('hard-swap', { selection: 'variance', ratio: 0.3 });
 */
export function createFuser(name: FuserName, options: FuserOptions = {}): Fuser {
  const C = options.channels ?? 128;
  switch (name) {
    case 'rtf':
      return new RankEnhancingTokenFuser(options);
    case 'hard-swap':
      return new RankEnhancingTokenFuser(options, { exchange: 'swap', name: 'hard-swap' });
    case 'sa-fuser':
      return new SaFuser({
        channels: C,
        ...(options.heads != null ? { heads: options.heads } : {}),
        ...(options.mlpRatio != null ? { mlpRatio: options.mlpRatio } : {}),
        ...(options.dropout != null ? { dropout: options.dropout } : {}),
        ...(options.seed != null ? { seed: options.seed } : {}),
      });
    case 'concat':
      return new ConcatFuser({ channels: C, ...(options.seed != null ? { seed: options.seed } : {}) });
    case 'mean':
      return new MeanFuser({ channels: C });
    case 'late':
      return new LateFusion({ channels: C });
    default:
      throw new FuserError({ field: 'name', expected: FUSER_NAMES.join(' | '), found: String(name) });
  }
}
