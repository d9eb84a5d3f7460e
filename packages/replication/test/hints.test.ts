/**
 * Hints (Dynamo §4.6): the replicas a fallback holds for an unreachable primary, on the node's disk
 * area like the store. What handoff relies on: a hint merges every write it takes (a duplicate
 * changes nothing, not even the revision), is listed oldest change first, is deleted only at the
 * revision that was handed over, and expires after its TTL (the expired hints are returned, for
 * the node to keep their data); and what dot minting relies on: a key's hint id is forgotten as
 * soon as a hint holding any of its dots leaves the store, so a fallback never counts a key's dots
 * again from a number it already used under an id the owner may already hold.
 */
import { Disk } from '@starling/actors';
import { describe, expect, it } from 'vitest';
import { clientWrite, type DvvSet, emptyClock, join, latestDot, sync, update, values } from '../src/dvv.ts';
import { type Hint, type HintStore, openHints } from '../src/hints.ts';
import type { StoredValue } from '../src/store.ts';

// ---- helpers ------------------------------------------------------------------------------------

type Clock = DvvSet<StoredValue>;

/** A fresh write of `value` coordinated by `id`, seeing nothing. */
function fresh(value: string, id: string): Clock {
  return update(clientWrite<StoredValue>({}, value), emptyClock(), id);
}

/** A write of `value` by `id` on top of `base` (its client read `base`). */
function over(base: Clock, value: string, id: string): Clock {
  return update(clientWrite<StoredValue>(join(base), value), base, id);
}

/** Ids drawn in order, counting the draws. */
function drawer(prefix = 'hint'): { readonly draw: () => string; readonly draws: () => number } {
  let n = 0;
  return { draw: () => `${prefix}-${++n}`, draws: () => n };
}

/** The hint a put returned, which must have changed the store (a duplicate returns undefined). */
function changed(h: Hint | undefined): Hint {
  if (h === undefined) throw new Error('expected the put to change the hint, it was taken as a duplicate');
  return h;
}

function keysOf(hints: HintStore, owner: string, limit = Number.POSITIVE_INFINITY): string[] {
  return hints.ofOwner(owner, limit).map((h) => h.key);
}

// ---- put, forKey, owners --------------------------------------------------------------------------

