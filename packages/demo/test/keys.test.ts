/**
 * The load generator's key choice: uniform spreads evenly; zipfian concentrates on the first keys
 * as Zipf's law says (the hottest key's share is 1 / zeta(n, theta)), always within the key space,
 * and the same seed draws the same keys.
 */
import { createRandom } from '@starling/actors';
import { describe, expect, it } from 'vitest';
import { DEFAULT_ZIPF_THETA, keyChooser } from '../src/index.ts';

function counts(keys: number, dist: Parameters<typeof keyChooser>[1], draws: number, seed = 1): number[] {
  const choose = keyChooser(keys, dist);
  const random = createRandom(seed, 'keys-test');
  const c = new Array<number>(keys).fill(0);
  let outside = 0;
  for (let i = 0; i < draws; i++) {
    const k = choose(random);
    if (Number.isInteger(k) && k >= 0 && k < keys) c[k]!++;
    else outside++;
  }
  expect(outside).toBe(0);
  return c;
}

describe('key distributions', () => {
  it('uniform: every key near its fair share', () => {
    const c = counts(100, { kind: 'uniform' }, 200_000);
    for (const n of c) expect(Math.abs(n - 2_000)).toBeLessThan(300);
  });

  it("zipfian: the hottest key's share is 1/zeta(n, theta), shares fall with rank, and all stay in range", () => {
    const n = 1_000;
    const theta = DEFAULT_ZIPF_THETA;
    const draws = 400_000;
    const c = counts(n, { kind: 'zipfian', theta }, draws);
    let zeta = 0;
    for (let i = 1; i <= n; i++) zeta += 1 / i ** theta;
    expect(c[0]! / draws).toBeCloseTo(1 / zeta, 2);
    expect(c[1]! / draws).toBeCloseTo(1 / 2 ** theta / zeta, 2);
    // The top 10% of keys take most operations; the bottom half few.
    const top = c.slice(0, 100).reduce((a, b) => a + b, 0);
    const bottom = c.slice(500).reduce((a, b) => a + b, 0);
    expect(top / draws).toBeGreaterThan(0.6);
    expect(bottom / draws).toBeLessThan(0.15);
  });

  it('the same seed draws the same keys', () => {
    expect(counts(50, { kind: 'zipfian', theta: 0.8 }, 1_000, 7)).toEqual(counts(50, { kind: 'zipfian', theta: 0.8 }, 1_000, 7));
    expect(counts(50, { kind: 'zipfian', theta: 0.8 }, 1_000, 7)).not.toEqual(counts(50, { kind: 'zipfian', theta: 0.8 }, 1_000, 8));
  });

  it('refuses a bad key count or skew with a typed error', () => {
    expect(() => keyChooser(0, { kind: 'uniform' })).toThrow(expect.objectContaining({ code: 'INVALID_CONFIG' }));
    expect(() => keyChooser(10, { kind: 'zipfian', theta: 1 })).toThrow(expect.objectContaining({ code: 'INVALID_CONFIG' }));
    expect(() => keyChooser(10, { kind: 'zipfian', theta: Number.NaN })).toThrow(expect.objectContaining({ code: 'INVALID_CONFIG' }));
    expect(keyChooser(1, { kind: 'zipfian', theta: 0.5 })(createRandom(1))).toBe(0);
  });
});
