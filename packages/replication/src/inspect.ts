/**
 * Reading the store from the host: each node's content, paged by partition so that no reply
 * outgrows `maxMessageBytes`, and whether the replicas of every key agree (the convergence the
 * demo times and the checker's final state). For tests, the demo and verification runs; the
 * store's own actors never call this.
 */
import { AskFailedError, type Cluster } from '@starling/actors';
import { type AntiEntropyMessage, antiEntropyRef, type TreeRoots } from './anti-entropy-protocol.ts';
import type { FinalState } from './checker.ts';
import type { DvvSet } from './dvv.ts';
import type { StorageDump, StorageRequest, StorageStats } from './protocol.ts';
import { partitionOf, preferenceList, type Ring } from './ring.ts';
import { storageRef } from './storage.ts';
import type { StoredClock } from './store.ts';

/** How a dump is read. */
export interface DumpOptions {
  /**
   * Partitions asked for in one message. Default: enough for about {@link KEYS_PER_PAGE} keys a
   * page, from the node's key count. A page that does not fit one message is split in halves.
   */
  readonly partitionsPerAsk?: number;
  /** Each ask's timeout, in ms. Default 5 000. */
  readonly timeoutMs?: number;
}

/** Keys a dump page aims at by default: about 0.5 MB of 100-byte values with their clocks. */
export const KEYS_PER_PAGE = 2_000;

/**
 * Everything `node` holds (its own replicas and its hints), read a page of partitions at a time.
 * In simulation, run it under `cluster.until`. Throws a RangeError when one partition alone does
 * not fit a message.
 */
export async function dumpStore(cluster: Cluster, node: string, partitionCount: number, options: DumpOptions = {}): Promise<StorageDump> {
  const timeoutMs = options.timeoutMs ?? 5_000;
  let step = options.partitionsPerAsk;
  if (step === undefined) {
    const stats = await cluster.ask<StorageRequest, StorageStats>(storageRef(node), (replyTo) => ({ type: 'st-stats', replyTo }), { timeoutMs });
    const pages = Math.max(1, Math.ceil((stats.keys + stats.hints) / KEYS_PER_PAGE));
    step = Math.ceil(partitionCount / pages);
  }
  if (!Number.isSafeInteger(step) || step < 1) throw new RangeError(`partitionsPerAsk must be a positive integer, got ${step}`);
  const keys: Record<string, StoredClock> = Object.create(null) as Record<string, StoredClock>;
  const hints: Record<string, readonly string[]> = Object.create(null) as Record<string, readonly string[]>;
  let replicaId = '';
  const read = async (partitions: readonly number[]): Promise<void> => {
    const page = await cluster.ask<StorageRequest, StorageDump>(storageRef(node), (replyTo) => ({ type: 'st-dump', partitions, replyTo }), { timeoutMs });
    if (page.isTooLarge === true) {
      if (partitions.length === 1) throw new RangeError(`partition ${partitions[0]} of ${node} does not fit one message (maxMessageBytes)`);
      const half = Math.ceil(partitions.length / 2);
      await read(partitions.slice(0, half));
      await read(partitions.slice(half));
      return;
    }
    replicaId = page.replicaId;
    for (const [k, clock] of Object.entries(page.keys)) keys[k] = clock;
    for (const [k, owners] of Object.entries(page.hints)) hints[k] = owners;
  };
  for (let first = 0; first < partitionCount; first += step) {
    await read(Array.from({ length: Math.min(step, partitionCount - first) }, (_, i) => first + i));
  }
  return { type: 'st-dump', node, replicaId, keys, hints };
}

/** Every named node's dump, by node. */
export async function dumpStores(cluster: Cluster, nodes: readonly string[], partitionCount: number, options: DumpOptions = {}): Promise<Record<string, StorageDump>> {
  const out: Record<string, StorageDump> = {};
  for (const node of nodes) out[node] = await dumpStore(cluster, node, partitionCount, options);
  return out;
}

