/**
 * Hints (Dynamo §4.6): the replicas a fallback holds for an unreachable primary, on the node's disk
 * area like the store. What handoff relies on: a hint merges every write it takes, is listed oldest
 * change first, is deleted only at the revision that was handed over, and expires after its TTL;
 * and what dot minting relies on: a key's hint id lives exactly as long as some hint for the key,
 * so a fallback never counts a key's dots from 1 again under an id the owner already holds.
 */
import { Disk } from '@starling/actors';
import { describe, expect, it } from 'vitest';
import { clientWrite, type DvvSet, emptyClock, join, sync, update, values } from '../src/dvv.ts';
import { type HintStore, openHints } from '../src/hints.ts';
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

function keysOf(hints: HintStore, owner: string, limit = Number.POSITIVE_INFINITY): string[] {
  return hints.ofOwner(owner, limit).map((h) => h.key);
}

// ---- put, forKey, owners --------------------------------------------------------------------------

describe('a hint takes writes', () => {
  it('the first put stores the clock as given, with its owner, partition, time and a revision', () => {
    const hints = openHints(new Disk(), 'disk', 'u1');
    const c = fresh('v1', 'n1@e');
    const h = hints.put('p1', 7, 'b/k', c, 100);
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
    const both = hints.put('p1', 0, 'k', b, 2);
    expect(both.clock).toEqual(sync(a, b));
    expect(values(both.clock).sort()).toEqual(['a', 'b']);
    // A write that read both replaces both.
    const c = over(sync(a, b), 'c', 'n1@e');
    const replaced = hints.put('p1', 0, 'k', c, 3);
    expect(values(replaced.clock)).toEqual(['c']);
    expect(replaced.clock).toEqual(sync(sync(a, b), c));
    // An older clock arriving late changes nothing of the data.
    const late = hints.put('p1', 0, 'k', a, 4);
    expect(late.clock).toEqual(replaced.clock);
    expect(hints.count()).toBe(1);
  });

  it('every put bumps the revision and the change time, even when the data is the same', () => {
    const hints = openHints(new Disk(), 'disk', 'u1');
    const c = fresh('v', 'n1@e');
    const first = hints.put('p1', 0, 'k', c, 10);
    const second = hints.put('p1', 0, 'k', c, 20);
    expect(second.rev).toBeGreaterThan(first.rev);
    expect(second.updatedAtMs).toBe(20);
    // Revisions are drawn across keys and owners, so no two hints ever share one.
    const other = hints.put('p2', 0, 'k2', c, 30);
    expect(other.rev).toBeGreaterThan(second.rev);
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
    const hz = hints.put('z', 0, 'k1', c, 1);
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
    const h = hints.put('p1', 0, 'k', fresh('v', 'x@e'), 1);
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
    const sent = hints.put('p1', 0, 'k', a, 1);
    const b = over(a, 'b', 'x@e');
    const changed = hints.put('p1', 0, 'k', b, 2);
    expect(hints.remove('p1', 'k', sent.rev)).toBe(false);
    expect(hints.forKey('k')).toEqual([changed]);
    expect(values(hints.forKey('k')[0]!.clock)).toEqual(['b']);
    // The acknowledgement of the newer revision deletes it.
    expect(hints.remove('p1', 'k', changed.rev)).toBe(true);
    expect(hints.count()).toBe(0);
  });

  it('deletes only the named owner’s hint of the key', () => {
    const hints = openHints(new Disk(), 'disk', 'u1');
    const h1 = hints.put('p1', 0, 'k', fresh('a', 'x@e'), 1);
    const h2 = hints.put('p2', 0, 'k', fresh('b', 'y@e'), 2);
    expect(hints.remove('p2', 'k', h1.rev)).toBe(false);
    expect(hints.remove('p3', 'k', h1.rev)).toBe(false);
    expect(hints.remove('p1', 'other', h1.rev)).toBe(false);
    expect(hints.remove('p1', 'k', h1.rev)).toBe(true);
    expect(hints.forKey('k')).toEqual([h2]);
  });
});

// ---- expire -------------------------------------------------------------------------------------

