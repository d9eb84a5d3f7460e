/**
 * A Jepsen-style workload for the simulation tests: clients do read-modify-write cycles on a few
 * keys (each put carries the context of the client's last read of the key, or none), a fault
 * schedule runs meanwhile, then the network heals, the cluster settles, and every replica's
 * content is read for the checker.
 */
import { whole } from './dump.ts';
import { type ActorRef, type ClusterConfig, type ScheduleHandle, type SimulationCluster, startCluster, type TimedFault } from '@starling/actors';
import { type GossipRequest, gossipRef, type MembershipSnapshot, useGossip } from '@starling/gossip';
import {
  type FinalState,
  HistoryRecorder,
  KvClient,
  KvError,
  type StorageDump,
  type StorageRequest,
  storageRef,
  type ReplicationOptions,
  type StoredClock,
  useReplication,
  type VersionVector,
  type Wipe,
} from '../../src/index.ts';
import { lcg } from './random.ts';

export interface WorkloadOptions {
  readonly seed: number;
  readonly nodes?: number;
  readonly keys?: number;
  readonly clients?: number;
  /** Operations per client. */
  readonly opsPerClient?: number;
  readonly network?: ClusterConfig['network'];
  /** Faults, at times relative to the start of the workload. */
  readonly faults?: readonly TimedFault[];
  readonly timeoutMs?: number;
  /** Every client is a session (read-your-writes, monotonic reads; the checker verifies them). */
  readonly sessions?: boolean;
  /** Run the membership plugin (fast probes), so coordinators skip nodes it reports down. */
  readonly gossip?: boolean;
  /** More replication options (defaults are merged with the workload's timeout). */
  readonly replication?: ReplicationOptions;
  /** Time to let the cluster settle after healing, before replicas are read, in ms. Default 5 000. */
  readonly settleMs?: number;
  /** The cluster's `maxMessageAgeMs` (default the runtime's). */
  readonly maxMessageAgeMs?: number;
}

/** Membership tuned for short simulated runs: failures are noticed within a few hundred ms. */
export const FAST_GOSSIP = {
  probeIntervalMs: 100,
  probeTimeoutMs: 40,
  gossipIntervalMs: 50,
  suspicionMult: 3,
  pushPullIntervalMs: 2_000,
  gossipToTheDeadMs: 2_000,
  reconnectIntervalMs: 1_000,
} as const;

/** Runs the cluster until every node's membership has every node alive (a node gossip never heard of is not known to be down). */
export async function awaitMembership(cluster: SimulationCluster, timeoutMs = 30_000): Promise<void> {
  const deadline = cluster.now() + timeoutMs;
  for (;;) {
    let converged = true;
    for (const node of cluster.nodes) {
      const snap = await cluster.until(cluster.ask<GossipRequest, MembershipSnapshot>(gossipRef(node), (replyTo: ActorRef<MembershipSnapshot>) => ({ type: 'snapshot', replyTo }), { timeoutMs: 2_000 }));
      if (snap.members.filter((m) => m.state === 'alive').length < cluster.nodes.length) converged = false;
    }
    if (converged) return;
    if (cluster.now() > deadline) throw new Error(`membership did not converge within ${timeoutMs} ms`);
    await cluster.runFor(250);
  }
}

export interface WorkloadRun {
  readonly history: HistoryRecorder;
  readonly final: FinalState;
  readonly wipes: readonly Wipe[];
  readonly cluster: SimulationCluster;
  /** How long the clients ran, in ms: a fault scheduled after this hit no operation. */
  readonly spanMs: number;
}

