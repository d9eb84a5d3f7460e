/**
 * Dotted version vector sets (Riak's dvvset), on clocks that real histories produce: a few
 * replicas, clients that read a context from some replica (or a quorum of them) and write with it,
 * possibly much later; coordinators that `update`; replicas that `sync`; nodes restarted empty
 * with a new storage epoch. Properties are checked against a model of causality written from the
 * definitions: a clock holds exactly the writes it knows of that no write it knows of has seen.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { testSeed } from '../../../scripts/testing/seed.ts';
import {
  clientWrite,
  clockDescends,
  covers,
  descends,
  type Dot,
  type DvvSet,
  emptyClock,
  isDvvSet,
  join,
  latestDot,
  less,
  mergeContexts,
  size,
  sync,
  update,
  values,
  type VersionVector,
  versions,
} from '../src/dvv.ts';

// A failing property prints its seed (and shrink path); STARLING_SEED=<seed> replays that run.
if (process.env.STARLING_SEED !== undefined) fc.configureGlobal({ seed: testSeed(0) });

// ---- histories ------------------------------------------------------------------------------------

const NODES = ['n1', 'n2', 'n3'] as const;

type Step =
  /** A client reads one replica and keeps its context. */
  | { readonly kind: 'read'; readonly from: number }
  /** A client reads two replicas (a quorum read) and keeps the merged context. */
  | { readonly kind: 'read-quorum'; readonly from: number; readonly also: number }
  /** A client puts a new value with one of the contexts clients hold (perhaps an old one) at a coordinator. */
  | { readonly kind: 'write'; readonly context: number; readonly at: number }
  /** Replication, hinted handoff, read repair or anti-entropy: `to` merges `from`'s clock. */
  | { readonly kind: 'sync'; readonly from: number; readonly to: number }
  /** A node restarted empty: its store starts over under a new storage epoch (principle 6). */
  | { readonly kind: 'wipe'; readonly at: number };

const replicaArb = fc.nat(NODES.length - 1);
const stepArb: fc.Arbitrary<Step> = fc.oneof(
  { weight: 5, arbitrary: fc.record({ kind: fc.constant('write' as const), context: fc.nat(), at: replicaArb }) },
  { weight: 2, arbitrary: fc.record({ kind: fc.constant('read' as const), from: replicaArb }) },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant('read-quorum' as const), from: replicaArb, also: replicaArb }) },
  { weight: 4, arbitrary: fc.record({ kind: fc.constant('sync' as const), from: replicaArb, to: replicaArb }) },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant('wipe' as const), at: replicaArb }) },
);
const historyArb = fc.array(stepArb, { minLength: 1, maxLength: 30 });

/** A put as the model knows it: the dot it got and the context it was based on. */
interface Write {
  readonly value: string;
  readonly dot: Dot;
  readonly context: VersionVector;
}

/** One coordinator step, kept to check what `update` did. */
interface UpdateStep {
  readonly stored: DvvSet<string>;
  readonly context: VersionVector;
  readonly id: string;
  readonly value: string;
  readonly after: DvvSet<string>;
}

interface Run {
  /** Each replica's clock and current replica id at the end. */
  readonly replicas: readonly { readonly id: string; readonly clock: DvvSet<string> }[];
  /** Every clock a replica held, in order. */
  readonly snapshots: readonly DvvSet<string>[];
  /** Every context a client held: reads, and what puts returned. */
  readonly contexts: readonly VersionVector[];
  readonly writes: ReadonlyMap<string, Write>;
  readonly updates: readonly UpdateStep[];
}

function replicaId(node: number, epoch: number): string {
  return `${NODES[node]}@e${epoch}`;
}