describe('a hint takes writes', () => {
  it('the first put stores the clock as given, with its owner, partition, time and a revision', () => {
    const hints = openHints(new Disk(), 'disk', 'u1');
    const c = fresh('v1', 'n1@e');
    const h = changed(hints.put('p1', 7, 'b/k', c, 100));
    expect(h).toMatchObject({ owner: 'p1', partition: 7, key: 'b/k', updatedAtMs: 100 });
    expect(h.clock).toEqual(c);
    expect(hints.forKey('b/k')).toEqual([h]);
    expect(hints.count()).toBe(1);
  });

  it('a later put merges with the DVV sync: concurrent writes become siblings, a descendant replaces what it saw', () => {
    const hints = openHints(new Disk(), 'disk', 'u1');
    const a = fresh('a', 'n1@e');
    const b = fresh('b', 'n2@e');
    hints.put('p1', 0, 'k', a, 1);
    const both = changed(hints.put('p1', 0, 'k', b, 2));
    expect(both.clock).toEqual(sync(a, b));
    expect(values(both.clock).sort()).toEqual(['a', 'b']);
    // A write that read both replaces both.
    const c = over(sync(a, b), 'c', 'n1@e');
    const replaced = changed(hints.put('p1', 0, 'k', c, 3));
    expect(values(replaced.clock)).toEqual(['c']);
    expect(replaced.clock).toEqual(sync(sync(a, b), c));
    // An older clock arriving late changes nothing: the hint already holds all of it.
    expect(hints.put('p1', 0, 'k', a, 4)).toBeUndefined();
    expect(hints.forKey('k')).toEqual([replaced]);
    expect(hints.count()).toBe(1);
  });

  it('every put that changes the hint bumps the revision and the change time', () => {
    const hints = openHints(new Disk(), 'disk', 'u1');
    const c = fresh('v', 'n1@e');
    const first = changed(hints.put('p1', 0, 'k', c, 10));
    const second = changed(hints.put('p1', 0, 'k', over(c, 'w', 'n1@e'), 20));
    expect(second.rev).toBeGreaterThan(first.rev);
    expect(second.updatedAtMs).toBe(20);
    // Revisions are drawn across keys and owners, so no two hints ever share one.
    const other = changed(hints.put('p2', 0, 'k2', c, 30));
    expect(other.rev).toBeGreaterThan(second.rev);
    // The same clock for another owner is another hint, not a duplicate.
    const forP3 = changed(hints.put('p3', 0, 'k', c, 40));
    expect(forP3.rev).toBeGreaterThan(other.rev);
  });

  it('a duplicate put (the hint already holds everything in the clock) is a no-op: no revision bump, no new change time, no move in the order', () => {
    const hints = openHints(new Disk(), 'disk', 'u1');
    const a = fresh('a', 'n1@e');
    const b = fresh('b', 'n2@e');
    const h1 = changed(hints.put('p1', 0, 'k1', sync(a, b), 10));
    const h2 = changed(hints.put('p1', 0, 'k2', a, 20));
    // The same clock again (a network duplicate), and a part of what the hint holds (a late, older write).
    expect(hints.put('p1', 0, 'k1', sync(a, b), 30)).toBeUndefined();
    expect(hints.put('p1', 0, 'k1', a, 31)).toBeUndefined();
    expect(hints.put('p1', 0, 'k1', b, 32)).toBeUndefined();
    expect(hints.forKey('k1')).toEqual([h1]);
    expect(hints.forKey('k1')[0]!.updatedAtMs).toBe(10);
    // Still first in handoff order (a changed hint would move to the back).
    expect(keysOf(hints, 'p1')).toEqual(['k1', 'k2']);
    expect(hints.count()).toBe(2);
    // The next real change still gets a revision newer than any before.
    const h3 = changed(hints.put('p1', 0, 'k2', b, 40));
    expect(h3.rev).toBeGreaterThan(h2.rev);
    // A handoff sent before the duplicates still deletes: the revision it carries is the hint's.
    expect(hints.remove('p1', 'k1', h1.rev)).toBe(true);
    // The TTL counts from the last real change (40), not from a duplicate (55).
    expect(hints.put('p1', 0, 'k2', b, 55)).toBeUndefined();
    expect(hints.expire(59, 20)).toEqual([]);
    expect(hints.expire(60, 20)).toEqual([h3]);
    expect(hints.count()).toBe(0);
  });

  it('forKey returns the hints of a key for every owner, and nothing for a key without hints', () => {
    const hints = openHints(new Disk(), 'disk', 'u1');
    const a = fresh('a', 'n1@e');
    const b = fresh('b', 'n2@e');
    hints.put('p1', 3, 'k', a, 1);
    hints.put('p2', 3, 'k', b, 2);
    hints.put('p1', 4, 'other', b, 3);
    const forK = hints.forKey('k');
    expect(forK.map((h) => h.owner).sort()).toEqual(['p1', 'p2']);
    expect(forK.find((h) => h.owner === 'p1')!.clock).toEqual(a);
    expect(forK.find((h) => h.owner === 'p2')!.clock).toEqual(b);
    expect(hints.forKey('other').map((h) => h.owner)).toEqual(['p1']);
    expect(hints.forKey('none')).toEqual([]);
    // The same key for two owners is two hints: merged per owner, never across.
    expect(hints.count()).toBe(3);
    expect(hints.countByOwner()).toEqual({ p1: 2, p2: 1 });
  });

  it('owners are listed sorted, and only while they have hints', () => {
    const hints = openHints(new Disk(), 'disk', 'u1');
    const c = fresh('v', 'n1@e');
    const hz = changed(hints.put('z', 0, 'k1', c, 1));
    hints.put('a', 0, 'k2', c, 2);
    hints.put('m', 0, 'k3', c, 3);
    expect(hints.owners()).toEqual(['a', 'm', 'z']);
    expect(hints.remove('z', 'k1', hz.rev)).toBe(true);
    expect(hints.owners()).toEqual(['a', 'm']);
    expect(hints.countByOwner()).toEqual({ a: 1, m: 1 });
  });
});

