/**
 * Which key an operation touches: uniform over the key space, or zipfian (a few hot keys take most
 * operations, as in YCSB's default workloads). Pure and seeded: the same random stream picks the
 * same keys.
 */
import { InvalidArgumentError, type Random } from '@starling/actors';

/** How keys are drawn. */
export type KeyDistribution =
  | { readonly kind: 'uniform' }
  /** `theta` in (0, 1): 0.99 is YCSB's default skew; larger is more skewed. */
  | { readonly kind: 'zipfian'; readonly theta: number };

/** YCSB's skew (Cooper et al., "Benchmarking Cloud Serving Systems with YCSB", 2010). */
export const DEFAULT_ZIPF_THETA = 0.99;

/** Draws key indexes in [0, keyCount). */
export type KeyChooser = (random: Random) => number;

/**
 * A chooser for `keyCount` keys. The zipfian one is Gray et al.'s generator ("Quickly Generating
 * Billion-Record Synthetic Databases", 1994), the one YCSB uses: O(keyCount) to set up, O(1) a
 * draw; index 0 is the hottest key.
 */
export function keyChooser(keyCount: number, distribution: KeyDistribution): KeyChooser {
  if (!Number.isSafeInteger(keyCount) || keyCount < 1) throw new InvalidArgumentError('INVALID_CONFIG', `keys must be a positive integer, got ${keyCount}`);
  if (distribution.kind === 'uniform') return (random) => random.int(keyCount);
  const theta = distribution.theta;
  if (!(theta > 0 && theta < 1)) throw new InvalidArgumentError('INVALID_CONFIG', `zipfian theta must be in (0, 1), got ${theta}`);
  if (keyCount === 1) return () => 0;
  let zetaN = 0;
  for (let i = 1; i <= keyCount; i++) zetaN += 1 / i ** theta;
  const zeta2 = 1 + 1 / 2 ** theta;
  const alpha = 1 / (1 - theta);
  const eta = (1 - (2 / keyCount) ** (1 - theta)) / (1 - zeta2 / zetaN);
  const second = 1 + 0.5 ** theta;
  return (random) => {
    const u = random.next();
    const uz = u * zetaN;
    if (uz < 1) return 0;
    if (uz < second) return 1;
    return Math.min(keyCount - 1, Math.floor(keyCount * (eta * u - eta + 1) ** alpha));
  };
}