function play(steps: readonly Step[]): Run {
  const epochs = NODES.map(() => 0);
  const clocks = NODES.map(() => emptyClock<string>());
  const contexts: VersionVector[] = [{}];
  const snapshots: DvvSet<string>[] = [emptyClock()];
  const writes = new Map<string, Write>();
  const updates: UpdateStep[] = [];
  for (const s of steps) {
    if (s.kind === 'read') contexts.push(join(clocks[s.from]!));
    else if (s.kind === 'read-quorum') contexts.push(join(sync(clocks[s.from]!, clocks[s.also]!)));
    else if (s.kind === 'write') {
      const context = contexts[s.context % contexts.length]!;
      const value = `v${writes.size}`;
      const id = replicaId(s.at, epochs[s.at]!);
      const stored = clocks[s.at]!;
      const after = update(clientWrite(context, value), stored, id);
      writes.set(value, { value, dot: latestDot(after, id)!, context });
      updates.push({ stored, context, id, value, after });
      clocks[s.at] = after;
      snapshots.push(after);
      // The coordinator answers the put with the new clock's context (as coordinator.ts does).
      contexts.push(join(after));
    } else if (s.kind === 'sync') {
      clocks[s.to] = sync(clocks[s.to]!, clocks[s.from]!);
      snapshots.push(clocks[s.to]!);
    } else {
      epochs[s.at]!++;
      clocks[s.at] = emptyClock();
    }
  }
  return { replicas: clocks.map((clock, i) => ({ id: replicaId(i, epochs[i]!), clock })), snapshots, contexts, writes, updates };
}

/** The writes a clock knows of: those whose dot its context covers. */
function knownWrites(c: DvvSet<string>, writes: ReadonlyMap<string, Write>): Write[] {
  const context = join(c);
  return [...writes.values()].filter((w) => covers(context, w.dot));
}

/** The model: the known writes no known write has seen (the causally maximal ones). */
function expectedValues(c: DvvSet<string>, writes: ReadonlyMap<string, Write>): string[] {
  const known = knownWrites(c, writes);
  return known
    .filter((w) => !known.some((o) => covers(o.context, w.dot)))
    .map((w) => w.value)
    .sort();
}

function sorted(xs: readonly string[]): string[] {
  return [...xs].sort();
}

/** Anonymous values are a set; entries are already in a canonical order. */
function normal<V>(c: DvvSet<V>): DvvSet<V> {
  const key = (v: V): string => JSON.stringify(v);
  return { entries: c.entries, anonymous: [...c.anonymous].sort((a, b) => (key(a) < key(b) ? -1 : key(a) > key(b) ? 1 : 0)) };
}

/** A context without zero counters, ids sorted: two contexts are equal when these are. */
function contextKey(v: VersionVector): string {
  return JSON.stringify(
    Object.entries(v)
      .filter(([, n]) => n > 0)
      .sort(([a], [b]) => (a < b ? -1 : 1)),
  );
}

function pick<T>(xs: readonly T[], i: number): T {
  return xs[i % xs.length]!;
}

const picksArb = fc.array(fc.tuple(fc.nat(), fc.nat(), fc.nat()), { minLength: 1, maxLength: 8 });

// ---- properties -----------------------------------------------------------------------------------

