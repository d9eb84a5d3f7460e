/**
 * The cart example's ORSWOT (Riak DT's add-wins observed-remove set without tombstones), on sets
 * that real histories produce: a few replicas that add and remove items and merge each other's
 * versions in any order. Properties are checked against a model written from the OR-set's
 * definition: an item is present when the set knows an add of it that no remove it knows of
 * observed.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { testSeed } from '../../../scripts/testing/seed.ts';
import { add, counterOf, elements, emptyOrswot, has, isOrswot, merge, mergeAll, type Orswot, remove } from '../examples/cart/orswot.ts';

// A failing property prints its seed (and shrink path); STARLING_SEED=<seed> replays that run.
if (process.env.STARLING_SEED !== undefined) fc.configureGlobal({ seed: testSeed(0) });

// ---- histories ------------------------------------------------------------------------------------

const REPLICAS = ['alice', 'bob', 'carol'] as const;
const ITEMS = ['apple', 'bread', 'cheese', 'dates'] as const;

type Step =
  | { readonly kind: 'add'; readonly at: number; readonly item: number }
  | { readonly kind: 'remove'; readonly at: number; readonly item: number }
  /** `to` merges `from`'s version (a read of siblings, a replication, a handoff). */
  | { readonly kind: 'merge'; readonly from: number; readonly to: number };

const replicaArb = fc.nat(REPLICAS.length - 1);
const itemArb = fc.nat(ITEMS.length - 1);
const stepArb: fc.Arbitrary<Step> = fc.oneof(
  { weight: 4, arbitrary: fc.record({ kind: fc.constant('add' as const), at: replicaArb, item: itemArb }) },
  { weight: 3, arbitrary: fc.record({ kind: fc.constant('remove' as const), at: replicaArb, item: itemArb }) },
  { weight: 3, arbitrary: fc.record({ kind: fc.constant('merge' as const), from: replicaArb, to: replicaArb }) },
);
const historyArb = fc.array(stepArb, { minLength: 1, maxLength: 40 });

/** What a replica knows, as the model sees it: the adds (by id) and the removes (the adds each observed). */
interface Knowledge {
  readonly adds: Map<number, string>;
  readonly removes: Map<number, ReadonlySet<number>>;
}

/** The OR-set's definition: present when a known add of the item was observed by no known remove. */
function modelElements(k: Knowledge): string[] {
  const observed = new Set([...k.removes.values()].flatMap((s) => [...s]));
  return [...new Set([...k.adds].filter(([id]) => !observed.has(id)).map(([, item]) => item))].sort();
}

interface Run {
  /** Each replica's set at the end. */
  readonly finals: Orswot[];
  /** Each replica's knowledge at the end. */
  readonly knowledge: Knowledge[];
  /** Every set any replica held along the way. */
  readonly seen: Orswot[];
}

function run(history: readonly Step[]): Run {
  const sets = REPLICAS.map(() => emptyOrswot());
  const knowledge: Knowledge[] = REPLICAS.map(() => ({ adds: new Map(), removes: new Map() }));
  const seen: Orswot[] = [emptyOrswot()];
  let nextEvent = 1;
  for (const step of history) {
    if (step.kind === 'add') {
      sets[step.at] = add(sets[step.at]!, REPLICAS[step.at]!, ITEMS[step.item]!);
      knowledge[step.at]!.adds.set(nextEvent++, ITEMS[step.item]!);
    } else if (step.kind === 'remove') {
      sets[step.at] = remove(sets[step.at]!, ITEMS[step.item]!);
      const k = knowledge[step.at]!;
      k.removes.set(nextEvent++, new Set([...k.adds].filter(([, item]) => item === ITEMS[step.item]).map(([id]) => id)));
    } else {
      sets[step.to] = merge(sets[step.to]!, sets[step.from]!);
      const [to, from] = [knowledge[step.to]!, knowledge[step.from]!];
      for (const [id, item] of from.adds) to.adds.set(id, item);
      for (const [id, obs] of from.removes) to.removes.set(id, obs);
    }
    seen.push(...sets);
  }
  return { finals: sets, knowledge, seen };
}

/** A history and three sets it produced (any replica, any moment). */
const threeArb = historyArb.chain((history) => {
  const { seen } = run(history);
  const pick = fc.nat(seen.length - 1).map((i) => seen[i]!);
  return fc.tuple(pick, pick, pick);
});

// ---- properties -----------------------------------------------------------------------------------

describe('ORSWOT merge', () => {
  it('is commutative, associative and idempotent on sets from random histories (deep equality: the form is canonical)', () => {
    fc.assert(
      fc.property(threeArb, ([a, b, c]) => {
        expect(merge(a, b)).toEqual(merge(b, a));
        expect(merge(a, merge(b, c))).toEqual(merge(merge(a, b), c));
        expect(merge(a, a)).toEqual(a);
        // A merge is an upper bound: merging either side into it changes nothing.
        const ab = merge(a, b);
        expect(merge(ab, a)).toEqual(ab);
        expect(merge(ab, b)).toEqual(ab);
      }),
      { numRuns: 300 },
    );
  });

  it("every replica's items equal the OR-set's definition (add wins), and so does the merge of all replicas", () => {
    fc.assert(
      fc.property(historyArb, (history) => {
        const { finals, knowledge } = run(history);
        finals.forEach((set, i) => expect(elements(set)).toEqual(modelElements(knowledge[i]!)));
        const all: Knowledge = { adds: new Map(knowledge.flatMap((k) => [...k.adds])), removes: new Map(knowledge.flatMap((k) => [...k.removes])) };
        expect(elements(mergeAll(finals))).toEqual(modelElements(all));
      }),
      { numRuns: 500 },
    );
  });

  it('every set a history produces passes isOrswot, also after a JSON round trip (plain data)', () => {
    fc.assert(
      fc.property(historyArb, (history) => {
        for (const set of run(history).seen) {
          expect(isOrswot(set)).toBe(true);
          expect(JSON.parse(JSON.stringify(set))).toEqual(set);
        }
      }),
      { numRuns: 100 },
    );
  });
});