// ---- ofOwner ------------------------------------------------------------------------------------

describe('hints of one owner, for handoff', () => {
  it('come oldest change first: a hint changed again moves to the back', () => {
    const hints = openHints(new Disk(), 'disk', 'u1');
    hints.put('p1', 0, 'k1', fresh('1', 'x@e'), 10);
    hints.put('p1', 0, 'k2', fresh('2', 'x@e'), 20);
    hints.put('p1', 0, 'k3', fresh('3', 'x@e'), 30);
    hints.put('p2', 0, 'k0', fresh('0', 'x@e'), 35);
    expect(keysOf(hints, 'p1')).toEqual(['k1', 'k2', 'k3']);
    hints.put('p1', 0, 'k1', fresh('1b', 'y@e'), 40);
    expect(keysOf(hints, 'p1')).toEqual(['k2', 'k3', 'k1']);
    expect(keysOf(hints, 'p2')).toEqual(['k0']);
  });

  it('stop at the limit, and give nothing for an owner without hints', () => {
    const hints = openHints(new Disk(), 'disk', 'u1');
    for (let i = 0; i < 5; i++) hints.put('p1', 0, `k${i}`, fresh(`v${i}`, 'x@e'), i);
    expect(keysOf(hints, 'p1', 2)).toEqual(['k0', 'k1']);
    expect(keysOf(hints, 'p1', 0)).toEqual([]);
    expect(keysOf(hints, 'p1', 99)).toEqual(['k0', 'k1', 'k2', 'k3', 'k4']);
    expect(hints.ofOwner('nobody', 10)).toEqual([]);
  });
});

// ---- remove -------------------------------------------------------------------------------------

describe('removing a handed-over hint', () => {
  it('deletes it at the revision that was sent', () => {
    const hints = openHints(new Disk(), 'disk', 'u1');
    const h = changed(hints.put('p1', 0, 'k', fresh('v', 'x@e'), 1));
    expect(hints.remove('p1', 'k', h.rev)).toBe(true);
    expect(hints.forKey('k')).toEqual([]);
    expect(hints.count()).toBe(0);
    expect(hints.owners()).toEqual([]);
    // Twice: nothing left to delete.
    expect(hints.remove('p1', 'k', h.rev)).toBe(false);
  });

  it('keeps a hint that changed after it was sent: its newer part has not been handed over', () => {
    const hints = openHints(new Disk(), 'disk', 'u1');
    const a = fresh('a', 'x@e');
    const sent = changed(hints.put('p1', 0, 'k', a, 1));
    const b = over(a, 'b', 'x@e');
    const newer = changed(hints.put('p1', 0, 'k', b, 2));
    expect(hints.remove('p1', 'k', sent.rev)).toBe(false);
    expect(hints.forKey('k')).toEqual([newer]);
    expect(values(hints.forKey('k')[0]!.clock)).toEqual(['b']);
    // The acknowledgement of the newer revision deletes it.
    expect(hints.remove('p1', 'k', newer.rev)).toBe(true);
    expect(hints.count()).toBe(0);
  });

  it('deletes only the named owner’s hint of the key', () => {
    const hints = openHints(new Disk(), 'disk', 'u1');
    const h1 = changed(hints.put('p1', 0, 'k', fresh('a', 'x@e'), 1));
    const h2 = changed(hints.put('p2', 0, 'k', fresh('b', 'y@e'), 2));
    expect(hints.remove('p2', 'k', h1.rev)).toBe(false);
    expect(hints.remove('p3', 'k', h1.rev)).toBe(false);
    expect(hints.remove('p1', 'other', h1.rev)).toBe(false);
    expect(hints.remove('p1', 'k', h1.rev)).toBe(true);
    expect(hints.forKey('k')).toEqual([h2]);
  });
});

