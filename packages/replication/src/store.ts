/**
 * The store behind `/system/storage`: per key, a dotted version vector set of values, organised by
 * partition so that a partition can be listed, streamed and hashed without touching the others.
 * It lives on the node's disk area, outside the actor (principle 8): a crash of the storage actor
 * restarts the actor, never the data.
 *
 * - `disk`: survives `kill` and `restart` in simulation and local runtimes; `restartEmpty` wipes it.
 *   (In threads the disk lives in the node's worker and dies with it: every restart is empty.)
 * - `memory`: kept per start of the node (keyed by node uid), so any restart begins empty; a crash
 *   of the actor alone keeps it.
 */
import type { Disk } from '@starling/actors';
import { type DvvSet, isDvvSet } from './dvv.ts';
import { depthFor, type MerkleTree } from './merkle.ts';
import { bucketHash, pairHash, treeOf } from './version-hash.ts';

/** A stored value: the application's data, or `null` for a tombstone (a delete). */
export type StoredValue = unknown;

/** What one key holds. */
export type StoredClock = DvvSet<StoredValue>;

/**
 * Checks a stored clock from another node: a dotted version vector set whose every value has its
 * coordinator's dot (stores never hold anonymous values; those are a client write's, and only
 * inside a coordinator), so no peer can plant values that merging would have to compare.
 */
export function isStoredClock(x: unknown): x is StoredClock {
  return isDvvSet(x) && x.anonymous.length === 0;
}

/** Where a store keeps its data. */
export type StoreKind = 'disk' | 'memory';

/** The store interface the storage actor uses; a custom store implements the same. */
export interface Store {
  /**
   * A random id minted when the store was created empty, kept as long as it lives: with the node
   * name it forms the replica id under which this node mints dots, so a node restarted empty can
   * never mint a dot another replica already holds (principle 6).
   */
  readonly epoch: string;
  get(partition: number, key: string): StoredClock | undefined;
  put(partition: number, key: string, clock: StoredClock): void;
  /** Keys of one partition. */
  keys(partition: number): string[];
  /** Partitions that hold at least one key. */
  partitions(): number[];
  /**
   * Forgets a whole partition (after a ring change moved it to its new owners); returns the keys
   * dropped. Bumps the partition's generation.
   */
  drop(partition: number): number;
  /**
   * How many times this store dropped `partition` (0 at first). A node that coordinates writes of
   * a partition again after dropping it mints under a new replica id for each generation: its
   * dots under the old id live on elsewhere, and counting them again from its now empty store
   * would mint a dot twice (Riak's kv679).
   */
  generation(partition: number): number;
  /**
   * The partition's Merkle tree (merkle.ts), built from the store on first use (so after every
   * restart) at the depth its size asks for, then kept up to date by every `put` and `drop` in
   * O(depth). Rebuilt deeper once the partition has doubled past its depth's share.
   */
  tree(partition: number): MerkleTree;
  /** The keys of `partition` whose every current value is a tombstone (a delete). */
  tombstones(partition: number): string[];
  /**
   * Forgets one key: only tombstone collection does this (anti-entropy.ts), once every primary
   * holds the tombstone and the grace period has passed. True if the key was held.
   */
  remove(partition: number, key: string): boolean;
}

/** Whether a clock holds only tombstones: at least one value, every one a delete. */
export function isTombstone(clock: StoredClock): boolean {
  let values = 0;
  for (const e of clock.entries) {
    for (const v of e.values) if (v !== null) return false;
    values += e.values.length;
  }
  return values > 0;
}

/** Trees are derived data: kept beside a store's data, per start of the node, never on its disk. */
interface Trees {
  readonly nodeUid: string;
  readonly byPartition: Map<number, MerkleTree>;
  /** Tombstone keys per partition, found on first ask and kept up to date by writes after. */
  readonly tombs: Map<number, Set<string>>;
}

const treesOf = new WeakMap<StoreArea, Trees>();

/** Keys per leaf bucket the depth aims at (a bucket's keys are what an exchange lists). */
export const KEYS_PER_BUCKET = 4;

interface StoreArea {
  epoch: string;
  readonly partitions: Map<number, Map<string, StoredClock>>;
  readonly generations: Map<number, number>;
}

/** A store on the node's disk area. `mintEpoch` draws the epoch if the store is created empty now. */
export function openStore(disk: Disk, kind: StoreKind, nodeUid: string, mintEpoch: () => string): Store {
  const area = disk.area<StoreArea>('starling.kv');
  const key = kind === 'disk' ? 'disk' : `memory:${nodeUid}`;
  if (kind === 'memory') for (const k of [...area.keys()]) if (k.startsWith('memory:') && k !== key) area.delete(k);
  let data = area.get(key);
  if (!data) {
    data = { epoch: mintEpoch(), partitions: new Map(), generations: new Map() };
    area.set(key, data);
  }
  const { partitions, generations } = data;
  let trees = treesOf.get(data);
  if (trees === undefined || trees.nodeUid !== nodeUid) {
    trees = { nodeUid, byPartition: new Map(), tombs: new Map() };
    treesOf.set(data, trees);
  }
  const { byPartition, tombs } = trees;
  return {
    epoch: data.epoch,
    get: (partition, k) => partitions.get(partition)?.get(k),
    put(partition, k, clock) {
      let p = partitions.get(partition);
      if (!p) {
        p = new Map();
        partitions.set(partition, p);
      }
      const tree = byPartition.get(partition);
      if (tree !== undefined) {
        const old = p.get(k);
        const bucket = tree.bucketOf(bucketHash(k));
        if (old !== undefined) tree.toggle(bucket, pairHash(k, old));
        tree.toggle(bucket, pairHash(k, clock));
        // Past twice its depth's share of keys, the next use rebuilds it deeper.
        if (old === undefined && p.size + 1 > 2 * KEYS_PER_BUCKET * 2 ** tree.depth) byPartition.delete(partition);
      }
      p.set(k, clock);
      const t = tombs.get(partition);
      if (t !== undefined) {
        if (isTombstone(clock)) t.add(k);
        else t.delete(k);
      }
    },
    keys: (partition) => [...(partitions.get(partition)?.keys() ?? [])],
    partitions: () => [...partitions.keys()].sort((a, b) => a - b),
    drop(partition) {
      const count = partitions.get(partition)?.size ?? 0;
      partitions.delete(partition);
      byPartition.delete(partition);
      tombs.delete(partition);
      generations.set(partition, (generations.get(partition) ?? 0) + 1);
      return count;
    },
    generation: (partition) => generations.get(partition) ?? 0,
    tombstones(partition) {
      let t = tombs.get(partition);
      if (t === undefined) {
        t = new Set();
        for (const [k, clock] of partitions.get(partition) ?? []) if (isTombstone(clock)) t.add(k);
        tombs.set(partition, t);
      }
      return [...t];
    },
    remove(partition, k) {
      const p = partitions.get(partition);
      const old = p?.get(k);
      if (p === undefined || old === undefined) return false;
      const tree = byPartition.get(partition);
      if (tree !== undefined) tree.toggle(tree.bucketOf(bucketHash(k)), pairHash(k, old));
      p.delete(k);
      tombs.get(partition)?.delete(k);
      return true;
    },
    tree(partition) {
      let tree = byPartition.get(partition);
      if (tree === undefined) {
        const p = partitions.get(partition) ?? new Map<string, StoredClock>();
        tree = treeOf(depthFor(p.size, KEYS_PER_BUCKET), p);
        byPartition.set(partition, tree);
      }
      return tree;
    },
  };
}
