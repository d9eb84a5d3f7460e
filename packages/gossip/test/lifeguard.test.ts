/**
 * Lifeguard (Dadgar, Phillips, Currey, 2018) as numbers: the local health multiplier (§IV-A) and
 * the dynamic suspicion timeout (§IV-B), with memberlist's constants.
 */
import { describe, expect, it } from 'vitest';
import { Awareness, expectedConfirmations, suspicionBoundsMs, suspicionTimeoutMs } from '../src/lifeguard.ts';
import { InvariantError } from '../src/assert.ts';

describe('suspicionBoundsMs: min = suspicionMult * max(1, log10(n)) * probeInterval, max = min * maxTimeoutMult', () => {
  it.each([
    // memberlist LAN: suspicionMult 4, maxTimeoutMult 6, probeInterval 1 s.
    { n: 1, minMs: 4_000, maxMs: 24_000 },
    { n: 8, minMs: 4_000, maxMs: 24_000 },
    { n: 10, minMs: 4_000, maxMs: 24_000 },
    { n: 100, minMs: 8_000, maxMs: 48_000 },
    { n: 1_000, minMs: 12_000, maxMs: 72_000 },
    { n: 0, minMs: 4_000, maxMs: 24_000 },
  ])('$n members: $minMs .. $maxMs ms', ({ n, minMs, maxMs }) => {
    expect(suspicionBoundsMs(n, 4, 6, 1_000)).toEqual({ minMs, maxMs });
  });

  it('grows logarithmically between powers of ten, and scales with the probe interval and both multipliers', () => {
    const b = suspicionBoundsMs(50, 4, 6, 1_000);
    expect(b.minMs).toBe(Math.round(4 * Math.log10(50) * 1_000));
    expect(b.maxMs).toBe(b.minMs * 6);
    expect(suspicionBoundsMs(10, 5, 3, 200)).toEqual({ minMs: 1_000, maxMs: 3_000 });
  });
});

describe('expectedConfirmations: k = suspicionMult - 2, or 0 when n - 2 < k', () => {
  it.each([
    { n: 1, mult: 4, k: 0 },
    { n: 3, mult: 4, k: 0 },
    { n: 4, mult: 4, k: 2 },
    { n: 100, mult: 4, k: 2 },
    { n: 5, mult: 6, k: 0 },
    { n: 6, mult: 6, k: 4 },
    { n: 10, mult: 2, k: 0 },
  ])('$n members, suspicionMult $mult: k = $k', ({ n, mult, k }) => {
    expect(expectedConfirmations(n, mult)).toBe(k);
  });
});

describe('suspicionTimeoutMs: max - (max - min) * log(c + 1) / log(k + 1), floored at min', () => {
  const minMs = 4_000;
  const maxMs = 24_000;

  it('no confirmation: the maximum; k confirmations: the minimum', () => {
    for (const k of [1, 2, 3, 5]) {
      expect(suspicionTimeoutMs(0, k, minMs, maxMs), `k=${k}`).toBe(maxMs);
      expect(suspicionTimeoutMs(k, k, minMs, maxMs), `k=${k}`).toBe(minMs);
    }
  });

  it('more confirmations than expected stay at the minimum', () => {
    expect(suspicionTimeoutMs(7, 2, minMs, maxMs)).toBe(minMs);
  });

  it('each confirmation shortens the timeout, by less each time (logarithmic)', () => {
    const k = 5;
    const steps = Array.from({ length: k + 1 }, (_, c) => suspicionTimeoutMs(c, k, minMs, maxMs));
    for (let c = 1; c <= k; c++) expect(steps[c]!, `c=${c}`).toBeLessThan(steps[c - 1]!);
    const drops = steps.slice(1).map((t, i) => steps[i]! - t);
    for (let i = 1; i < drops.length; i++) expect(drops[i]!, `drop ${i}`).toBeLessThanOrEqual(drops[i - 1]!);
  });

  it('matches the curve at a midpoint: k = 2, one confirmation', () => {
    expect(suspicionTimeoutMs(1, 2, minMs, maxMs)).toBe(Math.floor(maxMs - (Math.log(2) / Math.log(3)) * (maxMs - minMs)));
  });

  it('with no confirmations expected (k = 0, a small cluster), the minimum at once', () => {
    expect(suspicionTimeoutMs(0, 0, minMs, maxMs)).toBe(minMs);
  });
});

describe('Awareness: the local health multiplier', () => {
  it('starts healthy: score 0, timeouts unscaled', () => {
    const a = new Awareness(8);
    expect(a.health).toBe(0);
    expect(a.scale(500)).toBe(500);
  });

  it('scales a timeout by score + 1', () => {
    const a = new Awareness(8);
    a.apply(3);
    expect(a.health).toBe(3);
    expect(a.scale(500)).toBe(2_000);
    expect(a.scale(1_000)).toBe(4_000);
  });

  it.each([
    { deltas: [-1], health: 0 },
    { deltas: [2, -5], health: 0 },
    { deltas: [20], health: 7 },
    { deltas: [7, 1, -1], health: 6 },
    { deltas: [1, 1, -1, 2], health: 3 },
  ])('clamped to [0, max - 1]: deltas $deltas → $health', ({ deltas, health }) => {
    const a = new Awareness(8);
    for (const d of deltas) a.apply(d);
    expect(a.health).toBe(health);
  });

  it('at the maximum, timeouts stretch awarenessMaxMultiplier times, no more', () => {
    const a = new Awareness(8);
    a.apply(100);
    expect(a.scale(1_000)).toBe(8_000);
  });

  it('a multiplier of 1 turns health awareness off', () => {
    const a = new Awareness(1);
    a.apply(5);
    expect(a.health).toBe(0);
    expect(a.scale(500)).toBe(500);
  });

  it('a multiplier below 1 is a broken invariant', () => {
    expect(() => new Awareness(0)).toThrow(InvariantError);
  });
});