// ---- expire -------------------------------------------------------------------------------------

describe('expiry', () => {
  it('removes hints unchanged for the TTL or longer (exactly the TTL expires), and returns them whole', () => {
    const hints = openHints(new Disk(), 'disk', 'u1');
    const old = changed(hints.put('p1', 3, 'old', fresh('1', 'x@e'), 0));
    const edge = changed(hints.put('p1', 4, 'edge', fresh('2', 'x@e'), 10));
    const young = changed(hints.put('p1', 5, 'young', fresh('3', 'x@e'), 11));
    // At 30 with a TTL of 20: ages 30, 20 (exactly the TTL) and 19.
    // Returned as held, oldest first: owner, partition, key and clock, for the node to keep the data.
    expect(hints.expire(30, 20)).toEqual([old, edge]);
    expect(keysOf(hints, 'p1')).toEqual(['young']);
    expect(hints.count()).toBe(1);
    // Nothing more until the young one's turn.
    expect(hints.expire(30, 20)).toEqual([]);
    expect(hints.expire(31, 20)).toEqual([young]);
    expect(hints.count()).toBe(0);
    expect(hints.owners()).toEqual([]);
  });

  it('one past the TTL boundary in the other direction keeps the hint', () => {
    const hints = openHints(new Disk(), 'disk', 'u1');
    hints.put('p1', 0, 'k', fresh('1', 'x@e'), 1_000);
    expect(hints.expire(1_000 + 3_599, 3_600)).toEqual([]);
    expect(hints.count()).toBe(1);
    expect(hints.expire(1_000 + 3_600, 3_600).map((h) => h.key)).toEqual(['k']);
    expect(hints.count()).toBe(0);
  });

  it('a hint changed again starts its TTL over', () => {
    const hints = openHints(new Disk(), 'disk', 'u1');
    hints.put('p1', 0, 'k1', fresh('1', 'x@e'), 0);
    hints.put('p1', 0, 'k2', fresh('2', 'x@e'), 5);
    hints.put('p1', 0, 'k1', fresh('1b', 'y@e'), 50);
    expect(hints.expire(60, 20).map((h) => h.key)).toEqual(['k2']);
    expect(keysOf(hints, 'p1')).toEqual(['k1']);
  });

  it('expires every owner’s old hints, and counts what is left per owner', () => {
    const hints = openHints(new Disk(), 'disk', 'u1');
    hints.put('p1', 0, 'a', fresh('1', 'x@e'), 0);
    hints.put('p2', 0, 'b', fresh('2', 'x@e'), 0);
    hints.put('p2', 0, 'c', fresh('3', 'x@e'), 100);
    hints.put('p3', 0, 'd', fresh('4', 'x@e'), 0);
    const gone = hints.expire(100, 50);
    expect(gone.map((h) => `${h.owner}/${h.key}`).sort()).toEqual(['p1/a', 'p2/b', 'p3/d']);
    expect(hints.countByOwner()).toEqual({ p2: 1 });
    expect(hints.owners()).toEqual(['p2']);
  });
});

// ---- mint ids -----------------------------------------------------------------------------------

