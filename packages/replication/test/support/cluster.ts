/**
 * Helpers of the availability tests: a 5-node simulated cluster (optionally with membership), a
 * key's replicas as every node computes them, and what a node holds and counts.
 */
import { whole } from './dump.ts';
import { type ActorRef, type SimulationCluster, startCluster } from '@starling/actors';
import { useGossip } from '@starling/gossip';
import {
  createRing,
  type KvClient,
  type NodeStats,
  partitionOf,
  preferenceList,
  type ReplicationOptions,
  type StorageDump,
  type StorageRequest,
  storageRef,
  storeKey,
  useReplication,
  values,
} from '../../src/index.ts';
import { awaitMembership, FAST_GOSSIP } from './workload.ts';

const LATENCY = { kind: 'uniform', minMs: 1, maxMs: 10 } as const;

export interface Cluster5Options {
  /** Run the membership plugin (fast probes) and wait until every node sees every node. */
  readonly gossip?: boolean;
  readonly replication?: ReplicationOptions;
  readonly network?: Parameters<typeof startCluster>[0]['network'];
}

/** Five simulated nodes with the store, 1-10 ms latency unless told otherwise. */
export async function cluster5(seed: number, o: Cluster5Options = {}): Promise<SimulationCluster> {
  const cluster = await startCluster({
    runtime: 'simulation',
    seed,
    nodes: 5,
    network: o.network ?? { latency: LATENCY },
    ...(o.gossip === true ? { hostFailureDetector: false } : {}),
    plugins: [...(o.gossip === true ? [useGossip(FAST_GOSSIP)] : []), useReplication(o.replication)],
  });
  if (o.gossip === true) await awaitMembership(cluster);
  return cluster;
}

/** Every node of the ring in the key's preference order: the primaries first, then the spares. */
export function order(cluster: SimulationCluster, key: string): string[] {
  const ring = createRing(cluster.nodes.map((node) => ({ node, weight: 1 })));
  return preferenceList(ring, partitionOf(ring, storeKey(undefined, key)), cluster.nodes.length);
}

/** The key's N primaries (default bucket). */
export function primaries(cluster: SimulationCluster, key: string, n = 3): string[] {
  return order(cluster, key).slice(0, n);
}

export async function dump(cluster: SimulationCluster, node: string): Promise<StorageDump> {
  return whole(await cluster.until(cluster.ask<StorageRequest, StorageDump>(storageRef(node), (replyTo: ActorRef<StorageDump>) => ({ type: 'st-dump', replyTo }), { timeoutMs: 5_000 })));
}

/** The values `node` holds for `key` (its own replica and any hint). */
export async function held(cluster: SimulationCluster, node: string, key: string): Promise<unknown[]> {
  const clock = (await dump(cluster, node)).keys[storeKey(undefined, key)];
  return clock ? values(clock) : [];
}

export async function statsOf(cluster: SimulationCluster, kv: KvClient, nodes: readonly string[] = cluster.nodes): Promise<NodeStats[]> {
  const out: NodeStats[] = [];
  for (const node of nodes) out.push(await cluster.until(kv.stats(node)));
  return out;
}

export function sum(stats: readonly NodeStats[], pick: (s: NodeStats) => number): number {
  return stats.reduce((n, s) => n + pick(s), 0);
}
