/**
 * Where a request's replicas are (Dynamo §4.6), pure: the N primaries of the preference list; with
 * sloppy quorum, one fallback per primary that failure detection reports down, taken from the next
 * reachable distinct nodes clockwise and holding a hint for the primary it replaces; and spares
 * after those, for replicas that stay silent. Hand-built rings for the cases a reader can follow,
 * then many seeded random rings against a brute-force walk of `ring.owners`.
 */
import { describe, expect, it } from 'vitest';
import { simIt } from '../../../scripts/testing/seed.ts';
import { placeReplicas, type Placement, type ReplicaTarget } from '../src/placement.ts';
import { createRing, isRing, joinRing, preferenceList, type Ring, type RingMember } from '../src/ring.ts';
import { prng } from './support/random.ts';

// ---- helpers ------------------------------------------------------------------------------------

/** A ring whose owners are spelled out (placement reads only `partitionCount` and `owners`). */
function ringOf(owners: readonly string[]): Ring {
  const names = [...new Set(owners)].sort();
  const ring: Ring = { version: 1, claimant: names[0]!, partitionCount: owners.length, owners, members: names.map((node) => ({ node, weight: 1 })) };
  expect(isRing(ring)).toBe(true);
  return ring;
}

function downSet(...nodes: string[]): (node: string) => boolean {
  const down = new Set(nodes);
  return (node) => down.has(node);
}

const nobodyDown = (): boolean => false;

/** Targets as `node` or `node>primary` (a fallback holding a hint for `primary`), for short expectations. */
function shown(targets: readonly ReplicaTarget[]): string[] {
  return targets.map((t) => (t.hintFor === undefined ? t.node : `${t.node}>${t.hintFor}`));
}

function intIn(random: () => number, lo: number, hi: number): number {
  return lo + Math.floor(random() * (hi - lo + 1));
}

/** The placement as the definition says it, by brute force over the whole ring. */
function expectedPlacement(ring: Ring, partition: number, n: number, isDown: (node: string) => boolean, sloppy: boolean): Placement {
  const q = ring.partitionCount;
  const walk: string[] = [];
  for (let i = 0; i < q; i++) {
    const owner = ring.owners[(partition + i) % q]!;
    if (!walk.includes(owner)) walk.push(owner);
  }
  const primaries = walk.slice(0, n);
  const reachableOthers = walk.slice(n).filter((node) => !isDown(node));
  const downPrimaries = primaries.filter(isDown);
  const fallbacks: ReplicaTarget[] = sloppy ? downPrimaries.slice(0, reachableOthers.length).map((p, i) => ({ node: reachableOthers[i]!, hintFor: p })) : [];
  const targets: ReplicaTarget[] = [...primaries.filter((p) => !isDown(p)).map((node) => ({ node })), ...fallbacks];
  return { primaries, pending: [], targets, spares: reachableOthers.slice(fallbacks.length, fallbacks.length + n) };
}

/** A random ring of 3..12 nodes: created from some, the rest joined one by one (as a cluster grows). */
function randomRing(random: () => number): Ring {
  const nodeCount = intIn(random, 3, 12);
  const members: RingMember[] = Array.from({ length: nodeCount }, (_, i) => ({ node: `n${String(i + 1).padStart(2, '0')}`, weight: intIn(random, 1, 3) }));
  // Few partitions make repeated owners within a preference list likely; many make the usual case.
  const partitionCount = random() < 0.2 ? 256 : intIn(random, nodeCount, 4 * nodeCount);
  const initial = intIn(random, 1, nodeCount);
  let ring = createRing(members.slice(0, initial), { partitionCount });
  for (const m of members.slice(initial)) ring = joinRing(ring, m, ring.claimant);
  return ring;
}

// ---- hand-built rings -------------------------------------------------------------------------

