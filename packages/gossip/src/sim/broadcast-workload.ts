/**
 * Maelstrom's efficient-broadcast workload (challenge 3d/3e of the Fly.io distributed systems
 * challenges) on the simulation runtime: 25 nodes, 100 ms latency on every link, 100 new values
 * per second in total, sent to random nodes, for 20 s. It reports:
 *
 * - messages per broadcast: server-to-server messages (every message between nodes, membership
 *   traffic included) divided by the values broadcast;
 * - stable latency: for each value, the time from its broadcast until every node has it;
 *   median and maximum.
 *
 * Goals without faults: under 20 messages per broadcast, median under 1 s, maximum under 2 s.
 * With a partition that later heals: every value reaches every node within 2 s after the heal.
 */
import { type ActorRef, type Cluster, halves, type PluginSpec, type SimulationCluster, startCluster } from '@starling/actors';
import { BROADCAST_TOPIC, type BroadcastConfig, type BroadcastDelivery, broadcastRef, useBroadcast } from '../broadcast.ts';
import { DEFAULT_SWIM_CONFIG } from '../config.ts';
import { useGossip } from '../plugin.ts';
import { introduceAll } from '../tracker.ts';

export interface BroadcastWorkloadOptions {
  readonly seed: number;
  /** Default 25. */
  readonly nodes: number;
  /** One-way latency of every link, in ms. Default 100. */
  readonly latencyMs: number;
  /** New values per second, over the whole cluster. Default 100. */
  readonly valuesPerSecond: number;
  /** How long values are sent, in ms. Default 20 000. */
  readonly durationMs: number;
  /** Cut the cluster in halves during [startMs, endMs) of the workload. Default: no partition. */
  readonly partition?: { readonly startMs: number; readonly endMs: number };
  readonly broadcast?: Partial<BroadcastConfig>;
  /** Called now and then with the share of the workload done, for progress output. */
  readonly onProgress?: (fraction: number) => void;
  /**
   * What is measured: by default the gossip and broadcast plugins. A peer (a naive flood, say)
   * gives its own plugins, the ref that takes `{ type: 'broadcast', value }` on a node, and
   * publishes the same `custom` deliveries (topic {@link BROADCAST_TOPIC}, data {@link BroadcastDelivery}).
   */
  readonly implementation?: BroadcastImplementation;
}

/** A broadcast to run the workload against. */
export interface BroadcastImplementation {
  readonly plugins: readonly PluginSpec[];
  readonly ref: (node: string) => ActorRef<{ readonly type: 'broadcast'; readonly value: unknown }>;
  /** Runs once the cluster is up, before the warm-up. */
  readonly bootstrap?: (cluster: Cluster) => Promise<void>;
}

/** The default implementation: membership by gossip (started from a converged view) and the broadcast plugin. */
function gossipBroadcast(broadcast: Partial<BroadcastConfig> | undefined): BroadcastImplementation {
  return {
    // Probe timeouts sized for the 200 ms round trip (memberlist's WAN profile is 3 s / 5 s).
    plugins: [
      useGossip({ joinAtStart: false, probeIntervalMs: 1_000, probeTimeoutMs: 500, gossipIntervalMs: DEFAULT_SWIM_CONFIG.gossipIntervalMs }),
      useBroadcast({ ...broadcast, publishDeliveries: true }),
    ],
    ref: broadcastRef,
    bootstrap: introduceAll,
  };
}

export const DEFAULT_BROADCAST_WORKLOAD: Omit<BroadcastWorkloadOptions, 'seed'> = { nodes: 25, latencyMs: 100, valuesPerSecond: 100, durationMs: 20_000 };

export interface BroadcastWorkloadResult {
  readonly nodes: number;
  readonly values: number;
  /** Values every node had by the end of the run. */
  readonly stableValues: number;
  readonly serverMessages: number;
  readonly messagesPerBroadcast: number;
  readonly stableLatencyMedianMs: number;
  readonly stableLatencyMaxMs: number;
  /** With a partition: of the values sent before the heal, the latest to become stable, counted from the heal, in ms (<= 0: all were stable before it). */
  readonly stableAfterHealMaxMs?: number;
}

