/**
 * Batches of a moving partition (transfer-batch.ts). What the move relies on: a sender reads the
 * next keys after the receiver's cursor, in key order, within both limits (a key larger than
 * maxBytes still goes, alone, or the move would stall on it); `isLast` only when nothing of the
 * snapshot is left, so the receiver neither stops early nor pulls forever; keys gone from the
 * store since the snapshot are skipped. The receiver decodes exactly what was read, and refuses a
 * whole batch if any entry is not a store key with a stored clock (no peer can plant anonymous
 * values or a malformed clock through a transfer).
 */
import { Disk } from '@starling/actors';
import fc from 'fast-check';
import { pack } from 'msgpackr';
import { describe, expect, it } from 'vitest';
import { simIt } from '../../../scripts/testing/seed.ts';
import { type Batch, type BatchLimits, clientWrite, decodeBatch, emptyClock, readBatch, type Store, type StoredClock, type StoredValue, openStore, update } from '../src/index.ts';

// ---- helpers ------------------------------------------------------------------------------------

const P = 5;

/** A write of `value` coordinated by `id`, seeing nothing: a stored clock (its value has a dot). */
function stored(value: StoredValue, id = 'n1@e1'): StoredClock {
  return update(clientWrite<StoredValue>({}, value), emptyClock(), id);
}

/** Two concurrent writes by different coordinators: a clock with siblings. */
function siblings(a: StoredValue, b: StoredValue): StoredClock {
  const first = stored(a, 'n1@e1');
  return update(clientWrite<StoredValue>({}, b), first, 'n2@e2');
}

function newStore(): Store {
  return openStore(new Disk(), 'disk', 'u1', () => 'epoch-1');
}

/** A store holding `entries` in partition P, and its sorted key snapshot. */
function storeWith(entries: readonly [string, StoredClock][]): { store: Store; keys: string[] } {
  const store = newStore();
  for (const [k, c] of entries) store.put(P, k, c);
  return { store, keys: store.keys(P).sort() };
}

function keyNames(count: number): string[] {
  return Array.from({ length: count }, (_, i) => `b/k${String(i).padStart(3, '0')}`);
}

/** Pulls batch after batch, as a receiver would, until the last one; fails on a runaway loop. */
function pullAll(store: Store, keys: readonly string[], limits: BatchLimits): Batch[] {
  const out: Batch[] = [];
  let after: string | null = null;
  for (let guard = 0; guard <= keys.length + 1; guard++) {
    const batch = readBatch(store, P, keys, after, limits);
    out.push(batch);
    if (batch.isLast) return out;
    // A batch that is not the last must move the cursor, or the next pull asks the same again.
    expect(batch.lastKey).not.toBeNull();
    after = batch.lastKey;
  }
  throw new Error(`no last batch after ${keys.length + 2} pulls`);
}

/** The packed size of one entry alone (a batch of one key). */
function entrySize(store: Store, keys: readonly string[], key: string): number {
  const i = keys.indexOf(key);
  return readBatch(store, P, keys, i === 0 ? null : keys[i - 1]!, { maxKeys: 1, maxBytes: Number.MAX_SAFE_INTEGER }).data.length;
}

// ---- readBatch ----------------------------------------------------------------------------------

