/**
 * SWIM experiments on the simulation runtime: the figures the SWIM and Lifeguard papers report,
 * measured on our code.
 *
 * - detection: kill one node of N; protocol periods until every live member marks it dead.
 * - false positives: uniform message loss p and no failure; false `dead` declarations per 1000 periods.
 * - load: messages (and bytes) each member sends per protocol period, at several N: SWIM's claim
 *   is that this stays constant as the cluster grows.
 *
 * Clusters start from a converged view (`introduceAll`) rather than n simultaneous joins, whose
 * O(n² log n) gossip would dominate the run time at 1024 nodes and is not what is measured.
 */
import { type LatencyDistribution, type SimulationCluster, startCluster } from '@starling/actors';
import { DEFAULT_SWIM_CONFIG, type SwimConfig } from '../config.ts';
import { onMembership } from '../events.ts';
import { type GossipOptions, useGossip } from '../plugin.ts';
import { introduceAll } from '../tracker.ts';

/** Latency of every link in these experiments: a LAN-ish 1-10 ms. */
export const EXPERIMENT_LATENCY: LatencyDistribution = { kind: 'uniform', minMs: 1, maxMs: 10 };

async function convergedCluster(seed: number, nodes: number, swim: Partial<SwimConfig>): Promise<SimulationCluster> {
  const options: GossipOptions = { ...swim, joinAtStart: false };
  const cluster = await startCluster({
    runtime: 'simulation',
    seed,
    nodes,
    hostFailureDetector: false,
    network: { latency: EXPERIMENT_LATENCY },
    plugins: [useGossip(options)],
  });
  await introduceAll(cluster);
  // One period for the introductions to land and the probe rounds to begin.
  await cluster.runFor(swim.probeIntervalMs ?? DEFAULT_SWIM_CONFIG.probeIntervalMs);
  return cluster;
}

async function linkTotals(cluster: SimulationCluster): Promise<{ messages: number; bytes: number }> {
  let messages = 0;
  let bytes = 0;
  for (const l of Object.values(await cluster.network.links())) {
    messages += l.sent;
    bytes += l.bytes;
  }
  return { messages, bytes };
}

/** One detection run. */
export interface DetectionRun {
  readonly seed: number;
  /** Periods from the kill until the first member suspected the victim. */
  readonly firstSuspicionPeriods: number;
  /** Periods from the kill until the first member declared it dead. */
  readonly firstDeathPeriods: number;
  /** Periods from the kill until every live member marked it dead (SWIM's full detection). */
  readonly allDeadPeriods: number;
}

/** Kills one random node of `nodes` and measures how long the others take to agree it is dead. */
export async function detectionRun(seed: number, nodes: number, swim: Partial<SwimConfig> = {}): Promise<DetectionRun> {
  const periodMs = swim.probeIntervalMs ?? DEFAULT_SWIM_CONFIG.probeIntervalMs;
  const cluster = await convergedCluster(seed, nodes, swim);
  const victim = cluster.nodes[seed % nodes]!;
  let firstSuspicionMs = Number.NaN;
  let firstDeathMs = Number.NaN;
  const deadAt = new Set<string>();
  const off = onMembership(cluster.events, (e) => {
    if (e.member.name !== victim) return;
    if (e.type === 'member-suspected' && Number.isNaN(firstSuspicionMs)) firstSuspicionMs = e.atMs;
    if (e.type === 'member-dead') {
      if (Number.isNaN(firstDeathMs)) firstDeathMs = e.atMs;
      deadAt.add(e.observer);
    }
  });
  await cluster.kill(victim);
  const killedAtMs = cluster.now();
  const limitMs = 100 * periodMs + 10 * DEFAULT_SWIM_CONFIG.suspicionMaxTimeoutMult * DEFAULT_SWIM_CONFIG.suspicionMult * periodMs;
  const isDone = await cluster.runUntil(() => deadAt.size >= nodes - 1, { timeoutMs: limitMs });
  off();
  const allDeadMs = cluster.now();
  await cluster.stop();
  if (!isDone) throw new Error(`seed ${seed}: ${victim} was marked dead by only ${deadAt.size} of ${nodes - 1} members within ${limitMs} ms`);
  return {
    seed,
    firstSuspicionPeriods: (firstSuspicionMs - killedAtMs) / periodMs,
    firstDeathPeriods: (firstDeathMs - killedAtMs) / periodMs,
    allDeadPeriods: (allDeadMs - killedAtMs) / periodMs,
  };
}

/** One false-positive run. */
export interface FalsePositiveRun {
  readonly seed: number;
  readonly periods: number;
  /** `dead` declarations (by the member whose suspicion timed out) about members that never failed. */
  readonly falseDeaths: number;
  /** Distinct suspicions (member and incarnation) raised, refuted or not. */
  readonly suspicions: number;
}

/** Runs `periods` protocol periods with uniform loss `loss` and no failure, counting false deaths. */
export async function falsePositiveRun(seed: number, nodes: number, loss: number, periods: number, swim: Partial<SwimConfig> = {}): Promise<FalsePositiveRun> {
  const periodMs = swim.probeIntervalMs ?? DEFAULT_SWIM_CONFIG.probeIntervalMs;
  const cluster = await convergedCluster(seed, nodes, swim);
  const declared = new Set<string>();
  const suspected = new Set<string>();
  const off = onMembership(cluster.events, (e) => {
    // The declarer is the member whose own suspicion timed out; the others only repeat it.
    if (e.type === 'member-dead') declared.add(`${e.member.name}@${e.member.incarnation}`);
    if (e.type === 'member-suspected') suspected.add(`${e.member.name}@${e.member.incarnation}`);
  });
  await cluster.network.setLoss(loss);
  await cluster.runFor(periods * periodMs);
  off();
  await cluster.stop();
  return { seed, periods, falseDeaths: declared.size, suspicions: suspected.size };
}

/** Steady-state load at one cluster size. */
export interface LoadRun {
  readonly nodes: number;
  readonly periods: number;
  readonly messagesPerMemberPerPeriod: number;
  readonly bytesPerMemberPerPeriod: number;
}

/** Messages and bytes each member sends per period once the view is converged and quiet. */
export async function loadRun(seed: number, nodes: number, periods: number, swim: Partial<SwimConfig> = {}): Promise<LoadRun> {
  const periodMs = swim.probeIntervalMs ?? DEFAULT_SWIM_CONFIG.probeIntervalMs;
  const cluster = await convergedCluster(seed, nodes, swim);
  const before = await linkTotals(cluster);
  await cluster.runFor(periods * periodMs);
  const after = await linkTotals(cluster);
  await cluster.stop();
  return {
    nodes,
    periods,
    messagesPerMemberPerPeriod: (after.messages - before.messages) / nodes / periods,
    bytesPerMemberPerPeriod: (after.bytes - before.bytes) / nodes / periods,
  };
}
