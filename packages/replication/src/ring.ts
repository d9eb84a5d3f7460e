/**
 * The ring: which node owns which part of the key space, as a pure value and pure functions over
 * it (principle 1). No I/O, no clock, no randomness: every node that applies the same change to
 * the same ring computes the same new ring, byte for byte.
 *
 * Why Dynamo's partitioning strategy 3 (DeCandia et al. 2007, §6.2): the 32-bit hash space is cut
 * once into Q equal partitions, Q much larger than the number of nodes and fixed for the life of
 * the cluster, and nodes own whole partitions. The paper found it the best of its three strategies
 * for load balance, and the reasons are the ones this store relies on:
 * - a partition's key range never changes, so ownership moves as whole partitions: a transfer is
 *   "stream partition p from A to B", never "split a range and filter its keys";
 * - storage, hints and Merkle trees are kept per partition, so a tree is built once and stays
 *   valid across ownership changes, and two replicas compare the same ranges;
 * - the ring is a small array (owners[p]), cheap to gossip, compare and validate, and placement
 *   is decoupled from partitioning, so a join or leave is a choice of which partitions move.
 * Strategy 1 (random tokens) couples both: a join splits ranges and forces rescans and rebuilt
 * trees everywhere; strategy 2 fixes the ranges but keeps random placement and its imbalance.
 *
 * Placement follows Riak's claim (riak_core), with a claimant (principle 7):
 * - every member's target is Q * weight / totalWeight, rounded by largest remainder (and at least
 *   one partition, so a member always holds data);
 * - "spread": a node should not own two partitions fewer than {@link TARGET_N} positions apart, so
 *   a preference list of N = 3 is found in 3 consecutive partitions and the replicas of a key sit on
 *   distinct nodes without a long walk;
 * - a join moves only partitions to the joiner, as few as its target; a leave moves only the
 *   leaver's partitions. Nothing else is reshuffled, so each change costs the minimum transfer.
 */
import { createHash } from 'node:crypto';
import { StarlingError } from '@starling/actors';

/** One node of the ring and its capacity weight (> 0): its share of the partitions is weight / total. */
export interface RingMember {
  readonly node: string;
  readonly weight: number;
}

/**
 * A versioned assignment of Q equal partitions to nodes. Rings are plain data (they cross threads
 * and are gossiped); check one received from another node with {@link isRing}.
 */
export interface Ring {
  /** Starts at 1; +1 per committed change (join or leave). */
  readonly version: number;
  /** The member that commits changes (principle 7). */
  readonly claimant: string;
  /** Q, the number of equal partitions of the 32-bit hash space. */
  readonly partitionCount: number;
  /** `owners[p]` is the node owning partition p; length Q. */
  readonly owners: readonly string[];
  /** The members, sorted by node name (UTF-16 code unit order). */
  readonly members: readonly RingMember[];
  /**
   * The ring a change in progress leads to (Riak's pending ownership): while it is present,
   * partitions move to their new owners, writes go to the owners of both, reads to `owners`; the
   * claimant commits `next` as the ring (without `next`) once every move is confirmed.
   */
  readonly next?: RingTarget;
}

/** Where a ring change in progress leads: the owners and members once every move is done. */
export interface RingTarget {
  /** The ring version that began the change: it names the change across later versions (a new claimant). */
  readonly since: number;
  readonly owners: readonly string[];
  readonly members: readonly RingMember[];
  /**
   * A node removed by force (Riak's force-remove: it is gone for good): nobody pulls from it or
   * waits for it; its partitions come from the other replicas, and what only it held is lost.
   */
  readonly removed?: string;
}

/** Q unless told otherwise: Dynamo's strategy 3 wants Q much larger than the number of nodes (DESIGN: 1024 or more). */
export const DEFAULT_PARTITION_COUNT = 1024;

/**
 * Largest Q accepted. `hash * Q` stays below 2^53, so {@link partitionOfHash} is exact in doubles,
 * and an owners array of this size is still cheap to gossip.
 */
export const MAX_PARTITION_COUNT = 1 << 20;

/**
 * The spread the claim aims for: any `TARGET_N` consecutive partitions have distinct owners, where
 * the weights allow it. Dynamo's and Riak's usual N is 3 (Riak's `target_n_val` default is 4, to
 * keep fallbacks distinct too; our sloppy list walks on to the next distinct node instead).
 */
export const TARGET_N = 3;

/** Stable codes of ring errors. */
export type RingErrorCode =
  /** A change was committed by a node other than the ring's claimant (principle 7). */
  | 'NOT_CLAIMANT'
  /** A member that cannot be (bad name or weight, duplicate, already a member, the last one leaving). */
  | 'INVALID_MEMBER'
  /** A node that is not a member (unknown leaver, unknown claimant). */
  | 'UNKNOWN_MEMBER'
  /** A bad partition count, partition, hash, n, or a comparison of rings of different Q. */
  | 'INVALID_ARGUMENT';

/** A ring operation refused, with a stable code. */
export class RingError extends StarlingError<RingErrorCode> {}