describe('placement with nobody down', () => {
  // One partition per node, in name order: the walk from partition p is easy to read.
  const ring = ringOf(['a', 'b', 'c', 'd', 'e', 'f', 'g', 'h']);

  it('the targets are the primaries, the preference list, none of them hinted', () => {
    const p = placeReplicas(ring, 2, 3, nobodyDown, true);
    expect(p.primaries).toEqual(['c', 'd', 'e']);
    expect(p.primaries).toEqual(preferenceList(ring, 2, 3));
    expect(p.targets).toStrictEqual([{ node: 'c' }, { node: 'd' }, { node: 'e' }]);
  });

  it('the spares are the next N nodes clockwise, wrapping past the last partition', () => {
    expect(placeReplicas(ring, 2, 3, nobodyDown, true).spares).toEqual(['f', 'g', 'h']);
    const wrapped = placeReplicas(ring, 6, 3, nobodyDown, true);
    expect(wrapped.primaries).toEqual(['g', 'h', 'a']);
    expect(wrapped.spares).toEqual(['b', 'c', 'd']);
  });

  it('a node that owns several partitions in a row counts once, as a primary and as a spare', () => {
    const repeats = ringOf(['a', 'a', 'b', 'a', 'c', 'b', 'd', 'c', 'e', 'd']);
    const p = placeReplicas(repeats, 0, 2, nobodyDown, true);
    expect(p.primaries).toEqual(['a', 'b']);
    expect(p.spares).toEqual(['c', 'd']);
  });

  it('sloppy or strict makes no difference when everyone is up', () => {
    expect(placeReplicas(ring, 5, 3, nobodyDown, false)).toStrictEqual(placeReplicas(ring, 5, 3, nobodyDown, true));
  });
});

describe('placement with primaries down, sloppy quorum', () => {
  const ring = ringOf(['a', 'b', 'c', 'd', 'e', 'f', 'g', 'h']);

  it('a down primary is replaced by the first node past the primaries, which holds a hint for it', () => {
    const p = placeReplicas(ring, 0, 3, downSet('b'), true);
    expect(p.primaries).toEqual(['a', 'b', 'c']);
    expect(p.targets).toStrictEqual([{ node: 'a' }, { node: 'c' }, { node: 'd', hintFor: 'b' }]);
    expect(p.spares).toEqual(['e', 'f', 'g']);
  });

  it('up primaries come first in order, then one fallback per down primary, in the primaries’ order', () => {
    const p = placeReplicas(ring, 0, 3, downSet('a', 'c'), true);
    expect(shown(p.targets)).toEqual(['b', 'd>a', 'e>c']);
    expect(p.spares).toEqual(['f', 'g', 'h']);
  });

  it('fallbacks skip nodes that are down too, and never use a primary', () => {
    // d and e, the first two candidates, are down; a (a primary that is down) is never a fallback of another.
    const p = placeReplicas(ring, 0, 3, downSet('a', 'd', 'e'), true);
    expect(shown(p.targets)).toEqual(['b', 'c', 'f>a']);
    expect(p.spares).toEqual(['g', 'h']);
  });

  it('every primary down: N fallbacks, each for its own primary', () => {
    const p = placeReplicas(ring, 3, 3, downSet('d', 'e', 'f'), true);
    expect(shown(p.targets)).toEqual(['g>d', 'h>e', 'a>f']);
    expect(p.spares).toEqual(['b', 'c']);
  });

  it('too few nodes: fewer fallbacks than down primaries, the first down primaries served first, and no spares', () => {
    const small = ringOf(['a', 'b', 'c', 'd']);
    const p = placeReplicas(small, 0, 3, downSet('a', 'b'), true);
    expect(shown(p.targets)).toEqual(['c', 'd>a']);
    expect(p.spares).toEqual([]);
    // Everyone down: nothing to send to.
    expect(placeReplicas(small, 0, 3, downSet('a', 'b', 'c', 'd'), true)).toStrictEqual({ primaries: ['a', 'b', 'c'], pending: [], targets: [], spares: [] });
  });

  it('N larger than the cluster: every node is a primary, so a down one has no fallback', () => {
    const small = ringOf(['a', 'b', 'c']);
    const p = placeReplicas(small, 1, 5, downSet('c'), true);
    expect(p.primaries).toEqual(['b', 'c', 'a']);
    expect(shown(p.targets)).toEqual(['b', 'a']);
    expect(p.spares).toEqual([]);
  });

  it('at most N spares, however many nodes are left', () => {
    const big = ringOf(['a', 'b', 'c', 'd', 'e', 'f', 'g', 'h', 'i', 'j', 'k', 'l']);
    const p = placeReplicas(big, 0, 2, downSet('a'), true);
    expect(shown(p.targets)).toEqual(['b', 'c>a']);
    expect(p.spares).toEqual(['d', 'e']);
  });
});

describe('placement with primaries down, strict quorum', () => {
  const ring = ringOf(['a', 'b', 'c', 'd', 'e', 'f', 'g', 'h']);

  it('only the up primaries are targets; no hints', () => {
    const p = placeReplicas(ring, 0, 3, downSet('b'), false);
    expect(p.primaries).toEqual(['a', 'b', 'c']);
    expect(p.targets).toStrictEqual([{ node: 'a' }, { node: 'c' }]);
  });

  it('spares are still listed: the first reachable non-primaries, at most N', () => {
    expect(placeReplicas(ring, 0, 3, downSet('b'), false).spares).toEqual(['d', 'e', 'f']);
    expect(placeReplicas(ring, 0, 3, downSet('a', 'd', 'f'), false).spares).toEqual(['e', 'g', 'h']);
  });
});