function quantile(sorted: readonly number[], q: number): number {
  if (sorted.length === 0) return Number.NaN;
  return sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))]!;
}

async function serverMessages(cluster: SimulationCluster): Promise<number> {
  let sent = 0;
  for (const l of Object.values(await cluster.network.links())) sent += l.sent;
  return sent;
}

/** Runs the workload and measures it. */
export async function runBroadcastWorkload(options: Partial<BroadcastWorkloadOptions> & { readonly seed: number }): Promise<BroadcastWorkloadResult> {
  const o = { ...DEFAULT_BROADCAST_WORKLOAD, ...options };
  const implementation = o.implementation ?? gossipBroadcast(o.broadcast);
  const cluster = await startCluster({
    runtime: 'simulation',
    seed: o.seed,
    nodes: o.nodes,
    hostFailureDetector: false,
    network: { latency: { kind: 'constant', ms: o.latencyMs } },
    plugins: implementation.plugins,
  });
  await implementation.bootstrap?.(cluster);
  await cluster.runFor(1_000);

  const sentAtMs = new Map<string, number>();
  const holders = new Map<string, number>();
  const stableAtMs = new Map<string, number>();
  cluster.events.on('custom', (e) => {
    if (e.topic !== BROADCAST_TOPIC) return;
    const { id } = e.data as BroadcastDelivery;
    // The origin learns a value first, when the request reaches it: the clock starts there.
    if (!sentAtMs.has(id)) sentAtMs.set(id, e.atMs);
    const count = (holders.get(id) ?? 0) + 1;
    holders.set(id, count);
    if (count === o.nodes) stableAtMs.set(id, e.atMs);
  });

  const startMessages = await serverMessages(cluster);
  const startMs = cluster.now();
  const intervalMs = 1_000 / o.valuesPerSecond;
  const total = Math.round((o.durationMs / 1_000) * o.valuesPerSecond);
  let healAtMs: number | undefined;
  for (let i = 0; i < total; i++) {
    const atMs = startMs + i * intervalMs;
    if (atMs > cluster.now()) await cluster.runFor(atMs - cluster.now());
    if (o.partition) {
      const elapsed = cluster.now() - startMs;
      if (elapsed >= o.partition.startMs && elapsed < o.partition.endMs && cluster.network.rules.partition === null) await cluster.network.partition(halves(cluster.nodes));
      if (elapsed >= o.partition.endMs && healAtMs === undefined && cluster.network.rules.partition !== null) {
        await cluster.network.heal();
        healAtMs = cluster.now();
      }
    }
    const node = cluster.nodes[i % o.nodes]!;
    cluster.tell(implementation.ref(node), { type: 'broadcast', value: i });
    if (i % 200 === 0) o.onProgress?.(i / total);
  }
  if (o.partition && healAtMs === undefined) {
    await cluster.network.heal();
    healAtMs = cluster.now();
  }
  // Let the last values settle: bounded, so a lost value shows as unstable rather than a hang.
  await cluster.runUntil(() => sentAtMs.size === total && stableAtMs.size >= total, { timeoutMs: 30_000 });
  const messages = (await serverMessages(cluster)) - startMessages;
  await cluster.stop();
  o.onProgress?.(1);

  const latencies: number[] = [];
  let stableAfterHealMaxMs = Number.NEGATIVE_INFINITY;
  for (const [id, sent] of sentAtMs) {
    const stable = stableAtMs.get(id);
    if (stable === undefined) continue;
    latencies.push(stable - sent);
    // Values sent before the heal: how long after it they all arrived everywhere.
    if (healAtMs !== undefined && sent < healAtMs) stableAfterHealMaxMs = Math.max(stableAfterHealMaxMs, stable - healAtMs);
  }
  latencies.sort((a, b) => a - b);
  return {
    nodes: o.nodes,
    values: total,
    stableValues: latencies.length,
    serverMessages: messages,
    messagesPerBroadcast: messages / total,
    stableLatencyMedianMs: quantile(latencies, 0.5),
    stableLatencyMaxMs: latencies.length > 0 ? latencies[latencies.length - 1]! : Number.NaN,
    ...(healAtMs !== undefined ? { stableAfterHealMaxMs } : {}),
  };
}