describe('ORSWOT semantics', () => {
  it('an add wins over a concurrent remove', () => {
    const base = add(emptyOrswot(), 'alice', 'apple');
    const removed = remove(base, 'apple');
    const readded = add(base, 'bob', 'apple'); // bob never saw the remove
    expect(has(removed, 'apple')).toBe(false);
    expect(elements(merge(removed, readded))).toEqual(['apple']);
    expect(elements(merge(readded, removed))).toEqual(['apple']);
  });

  it('a remove is not undone by merging a concurrent version that never saw the item', () => {
    const base = add(add(emptyOrswot(), 'alice', 'apple'), 'alice', 'bread');
    const removed = remove(base, 'apple');
    // Bob started from an empty cart, concurrently: he never saw the apple, so he cannot bring it back.
    const other = add(emptyOrswot(), 'bob', 'cheese');
    expect(elements(merge(removed, other))).toEqual(['bread', 'cheese']);
    // Nor does a stale copy of the version the remove saw: its dot is covered by the remove's clock.
    expect(elements(merge(removed, base))).toEqual(['bread']);
    expect(elements(mergeAll([base, other, removed]))).toEqual(['bread', 'cheese']);
  });

  it('an item removed on both sides stays removed; an add on one side and a remove of an unseen item on the other keep the add', () => {
    const base = add(emptyOrswot(), 'alice', 'apple');
    expect(elements(merge(remove(base, 'apple'), remove(base, 'apple')))).toEqual([]);
    const left = add(base, 'alice', 'dates');
    const right = remove(base, 'dates'); // not present: a no-op
    expect(right).toBe(base);
    expect(elements(merge(left, right))).toEqual(['apple', 'dates']);
  });

  it('re-adding after a remove works, also against a stale copy that still has the first add', () => {
    const first = add(emptyOrswot(), 'alice', 'apple');
    const removed = remove(first, 'apple');
    const again = add(removed, 'alice', 'apple');
    expect(elements(again)).toEqual(['apple']);
    expect(counterOf(again.clock, 'alice')).toBe(2);
    expect(elements(merge(again, first))).toEqual(['apple']);
    expect(elements(merge(again, removed))).toEqual(['apple']);
    // Removing it again, then merging every earlier version, leaves it removed.
    expect(elements(mergeAll([first, removed, again, remove(again, 'apple')]))).toEqual([]);
  });

  it('an add replaces the dots of the adds it saw, so a set holds one dot per present item and actor', () => {
    const both = merge(add(emptyOrswot(), 'alice', 'apple'), add(emptyOrswot(), 'bob', 'apple'));
    expect(both.entries).toEqual([['apple', [['alice', 1], ['bob', 1]]]]);
    const after = add(both, 'carol', 'apple');
    expect(after.entries).toEqual([['apple', [['carol', 1]]]]);
    expect(after.clock).toEqual([['alice', 1], ['bob', 1], ['carol', 1]]);
  });

  it('the merge of no versions is the empty set, of one version that version', () => {
    expect(mergeAll([])).toEqual(emptyOrswot());
    const one = add(emptyOrswot(), 'alice', 'apple');
    expect(mergeAll([one])).toEqual(one);
  });
});

describe('isOrswot', () => {
  const good = add(add(emptyOrswot(), 'alice', 'apple'), 'bob', 'bread');

  it.each([
    ['null', null],
    ['an array', []],
    ['a missing clock', { entries: [] }],
    ['a clock as an object', { clock: { alice: 1 }, entries: [] }],
    ['a zero counter', { clock: [['alice', 0]], entries: [] }],
    ['a fractional counter', { clock: [['alice', 1.5]], entries: [] }],
    ['an unsorted clock', { clock: [['bob', 1], ['alice', 1]], entries: [] }],
    ['an actor twice in the clock', { clock: [['alice', 1], ['alice', 2]], entries: [] }],
    ['an item with no dots', { clock: [['alice', 1]], entries: [['apple', []]] }],
    ['a dot beyond the clock', { clock: [['alice', 1]], entries: [['apple', [['alice', 2]]]] }],
    ['a dot of an actor missing from the clock', { clock: [['alice', 1]], entries: [['apple', [['bob', 1]]]] }],
    ['two dots of one actor', { clock: [['alice', 2]], entries: [['apple', [['alice', 1], ['alice', 2]]]] }],
    ['unsorted items', { clock: [['alice', 2]], entries: [['bread', [['alice', 1]]], ['apple', [['alice', 2]]]] }],
    ['an item twice', { clock: [['alice', 2]], entries: [['apple', [['alice', 1]]], ['apple', [['alice', 2]]]] }],
    ['an item that is not a string', { clock: [['alice', 1]], entries: [[7, [['alice', 1]]]] }],
  ])('rejects %s', (_name, value) => {
    expect(isOrswot(value)).toBe(false);
  });

  it('accepts a set, and checks its items with the given predicate', () => {
    expect(isOrswot(good)).toBe(true);
    expect(isOrswot(good, (item) => item.length <= 5)).toBe(true);
    expect(isOrswot(good, (item) => item !== 'bread')).toBe(false);
  });
});