describe('expiry', () => {
  it('deletes hints unchanged for the TTL or longer (exactly the TTL expires), and counts them', () => {
    const hints = openHints(new Disk(), 'disk', 'u1');
    hints.put('p1', 0, 'old', fresh('1', 'x@e'), 0);
    hints.put('p1', 0, 'edge', fresh('2', 'x@e'), 10);
    hints.put('p1', 0, 'young', fresh('3', 'x@e'), 11);
    // At 30 with a TTL of 20: ages 30, 20 (exactly the TTL) and 19.
    expect(hints.expire(30, 20)).toBe(2);
    expect(keysOf(hints, 'p1')).toEqual(['young']);
    expect(hints.count()).toBe(1);
    // Nothing more until the young one's turn.
    expect(hints.expire(30, 20)).toBe(0);
    expect(hints.expire(31, 20)).toBe(1);
    expect(hints.count()).toBe(0);
    expect(hints.owners()).toEqual([]);
  });

  it('one past the TTL boundary in the other direction keeps the hint', () => {
    const hints = openHints(new Disk(), 'disk', 'u1');
    hints.put('p1', 0, 'k', fresh('1', 'x@e'), 1_000);
    expect(hints.expire(1_000 + 3_599, 3_600)).toBe(0);
    expect(hints.count()).toBe(1);
    expect(hints.expire(1_000 + 3_600, 3_600)).toBe(1);
  });

  it('a hint changed again starts its TTL over', () => {
    const hints = openHints(new Disk(), 'disk', 'u1');
    hints.put('p1', 0, 'k1', fresh('1', 'x@e'), 0);
    hints.put('p1', 0, 'k2', fresh('2', 'x@e'), 5);
    hints.put('p1', 0, 'k1', fresh('1b', 'y@e'), 50);
    expect(hints.expire(60, 20)).toBe(1);
    expect(keysOf(hints, 'p1')).toEqual(['k1']);
  });

  it('expires every owner’s old hints, and counts what is left per owner', () => {
    const hints = openHints(new Disk(), 'disk', 'u1');
    hints.put('p1', 0, 'a', fresh('1', 'x@e'), 0);
    hints.put('p2', 0, 'b', fresh('2', 'x@e'), 0);
    hints.put('p2', 0, 'c', fresh('3', 'x@e'), 100);
    hints.put('p3', 0, 'd', fresh('4', 'x@e'), 0);
    expect(hints.expire(100, 50)).toBe(3);
    expect(hints.countByOwner()).toEqual({ p2: 1 });
    expect(hints.owners()).toEqual(['p2']);
  });
});

// ---- mint ids -----------------------------------------------------------------------------------

describe("a key's hint id (no dot minted twice)", () => {
  it('is drawn once and kept while any hint for the key exists', () => {
    const hints = openHints(new Disk(), 'disk', 'u1');
    const ids = drawer();
    const id = hints.mintId('k', ids.draw);
    const h1 = hints.put('p1', 0, 'k', fresh('a', id), 1);
    hints.put('p2', 0, 'k', fresh('b', id), 2);
    expect(hints.mintId('k', ids.draw)).toBe(id);
    // One owner's hint handed over: the other still holds the key, so the id stays.
    expect(hints.remove('p1', 'k', h1.rev)).toBe(true);
    expect(hints.mintId('k', ids.draw)).toBe(id);
    expect(ids.draws()).toBe(1);
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

  it('is drawn anew once the last hint for the key is handed over', () => {
    const hints = openHints(new Disk(), 'disk', 'u1');
    const ids = drawer();
    const first = hints.mintId('k', ids.draw);
    const h1 = hints.put('p1', 0, 'k', fresh('a', first), 1);
    const h2 = hints.put('p2', 0, 'k', fresh('b', first), 2);
    hints.remove('p1', 'k', h1.rev);
    hints.remove('p2', 'k', h2.rev);
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
    expect(hints.expire(50, 50)).toBe(1);
    expect(hints.mintId('k', ids.draw)).not.toBe(first);
    expect(ids.draws()).toBe(2);
  });

  it('is not dropped by the removal of a hint for another key, nor by a refused removal', () => {
    const hints = openHints(new Disk(), 'disk', 'u1');
    const ids = drawer();
    const id = hints.mintId('k', ids.draw);
    const old = hints.put('p1', 0, 'k', fresh('a', id), 1);
    hints.put('p1', 0, 'k', fresh('b', id), 2);
    const other = hints.put('p1', 0, 'other', fresh('c', 'x@e'), 3);
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
    const h = hints.put('p1', 0, 'k', firstWrite, 1);
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

// ---- where hints live ---------------------------------------------------------------------------

describe('hints on the disk area', () => {
  it("'disk' hints survive a re-open on the same disk, whatever the new start's uid: hints, order, revisions and ids", () => {
    const disk = new Disk();
    const before = openHints(disk, 'disk', 'u1');
    const ids = drawer();
    const id = before.mintId('k', ids.draw);
    const h1 = before.put('p1', 0, 'k', fresh('a', id), 1);
    const h2 = before.put('p1', 0, 'k2', fresh('b', 'x@e'), 2);
    const h3 = before.put('p2', 0, 'k', fresh('c', id), 3);

    const after = openHints(disk, 'disk', 'u2');
    expect(after.count()).toBe(3);
    expect(after.countByOwner()).toEqual({ p1: 2, p2: 1 });
    expect(keysOf(after, 'p1')).toEqual(['k', 'k2']);
    expect(after.forKey('k')).toEqual([h1, h3]);
    expect(after.mintId('k', ids.draw)).toBe(id);
    // Revisions go on from where they were: a new change is newer than anything sent before.
    expect(after.put('p1', 0, 'k2', fresh('d', 'y@e'), 4).rev).toBeGreaterThan(h3.rev);
    expect(after.remove('p1', 'k2', h2.rev)).toBe(false);
    // Handoffs acknowledged after the re-open still delete, and the key's id goes with its last hint.
    expect(after.remove('p1', 'k', h1.rev)).toBe(true);
    expect(after.mintId('k', ids.draw)).toBe(id);
    expect(after.remove('p2', 'k', h3.rev)).toBe(true);
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
