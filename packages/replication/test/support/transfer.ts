/**
 * Helpers of the ownership-transfer tests: a simulated cluster whose ring starts with some of its
 * nodes, a steady load of clients that runs until told to stop (every operation recorded for the
 * checker), and a census of where every key sits once the ring has settled.
 */
import { whole } from './dump.ts';
import { type ActorRef, type SimulationCluster, startCluster } from '@starling/actors';
import { useGossip } from '@starling/gossip';
import {
  HistoryRecorder,
  KvClient,
  KvError,
  partitionOf,
  preferenceList,
  type ReplicationOptions,
  type Ring,
  RingAdmin,
  type StorageDump,
  type StorageRequest,
  storageRef,
  type VersionVector,
} from '../../src/index.ts';
import { useReplication } from '../../src/index.ts';
import { expect } from 'vitest';
import { check, formatViolations } from '../../src/index.ts';
import { awaitMembership, FAST_GOSSIP, finalState } from './workload.ts';
import { lcg } from './random.ts';

export interface TransferClusterOptions {
  readonly seed: number;
  readonly nodes: number;
  /** Nodes of the first ring (default the first three). */
  readonly ringMembers?: readonly string[];
  readonly gossip?: boolean;
  readonly replication?: ReplicationOptions;
  readonly maxMessageBytes?: number;
}

/** A simulated cluster with 1-10 ms latency, a ring of `ringMembers`, Q = 64 (so runs stay short), and fast ring gossip. */
/** Every ring any node adopted, by version: "two rings with one version never exist" as a check. */
export interface RingVersions {
  /** Rings adopted (all nodes, all versions). */
  readonly adopted: () => number;
  /** Each version adopted with more than one digest, as `v<version>: <digest>@<node>, ...`. */
  readonly conflicts: () => string[];
}

export async function transferCluster(o: TransferClusterOptions): Promise<{ cluster: SimulationCluster; admin: RingAdmin; rings: RingVersions }> {
  const cluster = await startCluster({
    runtime: 'simulation',
    seed: o.seed,
    nodes: o.nodes,
    network: { latency: { kind: 'uniform', minMs: 1, maxMs: 10 } },
    ...(o.maxMessageBytes !== undefined ? { maxMessageBytes: o.maxMessageBytes } : {}),
    ...(o.gossip === true ? { hostFailureDetector: false } : {}),
    plugins: [
      ...(o.gossip === true ? [useGossip(FAST_GOSSIP)] : []),
      useReplication({
        partitionCount: 64,
        ringGossipIntervalMs: 500,
        ringMembers: o.ringMembers ?? ['n1', 'n2', 'n3'],
        transferBatchKeys: 16,
        transferRetryMs: 500,
        ...o.replication,
        defaults: { timeoutMs: 1_000, ...o.replication?.defaults },
      }),
    ],
  });
  const seen = new Map<number, Map<number, string>>();
  let adopted = 0;
  cluster.events.on('custom', (e) => {
    const data = e.data as { kind?: unknown; version?: unknown; digest?: unknown };
    if (e.topic !== 'starling.ring' || data.kind !== 'ring-adopted') return;
    adopted++;
    const digests = seen.get(data.version as number) ?? new Map<number, string>();
    seen.set(data.version as number, digests);
    if (!digests.has(data.digest as number)) digests.set(data.digest as number, e.node);
  });
  const rings: RingVersions = {
    adopted: () => adopted,
    conflicts: () => [...seen].filter(([, d]) => d.size > 1).map(([v, d]) => `v${v}: ${[...d].map(([digest, node]) => `${digest}@${node}`).join(', ')}`),
  };
  if (o.gossip === true) await awaitMembership(cluster);
  return { cluster, admin: new RingAdmin(cluster), rings };
}

export interface Load {
  readonly history: HistoryRecorder;
  /** Stops the clients after their current operation; resolves when they have stopped. */
  stop(): Promise<void>;
}

/**
 * Clients doing read-modify-write cycles on `keys` keys, through the nodes of `via` in turn, until
 * stopped (or `maxOps` each). Each put carries the context of the client's last read of the key.
 */
export function steadyLoad(cluster: SimulationCluster, o: { seed: number; keys: number; clients?: number; via: readonly string[]; maxOps?: number }): Load {
  const history = new HistoryRecorder();
  const random = lcg(o.seed, 0x5bd1e995);
  let isStopped = false;
  let seq = 0;
  const loops = Array.from({ length: o.clients ?? 3 }, async (_, c) => {
    const client = new KvClient(cluster, { name: `c${c}`, recorder: history, nodes: o.via, graceMs: 200 });
    const contexts = new Map<string, VersionVector>();
    for (let i = 0; i < (o.maxOps ?? 100_000) && !isStopped; i++) {
      const key = `k${Math.floor(random() * o.keys)}`;
      const roll = random();
      try {
        if (roll < 0.4) contexts.set(key, (await client.get(key)).context);
        else if (roll < 0.95) {
          const context = contexts.get(key);
          contexts.set(key, (await client.put(key, `c${c}-${seq++}`, context ? { context } : {})).context);
        } else {
          const context = contexts.get(key);
          await client.delete(key, context ? { context } : {});
          contexts.delete(key);
        }
      } catch (err) {
        if (!(err instanceof KvError)) throw err;
      }
    }
  });
  const all = Promise.all(loops);
  return {
    history,
    async stop() {
      isStopped = true;
      await cluster.until(all, { timeoutMs: 120_000 });
    },
  };
}