describe("a key's hint id (no dot minted twice)", () => {
  it('is drawn once and kept while every hint holding its dots stays', () => {
    const hints = openHints(new Disk(), 'disk', 'u1');
    const ids = drawer();
    const id = hints.mintId('k', ids.draw);
    const minted = fresh('a', id);
    hints.put('p1', 0, 'k', minted, 1);
    hints.put('p2', 0, 'k', over(minted, 'b', id), 2);
    // A hint for the key that holds none of the id's dots (a write another node coordinated).
    const foreign = changed(hints.put('p3', 0, 'k', fresh('c', 'n1@e'), 3));
    expect(hints.mintId('k', ids.draw)).toBe(id);
    // That hint handed over: the hints holding the id's dots stay, so the id stays.
    expect(hints.remove('p3', 'k', foreign.rev)).toBe(true);
    expect(hints.mintId('k', ids.draw)).toBe(id);
    expect(ids.draws()).toBe(1);
  });

  it('is forgotten as soon as one hint holding any of its dots is handed over, though another hint for the key stays', () => {
    const hints = openHints(new Disk(), 'disk', 'u1');
    const ids = drawer();
    const id = hints.mintId('k', ids.draw);
    const h1 = changed(hints.put('p1', 0, 'k', fresh('a', id), 1));
    const h2 = changed(hints.put('p2', 0, 'k', fresh('a', id), 2));
    expect(hints.remove('p1', 'k', h1.rev)).toBe(true);
    // p2's hint still holds (id, 1), but the counter left with p1's hint: a new id.
    expect(hints.forKey('k')).toEqual([h2]);
    const next = hints.mintId('k', ids.draw);
    expect(next).not.toBe(id);
    expect(ids.draws()).toBe(2);
    // The new id is kept in turn until a hint holding its dots leaves; p2's hint holds none of them.
    changed(hints.put('p1', 0, 'k', update(clientWrite<StoredValue>({}, 'b'), h2.clock, next), 3));
    expect(hints.remove('p2', 'k', h2.rev)).toBe(true);
    expect(hints.mintId('k', ids.draw)).toBe(next);
    expect(ids.draws()).toBe(2);
  });

  it('is per key', () => {
    const hints = openHints(new Disk(), 'disk', 'u1');
    const ids = drawer();
    const k1 = hints.mintId('k1', ids.draw);
    const k2 = hints.mintId('k2', ids.draw);
    expect(k1).not.toBe(k2);
    expect(hints.mintId('k1', ids.draw)).toBe(k1);
    expect(ids.draws()).toBe(2);
  });

  it('is drawn anew once the last hint for the key is handed over, even one holding none of its dots', () => {
    const hints = openHints(new Disk(), 'disk', 'u1');
    const ids = drawer();
    const first = hints.mintId('k', ids.draw);
    const h1 = changed(hints.put('p1', 0, 'k', fresh('a', 'y@e'), 1));
    const h2 = changed(hints.put('p2', 0, 'k', fresh('b', 'z@e'), 2));
    expect(hints.remove('p1', 'k', h1.rev)).toBe(true);
    expect(hints.mintId('k', ids.draw)).toBe(first);
    expect(hints.remove('p2', 'k', h2.rev)).toBe(true);
    const second = hints.mintId('k', ids.draw);
    expect(second).not.toBe(first);
    expect(ids.draws()).toBe(2);
  });

  it('is drawn anew once the last hint for the key expires', () => {
    const hints = openHints(new Disk(), 'disk', 'u1');
    const ids = drawer();
    const first = hints.mintId('k', ids.draw);
    hints.put('p1', 0, 'k', fresh('a', first), 0);
    hints.put('p1', 0, 'other', fresh('b', 'x@e'), 100);
    expect(hints.expire(50, 50).map((h) => h.key)).toEqual(['k']);
    expect(hints.mintId('k', ids.draw)).not.toBe(first);
    expect(ids.draws()).toBe(2);
  });

  it('is not dropped by the removal of a hint for another key, nor by a refused removal', () => {
    const hints = openHints(new Disk(), 'disk', 'u1');
    const ids = drawer();
    const id = hints.mintId('k', ids.draw);
    const a = fresh('a', id);
    const old = changed(hints.put('p1', 0, 'k', a, 1));
    changed(hints.put('p1', 0, 'k', over(a, 'b', id), 2));
    const other = changed(hints.put('p1', 0, 'other', fresh('c', 'x@e'), 3));
    expect(hints.remove('p1', 'k', old.rev)).toBe(false);
    expect(hints.remove('p1', 'other', other.rev)).toBe(true);
    expect(hints.mintId('k', ids.draw)).toBe(id);
    expect(ids.draws()).toBe(1);
  });

  it('a fallback that minted under the key, handed over and minted again never repeats a dot', () => {
    // The kv679 scenario: the fallback counts from 1 each time it first holds the key; only a fresh id keeps the dots apart.
    const hints = openHints(new Disk(), 'disk', 'u1');
    const ids = drawer('n4@e~');
    const firstId = hints.mintId('k', ids.draw);
    const firstWrite = fresh('first', firstId);
    const h = changed(hints.put('p1', 0, 'k', firstWrite, 1));
    hints.remove('p1', 'k', h.rev); // handed over: the owner now holds (firstId, 1)
    const secondId = hints.mintId('k', ids.draw);
    const secondWrite = fresh('second', secondId); // counts from 1 again, nothing held here
    expect(secondId).not.toBe(firstId);
    // Two concurrent values, both kept at the owner.
    expect(values(sync(firstWrite, secondWrite)).sort()).toEqual(['first', 'second']);
    // Had the id been reused, (id, 1) would name both writes and the owner would keep only one.
    expect(values(sync(firstWrite, fresh('second', firstId)))).toHaveLength(1);
  });
});