describe('readBatch', () => {
  const { store, keys } = storeWith(keyNames(10).map((k, i) => [k, stored(`v${i}`)]));
  const roomy = Number.MAX_SAFE_INTEGER;

  it('reads at most maxKeys keys, in key order from the start, and says where the next pull starts', () => {
    const batch = readBatch(store, P, keys, null, { maxKeys: 3, maxBytes: roomy });
    expect(batch.keys).toBe(3);
    expect(batch.lastKey).toBe('b/k002');
    expect(batch.isLast).toBe(false);
    expect(decodeBatch(batch.data)).toEqual(keys.slice(0, 3).map((k) => [k, store.get(P, k)]));
  });

  it('continues strictly after the cursor, whether or not the cursor is itself a key', () => {
    const next = readBatch(store, P, keys, 'b/k002', { maxKeys: 3, maxBytes: roomy });
    expect(decodeBatch(next.data)!.map(([k]) => k)).toEqual(['b/k003', 'b/k004', 'b/k005']);
    // A cursor between two keys (say the key it named was deleted): the next key after it.
    const between = readBatch(store, P, keys, 'b/k0035', { maxKeys: 2, maxBytes: roomy });
    expect(decodeBatch(between.data)!.map(([k]) => k)).toEqual(['b/k004', 'b/k005']);
  });

  it('is last exactly when the snapshot has no key after it, even when maxKeys ends on the last key', () => {
    expect(readBatch(store, P, keys, 'b/k006', { maxKeys: 3, maxBytes: roomy })).toMatchObject({ keys: 3, lastKey: 'b/k009', isLast: true });
    expect(readBatch(store, P, keys, 'b/k005', { maxKeys: 3, maxBytes: roomy })).toMatchObject({ keys: 3, lastKey: 'b/k008', isLast: false });
    expect(readBatch(store, P, keys, null, { maxKeys: 100, maxBytes: roomy })).toMatchObject({ keys: 10, lastKey: 'b/k009', isLast: true });
  });

  it('past the last key, and for an empty partition, is an empty last batch', () => {
    const past = readBatch(store, P, keys, 'b/k009', { maxKeys: 3, maxBytes: roomy });
    expect(past).toMatchObject({ keys: 0, lastKey: null, isLast: true });
    expect(past.data).toHaveLength(0);
    expect(decodeBatch(past.data)).toEqual([]);
    expect(readBatch(newStore(), P, [], null, { maxKeys: 3, maxBytes: roomy })).toMatchObject({ keys: 0, lastKey: null, isLast: true });
  });

  it('stops before the key that would take the batch past maxBytes', () => {
    const size = entrySize(store, keys, 'b/k000');
    // All entries here are the same size: room for two and a half.
    const batch = readBatch(store, P, keys, null, { maxKeys: 100, maxBytes: Math.floor(size * 2.5) });
    expect(batch.keys).toBe(2);
    expect(batch.data.length).toBe(2 * size);
    expect(batch.isLast).toBe(false);
    // Exactly full is not over.
    expect(readBatch(store, P, keys, null, { maxKeys: 100, maxBytes: 3 * size }).keys).toBe(3);
  });

  it('sends a key larger than maxBytes alone, so the move never stalls on it', () => {
    const big = stored('x'.repeat(5_000));
    const { store, keys } = storeWith([
      ['b/a', stored('small')],
      ['b/b', big],
      ['b/c', stored('small')],
    ]);
    const limits = { maxKeys: 10, maxBytes: 200 };
    const first = readBatch(store, P, keys, null, limits);
    expect(first).toMatchObject({ keys: 1, lastKey: 'b/a', isLast: false });
    const second = readBatch(store, P, keys, 'b/a', limits);
    expect(second).toMatchObject({ keys: 1, lastKey: 'b/b', isLast: false });
    expect(second.data.length).toBeGreaterThan(5_000);
    expect(decodeBatch(second.data)).toEqual([['b/b', big]]);
    expect(readBatch(store, P, keys, 'b/b', limits)).toMatchObject({ keys: 1, lastKey: 'b/c', isLast: true });
  });

  it('skips snapshot keys no longer in the partition, without counting them against maxKeys', () => {
    const { store } = storeWith([
      ['b/a', stored(1)],
      ['b/c', stored(3)],
      ['b/e', stored(5)],
    ]);
    // b/b and b/d were in the snapshot but deleted (or dropped) since; b/x lives in another partition.
    store.put(P + 1, 'b/x', stored('elsewhere'));
    const snapshot = ['b/a', 'b/b', 'b/c', 'b/d', 'b/e', 'b/x'];
    const batch = readBatch(store, P, snapshot, null, { maxKeys: 2, maxBytes: roomy });
    expect(decodeBatch(batch.data)!.map(([k]) => k)).toEqual(['b/a', 'b/c']);
    expect(batch.keys).toBe(2);
    const rest = readBatch(store, P, snapshot, batch.lastKey, { maxKeys: 2, maxBytes: roomy });
    expect(decodeBatch(rest.data)!.map(([k]) => k)).toEqual(['b/e']);
    // Only absent keys remain after b/e: the snapshot is exhausted, so this is the last batch.
    expect(rest).toMatchObject({ keys: 1, lastKey: 'b/e', isLast: true });
  });

  simIt('pulling until the last batch delivers every present key once, in order, each batch within its limits', 7101, (seed) => {
    const arb = fc.record({
      // Any code units, '/' included: the snapshot is sorted by code unit and so is the cursor.
      keys: fc.uniqueArray(fc.string({ minLength: 0, maxLength: 6, unit: 'binary' }), { maxLength: 40 }),
      absent: fc.array(fc.boolean(), { minLength: 40, maxLength: 40 }),
      sizes: fc.array(fc.integer({ min: 0, max: 300 }), { minLength: 40, maxLength: 40 }),
      maxKeys: fc.integer({ min: 1, max: 12 }),
      maxBytes: fc.integer({ min: 1, max: 1_500 }),
    });
    fc.assert(
      fc.property(arb, ({ keys: suffixes, absent, sizes, maxKeys, maxBytes }) => {
        const snapshot = suffixes.map((s) => `b/${s}`).sort();
        const store = newStore();
        snapshot.forEach((k, i) => {
          if (!absent[i]) store.put(P, k, i % 3 === 0 ? siblings(i, 'y'.repeat(sizes[i]!)) : stored('x'.repeat(sizes[i]!)));
        });
        const present = snapshot.filter((k) => store.get(P, k) !== undefined);
        const batches = pullAll(store, snapshot, { maxKeys, maxBytes });
        const delivered = batches.flatMap((b) => {
          const entries = decodeBatch(b.data);
          expect(entries).toBeDefined();
          expect(entries).toHaveLength(b.keys);
          expect(b.lastKey).toBe(b.keys === 0 ? null : entries![entries!.length - 1]![0]);
          expect(b.keys).toBeLessThanOrEqual(maxKeys);
          if (b.keys > 1) expect(b.data.length).toBeLessThanOrEqual(maxBytes);
          return entries!;
        });
        expect(delivered.map(([k]) => k)).toEqual(present);
        for (const [k, clock] of delivered) expect(clock).toEqual(store.get(P, k));
        // Only the final batch is last.
        expect(batches.slice(0, -1).every((b) => !b.isLast)).toBe(true);
        // Batches are full: a batch that is not the last stopped at maxKeys or because the next key would not fit.
        for (const b of batches.slice(0, -1)) {
          if (b.keys === maxKeys) continue;
          const next = present[present.indexOf(b.lastKey!) + 1]!;
          expect(b.data.length + entrySize(store, snapshot.filter((k) => store.get(P, k) !== undefined), next)).toBeGreaterThan(maxBytes);
        }
      }),
      { seed, numRuns: 300 },
    );
  });
});

