/**
 * Batches of a moving partition: what the sending node reads for one pull, and what the receiving
 * node checks before it merges anything.
 *
 * A batch is the partition's next keys after a cursor, in key order, packed once into one byte
 * string (a MessagePack sequence of `[key, clock]` pairs). Packing here rather than leaving it to
 * the router gives the exact size, so a batch stops at `maxBytes` however large the values (a
 * message past the codec's limit would be refused at the tell), and bytes moved are counted
 * exactly, not estimated. Key order makes the cursor a plain key: a pull names the last key it
 * has, so a lost or repeated batch is simply asked for again, and a restarted sender needs no
 * state to serve it.
 */
import { Packr, Unpackr } from 'msgpackr';
import { isStoredClock, type Store, type StoredClock } from './store.ts';

/** How large one batch may be. */
export interface BatchLimits {
  /** Keys per batch, at most. */
  readonly maxKeys: number;
  /** Packed bytes per batch, at most (one key larger than this still goes, alone). */
  readonly maxBytes: number;
}

/** One batch as the sender reads it. */
export interface Batch {
  readonly data: Uint8Array;
  readonly keys: number;
  /** The last key in the batch: the next pull starts after it. Null for an empty batch. */
  readonly lastKey: string | null;
  /** True when no key of the snapshot comes after this batch. */
  readonly isLast: boolean;
}

const packr = new Packr({ useRecords: false, moreTypes: true });
const unpackr = new Unpackr({ useRecords: false, moreTypes: true });

/** Index of the first key greater than `after` in sorted `keys` (0 for null). */
function firstAfter(keys: readonly string[], after: string | null): number {
  if (after === null) return 0;
  let lo = 0;
  let hi = keys.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (keys[mid]! <= after) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

/**
 * Reads the batch after `after` from `sortedKeys` (a snapshot of the partition's keys, sorted by
 * code unit): keys written since the snapshot reach the receiver as writes, which go to both
 * owners during the move.
 */
export function readBatch(store: Store, partition: number, sortedKeys: readonly string[], after: string | null, limits: BatchLimits): Batch {
  const parts: Uint8Array[] = [];
  let bytes = 0;
  let lastKey: string | null = null;
  let i = firstAfter(sortedKeys, after);
  for (; i < sortedKeys.length && parts.length < limits.maxKeys; i++) {
    const key = sortedKeys[i]!;
    const clock = store.get(partition, key);
    if (clock === undefined) continue;
    const packed = packr.pack([key, clock]);
    if (parts.length > 0 && bytes + packed.length > limits.maxBytes) break;
    parts.push(packed);
    bytes += packed.length;
    lastKey = key;
  }
  const data = new Uint8Array(bytes);
  let at = 0;
  for (const p of parts) {
    data.set(p, at);
    at += p.length;
  }
  return { data, keys: parts.length, lastKey, isLast: i >= sortedKeys.length };
}

/** Packs `[key, clock]` entries the way a batch is packed (anti-entropy's repairs travel so too). */
export function packEntries(entries: Iterable<readonly [string, StoredClock]>): Uint8Array {
  const parts: Uint8Array[] = [];
  let bytes = 0;
  for (const entry of entries) {
    const packed = packr.pack(entry);
    parts.push(packed);
    bytes += packed.length;
  }
  const data = new Uint8Array(bytes);
  let at = 0;
  for (const p of parts) {
    data.set(p, at);
    at += p.length;
  }
  return data;
}

/** Packs a list of keys (anti-entropy's bucket listings and asks). */
export function packKeys(keys: readonly string[]): Uint8Array {
  return packr.pack(keys);
}

/** The keys of {@link packKeys}, or undefined if `data` is not a list of store keys. */
export function decodeKeys(data: unknown): string[] | undefined {
  if (!(data instanceof Uint8Array)) return undefined;
  let keys: unknown;
  try {
    keys = unpackr.unpack(data);
  } catch {
    return undefined;
  }
  return Array.isArray(keys) && keys.every((k) => typeof k === 'string' && k.includes('/')) ? (keys as string[]) : undefined;
}

/**
 * The entries of a batch from another node, or undefined if any is not a store key with a
 * stored clock (the whole batch is then refused: nothing of it is merged).
 */
export function decodeBatch(data: unknown): [string, StoredClock][] | undefined {
  if (!(data instanceof Uint8Array)) return undefined;
  if (data.length === 0) return [];
  let items: unknown[];
  try {
    items = unpackr.unpackMultiple(data) as unknown[];
  } catch {
    return undefined;
  }
  const out: [string, StoredClock][] = [];
  for (const item of items) {
    if (!Array.isArray(item) || item.length !== 2) return undefined;
    const [key, clock] = item as [unknown, unknown];
    if (typeof key !== 'string' || !key.includes('/') || !isStoredClock(clock)) return undefined;
    out.push([key, clock]);
  }
  return out;
}