/** Failed and unknown operations of a history. */
export function notOk(history: HistoryRecorder): string[] {
  return history.entries().filter((e) => e.completion?.outcome !== 'ok').map((e) => `${e.invocation.client} ${e.invocation.kind} ${e.invocation.key}: ${e.completion?.outcome ?? 'pending'} ${e.completion && 'error' in e.completion ? e.completion.error.message : ''}`);
}

export async function dumpOf(cluster: SimulationCluster, node: string): Promise<StorageDump> {
  return whole(await cluster.until(cluster.ask<StorageRequest, StorageDump>(storageRef(node), (replyTo: ActorRef<StorageDump>) => ({ type: 'st-dump', replyTo }), { timeoutMs: 5_000 })));
}

/**
 * Where every key sits against `ring` (settled): keys missing from one of their N replicas, and
 * keys held by a node that is not one of them (left behind). Hints are not counted.
 */
export async function census(cluster: SimulationCluster, ring: Ring, n = 3): Promise<{ keys: number; missing: string[]; leftBehind: string[] }> {
  const holders = new Map<string, Set<string>>();
  for (const node of cluster.nodes) {
    const d = await dumpOf(cluster, node);
    for (const key of Object.keys(d.keys)) {
      if (d.hints[key]?.length) continue;
      let set = holders.get(key);
      if (!set) holders.set(key, (set = new Set()));
      set.add(node);
    }
  }
  const missing: string[] = [];
  const leftBehind: string[] = [];
  for (const [key, set] of holders) {
    const replicas = preferenceList(ring, partitionOf(ring, key), n);
    for (const r of replicas) if (!set.has(r)) missing.push(`${key} not on ${r}`);
    for (const h of set) if (!replicas.includes(h)) leftBehind.push(`${key} still on ${h}`);
  }
  return { keys: holders.size, missing, leftBehind };
}

/**
 * Runs until no node holds a hint (handoff retries back off up to 32 rounds while a partition
 * lasts), then `extraMs` more, so stray data a late handoff left on a former replica is swept.
 */
export async function quiesce(cluster: SimulationCluster, extraMs = 2_000, timeoutMs = 120_000): Promise<void> {
  const kv = new KvClient(cluster);
  const deadline = cluster.now() + timeoutMs;
  for (;;) {
    let hints = 0;
    for (const node of cluster.nodes) hints += (await cluster.until(kv.stats(node))).storage.hints;
    if (hints === 0) break;
    if (cluster.now() > deadline) throw new Error(`${hints} hints still held after ${timeoutMs} ms`);
    await cluster.runFor(1_000);
  }
  await cluster.runFor(extraMs);
}

/**
 * The end of a transfer test: stops the load, optionally reads every key (read repair) and waits
 * for hints and strays to settle, then expects every key on exactly its replicas in `ring`, no
 * checker violation, no ring version adopted with two contents and, with `everyOpOk`, no failed
 * operation. Returns the census's key count and the checker's operation count.
 */
export async function expectClean(
  t: { readonly cluster: SimulationCluster; readonly rings: RingVersions; readonly load: Load },
  ring: Ring,
  o: { readonly everyOpOk?: boolean; readonly readKeys?: number; readonly quiesce?: boolean } = {},
): Promise<{ keys: number; ops: number }> {
  const { cluster, rings, load } = t;
  await load.stop();
  if (o.readKeys !== undefined) {
    const kv = new KvClient(cluster);
    for (let k = 0; k < o.readKeys; k++) await cluster.until(kv.get(`k${k}`));
  }
  const final = await finalState(cluster, 3_000);
  if (o.quiesce === true) await quiesce(cluster);
  const where = await census(cluster, ring);
  expect(where.missing).toEqual([]);
  expect(where.leftBehind).toEqual([]);
  if (o.everyOpOk === true) expect(notOk(load.history)).toEqual([]);
  const result = check({ history: load.history.entries(), final });
  expect(result.violations, formatViolations(result)).toEqual([]);
  expect(rings.adopted()).toBeGreaterThan(0);
  expect(rings.conflicts()).toEqual([]);
  return { keys: where.keys, ops: result.stats.ops };
}