// ---- decodeBatch --------------------------------------------------------------------------------

describe('decodeBatch', () => {
  it('round-trips what readBatch packed: values of any shape, tombstones, siblings', () => {
    const entries: [string, StoredClock][] = [
      ['b/bytes', stored(new Uint8Array([0, 1, 255]))],
      ['b/nested', stored({ a: [1, 2, { b: 'c' }], d: true, e: 1.5 })],
      ['b/siblings', siblings('left', 'right')],
      ['b/tombstone', stored(null)],
      ['b/unicode/é', stored('💾')],
    ];
    const { store, keys } = storeWith(entries);
    const batch = readBatch(store, P, keys, null, { maxKeys: 10, maxBytes: 10_000 });
    expect(decodeBatch(batch.data)).toEqual(entries);
    // As it arrives from another node: a Buffer (a Uint8Array) or a plain copy.
    expect(decodeBatch(Buffer.from(batch.data))).toEqual(entries);
    expect(decodeBatch(new Uint8Array(batch.data))).toEqual(entries);
  });

  it('decodes an empty byte string to no entries', () => {
    expect(decodeBatch(new Uint8Array(0))).toEqual([]);
  });

  it('refuses anything that is not a Uint8Array', () => {
    const { store, keys } = storeWith([['b/k', stored('v')]]);
    const data = readBatch(store, P, keys, null, { maxKeys: 10, maxBytes: 10_000 }).data;
    for (const x of [undefined, null, 'b/k', 42, [...data], { data }, data.buffer]) expect(decodeBatch(x), String(x)).toBeUndefined();
  });

  it('refuses garbage and truncated bytes', () => {
    const { store, keys } = storeWith([
      ['b/a', stored('v')],
      ['b/b', stored('w')],
    ]);
    const data = readBatch(store, P, keys, null, { maxKeys: 10, maxBytes: 10_000 }).data;
    expect(decodeBatch(data.subarray(0, data.length - 1))).toBeUndefined();
    expect(decodeBatch(new Uint8Array([1, 2, 3]))).toBeUndefined(); // three numbers, not entries
    expect(decodeBatch(new Uint8Array([0xc1]))).toBeUndefined(); // a byte MessagePack never uses
    expect(decodeBatch(new Uint8Array([0xde, 0xff, 0xff]))).toBeUndefined(); // a map of 65535 entries, cut short
  });

  // Each bad entry is checked beside the same entry made valid, so the refusal is for the stated reason.
  const good = stored('v');
  const cases: [string, unknown, unknown][] = [
    ['a key without "/"', ['nokey', good], ['b/nokey', good]],
    ['a key that is not a string', [42, good], ['b/42', good]],
    ['a clock with an anonymous value (a client write no coordinator dotted)', ['b/k', clientWrite<StoredValue>({}, 'v')], ['b/k', good]],
    ['a clock whose entries are not sorted by id', ['b/k', { entries: [...siblings('x', 'y').entries].reverse(), anonymous: [] }], ['b/k', siblings('x', 'y')]],
    ['a clock with more values than events', ['b/k', { entries: [{ id: 'n1@e1', counter: 1, values: ['a', 'b'] }], anonymous: [] }], ['b/k', { entries: [{ id: 'n1@e1', counter: 2, values: ['a', 'b'] }], anonymous: [] }]],
    ['a clock that is not a clock', ['b/k', 'v'], ['b/k', good]],
    ['an entry of three elements', ['b/k', good, 'extra'], ['b/k', good]],
    ['an entry that is not an array', { key: 'b/k', clock: good }, ['b/k', good]],
  ];
  for (const [name, bad, control] of cases) {
    it(`refuses the whole batch for ${name}`, () => {
      expect(decodeBatch(pack(control))).toEqual([control]);
      expect(decodeBatch(pack(bad))).toBeUndefined();
      // One bad entry among good ones: nothing of the batch is merged.
      const mixed = Buffer.concat([pack(['b/first', good]), pack(bad), pack(['b/last', good])]);
      expect(decodeBatch(mixed)).toBeUndefined();
    });
  }
});