describe('dotted version vector sets on realistic histories (properties)', () => {
  it('a clock holds exactly the writes it knows of that no write it knows of has seen', () => {
    fc.assert(
      fc.property(historyArb, picksArb, (steps, picks) => {
        const run = play(steps);
        for (const c of run.snapshots) expect(sorted(values(c))).toEqual(expectedValues(c, run.writes));
        // And so does any merge of clocks from the same history, whenever they were taken.
        for (const [i, j] of picks) {
          const c = sync(pick(run.snapshots, i), pick(run.snapshots, j));
          expect(sorted(values(c))).toEqual(expectedValues(c, run.writes));
        }
      }),
    );
  });

  it('an overwritten value never comes back: no clock shows a value that a write it knows of had seen', () => {
    fc.assert(
      fc.property(historyArb, picksArb, (steps, picks) => {
        const run = play(steps);
        const clocks = [...run.snapshots, ...picks.map(([i, j, k]) => sync(sync(pick(run.snapshots, i), pick(run.snapshots, j)), pick(run.snapshots, k)))];
        for (const c of clocks) {
          const known = knownWrites(c, run.writes);
          for (const v of versions(c)) for (const w of known) expect(covers(w.context, v.dot!), `${v.value} was seen by ${w.value}`).toBe(false);
        }
      }),
    );
  });

  it('sync is commutative, associative and idempotent, and the empty clock is its identity', () => {
    fc.assert(
      fc.property(historyArb, picksArb, (steps, picks) => {
        const run = play(steps);
        for (const [i, j, k] of picks) {
          const a = pick(run.snapshots, i);
          const b = pick(run.snapshots, j);
          const c = pick(run.snapshots, k);
          expect(normal(sync(a, b))).toEqual(normal(sync(b, a)));
          expect(normal(sync(sync(a, b), c))).toEqual(normal(sync(a, sync(b, c))));
          expect(normal(sync(a, a))).toEqual(normal(a));
          expect(normal(sync(sync(a, b), b))).toEqual(normal(sync(a, b)));
          expect(normal(sync(a, emptyClock()))).toEqual(normal(a));
          expect(normal(sync(emptyClock(), a))).toEqual(normal(a));
        }
      }),
    );
  });

  it('syncing every replica in any order converges to one clock', () => {
    fc.assert(
      fc.property(historyArb, fc.array(fc.nat(), { minLength: 6, maxLength: 6 }), (steps, order) => {
        const clocks = play(steps).replicas.map((r) => r.clock);
        const forward = clocks.reduce((acc, c) => sync(acc, c), emptyClock<string>());
        const permutation = clocks.map((_, i) => i).sort((p, q) => pick(order, p) - pick(order, q) || p - q);
        const other = permutation.reduceRight((acc, i) => sync(clocks[i]!, acc), emptyClock<string>());
        expect(normal(other)).toEqual(normal(forward));
        expect(sorted(values(other))).toEqual(sorted(values(forward)));
        expect(join(other)).toEqual(join(forward));
      }),
    );
  });

  it('less is a strict partial order that agrees with how the contexts of the clocks compare', () => {
    fc.assert(
      fc.property(historyArb, (steps) => {
        const clocks = play(steps).snapshots.slice(-24);
        const lt = clocks.map((a) => clocks.map((b) => less(a, b)));
        clocks.forEach((a, i) => {
          expect(lt[i]![i]).toBe(false); // irreflexive
          clocks.forEach((b, j) => {
            if (lt[i]![j]) expect(lt[j]![i]).toBe(false); // antisymmetric
            const ctxLess = descends(join(b), join(a)) && !descends(join(a), join(b));
            expect(lt[i]![j]).toBe(ctxLess);
            for (let k = 0; k < clocks.length; k++) if (lt[i]![j] && lt[j]![k]) expect(lt[i]![k]).toBe(true); // transitive
          });
        });
      }),
      { numRuns: 50 },
    );
  });

  it('clockDescends(a, b) agrees with descends(join(a), join(b)) (read repair decides staleness by it)', () => {
    fc.assert(
      fc.property(historyArb, (steps) => {
        const clocks = play(steps).snapshots.slice(-24);
        for (const a of clocks) for (const b of clocks) expect(clockDescends(a, b)).toBe(descends(join(a), join(b)));
      }),
      { numRuns: 50 },
    );
  });

  it('descends is a partial order on the contexts clients hold', () => {
    fc.assert(
      fc.property(historyArb, (steps) => {
        const contexts = play(steps).contexts.slice(-24);
        const ge = contexts.map((a) => contexts.map((b) => descends(a, b)));
        contexts.forEach((a, i) => {
          expect(ge[i]![i]).toBe(true); // reflexive
          contexts.forEach((b, j) => {
            if (ge[i]![j] && ge[j]![i]) expect(contextKey(a)).toBe(contextKey(b)); // antisymmetric
            for (let k = 0; k < contexts.length; k++) if (ge[i]![j] && ge[j]![k]) expect(ge[i]![k]).toBe(true); // transitive
            // The merge of two contexts is their least upper bound.
            const m = mergeContexts(a, b);
            expect(descends(m, a) && descends(m, b)).toBe(true);
            if (ge[i]![j]) expect(contextKey(m)).toBe(contextKey(a));
          });
        });
      }),
      { numRuns: 50 },
    );
  });

  it('a write whose context saw every sibling replaces them all', () => {
    fc.assert(
      fc.property(historyArb, replicaArb, (steps, r) => {
        const run = play(steps);
        const { id, clock } = run.replicas[r]!;
        // A read of the coordinator itself, or of every replica merged.
        expect(values(update(clientWrite(join(clock), 'new'), clock, id))).toEqual(['new']);
        const everything = run.replicas.reduce((acc, x) => sync(acc, x.clock), emptyClock<string>());
        expect(values(update(clientWrite(join(everything), 'new'), clock, id))).toEqual(['new']);
      }),
    );
  });

  it('two writes with the same old context become siblings, at one coordinator or at two', () => {
    fc.assert(
      fc.property(historyArb, fc.nat(), replicaArb, replicaArb, (steps, c, r, s) => {
        const run = play(steps);
        const context = pick(run.contexts, c);
        const here = run.replicas[r]!;
        const unseen = values(here.clock).filter((v) => !covers(context, run.writes.get(v)!.dot));
        const first = update(clientWrite(context, 'x'), here.clock, here.id);
        const second = update(clientWrite(context, 'y'), first, here.id);
        expect(sorted(values(second))).toEqual(sorted(['x', 'y', ...unseen]));
        // Coordinated at two replicas, then merged: still both. (One coordinator serialises its
        // updates: starting both from the same stored clock there would mint one dot twice.)
        const there = run.replicas[(r + 1 + (s % (NODES.length - 1))) % NODES.length]!;
        const elsewhere = update(clientWrite(context, 'y'), there.clock, there.id);
        expect(values(sync(first, elsewhere))).toEqual(expect.arrayContaining(['x', 'y']));
      }),
    );
  });

  it('clients that each carry the context of their own last put make no false siblings (Riak 1.x sibling explosion)', () => {
    fc.assert(
      fc.property(fc.integer({ min: 2, max: 4 }), fc.array(fc.nat(), { minLength: 1, maxLength: 40 }), (clients, turns) => {
        let clock = emptyClock<string>();
        const contextOf = Array.from({ length: clients }, (): VersionVector => ({}));
        const latestOf: (string | undefined)[] = Array.from({ length: clients }, () => undefined);
        turns.forEach((t, i) => {
          const who = t % clients;
          const value = `c${who}-${i}`;
          clock = update(clientWrite(contextOf[who]!, value), clock, 'x@e0');
          contextOf[who] = join(clock);
          latestOf[who] = value;
          // Only each client's latest value can be a sibling; the one just written always is.
          expect(size(clock)).toBeLessThanOrEqual(clients);
          expect(values(clock)).toContain(value);
          for (const v of values(clock)) expect(latestOf).toContain(v);
        });
      }),
    );
  });

  it('update gives the new value the next dot of the coordinator, and versions() agrees with values(), join and covers', () => {
    fc.assert(
      fc.property(historyArb, (steps) => {
        const run = play(steps);
        for (const u of run.updates) {
          const dot = latestDot(u.after, u.id);
          const seen = mergeContexts(u.context, join(u.stored));
          expect(dot).toEqual({ id: u.id, counter: (seen[u.id] ?? 0) + 1 });
          expect(versions(u.after)).toContainEqual({ value: u.value, dot });
          expect(covers(join(u.after), dot!)).toBe(true);
          expect(covers(seen, dot!)).toBe(false);
          expect(descends(join(u.after), seen)).toBe(true);
        }
        for (const c of run.snapshots) {
          const vs = versions(c);
          expect(vs.map((v) => v.value)).toEqual(values(c));
          expect(size(c)).toBe(vs.length);
          expect(new Set(vs.map((v) => `${v.dot!.id}:${v.dot!.counter}`)).size).toBe(vs.length);
          // A value keeps the dot it was minted with wherever it travels, and its clock knows that dot.
          for (const v of vs) {
            expect(v.dot).toEqual(run.writes.get(v.value)!.dot);
            expect(covers(join(c), v.dot!)).toBe(true);
          }
        }
      }),
    );
  });

  it('isDvvSet accepts every clock a history makes, also after a trip through JSON', () => {
    fc.assert(
      fc.property(historyArb, (steps) => {
        for (const c of play(steps).snapshots) {
          expect(isDvvSet(c)).toBe(true);
          const copy: unknown = JSON.parse(JSON.stringify(c));
          expect(isDvvSet(copy)).toBe(true);
          expect(copy).toEqual(c);
        }
      }),
    );
  });
});

