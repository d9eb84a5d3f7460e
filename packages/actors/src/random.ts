/**
 * Seeded randomness. Protocol and actor code never calls `Math.random`: it draws from a
 * {@link Random} handed out by the runtime, so a seed replays a run exactly.
 */

/** A stream of uniform numbers in [0, 1). */
export interface Random {
  /** A uniform float in [0, 1). */
  next(): number;
  /** A uniform integer in [0, n). */
  int(n: number): number;
  /** A uniform unsigned 32-bit integer. */
  uint32(): number;
}

/** murmur3's 32-bit finaliser: a bijective avalanche mix. */
export function mix32(h: number): number {
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  h ^= h >>> 16;
  return h >>> 0;
}

/** FNV-1a over a string's UTF-16 code units, mixed; stable across runs and threads. */
export function hashString(s: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < s.length; i++) {
    h ^= s.charCodeAt(i);
    h = Math.imul(h, 0x01000193);
  }
  return mix32(h);
}

/**
 * A stateless draw: a uniform float in [0, 1) determined only by its inputs. The network model
 * uses it so that a message's fate depends on (seed, link, sequence, which draw), never on the
 * order in which unrelated messages were decided.
 */
export function hashUniform(seed: number, a: number, b: number, c: number): number {
  let h = mix32((seed ^ 0x9e3779b9) >>> 0);
  h = mix32((h ^ a) >>> 0);
  h = mix32((h + Math.imul(b, 0x27d4eb2f)) >>> 0);
  h = mix32((h ^ Math.imul(c + 1, 0x165667b1)) >>> 0);
  return h / 4294967296;
}

/**
 * sfc32 (Chris Doty-Humphrey's Small Fast Counting generator): 128 bits of state, passes
 * PractRand, and is fast in JavaScript's 32-bit integer arithmetic.
 */
class Sfc32 implements Random {
  private a: number;
  private b: number;
  private c: number;
  private d: number;

  constructor(seed: number, stream: number) {
    this.a = mix32(seed ^ 0xdeadbeef);
    this.b = mix32(stream ^ 0x41c64e6d);
    this.c = mix32((seed + stream) ^ 0x6c078965);
    this.d = 1;
    for (let i = 0; i < 12; i++) this.uint32();
  }

  uint32(): number {
    const t = (((this.a + this.b) | 0) + this.d) | 0;
    this.d = (this.d + 1) | 0;
    this.a = this.b ^ (this.b >>> 9);
    this.b = (this.c + (this.c << 3)) | 0;
    this.c = (this.c << 21) | (this.c >>> 11);
    this.c = (this.c + t) | 0;
    return t >>> 0;
  }

  next(): number {
    return this.uint32() / 4294967296;
  }

  int(n: number): number {
    return Math.floor(this.next() * n);
  }
}

/**
 * A seeded generator. `stream` separates independent sequences drawn from one seed (one per node,
 * one for node uids...), so adding draws to one stream never shifts another.
 */
export function createRandom(seed: number, stream: string | number = 0): Random {
  const s = typeof stream === 'number' ? stream >>> 0 : hashString(stream);
  return new Sfc32(seed >>> 0, s);
}

/** Fisher-Yates shuffle of a copy, drawing from `random`. */
export function shuffled<T>(items: readonly T[], random: Random): T[] {
  const out = items.slice();
  for (let i = out.length - 1; i > 0; i--) {
    const j = random.int(i + 1);
    const tmp = out[i] as T;
    out[i] = out[j] as T;
    out[j] = tmp;
  }
  return out;
}

/** Eight lower-case hex digits drawn from `random`. */
export function randomHex8(random: Random): string {
  return random.uint32().toString(16).padStart(8, '0');
}