describe('kv679 at store level: a fallback holding hints for two owners of one key', () => {
  it('after the hint holding its dots is handed over, the next mint id is fresh although the other hint stays, so no dot is minted twice', () => {
    const hints = openHints(new Disk(), 'disk', 'u1');
    const ids = drawer('n4@e~');
    const held = (): Clock => hints.forKey('k').reduce((c, h) => sync(c, h.clock), emptyClock<StoredValue>());
    // F (this store) takes p1's replicated write for p2, which is away: a hint for p2.
    const fromP1 = fresh('v1', 'p1@e');
    const forP2 = changed(hints.put('p2', 0, 'k', fromP1, 1));
    // No primary reachable: F coordinates a write as the fallback for p1, under the key's hint id.
    const firstId = hints.mintId('k', ids.draw);
    const first = update(clientWrite<StoredValue>({}, 'v2'), held(), firstId);
    const forP1 = changed(hints.put('p1', 0, 'k', first, 2));
    expect(latestDot(first, firstId)).toEqual({ id: firstId, counter: 1 });
    expect(forP1.clock.entries.some((e) => e.id === firstId)).toBe(true);
    expect(forP2.clock.entries.some((e) => e.id === firstId)).toBe(false);
    // p1 answers: its hint is handed over; p2's hint stays, so F still holds hints for the key.
    expect(hints.remove('p1', 'k', forP1.rev)).toBe(true);
    expect(hints.forKey('k')).toEqual([forP2]);
    // F coordinates again for p1: a fresh id, though a hint for the key is still here.
    const secondId = hints.mintId('k', ids.draw);
    expect(secondId).not.toBe(firstId);
    expect(ids.draws()).toBe(2);
    const second = update(clientWrite<StoredValue>({}, 'v3'), held(), secondId);
    expect(latestDot(second, secondId)).not.toEqual(latestDot(first, firstId));
    // p1 holds the first write; the second one reaches it as a concurrent sibling, nothing lost.
    expect(values(sync(first, second)).sort()).toEqual(['v1', 'v2', 'v3']);
    // Under the old id F would count from what it holds (nothing of that id), mint (firstId, 1)
    // again, and p1 would keep only one of v2 and v3.
    const reused = update(clientWrite<StoredValue>({}, 'v3'), held(), firstId);
    expect(latestDot(reused, firstId)).toEqual(latestDot(first, firstId));
    expect(values(sync(first, reused))).toHaveLength(2);
  });

  it('the same when the hint holding its dots expires instead', () => {
    const hints = openHints(new Disk(), 'disk', 'u1');
    const ids = drawer('n4@e~');
    const firstId = hints.mintId('k', ids.draw);
    hints.put('p1', 0, 'k', fresh('v2', firstId), 0);
    const forP2 = changed(hints.put('p2', 0, 'k', fresh('v1', 'p1@e'), 100));
    expect(hints.expire(50, 50).map((h) => h.owner)).toEqual(['p1']);
    expect(hints.forKey('k')).toEqual([forP2]);
    expect(hints.mintId('k', ids.draw)).not.toBe(firstId);
    expect(ids.draws()).toBe(2);
  });
});

