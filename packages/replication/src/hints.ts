/**
 * Hints: replicas a node holds for another (Dynamo §4.6). A fallback stores a write meant for an
 * unreachable primary here, with the primary's name, until it can hand the data over. Hints are
 * kept like data (principle 8): on the node's disk area beside the store, with the store's kind,
 * so they survive `kill` where data does and vanish with `restart-empty`.
 *
 * A node that coordinates a write as a fallback mints its dot under a *hint id* of the key
 * (`node@epoch~xxxxxxxx`), drawn when it first needs one and forgotten as soon as a hint holding
 * any of its dots leaves the store (handed over or expired). A fallback keeps no counter for a
 * key whose hint it no longer holds, so minting under the old id again could count from a
 * number already used, and mint a dot the owner holds under another value: a fresh id makes that
 * impossible (Riak fixed the same problem, kv679, with fresh vnode ids).
 */
import type { Disk } from '@starling/actors';
import { clockDescends, sync } from './dvv.ts';
import type { StoreKind, StoredClock } from './store.ts';

/** One hinted replica: a key's clock held for `owner`. */
export interface Hint {
  readonly owner: string;
  readonly partition: number;
  readonly key: string;
  readonly clock: StoredClock;
  /** When the hint last changed, in ms of the node's clock: it expires `hintTtlMs` after. */
  readonly updatedAtMs: number;
  /** Bumped on every change: a handoff acknowledged for an older revision does not delete it. */
  readonly rev: number;
}

interface HintArea {
  /** owner → key → hint. */
  readonly byOwner: Map<string, Map<string, Hint>>;
  /** key → the id this node mints the key's dots under while it holds hints for it. */
  readonly mintIds: Map<string, string>;
  nextRev: number;
}

/** The hints a node holds. */
export interface HintStore {
  /**
   * Merges `clock` into the hint for (`owner`, `key`); returns the hint, or undefined when it
   * already held everything in `clock` (a duplicate: nothing changes, not even its revision).
   */
  put(owner: string, partition: number, key: string, clock: StoredClock, nowMs: number): Hint | undefined;
  /** The hint for (`owner`, `key`), if held. */
  get(owner: string, key: string): Hint | undefined;
  /** Every hint for `key`, whatever its owner. */
  forKey(key: string): Hint[];
  /** Owners with hints, sorted. */
  owners(): string[];
  /** Up to `limit` hints for `owner`, oldest change first. */
  ofOwner(owner: string, limit: number): Hint[];
  /** Deletes the hint if it is still at revision `rev`; true when deleted. */
  remove(owner: string, key: string, rev: number): boolean;
  /** Removes the hints unchanged for `ttlMs` or more and returns them. */
  expire(nowMs: number, ttlMs: number): Hint[];
  /** The id to mint `key`'s dots under here, drawn with `draw` if the key has none yet. */
  mintId(key: string, draw: () => string): string;
  /** Hints held, in total and per owner. */
  count(): number;
  countByOwner(): Record<string, number>;
}

const AREA = 'starling.hints';

/** The hint store on the node's disk area, kept like the store of the same `kind` (see store.ts). */
export function openHints(disk: Disk, kind: StoreKind, nodeUid: string): HintStore {
  const area = disk.area<HintArea>(AREA);
  const slot = kind === 'disk' ? 'disk' : `memory:${nodeUid}`;
  if (kind === 'memory') for (const k of [...area.keys()]) if (k.startsWith('memory:') && k !== slot) area.delete(k);
  let data = area.get(slot);
  if (!data) {
    data = { byOwner: new Map(), mintIds: new Map(), nextRev: 1 };
    area.set(slot, data);
  }
  const { byOwner, mintIds } = data;
  const state = data;
  /** Keys with hints, and for how many owners: a key's mint id lives while the count is positive. */
  const holders = new Map<string, number>();
  for (const hints of byOwner.values()) for (const key of hints.keys()) holders.set(key, (holders.get(key) ?? 0) + 1);

  function drop(owner: string, key: string): void {
    const hints = byOwner.get(owner)!;
    // A hint holding dots of the key's mint id leaves: the id's counter leaves with it.
    const id = mintIds.get(key);
    if (id !== undefined && hints.get(key)!.clock.entries.some((e) => e.id === id)) mintIds.delete(key);
    hints.delete(key);
    if (hints.size === 0) byOwner.delete(owner);
    const left = holders.get(key)! - 1;
    if (left > 0) holders.set(key, left);
    else {
      holders.delete(key);
      mintIds.delete(key);
    }
  }

  return {
    put(owner, partition, key, clock, nowMs) {
      let hints = byOwner.get(owner);
      if (!hints) byOwner.set(owner, (hints = new Map()));
      const old = hints.get(key);
      if (old && clock.anonymous.length === 0 && clockDescends(old.clock, clock)) return undefined;
      if (!old) holders.set(key, (holders.get(key) ?? 0) + 1);
      // Map order is the order of first insertion: delete first so the oldest change stays first.
      hints.delete(key);
      const hint: Hint = { owner, partition, key, clock: old ? sync(old.clock, clock) : clock, updatedAtMs: nowMs, rev: state.nextRev++ };
      hints.set(key, hint);
      return hint;
    },
    get: (owner, key) => byOwner.get(owner)?.get(key),
    forKey(key) {
      const out: Hint[] = [];
      if (!holders.has(key)) return out;
      for (const hints of byOwner.values()) {
        const h = hints.get(key);
        if (h) out.push(h);
      }
      return out;
    },
    owners: () => [...byOwner.keys()].sort(),
    ofOwner(owner, limit) {
      const out: Hint[] = [];
      for (const h of byOwner.get(owner)?.values() ?? []) {
        if (out.length >= limit) break;
        out.push(h);
      }
      return out;
    },
    remove(owner, key, rev) {
      const h = byOwner.get(owner)?.get(key);
      if (!h || h.rev !== rev) return false;
      drop(owner, key);
      return true;
    },
    expire(nowMs, ttlMs) {
      const out: Hint[] = [];
      for (const [owner, hints] of [...byOwner]) {
        // Oldest change first: stop at the first hint still young.
        for (const h of [...hints.values()]) {
          if (nowMs - h.updatedAtMs < ttlMs) break;
          drop(owner, h.key);
          out.push(h);
        }
      }
      return out;
    },
    mintId(key, draw) {
      let id = mintIds.get(key);
      if (id === undefined) mintIds.set(key, (id = draw()));
      return id;
    },
    count() {
      let n = 0;
      for (const hints of byOwner.values()) n += hints.size;
      return n;
    },
    countByOwner: () => Object.fromEntries([...byOwner].map(([owner, hints]) => [owner, hints.size])),
  };
}