/** Node names compare by UTF-16 code units, never by locale: every node must sort the same way. */
function byName(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

function mod(x: number, q: number): number {
  return ((x % q) + q) % q;
}

/** TigerBeetle's habit: a broken invariant of the claim is a bug, found loudly. */
function assert(condition: boolean, message: string): asserts condition {
  if (!condition) throw new Error(`ring invariant broken: ${message}`);
}

function isValidMember(x: unknown): x is RingMember {
  if (typeof x !== 'object' || x === null) return false;
  const m = x as { node?: unknown; weight?: unknown };
  return typeof m.node === 'string' && m.node.length > 0 && typeof m.weight === 'number' && Number.isFinite(m.weight) && m.weight > 0;
}

function checkMember(m: unknown): RingMember {
  if (!isValidMember(m)) {
    throw new RingError('INVALID_MEMBER', `a ring member needs a non-empty node name and a finite weight > 0, got ${describe(m)}`);
  }
  return Object.freeze({ node: m.node, weight: m.weight });
}

function describe(x: unknown): string {
  try {
    return JSON.stringify(x) ?? String(x);
  } catch {
    return String(x);
  }
}

function checkPartitionCount(q: unknown, memberCount: number): number {
  if (typeof q !== 'number' || !Number.isInteger(q) || q < 1 || q > MAX_PARTITION_COUNT) {
    throw new RingError('INVALID_ARGUMENT', `partitionCount must be an integer in [1, ${MAX_PARTITION_COUNT}], got ${describe(q)}`);
  }
  if (q < memberCount) {
    // Every member owns at least one partition, so Q bounds the cluster's size.
    throw new RingError('INVALID_ARGUMENT', `partitionCount ${q} is smaller than the ${memberCount} members; every member needs a partition`);
  }
  return q;
}

function checkClaimant(ring: Ring, by: string): void {
  if (by !== ring.claimant) {
    throw new RingError('NOT_CLAIMANT', `only the claimant ${ring.claimant} commits ring changes; ${describe(by)} asked (ring version ${ring.version})`);
  }
}

/** Partitions owned by each member (0 for a member owning none), in member order. */
export function ownerCounts(ring: Ring): Map<string, number> {
  const counts = new Map<string, number>(ring.members.map((m) => [m.node, 0]));
  for (const o of ring.owners) counts.set(o, (counts.get(o) ?? 0) + 1);
  return counts;
}

/** A member's exact quota of partitions: Q * weight / totalWeight. */
function quotas(partitionCount: number, members: readonly RingMember[]): Map<string, number> {
  const total = members.reduce((sum, m) => sum + m.weight, 0);
  return new Map(members.map((m) => [m.node, (partitionCount * m.weight) / total]));
}

/**
 * Largest-remainder apportionment of Q partitions by weight, with at least one per member. Ties of
 * remainder go to the member holding more now (fewer moves), then by name, so it is deterministic.
 */
function apportion(partitionCount: number, members: readonly RingMember[], held: ReadonlyMap<string, number>): Map<string, number> {
  const quota = quotas(partitionCount, members);
  const targets = new Map<string, number>();
  let assigned = 0;
  for (const m of members) {
    const base = Math.floor(quota.get(m.node)!);
    targets.set(m.node, base);
    assigned += base;
  }
  const frac = (node: string): number => quota.get(node)! - Math.floor(quota.get(node)!);
  const order = members
    .map((m) => m.node)
    .sort((a, b) => frac(b) - frac(a) || (held.get(b) ?? 0) - (held.get(a) ?? 0) || byName(a, b));
  // Floats can leave the floors a unit off either way with fractional weights: settle on exactly Q.
  for (let i = 0; assigned < partitionCount; i = (i + 1) % order.length, assigned++) targets.set(order[i]!, targets.get(order[i]!)! + 1);
  for (let i = order.length - 1; assigned > partitionCount; i = mod(i - 1, order.length)) {
    if (targets.get(order[i]!)! > 0) {
      targets.set(order[i]!, targets.get(order[i]!)! - 1);
      assigned--;
    }
  }
  // A member whose weight rounds to nothing still gets one partition, from the most over-served.
  for (const m of members) {
    if (targets.get(m.node)! > 0) continue;
    let donor: string | undefined;
    for (const d of order) {
      if (targets.get(d)! <= 1) continue;
      if (donor === undefined || targets.get(d)! - quota.get(d)! > targets.get(donor)! - quota.get(donor)!) donor = d;
    }
    assert(donor !== undefined, 'Q >= members leaves a donor for every empty member');
    targets.set(donor, targets.get(donor)! - 1);
    targets.set(m.node, 1);
  }
  return targets;
}

/** How many of the nearest TARGET_N - 1 partitions on each side of p share p's owner. */
function conflictsAt(owners: readonly string[], p: number): number {
  const q = owners.length;
  let n = 0;
  for (let d = 1; d < TARGET_N && d < q; d++) {
    if (owners[mod(p + d, q)] === owners[p]) n++;
    if (owners[mod(p - d, q)] === owners[p]) n++;
  }
  return n;
}

/**
 * The initial claim: each partition in turn goes to the member furthest behind its evenly spaced
 * schedule (earliest deadline first, like stride scheduling), skipping members that own one of the
 * previous TARGET_N - 1 partitions (or, near the end, the first ones: the ring wraps). Equal weights
 * give rounds in which every member claims once, like Riak's n1 n2 ... nS; heavier members come
 * round more often.
 *
 * Member i's k-th partition is due at (k + phase) / count_i of the way round, with a phase in
 * [1/4, 3/4) taken from a hash of (name, k), so each round is a different permutation. With one
 * fixed order (n1 n2 ... nS n1 n2 ..., or members of equal counts travelling together as a block)
 * a node's partitions would all have the same few neighbours, and when it leaves, exactly those
 * must take their share of its partitions right beside their own: a leave would break the spread
 * everywhere. With varied neighbours each of the leaver's partitions has several members that can
 * take it cleanly. The hash is of the inputs only, so the claim stays deterministic.
 */
function strideClaim(partitionCount: number, members: readonly RingMember[], targets: ReadonlyMap<string, number>, salt: number): string[] {
  const count = members.map((m) => targets.get(m.node)!);
  const placed = new Array<number>(members.length).fill(0);
  const nameHash = members.map((m) => mix32(keyHash(m.node) + salt));
  const roundOrder = (i: number): number => mix32(nameHash[i]! ^ Math.imul(placed[i]! + 1, 0x9e3779b9));
  const order = members.map((_, i) => roundOrder(i));
  const owner = new Int32Array(partitionCount).fill(-1);
  for (let p = 0; p < partitionCount; p++) {
    let best = -1;
    let bestConflict = 0;
    let bestDeadline = 0;
    for (let i = 0; i < members.length; i++) {
      if (placed[i]! >= count[i]!) continue;
      let conflict = 0;
      for (let d = 1; d < TARGET_N && d < partitionCount; d++) {
        if (owner[mod(p - d, partitionCount)] === i || owner[mod(p + d, partitionCount)] === i) conflict = 1;
      }
      const deadline = (placed[i]! + 0.25 + 0.5 * (order[i]! / 0x1_0000_0000)) / count[i]!;
      const isBetter =
        best < 0 ||
        conflict < bestConflict ||
        (conflict === bestConflict && (deadline < bestDeadline || (deadline === bestDeadline && (order[i]! < order[best]! || (order[i] === order[best] && i < best)))));
      if (isBetter) {
        best = i;
        bestConflict = conflict;
        bestDeadline = deadline;
      }
    }
    assert(best >= 0, 'targets sum to Q');
    owner[p] = best;
    placed[best]!++;
    order[best] = roundOrder(best);
  }
  return Array.from(owner, (i) => members[i]!.node);
}

/** How many salted initial claims {@link createRing} tries before keeping the best spread. */
const CLAIM_ATTEMPTS = 4;

/** MurmurHash3's 32-bit finaliser: a cheap, well-mixed permutation of the 32-bit integers. */
function mix32(x: number): number {
  let h = x >>> 0;
  h = Math.imul(h ^ (h >>> 16), 0x85ebca6b);
  h = Math.imul(h ^ (h >>> 13), 0xc2b2ae35);
  return (h ^ (h >>> 16)) >>> 0;
}

/**
 * Swaps two partitions' owners while that lowers the number of too-close pairs: counts never
 * change, only positions. Used on the initial claim only (a join or leave must not move other
 * partitions); it mends what the greedy pass could not, typically the wrap-around of Q mod S.
 * Partitions of a member owning more than Q / TARGET_N cannot all be spread and are left alone,
 * and a budget of tries keeps a hopeless case from costing Q².
 */
function repairSpread(owners: string[], counts: ReadonlyMap<string, number>): void {
  const q = owners.length;
  // Below 2·TARGET_N - 1 partitions a position's neighbours overlap and the count below is off.
  if (q < 2 * TARGET_N - 1) return;
  const spreadable = Math.floor(q / TARGET_N);
  let budget = 64 * q;
  let improved = true;
  while (improved && budget > 0) {
    improved = false;
    for (let x = 0; x < q && budget > 0; x++) {
      if (counts.get(owners[x]!)! > spreadable || conflictsAt(owners, x) === 0) continue;
      for (let y = 0; y < q && budget > 0; y++, budget--) {
        if (owners[y] === owners[x]) continue;
        // x and y have different owners before and after, so the too-close pairs touching either
        // are exactly those counted at x plus those counted at y.
        const before = conflictsAt(owners, x) + conflictsAt(owners, y);
        [owners[x], owners[y]] = [owners[y]!, owners[x]!];
        if (conflictsAt(owners, x) + conflictsAt(owners, y) < before) {
          improved = true;
          break;
        }
        [owners[x], owners[y]] = [owners[y]!, owners[x]!];
      }
    }
  }
}

/** Too-close pairs: partitions fewer than TARGET_N apart with one owner. */
function conflictPairs(owners: readonly string[]): number {
  let n = 0;
  for (let p = 0; p < owners.length; p++) n += conflictsAt(owners, p);
  return n / 2;
}

function freezeRing(ring: { version: number; claimant: string; partitionCount: number; owners: string[]; members: RingMember[] }): Ring {
  return Object.freeze({
    version: ring.version,
    claimant: ring.claimant,
    partitionCount: ring.partitionCount,
    owners: Object.freeze(ring.owners),
    members: Object.freeze(ring.members),
  });
}

/** The ring as it stands, without a change in progress: what join and leave compute from. */
function settled(ring: Ring): Ring {
  return ring.next === undefined ? ring : freezeRing({ version: ring.version, claimant: ring.claimant, partitionCount: ring.partitionCount, owners: [...ring.owners], members: [...ring.members] });
}

/**
 * The first ring of a cluster, version 1. Deterministic: the same members (in any order) and
 * options give the same ring on every node.
 *
 * @param members - the nodes and their capacity weights; names must be distinct.
 * @param options - `partitionCount` (Q, default {@link DEFAULT_PARTITION_COUNT}, at least the
 *   number of members) and `claimant` (default: the first member by name).
 * @throws {@link RingError} `INVALID_MEMBER`, `UNKNOWN_MEMBER` (claimant) or `INVALID_ARGUMENT` (Q).
 *
 * @example
 * ```ts
 * const ring = createRing([{ node: 'a', weight: 1 }, { node: 'b', weight: 1 }, { node: 'c', weight: 2 }]);
 * preferenceList(ring, partitionOf(ring, 'user:42'), 3); // three distinct nodes
 * ```
 */
export function createRing(members: readonly RingMember[], options: { partitionCount?: number; claimant?: string } = {}): Ring {
  if (!Array.isArray(members) || members.length === 0) throw new RingError('INVALID_MEMBER', 'a ring needs at least one member');
  const sorted = members.map(checkMember).sort((a, b) => byName(a.node, b.node));
  for (let i = 1; i < sorted.length; i++) {
    if (sorted[i]!.node === sorted[i - 1]!.node) throw new RingError('INVALID_MEMBER', `member ${sorted[i]!.node} appears twice`);
  }
  const partitionCount = checkPartitionCount(options.partitionCount ?? DEFAULT_PARTITION_COUNT, sorted.length);
  const claimant = options.claimant ?? sorted[0]!.node;
  if (!sorted.some((m) => m.node === claimant)) throw new RingError('UNKNOWN_MEMBER', `claimant ${describe(claimant)} is not a member`);
  const targets = apportion(partitionCount, sorted, new Map());
  // Greedy placement and single swaps can end in a local minimum (seen with 4 members, where a
  // whole stretch would have to shift); a few differently salted claims, keeping the best, get
  // out of it. Pointless when some member must hold more than Q / TARGET_N.
  const isSpreadable = sorted.length >= TARGET_N && [...targets.values()].every((t) => t <= partitionCount / TARGET_N);
  let owners: string[] = [];
  let fewest = Number.POSITIVE_INFINITY;
  for (let salt = 0; salt < (isSpreadable ? CLAIM_ATTEMPTS : 1); salt++) {
    const attempt = strideClaim(partitionCount, sorted, targets, salt);
    if (sorted.length >= TARGET_N) repairSpread(attempt, targets);
    const conflicts = conflictPairs(attempt);
    if (conflicts < fewest) {
      owners = attempt;
      fewest = conflicts;
    }
    if (conflicts === 0) break;
  }
  return freezeRing({ version: 1, claimant, partitionCount, owners, members: sorted });
}

/**
 * Ring `ring` plus `member`, version + 1. The joiner takes its target, Q * weight / totalWeight
 * rounded down where the others' rounding allows (≈ Q/(S+1) among S equal nodes), and nothing else
 * moves: every moved partition goes to the joiner, and each other member gives up only what it
 * holds above its new target. The joiner's partitions are taken near evenly spaced points, at
 * least TARGET_N apart where possible, preferably where they break up a pair of too-close
 * partitions of one node (so joins mend the spread of rings grown from few nodes).
 *
 * @param by - the node committing the change; only `ring.claimant` may (principle 7).
 * @throws {@link RingError} `NOT_CLAIMANT`, `INVALID_MEMBER` (bad or existing member),
 *   `INVALID_ARGUMENT` (Q would be smaller than the number of members).
 */
export function joinRing(ring: Ring, member: RingMember, by: string): Ring {
  checkClaimant(ring, by);
  const joiner = checkMember(member);
  if (ring.members.some((m) => m.node === joiner.node)) throw new RingError('INVALID_MEMBER', `${joiner.node} is already a member`);
  const q = ring.partitionCount;
  const members = [...ring.members, joiner].sort((a, b) => byName(a.node, b.node));
  checkPartitionCount(q, members.length);
  const held = ownerCounts(ring);
  held.set(joiner.node, 0);
  const range = countRanges(q, members, held, joiner.node);
  let othersMost = 0;
  for (const m of ring.members) othersMost += range.get(m.node)!.hi;
  // Fewest moves: the joiner takes its lower bound, or more only if the others cannot keep more.
  const take = Math.max(range.get(joiner.node)!.lo, q - othersMost);
  // Each member gives what it holds above its range; the partitions the joiner takes beyond that
  // come one at a time from whoever would stay furthest above its quota, so the odd partitions
  // stay where the rounding wants them and later changes are not squeezed.
  const quota = quotas(q, members);
  const budget = new Map<string, number>();
  let extra = take;
  for (const m of ring.members) {
    const must = held.get(m.node)! - range.get(m.node)!.hi;
    budget.set(m.node, must);
    extra -= must;
  }
  for (; extra > 0; extra--) {
    let best: string | undefined;
    let bestExcess = 0;
    for (const m of ring.members) {
      const keeps = held.get(m.node)! - budget.get(m.node)!;
      if (keeps <= range.get(m.node)!.lo) continue;
      const excess = keeps - quota.get(m.node)!;
      if (best === undefined || excess > bestExcess) {
        best = m.node;
        bestExcess = excess;
      }
    }
    assert(best !== undefined, 'the others can give what the joiner takes');
    budget.set(best, budget.get(best)! + 1);
  }
  const owners = [...ring.owners];
  claimForJoiner(owners, joiner.node, budget, take);
  const next = freezeRing({ version: ring.version + 1, claimant: ring.claimant, partitionCount: q, owners, members });
  const counts = ownerCounts(next);
  for (const m of members) {
    const { lo, hi } = range.get(m.node)!;
    const c = counts.get(m.node)!;
    assert(c >= lo && c <= hi, `${m.node} holds ${c}, within [${lo}, ${hi}] after the join`);
  }
  for (const move of ringMoves(ring, next)) assert(move.to === joiner.node, 'a join moves partitions only to the joiner');
  return next;
}

/**
 * What each member may hold after a change: between the floor and the ceiling of its quota (at
 * least one; widened to include the largest-remainder target, so the bounds always admit a
 * solution), then narrowed by the direction of the change: on a join the others may only lose
 * (`joiner` set), on a leave they may only gain. Within these ranges the claim is free to choose
 * who keeps the odd partition, which is what lets it keep the spread.
 */
function countRanges(q: number, members: readonly RingMember[], held: ReadonlyMap<string, number>, joiner?: string): Map<string, { lo: number; hi: number }> {
  const target = apportion(q, members, held);
  const quota = quotas(q, members);
  const range = new Map<string, { lo: number; hi: number }>();
  for (const m of members) {
    const quotaOf = quota.get(m.node)!;
    const t = target.get(m.node)!;
    let lo = Math.min(t, Math.max(1, Math.floor(quotaOf)));
    let hi = Math.max(t, Math.max(1, Math.ceil(quotaOf)));
    const h = held.get(m.node)!;
    if (joiner !== undefined && m.node !== joiner) {
      lo = Math.min(lo, h);
      hi = Math.min(hi, h);
    } else if (joiner === undefined) {
      lo = Math.max(lo, h);
      hi = Math.max(hi, h);
    }
    range.set(m.node, { lo, hi });
  }
  // Moving the fewest partitions means others only lose on a join and only gain on a leave, and
  // then staying within one partition of quota cannot always be promised (apportionment's
  // population paradox, Balinski and Young 1982): members that cannot give back may hold so much
  // that the others' floors sum past Q after a leave, or their ceilings fall short of it after a
  // join. Placing the odd partitions by quota (in joinRing and handOff) makes this rare; seen only
  // with Q close to the number of members, where the one-partition minimum bites. The slack then
  // goes a unit at a time to whoever ends closest to its quota, so the worst deviation is least.
  let sumLo = 0;
  let sumHi = 0;
  for (const r of range.values()) {
    sumLo += r.lo;
    sumHi += r.hi;
  }
  for (; sumLo > q; sumLo--) {
    let best: string | undefined;
    for (const m of members) {
      const r = range.get(m.node)!;
      if (r.lo <= held.get(m.node)!) continue;
      if (best === undefined || r.lo - quota.get(m.node)! > range.get(best)!.lo - quota.get(best)!) best = m.node;
    }
    assert(best !== undefined, 'the others hold less than Q before a leave');
    range.get(best)!.lo--;
  }
  for (; sumHi < q; sumHi++) {
    let best: string | undefined;
    for (const m of members) {
      const r = range.get(m.node)!;
      if (m.node !== joiner && r.hi >= held.get(m.node)!) continue;
      // Ties go to a member keeping one more rather than the joiner taking one more: fewer moves.
      if (best === undefined || r.hi - quota.get(m.node)! < range.get(best)!.hi - quota.get(best)! || (r.hi - quota.get(m.node)! === range.get(best)!.hi - quota.get(best)! && best === joiner)) best = m.node;
    }
    assert(best !== undefined, 'the joiner can always take one more');
    range.get(best)!.hi++;
  }
  return range;
}

/**
 * The joiner takes `take` partitions, member m giving exactly `budget[m]`. One pick per point of a
 * near-even lattice (spacing Q / take), chosen within half a spacing of it by, in order: most
 * too-close pairs broken minus made, fewest made, nearest the point, owner furthest behind its
 * pace of giving. Points with nothing to give nearby are served last, wherever the joiner's
 * nearest partition is furthest.
 */
function claimForJoiner(owners: string[], joiner: string, budget: ReadonlyMap<string, number>, take: number): void {
  const q = owners.length;
  const spacing = q / take;
  const radius = Math.max(1, Math.floor(spacing / 2));
  const given = new Map<string, number>();
  /** For each partition, how many of the joiner's partitions are fewer than TARGET_N away. */
  const near = new Uint32Array(q);
  // Paced giving: each member's partitions are taken all round the ring, not used up early.
  const lag = (owner: string, k: number): number => (budget.get(owner)! * (k + 1)) / take - (given.get(owner) ?? 0);
  /**
   * The first three criteria as one integer, compared before lag: pairs broken minus made (in
   * [-2(TARGET_N-1), 2(TARGET_N-1)]), then fewest made, then `closeness` (in [-Q, Q]).
   */
  const rank = (p: number, closeness: number): number =>
    ((conflictsAt(owners, p) - near[p]! + 2 * TARGET_N) * 4 * TARGET_N - near[p]!) * (2 * q + 1) + closeness + q;
  const canGive = (p: number): boolean => owners[p] !== joiner && (given.get(owners[p]!) ?? 0) < budget.get(owners[p]!)!;
  /** Distance to the joiner's nearest partition, kept only for the second pass. */
  let gap: Uint32Array | undefined;
  const claim = (p: number): void => {
    const owner = owners[p]!;
    given.set(owner, (given.get(owner) ?? 0) + 1);
    owners[p] = joiner;
    for (let d = 1; d < TARGET_N && d < q; d++) {
      near[mod(p + d, q)]!++;
      if (mod(p - d, q) !== mod(p + d, q)) near[mod(p - d, q)]!++;
    }
    if (gap !== undefined) {
      gap[p] = 0;
      for (const step of [1, -1]) {
        for (let d = 1; d < q && gap[mod(p + step * d, q)]! > d; d++) gap[mod(p + step * d, q)] = d;
      }
    }
  };
  const joinerHash = keyHash(joiner);
  const isSpreadable = take <= q / TARGET_N;
  let deferred = 0;
  for (let k = 0; k < take; k++) {
    // Each point sits at a hashed place in the middle half of its slot: were every joiner's
    // lattice in phase, joiners of similar size would pick partitions beside each other every
    // time, and one's leave would then have to crowd the other.
    const center = Math.floor((k + 0.25 + 0.5 * (mix32(joinerHash ^ Math.imul(k + 1, 0x9e3779b9)) / 0x1_0000_0000)) * spacing);
    let best = -1;
    let bestRank = 0;
    let bestLag = 0;
    for (let off = -radius; off <= radius; off++) {
      const p = mod(center + off, q);
      // A pick next to one of the joiner's own is left to the second pass, which looks further,
      // unless the joiner takes too much to be spread anyway.
      if (!canGive(p) || (near[p]! > 0 && isSpreadable)) continue;
      const r = rank(p, -Math.abs(off));
      const l = lag(owners[p]!, k);
      if (best < 0 || r > bestRank || (r === bestRank && l > bestLag)) {
        best = p;
        bestRank = r;
        bestLag = l;
      }
    }
    if (best < 0) deferred++;
    else claim(best);
  }
  if (deferred > 0) gap = distanceToNearest(owners, joiner);
  for (; deferred > 0; deferred--) {
    let best = -1;
    let bestRank = 0;
    let bestLag = 0;
    for (let p = 0; p < q; p++) {
      if (!canGive(p)) continue;
      const r = rank(p, Math.min(gap![p]!, q));
      const l = lag(owners[p]!, take - 1);
      if (best < 0 || r > bestRank || (r === bestRank && l > bestLag)) {
        best = p;
        bestRank = r;
        bestLag = l;
      }
    }
    assert(best >= 0, 'the givers can always cover the joiner’s take');
    claim(best);
  }
  for (const [node, n] of budget) assert((given.get(node) ?? 0) === n, `${node} gave exactly its budget`);
}

function isGreater(a: readonly number[], b: readonly number[]): boolean {
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return a[i]! > b[i]!;
  return false;
}

/** For each partition, the distance (either way round) to the nearest partition owned by `node`; Q if it owns none. */
function distanceToNearest(owners: readonly string[], node: string): Uint32Array {
  const q = owners.length;
  const dist = new Uint32Array(q).fill(q);
  // Two laps each way, so distances wrap around the ring.
  let last = -1;
  for (let i = 0; i < 2 * q; i++) {
    const p = i % q;
    if (owners[p] === node) last = i;
    if (last >= 0) dist[p] = Math.min(dist[p]!, i - last);
  }
  last = -1;
  for (let i = 2 * q - 1; i >= 0; i--) {
    const p = i % q;
    if (owners[p] === node) last = i;
    if (last >= 0) dist[p] = Math.min(dist[p]!, last - i);
  }
  return dist;
}

/**
 * Ring `ring` without `node`, version + 1. Only the leaver's partitions move: each goes to a member
 * below the ceiling of its new quota (Q * weight / totalWeight), where possible to one owning none
 * of the TARGET_N - 1 partitions either side: a matching over all the leaver's partitions, so one
 * awkward partition does not take the only good home of another, preferring the member whose
 * nearest partition is furthest. If the claimant leaves, the first remaining member by name
 * becomes the claimant.
 *
 * @param by - the node committing the change; only `ring.claimant` may (principle 7), and the
 *   claimant may commit its own leave.
 * @throws {@link RingError} `NOT_CLAIMANT`, `UNKNOWN_MEMBER` (not a member), `INVALID_MEMBER`
 *   (the last member cannot leave).
 */
export function leaveRing(ring: Ring, node: string, by: string): Ring {
  checkClaimant(ring, by);
  if (!ring.members.some((m) => m.node === node)) throw new RingError('UNKNOWN_MEMBER', `${describe(node)} is not a member of the ring`);
  if (ring.members.length === 1) throw new RingError('INVALID_MEMBER', `${node} is the last member; a ring cannot be empty`);
  const q = ring.partitionCount;
  const members = ring.members.filter((m) => m.node !== node);
  const claimant = ring.claimant === node ? members[0]!.node : ring.claimant;
  const held = ownerCounts(ring);
  held.delete(node);
  const range = countRanges(q, members, held);
  const quota = quotas(q, members);
  const receiving = new Map<string, { need: number; most: number; quota: number; held: number }>();
  for (const m of members) {
    const h = held.get(m.node)!;
    receiving.set(m.node, { need: range.get(m.node)!.lo - h, most: range.get(m.node)!.hi - h, quota: quota.get(m.node)!, held: h });
  }
  const leaving: number[] = [];
  for (let p = 0; p < q; p++) if (ring.owners[p] === node) leaving.push(p);
  const owners = [...ring.owners];
  handOff(owners, leaving, receiving);
  const next = freezeRing({ version: ring.version + 1, claimant, partitionCount: q, owners, members });
  const counts = ownerCounts(next);
  for (const m of members) {
    const { lo, hi } = range.get(m.node)!;
    assert(counts.get(m.node)! >= lo && counts.get(m.node)! <= hi, `${m.node} holds ${counts.get(m.node)}, within [${lo}, ${hi}] after the leave`);
  }
  for (const move of ringMoves(ring, next)) assert(move.from === node, 'a leave moves only the leaver’s partitions');
  return next;
}

/**
 * Hands the `leaving` partitions to members, member m receiving between `need` and `most`; past
 * their needs, units go first to whoever is furthest below its quota (`deficit`), so the odd
 * partitions land where the rounding wants them and later changes are not squeezed. Placement keeps
 * the spread where it can:
 * 1. a maximum matching over the pairs that break no spread, up to every member's need
 *    (augmenting paths, Kuhn's algorithm with capacities);
 * 2. each further unit to the member furthest below its quota that can take one cleanly, possibly
 *    by shifting others along an alternating path (neither step ever lowers a member's load, so
 *    needs met stay met);
 * 3. what no clean pair can place goes where it makes the fewest too-close pairs, and a member
 *    still short of its need takes one from a member above its own.
 */
function handOff(owners: string[], leaving: readonly number[], receiving: ReadonlyMap<string, { need: number; most: number; quota: number; held: number }>): void {
  const q = owners.length;
  const isLeaving = new Uint8Array(q);
  for (const p of leaving) isLeaving[p] = 1;
  const receivers = [...receiving.keys()].filter((r) => receiving.get(r)!.most > 0);
  const gaps = leaving.map((p) => nearestOwned(owners, p, receivers, isLeaving));
  const candidates = gaps.map((gap) => receivers.filter((r) => gap.get(r)! >= TARGET_N).sort((a, b) => gap.get(b)! - gap.get(a)! || byName(a, b)));
  const isClean = candidates.map((c) => new Set(c));
  const assigned: (string | undefined)[] = leaving.map(() => undefined);
  const load = new Map<string, number>(receivers.map((r) => [r, 0]));
  const holds = new Map<string, Set<number>>(receivers.map((r) => [r, new Set()]));
  const need = (r: string): number => receiving.get(r)!.need;
  const most = (r: string): number => receiving.get(r)!.most;
  const deficit = (r: string): number => receiving.get(r)!.quota - receiving.get(r)!.held - load.get(r)!;
  const give = (i: number, r: string): void => {
    const previous = assigned[i];
    if (previous !== undefined) {
      load.set(previous, load.get(previous)! - 1);
      holds.get(previous)!.delete(i);
    }
    assigned[i] = r;
    owners[leaving[i]!] = r;
    load.set(r, load.get(r)! + 1);
    holds.get(r)!.add(i);
  };
  // 1. Partition-driven augmenting paths, each receiver up to its need.
  const augment = (i: number, visited: Set<string>): boolean => {
    for (const r of candidates[i]!) {
      if (!visited.has(r) && load.get(r)! < need(r)) {
        give(i, r);
        return true;
      }
    }
    for (const r of candidates[i]!) {
      if (visited.has(r)) continue;
      visited.add(r);
      for (const j of [...holds.get(r)!]) {
        if (augment(j, visited)) {
          give(i, r);
          return true;
        }
      }
    }
    return false;
  };
  for (let i = 0; i < leaving.length; i++) augment(i, new Set());
  // 2. Receiver-driven: r takes a partition nobody holds, or one whose holder can take another.
  const pullFree = (r: string, visited: Set<string>): boolean => {
    visited.add(r);
    for (let i = 0; i < leaving.length; i++) {
      if (assigned[i] === undefined && isClean[i]!.has(r)) {
        give(i, r);
        return true;
      }
    }
    for (let i = 0; i < leaving.length; i++) {
      const h = assigned[i];
      if (h === undefined || visited.has(h) || !isClean[i]!.has(r)) continue;
      if (pullFree(h, visited)) {
        give(i, r);
        return true;
      }
    }
    return false;
  };
  let unassigned = assigned.filter((a) => a === undefined).length;
  const byDeficit = (a: string, b: string): number => deficit(b) - deficit(a) || byName(a, b);
  while (unassigned > 0) {
    const open = receivers.filter((r) => load.get(r)! < most(r)).sort(byDeficit);
    const taker = open.find((r) => pullFree(r, new Set()));
    if (taker === undefined) break;
    unassigned--;
  }
  // 3. No clean home left: fewest too-close pairs, members short of their need first.
  const short = (r: string): boolean => load.get(r)! < need(r);
  for (let i = 0; i < leaving.length; i++) {
    if (assigned[i] !== undefined) continue;
    const p = leaving[i]!;
    let best: string | undefined;
    let bestScore: number[] = [];
    for (const r of receivers) {
      if (load.get(r)! >= most(r)) continue;
      owners[p] = r;
      const score = [short(r) ? 1 : 0, -conflictsAt(owners, p), deficit(r), gaps[i]!.get(r)!];
      if (best === undefined || isGreater(score, bestScore)) {
        best = r;
        bestScore = score;
      }
    }
    assert(best !== undefined, 'the receivers have room for all the leaver’s partitions');
    give(i, best);
  }
  /** Moves a partition to `r` from a member above its need, along clean pairs only. */
  const pull = (r: string, visited: Set<string>): boolean => {
    visited.add(r);
    for (let i = 0; i < leaving.length; i++) {
      const h = assigned[i]!;
      if (h === r || visited.has(h) || !isClean[i]!.has(r)) continue;
      if (load.get(h)! > need(h) || pull(h, visited)) {
        give(i, r);
        return true;
      }
    }
    return false;
  };
  for (const r of receivers) {
    while (short(r)) {
      if (pull(r, new Set())) continue;
      let best = -1;
      let bestConflicts = 0;
      for (let i = 0; i < leaving.length; i++) {
        const h = assigned[i]!;
        if (h === r || load.get(h)! <= need(h)) continue;
        owners[leaving[i]!] = r;
        const conflicts = conflictsAt(owners, leaving[i]!);
        owners[leaving[i]!] = h;
        if (best < 0 || conflicts < bestConflicts) {
          best = i;
          bestConflicts = conflicts;
        }
      }
      assert(best >= 0, 'a member short of its need is matched by one above its own');
      give(best, r);
    }
  }
}

/** Distance from p to the nearest partition of each receiver, ignoring partitions in transit; Q for none. */
function nearestOwned(owners: readonly string[], p: number, receivers: readonly string[], isLeaving: Uint8Array): Map<string, number> {
  const q = owners.length;
  const want = new Set(receivers);
  const gap = new Map<string, number>(receivers.map((r) => [r, q]));
  for (let d = 1; d <= q >> 1 && want.size > 0; d++) {
    for (const x of [mod(p + d, q), mod(p - d, q)]) {
      if (isLeaving[x] === 1) continue;
      const o = owners[x]!;
      if (want.delete(o)) gap.set(o, d);
    }
  }
  return gap;
}

/**
 * The 32-bit position of a key: the first 4 bytes of its MD5 (of the key's UTF-8 bytes), big-endian,
 * as Dynamo does (§4.2). MD5 is not used for security here, only for its even spread.
 */
export function keyHash(key: string): number {
  return createHash('md5').update(key, 'utf8').digest().readUInt32BE(0);
}

/**
 * The partition of a 32-bit hash: Q equal ranges of the hash space, `floor(hash * Q / 2^32)`.
 *
 * @throws {@link RingError} `INVALID_ARGUMENT` if `hash` is not an integer in [0, 2^32).
 */
export function partitionOfHash(ring: Ring, hash: number): number {
  if (!Number.isInteger(hash) || hash < 0 || hash > 0xffffffff) throw new RingError('INVALID_ARGUMENT', `a hash is an integer in [0, 2^32), got ${describe(hash)}`);
  return Math.floor((hash * ring.partitionCount) / 0x1_0000_0000);
}

/** The partition a key belongs to: {@link partitionOfHash} of its {@link keyHash}. */
export function partitionOf(ring: Ring, key: string): number {
  return partitionOfHash(ring, keyHash(key));
}

/**
 * The preference list of a partition (Dynamo §4.3): its owner, then the next distinct owners
 * walking clockwise (p, p+1, ..., wrapping), up to n nodes; fewer if fewer nodes own partitions.
 * Thanks to the spread of the claim, n = 3 is normally found within 3 consecutive partitions.
 *
 * @throws {@link RingError} `INVALID_ARGUMENT` for a partition outside [0, Q) or n not an integer >= 0.
 */
export function preferenceList(ring: Ring, partition: number, n: number): string[] {
  const q = ring.partitionCount;
  if (!Number.isInteger(partition) || partition < 0 || partition >= q) throw new RingError('INVALID_ARGUMENT', `partition must be an integer in [0, ${q}), got ${describe(partition)}`);
  if (!Number.isInteger(n) || n < 0) throw new RingError('INVALID_ARGUMENT', `n must be an integer >= 0, got ${describe(n)}`);
  const nodes: string[] = [];
  for (let i = 0; i < q && nodes.length < n; i++) {
    const owner = ring.owners[(partition + i) % q]!;
    if (!nodes.includes(owner)) nodes.push(owner);
  }
  return nodes;
}

/**
 * Each member's share of the hash space: partitions owned / Q (so the shares sum to 1). Partitions
 * are equal, so this is exact, not sampled.
 */
export function shares(ring: Ring): Map<string, number> {
  const counts = ownerCounts(ring);
  return new Map([...counts].map(([node, count]) => [node, count / ring.partitionCount]));
}

/**
 * The partitions whose owner differs between two rings of the same Q, ascending: what a ring
 * change transfers.
 *
 * @throws {@link RingError} `INVALID_ARGUMENT` if the partition counts differ.
 */
export function ringMoves(before: Ring, after: Ring): { partition: number; from: string; to: string }[] {
  if (before.partitionCount !== after.partitionCount) {
    throw new RingError('INVALID_ARGUMENT', `rings of ${before.partitionCount} and ${after.partitionCount} partitions cannot be compared`);
  }
  const moves: { partition: number; from: string; to: string }[] = [];
  for (let p = 0; p < before.partitionCount; p++) {
    const from = before.owners[p]!;
    const to = after.owners[p]!;
    if (from !== to) moves.push({ partition: p, from, to });
  }
  return moves;
}

/**
 * The partitions p whose n consecutive partitions p, p+1, ..., p+n-1 (wrapping) do not have n
 * distinct owners, i.e. whose preference list of n needs a longer walk. Empty is a perfect spread.
 * (Only meaningful for n up to the number of members.)
 */
export function spreadViolations(ring: Ring, n: number = TARGET_N): number[] {
  const q = ring.partitionCount;
  const out: number[] = [];
  for (let p = 0; p < q; p++) {
    const window = new Set<string>();
    for (let i = 0; i < n; i++) window.add(ring.owners[(p + i) % q]!);
    if (window.size < Math.min(n, q)) out.push(p);
  }
  return out;
}

/**
 * Whether `x` is a well-formed ring: what to check on a ring received from another node before
 * trusting it. Checks: version a safe integer >= 1; members a non-empty array of
 * `{ node: non-empty string, weight: finite > 0 }`, strictly sorted by name (so distinct); Q an
 * integer in [members, {@link MAX_PARTITION_COUNT}]; owners an array of Q member names; claimant a member.
 */
export function isRing(x: unknown): x is Ring {
  if (typeof x !== 'object' || x === null) return false;
  const r = x as { version?: unknown; claimant?: unknown; partitionCount?: unknown; owners?: unknown; members?: unknown };
  if (typeof r.version !== 'number' || !Number.isSafeInteger(r.version) || r.version < 1) return false;
  if (!Array.isArray(r.members) || r.members.length === 0) return false;
  const names = new Set<string>();
  let previous: string | undefined;
  for (const m of r.members as unknown[]) {
    if (!isValidMember(m)) return false;
    if (previous !== undefined && byName(previous, m.node) >= 0) return false;
    previous = m.node;
    names.add(m.node);
  }
  const q = r.partitionCount;
  if (typeof q !== 'number' || !Number.isInteger(q) || q < names.size || q > MAX_PARTITION_COUNT) return false;
  if (typeof r.claimant !== 'string' || !names.has(r.claimant)) return false;
  if (!isOwners(r.owners, q, names)) return false;
  const next = (x as { next?: unknown }).next;
  if (next === undefined) return true;
  if (typeof next !== 'object' || next === null) return false;
  const t = next as { since?: unknown; owners?: unknown; members?: unknown; removed?: unknown };
  if (typeof t.since !== 'number' || !Number.isSafeInteger(t.since) || t.since < 1 || t.since > r.version) return false;
  if (!Array.isArray(t.members) || t.members.length === 0) return false;
  if (t.removed !== undefined && (typeof t.removed !== 'string' || !names.has(t.removed) || (t.members as unknown[]).some((m) => (m as RingMember | null)?.node === t.removed))) return false;
  const nextNames = new Set<string>();
  previous = undefined;
  for (const m of t.members as unknown[]) {
    if (!isValidMember(m)) return false;
    if (previous !== undefined && byName(previous, m.node) >= 0) return false;
    previous = m.node;
    nextNames.add(m.node);
  }
  return nextNames.size <= q && isOwners(t.owners, q, nextNames);
}

function isOwners(owners: unknown, q: number, names: ReadonlySet<string>): boolean {
  if (!Array.isArray(owners) || owners.length !== q) return false;
  for (const o of owners as unknown[]) if (typeof o !== 'string' || !names.has(o)) return false;
  return true;
}

/** Whether two rings are the same value (version, claimant, Q, members and every owner). */
export function sameRing(a: Ring, b: Ring): boolean {
  return compareRings(a, b) === 0;
}

/** A total order on rings: by version, then (for the should-not-happen tie) by content. */
function compareRings(a: Ring, b: Ring): number {
  if (a === b) return 0;
  if (a.version !== b.version) return a.version - b.version;
  if (a.claimant !== b.claimant) return byName(a.claimant, b.claimant);
  if (a.partitionCount !== b.partitionCount) return a.partitionCount - b.partitionCount;
  if (a.members.length !== b.members.length) return a.members.length - b.members.length;
  for (let i = 0; i < a.members.length; i++) {
    const x = a.members[i]!;
    const y = b.members[i]!;
    if (x.node !== y.node) return byName(x.node, y.node);
    if (x.weight !== y.weight) return x.weight - y.weight;
  }
  for (let p = 0; p < a.partitionCount; p++) if (a.owners[p] !== b.owners[p]) return byName(a.owners[p]!, b.owners[p]!);
  if (a.next === undefined || b.next === undefined) return (a.next === undefined ? 0 : 1) - (b.next === undefined ? 0 : 1);
  const x = a.next;
  const y = b.next;
  if (x.since !== y.since) return x.since - y.since;
  if (x.removed !== y.removed) return byName(x.removed ?? '', y.removed ?? '');
  if (x.members.length !== y.members.length) return x.members.length - y.members.length;
  for (let i = 0; i < x.members.length; i++) {
    if (x.members[i]!.node !== y.members[i]!.node) return byName(x.members[i]!.node, y.members[i]!.node);
    if (x.members[i]!.weight !== y.members[i]!.weight) return x.members[i]!.weight - y.members[i]!.weight;
  }
  for (let p = 0; p < a.partitionCount; p++) if (x.owners[p] !== y.owners[p]) return byName(x.owners[p]!, y.owners[p]!);
  return 0;
}

/**
 * The newer of two rings: the higher version. Two rings of one version should be equal, since only
 * the claimant commits (principle 7); if they ever are not, the same one is picked whatever the
 * argument order (a total order on content), so all nodes still converge, and {@link sameRing}
 * lets the caller notice and report it.
 */
export function newerRing(a: Ring, b: Ring): Ring {
  return compareRings(a, b) >= 0 ? a : b;
}

/**
 * Whether a node holding `current` takes `candidate`: a higher version, or (two rings of one
 * version, which only an operator's error makes) the one {@link newerRing} orders first, so every
 * node converges on the same ring instead of staying split.
 */
export function supersedes(candidate: Ring, current: Ring): boolean {
  if (candidate.partitionCount !== current.partitionCount) return false;
  if (candidate.version !== current.version) return candidate.version > current.version;
  return !sameRing(candidate, current) && compareRings(candidate, current) > 0;
}

// -------------------------------------------------------------------------------------------------
// Changes in progress (Riak's pending ownership): a join or leave is committed first as a ring
// with `next`, partitions move, and the claimant then commits `next` as the ring.

/** A ring change as an operator asks for it. */
export type RingChange =
  | { readonly kind: 'join'; readonly member: RingMember }
  /** `force`: the node is gone for good; its partitions are rebuilt from the other replicas (see {@link RingTarget.removed}). */
  | { readonly kind: 'leave'; readonly node: string; readonly force?: boolean };

/**
 * Starts a change: the same ring with `next` set to what {@link joinRing} or {@link leaveRing}
 * computes, version + 1. Only one change is in progress at a time: the next waits until
 * {@link finishChange} committed this one (so every move is computed from settled owners).
 *
 * A forced leave of a node the change in progress adds or removes does not wait: see
 * {@link changingNodes}. Any other change waits for the one in progress.
 *
 * @throws {@link RingError} as joinRing and leaveRing do, and `INVALID_ARGUMENT` while a change is in progress.
 */
export function beginChange(ring: Ring, change: RingChange, by: string): Ring {
  checkClaimant(ring, by);
  if (ring.next !== undefined && change.kind === 'leave' && change.force === true && changingNodes(ring).includes(change.node)) return forceDuringChange(ring, change.node);
  if (ring.next !== undefined) throw new RingError('INVALID_ARGUMENT', `a change is in progress (ring version ${ring.version}); the next one waits until it is done`);
  const target = change.kind === 'join' ? joinRing(ring, change.member, by) : leaveRing(ring, change.node, by);
  // A claimant that leaves stays claimant until the move is done: it commits the end of its own leave.
  const removed = change.kind === 'leave' && change.force === true ? { removed: change.node } : {};
  return Object.freeze({ ...settled(ring), version: ring.version + 1, next: Object.freeze({ since: ring.version + 1, owners: target.owners, members: target.members, ...removed }) });
}

/** The nodes the change in progress adds or removes, sorted by name (none when no change is in progress). */
export function changingNodes(ring: Ring): string[] {
  if (ring.next === undefined) return [];
  const before = new Set(ring.members.map((m) => m.node));
  const after = new Set(ring.next.members.map((m) => m.node));
  return ringNodes(ring).filter((node) => before.has(node) !== after.has(node));
}

/**
 * A force-remove of a node the change in progress adds or removes (it is gone for good and the
 * change would wait for it forever), version + 1. A joiner: the change is abandoned, the ring
 * keeps its current owners (every write acknowledged meanwhile is on W of them: coordinator.ts
 * asks W + pending). A leaver: the same change, now forced (`removed`: nobody waits for it or
 * pulls from it).
 */
function forceDuringChange(ring: Ring, node: string): Ring {
  const next = ring.next!;
  if (!ring.members.some((m) => m.node === node)) return Object.freeze({ ...settled(ring), version: ring.version + 1 });
  if (node === ring.claimant) throw new RingError('INVALID_MEMBER', `${node} is the claimant; make another member the claimant first`);
  return Object.freeze({ ...ring, version: ring.version + 1, next: Object.freeze({ ...next, since: ring.version + 1, removed: node }) });
}

/**
 * Ends the change in progress: `next` becomes the ring, version + 1. A claimant that left hands
 * the role to the first remaining member by name.
 *
 * @throws {@link RingError} `NOT_CLAIMANT`, `INVALID_ARGUMENT` when no change is in progress.
 */
export function finishChange(ring: Ring, by: string): Ring {
  checkClaimant(ring, by);
  if (ring.next === undefined) throw new RingError('INVALID_ARGUMENT', `no change is in progress at ring version ${ring.version}`);
  const { owners, members } = ring.next;
  const claimant = members.some((m) => m.node === ring.claimant) ? ring.claimant : members[0]!.node;
  return freezeRing({ version: ring.version + 1, claimant, partitionCount: ring.partitionCount, owners: [...owners], members: [...members] });
}

/**
 * Makes `node` the claimant, version + 1: an operator's explicit action when the claimant has
 * left or is gone for good (principle 7). Committed by `node` itself, so it must not be done while
 * the old claimant can still commit: two rings of one version would follow.
 *
 * @throws {@link RingError} `UNKNOWN_MEMBER` if `node` is not a member of the ring or of its `next`.
 */
export function reassignClaimant(ring: Ring, node: string): Ring {
  if (!ringNodes(ring).includes(node)) throw new RingError('UNKNOWN_MEMBER', `${describe(node)} is not a member of the ring`);
  const next = ring.next;
  if (next !== undefined && !ring.members.some((m) => m.node === node)) {
    // A claimant must be a member of the ring it commits: a joiner takes the role once it owns.
    throw new RingError('INVALID_MEMBER', `${node} is still joining; make a current member the claimant`);
  }
  return Object.freeze({ ...ring, version: ring.version + 1, claimant: node });
}

/**
 * A 32-bit digest of everything a ring says (version, claimant, owners, members, the change in
 * progress): two rings with equal digests are, but for a hash collision, the same ring. Cheap to
 * publish and compare where a whole ring is not (events, dashboards, tests of "one ring per version").
 */
export function ringDigest(ring: Ring): number {
  return keyHash(JSON.stringify([ring.version, ring.claimant, ring.partitionCount, ring.owners, ring.members, ring.next ?? null]));
}

/** Every node of the ring and of the change in progress, sorted by name. */
export function ringNodes(ring: Ring): string[] {
  const names = new Set(ring.members.map((m) => m.node));
  for (const m of ring.next?.members ?? []) names.add(m.node);
  return [...names].sort(byName);
}

/** The ring once the change in progress is done (the ring itself when none is). Its version is the ring's. */
export function settledRing(ring: Ring): Ring {
  if (ring.next === undefined) return ring;
  return freezeRing({ version: ring.version, claimant: ring.claimant, partitionCount: ring.partitionCount, owners: [...ring.next.owners], members: [...ring.next.members] });
}