// ---- examples -------------------------------------------------------------------------------------

/** A coordinator's put as a client sees it: the new clock, the context it returns, the new dot. */
function put(stored: DvvSet<string>, context: VersionVector, value: string, id: string): { clock: DvvSet<string>; context: VersionVector; dot: Dot } {
  const clock = update(clientWrite(context, value), stored, id);
  return { clock, context: join(clock), dot: latestDot(clock, id)! };
}

describe('dotted version vector sets, as in the Riak docs (examples)', () => {
  const X = 'n1@e0';
  const Y = 'n2@e0';

  it('a write that saw both siblings replaces them with one value', () => {
    const a = put(emptyClock(), {}, 'Bob', X);
    const b = put(a.clock, {}, 'Alice', X);
    expect(sorted(values(b.clock))).toEqual(['Alice', 'Bob']);
    const resolved = put(b.clock, join(b.clock), 'Alice+Bob', X);
    expect(values(resolved.clock)).toEqual(['Alice+Bob']);
  });

  it('two writes with the same old context become two siblings', () => {
    const base = put(emptyClock(), {}, 'v0', X);
    const first = put(base.clock, base.context, 'v1', X);
    const second = put(first.clock, base.context, 'v2', X);
    expect(sorted(values(second.clock))).toEqual(['v1', 'v2']);
  });

  it('a write based on a newer context never resurrects an overwritten value', () => {
    const v1 = put(emptyClock(), {}, 'v1', X);
    const atY = sync(emptyClock<string>(), v1.clock); // replicated to Y
    const v2 = put(v1.clock, v1.context, 'v2', X); // overwrites v1 at X
    expect(values(sync(atY, v2.clock))).toEqual(['v2']);
    expect(values(sync(v2.clock, atY))).toEqual(['v2']);
    // A write with a stale context at Y is a sibling of v2, and v1 stays gone.
    const stale = put(atY, {}, 'v3', Y);
    expect(sorted(values(stale.clock))).toEqual(['v1', 'v3']);
    expect(sorted(values(sync(stale.clock, v2.clock)))).toEqual(['v2', 'v3']);
    // A write at Y with v2's context, before Y has v2, still removes v1 there.
    const newer = put(atY, v2.context, 'v4', Y);
    expect(values(newer.clock)).toEqual(['v4']);
    expect(sorted(values(sync(newer.clock, v2.clock)))).toEqual(['v4']);
  });

  it('interleaved writes of two clients at one coordinator: siblings stay the truly concurrent ones', () => {
    // A and B both read the empty key (context ctx0 = {}).
    const ctx0: VersionVector = {};
    const a1 = put(emptyClock(), ctx0, 'a1', X);
    const b1 = put(a1.clock, ctx0, 'b1', X);
    expect(sorted(values(b1.clock))).toEqual(['a1', 'b1']);
    // A carries the context its put of a1 returned: a2 replaces a1 only.
    const a2 = put(b1.clock, a1.context, 'a2', X);
    expect(sorted(values(a2.clock))).toEqual(['a2', 'b1']); // not [a1, a2, b1]
    // B carries the context its put of b1 returned (which had seen a1 and b1): b2 replaces b1.
    const b2 = put(a2.clock, b1.context, 'b2', X);
    expect(sorted(values(b2.clock))).toEqual(['a2', 'b2']);
    // And so on: never more siblings than writers.
    const a3 = put(b2.clock, a2.context, 'a3', X);
    expect(sorted(values(a3.clock))).toEqual(['a3', 'b2']);
    expect(a3.clock.entries).toEqual([{ id: X, counter: 5, values: ['a3', 'b2'] }]);
  });

  it('concurrent writes at two replicas become siblings after sync, each with its own dot', () => {
    const x = put(emptyClock(), {}, 'at-x', X);
    const y = put(emptyClock(), {}, 'at-y', Y);
    const merged = sync(x.clock, y.clock);
    expect(versions(merged)).toEqual([
      { value: 'at-x', dot: { id: X, counter: 1 } },
      { value: 'at-y', dot: { id: Y, counter: 1 } },
    ]);
    expect(join(merged)).toEqual({ [X]: 1, [Y]: 1 });
    expect(less(x.clock, merged) && less(y.clock, merged)).toBe(true);
    expect(less(x.clock, y.clock) || less(y.clock, x.clock)).toBe(false);
  });

  it('a node restarted empty mints dots under its new epoch, so nothing it minted before is confused', () => {
    const before = put(emptyClock(), {}, 'old', 'n1@e0');
    const elsewhere = sync(emptyClock<string>(), before.clock);
    const after = put(emptyClock(), {}, 'new', 'n1@e1');
    expect(sorted(values(sync(elsewhere, after.clock)))).toEqual(['new', 'old']);
  });

  it('anonymous values: concurrent ones are kept as a set, dominated ones dropped', () => {
    const a = clientWrite({}, 'a');
    const b = clientWrite({}, 'b');
    expect(sorted(values(sync(a, b)))).toEqual(['a', 'b']);
    expect(values(sync(a, a))).toEqual(['a']);
    const newer = clientWrite({ [X]: 1 }, 'c');
    expect(values(sync(a, newer))).toEqual(['c']);
    expect(() => update({ entries: [], anonymous: ['a', 'b'] }, emptyClock(), X)).toThrow(RangeError);
  });

  it('isDvvSet rejects malformed clocks', () => {
    const entry = (id: unknown, counter: unknown, vals: unknown = []): unknown => ({ id, counter, values: vals });
    const bad: [string, unknown][] = [
      ['null', null],
      ['a string', 'clock'],
      ['no entries', { anonymous: [] }],
      ['no anonymous', { entries: [] }],
      ['entries not an array', { entries: {}, anonymous: [] }],
      ['anonymous not an array', { entries: [], anonymous: 'x' }],
      ['a null entry', { entries: [null], anonymous: [] }],
      ['an id that is not a string', { entries: [entry(1, 1, ['v'])], anonymous: [] }],
      ['a fractional counter', { entries: [entry('a', 1.5)], anonymous: [] }],
      ['a negative counter', { entries: [entry('a', -1)], anonymous: [] }],
      ['a counter that is not a number', { entries: [entry('a', '2')], anonymous: [] }],
      ['values not an array', { entries: [entry('a', 1, 'v')], anonymous: [] }],
      ['more values than events', { entries: [entry('a', 1, ['v', 'w'])], anonymous: [] }],
      ['ids out of order', { entries: [entry('b', 1), entry('a', 1)], anonymous: [] }],
      ['a repeated id', { entries: [entry('a', 1), entry('a', 2)], anonymous: [] }],
    ];
    for (const [what, x] of bad) expect(isDvvSet(x), what).toBe(false);
    expect(isDvvSet(emptyClock())).toBe(true);
    expect(isDvvSet({ entries: [entry('a', 2, ['v']), entry('b', 1)], anonymous: ['w'] })).toBe(true);
  });
});