// ---- random rings -------------------------------------------------------------------------------

describe('placement on random rings', () => {
  simIt('matches a brute-force walk of the owners, and keeps its invariants, on many seeded rings', 4242, (seed) => {
    const master = prng(seed);
    const rings = 150;
    let sloppyFallbacks = 0;
    let shortOfFallbacks = 0;
    for (let r = 0; r < rings; r++) {
      const caseSeed = Math.floor(master() * 0x1_0000_0000);
      const random = prng(caseSeed);
      const ring = randomRing(random);
      const nodes = ring.members.map((m) => m.node);
      for (let trial = 0; trial < 10; trial++) {
        const n = intIn(random, 1, 5);
        const partition = intIn(random, 0, ring.partitionCount - 1);
        // Down sets from empty to everyone, biased towards few.
        const pDown = [0, 0.15, 0.3, 0.6, 1][intIn(random, 0, 4)]!;
        const down = new Set(nodes.filter(() => random() < pDown));
        const isDown = (node: string): boolean => down.has(node);
        const sloppy = random() < 0.75;
        const where = `case seed ${caseSeed}, trial ${trial}: ${nodes.length} nodes, Q=${ring.partitionCount}, partition ${partition}, n=${n}, down [${[...down].sort().join(',')}], sloppy ${sloppy}`;

        const got = placeReplicas(ring, partition, n, isDown, sloppy);
        expect(got, where).toStrictEqual(expectedPlacement(ring, partition, n, isDown, sloppy));

        // The invariants, stated on their own (so a wrong brute force cannot hide a bug).
        expect(got.primaries, where).toEqual(preferenceList(ring, partition, n));
        const targetNodes = got.targets.map((t) => t.node);
        expect(new Set(targetNodes).size, where).toBe(targetNodes.length);
        expect(targetNodes.filter(isDown), where).toEqual([]);
        expect(got.spares.filter(isDown), where).toEqual([]);
        expect(got.spares.filter((s) => targetNodes.includes(s) || got.primaries.includes(s)), where).toEqual([]);
        expect(got.spares.length, where).toBeLessThanOrEqual(n);
        const upPrimaries = got.primaries.filter((p) => !isDown(p));
        const downPrimaries = got.primaries.filter(isDown);
        expect(targetNodes.slice(0, upPrimaries.length), where).toEqual(upPrimaries);
        const fallbacks = got.targets.slice(upPrimaries.length);
        expect(got.targets.slice(0, upPrimaries.length).every((t) => t.hintFor === undefined), where).toBe(true);
        if (!sloppy) expect(fallbacks, where).toEqual([]);
        for (const f of fallbacks) expect(got.primaries.includes(f.node), where).toBe(false);
        // One fallback per down primary, in order, as far as reachable nodes go.
        const reachableOthers = nodes.filter((x) => !got.primaries.includes(x) && !isDown(x)).length;
        if (sloppy) expect(fallbacks.map((f) => f.hintFor), where).toEqual(downPrimaries.slice(0, Math.min(downPrimaries.length, reachableOthers)));
        // Spares exist only once every down primary has its fallback.
        if (got.spares.length > 0 && sloppy) expect(fallbacks.length, where).toBe(downPrimaries.length);
        if (sloppy) {
          sloppyFallbacks += fallbacks.length;
          if (fallbacks.length < downPrimaries.length) shortOfFallbacks++;
        }
      }
    }
    // The random cases reach the interesting branches, or this test proves little.
    expect(sloppyFallbacks).toBeGreaterThan(100);
    expect(shortOfFallbacks).toBeGreaterThan(10);
  });

  it('on a ring made by createRing, one primary going down changes only its slot: the others stay, and the first spare becomes its fallback', () => {
    const ring = createRing(['a', 'b', 'c', 'd', 'e'].map((node) => ({ node, weight: 1 })), { partitionCount: 64 });
    const [p1, p2, p3] = preferenceList(ring, 10, 3);
    const up = placeReplicas(ring, 10, 3, nobodyDown, true);
    const oneDown = placeReplicas(ring, 10, 3, downSet(p2!), true);
    expect(up.targets.map((t) => t.node)).toEqual([p1, p2, p3]);
    expect(oneDown.targets.slice(0, 2).map((t) => t.node)).toEqual([p1, p3]);
    expect(oneDown.targets[2]).toStrictEqual({ node: up.spares[0], hintFor: p2 });
  });
});