export async function runWorkload(o: WorkloadOptions): Promise<WorkloadRun> {
  const nodes = o.nodes ?? 5;
  const cluster = await startCluster({
    runtime: 'simulation',
    seed: o.seed,
    nodes,
    network: o.network ?? { latency: { kind: 'uniform', minMs: 1, maxMs: 10 } },
    ...(o.maxMessageAgeMs !== undefined ? { maxMessageAgeMs: o.maxMessageAgeMs } : {}),
    ...(o.gossip === true ? { hostFailureDetector: false } : {}),
    plugins: [
      ...(o.gossip === true ? [useGossip(FAST_GOSSIP)] : []),
      useReplication({ ...o.replication, defaults: { timeoutMs: o.timeoutMs ?? 500, ...o.replication?.defaults } }),
    ],
  });
  if (o.gossip === true) await awaitMembership(cluster);
  const history = new HistoryRecorder();
  const random = lcg(o.seed);
  const keys = Array.from({ length: o.keys ?? 4 }, (_, i) => `k${i}`);
  const wipes: Wipe[] = [];
  const startMs = cluster.now();
  let schedule: ScheduleHandle | undefined;
  if (o.faults && o.faults.length > 0) {
    for (const f of o.faults) if (f.fault.kind === 'restart-empty') wipes.push({ node: f.fault.node, atMs: startMs + f.atMs });
    schedule = cluster.applySchedule({ faults: o.faults });
  }
  const clients = Array.from({ length: o.clients ?? 3 }, (_, c) => ({
    client: new KvClient(cluster, { name: `c${c}`, recorder: history, graceMs: 200, ...(o.sessions === true ? { session: true } : {}) }),
    contexts: new Map<string, VersionVector>(),
  }));
  let writeSeq = 0;
  const loops = clients.map(async ({ client, contexts }, c) => {
    for (let i = 0; i < (o.opsPerClient ?? 30); i++) {
      const key = keys[Math.floor(random() * keys.length)]!;
      const roll = random();
      try {
        if (roll < 0.4) {
          const got = await client.get(key);
          contexts.set(key, got.context);
        } else if (roll < 0.9) {
          const context = contexts.get(key);
          const put = await client.put(key, `c${c}-${writeSeq++}`, context ? { context } : {});
          contexts.set(key, put.context);
        } else {
          const context = contexts.get(key);
          await client.delete(key, context ? { context } : {});
          contexts.delete(key);
        }
      } catch (err) {
        // Failed and unknown outcomes are in the history; anything else is a bug in the test.
        if (!(err instanceof KvError)) throw err;
      }
    }
  });
  await cluster.until(Promise.all(loops), { timeoutMs: 600_000 });
  const spanMs = cluster.now() - startMs;
  // Faults still to come would land while the replicas are read.
  schedule?.cancel();
  return { history, final: await finalState(cluster, o.settleMs), wipes, cluster, spanMs };
}

/** Runs the cluster until every node's membership reports every node outside its group not alive (a partition has been noticed). */
export async function awaitSplit(cluster: SimulationCluster, groups: readonly (readonly string[])[], timeoutMs = 30_000): Promise<void> {
  const deadline = cluster.now() + timeoutMs;
  for (;;) {
    let split = true;
    for (const group of groups) {
      for (const node of group) {
        const snap = await cluster.until(cluster.ask<GossipRequest, MembershipSnapshot>(gossipRef(node), (replyTo: ActorRef<MembershipSnapshot>) => ({ type: 'snapshot', replyTo }), { timeoutMs: 2_000 }));
        if (snap.members.some((m) => !group.includes(m.name) && (m.state === 'alive' || m.state === 'suspect'))) split = false;
      }
    }
    if (split) return;
    if (cluster.now() > deadline) throw new Error(`membership did not notice the partition within ${timeoutMs} ms`);
    await cluster.runFor(250);
  }
}

/** Heals, lets everything in flight land, and reads every replica. */
export async function finalState(cluster: SimulationCluster, settleMs = 5_000): Promise<FinalState> {
  await cluster.network.heal();
  await cluster.network.update({ lossProbability: 0, duplicateProbability: 0, reorderProbability: 0 });
  for (const node of cluster.nodes) if (cluster.nodeState(node) === 'paused') await cluster.resume(node);
  for (const node of cluster.nodes) if (cluster.nodeState(node) === 'down') await cluster.restart(node);
  await cluster.runFor(settleMs);
  const final: Record<string, Record<string, StoredClock>> = {};
  for (const node of cluster.nodes) {
    const dump = whole(await cluster.until(cluster.ask<StorageRequest, StorageDump>(storageRef(node), (replyTo: ActorRef<StorageDump>) => ({ type: 'st-dump', replyTo }), { timeoutMs: 5_000 })));
    final[node] = { ...dump.keys };
  }
  return final as FinalState;
}