// ---- where hints live ---------------------------------------------------------------------------

describe('hints on the disk area', () => {
  it("'disk' hints survive a re-open on the same disk, whatever the new start's uid: hints, order, revisions and ids", () => {
    const disk = new Disk();
    const before = openHints(disk, 'disk', 'u1');
    const ids = drawer();
    const id = before.mintId('k', ids.draw);
    const h1 = changed(before.put('p1', 0, 'k', fresh('a', id), 1));
    const h2 = changed(before.put('p1', 0, 'k2', fresh('b', 'x@e'), 2));
    const h3 = changed(before.put('p2', 0, 'k', fresh('c', 'y@e'), 3));

    const after = openHints(disk, 'disk', 'u2');
    expect(after.count()).toBe(3);
    expect(after.countByOwner()).toEqual({ p1: 2, p2: 1 });
    expect(keysOf(after, 'p1')).toEqual(['k', 'k2']);
    expect(after.forKey('k')).toEqual([h1, h3]);
    expect(after.mintId('k', ids.draw)).toBe(id);
    // Revisions go on from where they were: a new change is newer than anything sent before.
    expect(changed(after.put('p1', 0, 'k2', fresh('d', 'y@e'), 4)).rev).toBeGreaterThan(h3.rev);
    expect(after.remove('p1', 'k2', h2.rev)).toBe(false);
    // Handoffs acknowledged after the re-open still delete; the key's id stays while the hint
    // holding its dots does, and goes with it.
    expect(after.remove('p2', 'k', h3.rev)).toBe(true);
    expect(after.mintId('k', ids.draw)).toBe(id);
    expect(after.remove('p1', 'k', h1.rev)).toBe(true);
    expect(after.mintId('k', ids.draw)).not.toBe(id);
    expect(ids.draws()).toBe(2);
  });

  it("'memory' hints are kept for the same start (an actor restart) and gone for a new start, whose open drops the old slot", () => {
    const disk = new Disk();
    const ids = drawer();
    const first = openHints(disk, 'memory', 'u1');
    const id = first.mintId('k', ids.draw);
    first.put('p1', 0, 'k', fresh('a', id), 1);

    const sameStart = openHints(disk, 'memory', 'u1');
    expect(sameStart.count()).toBe(1);
    expect(sameStart.mintId('k', ids.draw)).toBe(id);

    const newStart = openHints(disk, 'memory', 'u2');
    expect(newStart.count()).toBe(0);
    expect(newStart.owners()).toEqual([]);
    expect(newStart.forKey('k')).toEqual([]);
    expect(newStart.mintId('k', ids.draw)).not.toBe(id);

    // The old start's slot is gone for good: nothing comes back under its uid.
    expect(openHints(disk, 'memory', 'u1').count()).toBe(0);
  });

  it('two disks are two nodes: nothing is shared', () => {
    const a = openHints(new Disk(), 'disk', 'u1');
    const b = openHints(new Disk(), 'disk', 'u1');
    a.put('p1', 0, 'k', fresh('a', 'x@e'), 1);
    expect(b.count()).toBe(0);
  });

  it("'disk' and 'memory' hints of one disk are separate", () => {
    const disk = new Disk();
    openHints(disk, 'disk', 'u1').put('p1', 0, 'k', fresh('a', 'x@e'), 1);
    expect(openHints(disk, 'memory', 'u1').count()).toBe(0);
    expect(openHints(disk, 'disk', 'u1').count()).toBe(1);
  });
});