/** The checker's final state: what each node holds (hints included, as a reader would find them). */
export function finalStateOf(dumps: Readonly<Record<string, StorageDump>>): FinalState {
  const final: Record<string, Readonly<Record<string, DvvSet<string | null>>>> = {};
  for (const [node, dump] of Object.entries(dumps)) final[node] = dump.keys as Readonly<Record<string, DvvSet<string | null>>>;
  return final;
}

/** How far the replicas are from agreeing. */
export interface Divergence {
  /** Keys some node holds. */
  readonly keys: number;
  /** Keys whose primaries do not all hold the same versions (a primary missing the key included, or a key only nodes off its replicas hold). */
  readonly divergentKeys: number;
  /** Hints held, over all nodes: data not yet at the replica it belongs to. */
  readonly hints: number;
  /** The first divergent key, for a message. */
  readonly example?: string;
}

/**
 * Compares the replicas of every key some node holds: converged when each key's `n` primaries
 * under `ring` (its owners; a change in progress is not considered) all hold it, in equal version
 * sets, and no node holds a hint. Nodes missing from `dumps` count as holding nothing. Pure.
 */
export function divergence(dumps: Readonly<Record<string, StorageDump>>, ring: Ring, n: number): Divergence {
  const all = new Set<string>();
  let hints = 0;
  for (const d of Object.values(dumps)) {
    for (const k of Object.keys(d.keys)) all.add(k);
    hints += Object.keys(d.hints).length;
  }
  let divergentKeys = 0;
  let example: string | undefined;
  for (const key of all) {
    const primaries = preferenceList(ring, partitionOf(ring, key), n);
    const seen = new Set(primaries.map((node) => canonical(dumps[node]?.keys[key])));
    // Every primary agreeing that it has nothing, while another node holds the key, is not agreement.
    if (seen.size > 1 || seen.has('-')) {
      divergentKeys++;
      example ??= key;
    }
  }
  return example === undefined ? { keys: all.size, divergentKeys, hints } : { keys: all.size, divergentKeys, hints, example };
}

/** Two clocks hold the same versions iff these strings are equal (entries are compared by id, in any order). */
function canonical(clock: StoredClock | undefined): string {
  if (clock === undefined) return '-';
  const entries = [...clock.entries].sort((a, b) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0));
  return JSON.stringify([entries.map((e) => [e.id, e.counter, e.values]), clock.anonymous]);
}

/**
 * Each running node's Merkle roots, as its store keeps them, or undefined when anti-entropy is
 * switched off (no node runs the actor that answers).
 */
export async function treeRoots(cluster: Cluster, nodes: readonly string[], timeoutMs = 10_000): Promise<Record<string, TreeRoots> | undefined> {
  const out: Record<string, TreeRoots> = {};
  let isOff = false;
  await Promise.all(
    nodes
      .filter((n) => cluster.nodeState(n) === 'running')
      .map(async (node) => {
        try {
          out[node] = await cluster.ask<AntiEntropyMessage, TreeRoots>(antiEntropyRef(node), (replyTo) => ({ type: 'ae-tree-roots-get', replyTo }), { timeoutMs });
        } catch (err) {
          if (!(err instanceof AskFailedError && err.reason === 'no-such-actor')) throw err;
          isOff = true;
        }
      }),
  );
  return isOff ? undefined : out;
}

/**
 * Partitions whose `n` primaries under `ring` keep different Merkle roots (a partition a primary
 * does not hold counts as empty, root `0:0`). Once every replica holds equal versions, any such
 * partition is a tree kept out of step with its data. Pure.
 */
export function rootDivergence(roots: Readonly<Record<string, TreeRoots>>, ring: Ring, n: number): { partitions: number; differing: number[] } {
  const byNode = new Map(Object.entries(roots).map(([node, r]) => [node, new Map(r.partitions.map((p, i) => [p, r.roots[i]!]))]));
  const differing: number[] = [];
  for (let p = 0; p < ring.partitionCount; p++) {
    const seen = new Set(preferenceList(ring, p, n).map((node) => byNode.get(node)?.get(p) ?? '0:0'));
    if (seen.size > 1) differing.push(p);
  }
  return { partitions: ring.partitionCount, differing };
}

