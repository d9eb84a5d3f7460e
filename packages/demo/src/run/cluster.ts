/**
 * The demo's cluster: N nodes with membership (SWIM) and the replicated store (ring, coordinator,
 * storage with hinted handoff, read repair, anti-entropy), plus any plugin of the user's, on any
 * runtime. The embedded default is 5 nodes on worker threads, N=3 R=2 W=2.
 */
import { type ActorRef, type Cluster, InvalidArgumentError, type PluginSpec, type RuntimeKind, startCluster } from '@starling/actors';
import { type GossipOptions, type GossipRequest, gossipRef, type MembershipSnapshot, useGossip } from '@starling/gossip';
import { DEFAULT_PARTITION_COUNT, type ReplicationOptions, useReplication } from '@starling/replication';

/** What a demo cluster is: its runtime, seed and size, and the store's N, R and W. */
export interface ClusterShape {
  readonly runtime: RuntimeKind;
  readonly seed: number;
  readonly nodes: number;
  /** Replicas per key, and the read and write quorums. */
  readonly n: number;
  readonly r: number;
  readonly w: number;
}

/** How a demo cluster is started. */
export interface DemoClusterOptions extends ClusterShape {
  /** Run the store's plugin. Default true; a user's workload that needs only its own plugin may switch it off. */
  readonly store?: boolean;
  /** More plugins, loaded on every node (a user's, by module). */
  readonly plugins?: readonly PluginSpec[];
  /** Store settings beyond N/R/W. */
  readonly replication?: ReplicationOptions;
  /** Membership settings. Default memberlist's LAN profile (1 s probes). */
  readonly gossip?: GossipOptions;
  /** Record a trace of every delivery and event (simulation and local). Default false. */
  readonly trace?: boolean;
}

/** Simulated links: a LAN-like 1-5 ms. The real runtimes have their own latency. */
const SIMULATED_LATENCY = { kind: 'uniform', minMs: 1, maxMs: 5 } as const;

/** The largest cluster the demo starts (each node is a worker thread in the default runtime). */
export const MAX_DEMO_NODES = 16;

/** Checks a cluster shape; throws `INVALID_CONFIG` naming the first problem. */
export function validateShape(o: Pick<DemoClusterOptions, 'nodes' | 'n' | 'r' | 'w' | 'store'>): void {
  const bad = (msg: string): never => {
    throw new InvalidArgumentError('INVALID_CONFIG', msg);
  };
  if (!Number.isSafeInteger(o.nodes) || o.nodes < 1 || o.nodes > MAX_DEMO_NODES) bad(`nodes must be an integer from 1 to ${MAX_DEMO_NODES}, got ${o.nodes}`);
  // N, R and W are the store's: without it they mean nothing.
  if (o.store === false) return;
  if (!Number.isSafeInteger(o.n) || o.n < 1 || o.n > o.nodes) bad(`n must be an integer from 1 to the node count (${o.nodes}), got ${o.n}`);
  if (!Number.isSafeInteger(o.r) || o.r < 1 || o.r > o.n) bad(`r must be an integer from 1 to n (${o.n}), got ${o.r}`);
  if (!Number.isSafeInteger(o.w) || o.w < 1 || o.w > o.n) bad(`w must be an integer from 1 to n (${o.n}), got ${o.w}`);
}

/** Starts the cluster and waits until every node's membership sees every node alive. */
export async function startDemoCluster(o: DemoClusterOptions): Promise<{ cluster: Cluster; partitionCount: number }> {
  validateShape(o);
  const store = o.store ?? true;
  const partitionCount = o.replication?.partitionCount ?? DEFAULT_PARTITION_COUNT;
  const cluster = await startCluster({
    runtime: o.runtime,
    seed: o.seed,
    nodes: o.nodes,
    ...(o.runtime === 'simulation' ? { network: { latency: SIMULATED_LATENCY } } : {}),
    // Membership is the failure detector, as in production: the host's perfect one would hide what SWIM sees.
    hostFailureDetector: false,
    ...(o.trace === true ? { trace: true } : {}),
    plugins: [
      useGossip(o.gossip ?? {}),
      ...(store ? [useReplication({ ...o.replication, defaults: { ...o.replication?.defaults, n: o.n, r: o.r, w: o.w } })] : []),
      ...(o.plugins ?? []),
    ],
  });
  try {
    await awaitMembership(cluster, 60_000);
  } catch (err) {
    await cluster.stop();
    throw err;
  }
  return { cluster, partitionCount };
}

/** How many nodes each running node sees alive. */
export async function aliveViews(cluster: Cluster): Promise<Record<string, number>> {
  const out: Record<string, number> = {};
  const running = cluster.nodes.filter((n) => cluster.nodeState(n) === 'running');
  await Promise.all(
    running.map(async (node) => {
      const snap = await cluster
        .ask<GossipRequest, MembershipSnapshot>(gossipRef(node), (replyTo: ActorRef<MembershipSnapshot>) => ({ type: 'snapshot', replyTo }), { timeoutMs: 2_000 })
        .catch(() => undefined);
      if (snap) out[node] = snap.members.filter((m) => m.state === 'alive').length;
    }),
  );
  return out;
}

/** Runs until every running node sees every node alive; throws after `timeoutMs` of runtime time. */
export async function awaitMembership(cluster: Cluster, timeoutMs: number): Promise<void> {
  const deadline = cluster.now() + timeoutMs;
  for (;;) {
    const views = await cluster.until(aliveViews(cluster));
    if (Object.keys(views).length === cluster.nodes.length && Object.values(views).every((n) => n === cluster.nodes.length)) return;
    if (cluster.now() > deadline) throw new Error(`membership did not converge within ${timeoutMs} ms: alive counts ${JSON.stringify(views)}`);
    await cluster.runFor(200);
  }
}
