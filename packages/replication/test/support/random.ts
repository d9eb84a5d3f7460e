/**
 * Seeded generators for tests' own choices (never the cluster's, which come from its seed): the
 * same seed gives the same run, so a failure replays.
 */

/** mulberry32: small, fast, well spread. */
export function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 0x1_0000_0000;
  };
}

/** A linear congruential generator; `salt` keeps two loads from one seed apart. */
export function lcg(seed: number, salt = 0x9e3779b9): () => number {
  let s = (seed ^ salt) >>> 0;
  return () => {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    return s / 0x1_0000_0000;
  };
}
