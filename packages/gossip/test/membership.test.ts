/**
 * SWIM membership on whole simulated clusters, through the public API: the plugin, the host's
 * fault injection, membership events and snapshots. Seeds are printed on failure and replayed
 * with STARLING_SEED.
 */
import { halves, type SimulationCluster, startCluster } from '@starling/actors';
import { describe, expect } from 'vitest';
import { simIt } from '../../../scripts/testing/seed.ts';
import {
  DEFAULT_SWIM_CONFIG,
  type GossipOptions,
  gossipRef,
  type GossipRequest,
  type MembershipSnapshot,
  MembershipTracker,
  onMembership,
  suspicionBoundsMs,
  useGossip,
} from '../src/index.ts';

const PERIOD_MS = DEFAULT_SWIM_CONFIG.probeIntervalMs;

async function gossipCluster(seed: number, nodes: number, options?: GossipOptions): Promise<{ cluster: SimulationCluster; tracker: MembershipTracker }> {
  const cluster = await startCluster({
    runtime: 'simulation',
    seed,
    nodes,
    // Gossip alone decides who is dead: the host's perfect detector is off.
    hostFailureDetector: false,
    network: { latency: { kind: 'uniform', minMs: 1, maxMs: 10 } },
    plugins: [useGossip(options)],
  });
  const tracker = await MembershipTracker.attach(cluster);
  return { cluster, tracker };
}

/** True when every node in `observers` sees every node in `members` in `state`. */
function allSee(tracker: MembershipTracker, observers: readonly string[], members: readonly string[], state: string): boolean {
  return observers.every((o) => members.every((m) => tracker.stateOf(o, m) === state));
}

function snapshot(cluster: SimulationCluster, node: string): Promise<MembershipSnapshot> {
  return cluster.until(cluster.ask<GossipRequest, MembershipSnapshot>(gossipRef(node), (replyTo) => ({ type: 'snapshot', replyTo }), { timeoutMs: 5_000 }));
}

describe('SWIM membership in simulation', () => {
  simIt('a 32-node cluster started together converges to one view with everyone alive', 11, async (seed) => {
    const { cluster, tracker } = await gossipCluster(seed, 32);
    expect(await cluster.runUntil(() => allSee(tracker, cluster.nodes, cluster.nodes, 'alive'), { timeoutMs: 60_000 })).toBe(true);
    const snap = await snapshot(cluster, 'n17');
    expect(snap.members.map((m) => m.name).sort()).toEqual([...cluster.nodes].sort());
    expect(snap.members.every((m) => m.state === 'alive')).toBe(true);
    await cluster.stop();
  });

  simIt('a killed node of 32 is declared dead by every live member within the maximum suspicion timeout plus 3 periods', 12, async (seed) => {
    const { cluster, tracker } = await gossipCluster(seed, 32);
    expect(await cluster.runUntil(() => allSee(tracker, cluster.nodes, cluster.nodes, 'alive'), { timeoutMs: 60_000 })).toBe(true);
    const victim = 'n9';
    const live = cluster.nodes.filter((n) => n !== victim);
    await cluster.kill(victim);
    const killedAtMs = cluster.now();
    const { maxMs } = suspicionBoundsMs(32, DEFAULT_SWIM_CONFIG.suspicionMult, DEFAULT_SWIM_CONFIG.suspicionMaxTimeoutMult, PERIOD_MS);
    const boundMs = maxMs + 3 * PERIOD_MS;
    const detected = await cluster.runUntil(() => allSee(tracker, live, [victim], 'dead'), { timeoutMs: boundMs });
    const notYet = live.filter((o) => tracker.stateOf(o, victim) !== 'dead');
    expect(detected, `still not dead at ${notYet.join(',')} after ${cluster.now() - killedAtMs} ms`).toBe(true);
    // Nobody else was taken down with it.
    expect(allSee(tracker, live, live, 'alive')).toBe(true);
    await cluster.stop();
  });

  simIt('with 10% message loss and no failure, no live node is declared dead over 1000 periods', 13, async (seed) => {
    const { cluster, tracker } = await gossipCluster(seed, 16);
    expect(await cluster.runUntil(() => allSee(tracker, cluster.nodes, cluster.nodes, 'alive'), { timeoutMs: 60_000 })).toBe(true);
    const deaths: string[] = [];
    let suspicions = 0;
    onMembership(cluster.events, (e) => {
      if (e.type === 'member-dead') deaths.push(`${e.observer} declared ${e.member.name} dead at ${e.atMs}`);
      if (e.type === 'member-suspected') suspicions++;
    });
    await cluster.network.setLoss(0.1);
    await cluster.runFor(1000 * PERIOD_MS);
    expect(deaths).toEqual([]);
    // The loss was felt: members were suspected, and refuted.
    expect(suspicions).toBeGreaterThan(0);
    const counters = (await snapshot(cluster, 'n1')).counters;
    expect(counters.probesFailed).toBeGreaterThan(0);
    await cluster.stop();
  });

  simIt('a partition into halves longer than 10x the maximum suspicion timeout heals into one view with every node alive', 14, async (seed) => {
    const { cluster, tracker } = await gossipCluster(seed, 16);
    const nodes = cluster.nodes;
    expect(await cluster.runUntil(() => allSee(tracker, nodes, nodes, 'alive'), { timeoutMs: 60_000 })).toBe(true);
    const [a, b] = [nodes.slice(0, 8), nodes.slice(8)];
    await cluster.network.partition(halves(nodes));
    const { maxMs } = suspicionBoundsMs(16, DEFAULT_SWIM_CONFIG.suspicionMult, DEFAULT_SWIM_CONFIG.suspicionMaxTimeoutMult, PERIOD_MS);
    await cluster.runFor(10 * maxMs + 10 * PERIOD_MS);
    // Each side has long given the other up, and still sees itself whole.
    expect(allSee(tracker, a, b, 'dead') && allSee(tracker, b, a, 'dead')).toBe(true);
    expect(allSee(tracker, a, a, 'alive') && allSee(tracker, b, b, 'alive')).toBe(true);
    await cluster.network.heal();
    // Reconnect attempts to dead members (every reconnectIntervalMs) find the other side.
    const merged = await cluster.runUntil(() => allSee(tracker, nodes, nodes, 'alive'), { timeoutMs: 5 * DEFAULT_SWIM_CONFIG.reconnectIntervalMs });
    expect(merged).toBe(true);
    await cluster.stop();
  });

  simIt('a node that joins late is seen by all; a graceful leave is seen as left, not dead', 15, async (seed) => {
    const cluster = await startCluster({
      runtime: 'simulation',
      seed,
      nodes: 6,
      hostFailureDetector: false,
      network: { latency: { kind: 'constant', ms: 2 } },
      plugins: [useGossip({ seeds: ['n1'], joinAtStart: true })],
    });
    const tracker = await MembershipTracker.attach(cluster);
    const nodes = cluster.nodes;
    expect(await cluster.runUntil(() => allSee(tracker, nodes, nodes, 'alive'), { timeoutMs: 30_000 })).toBe(true);
    const deaths: string[] = [];
    onMembership(cluster.events, (e) => {
      if (e.type === 'member-dead') deaths.push(`${e.observer}: ${e.member.name}`);
    });
    await cluster.until(cluster.ask<GossipRequest, { readonly type: 'left' }>(gossipRef('n4'), (replyTo) => ({ type: 'leave', replyTo }), { timeoutMs: 5_000 }));
    const others = nodes.filter((n) => n !== 'n4');
    expect(await cluster.runUntil(() => allSee(tracker, others, ['n4'], 'left'), { timeoutMs: 10_000 })).toBe(true);
    // A left member is not probed, so nobody mistakes its silence for a death, even once it is gone.
    await cluster.kill('n4');
    await cluster.runFor(120 * PERIOD_MS);
    expect(deaths).toEqual([]);
    expect(allSee(tracker, others, ['n4'], 'left')).toBe(true);
    await cluster.stop();
  });

  simIt('a node restarted with a new node uid supersedes its old entry everywhere', 16, async (seed) => {
    const { cluster, tracker } = await gossipCluster(seed, 8);
    const nodes = cluster.nodes;
    expect(await cluster.runUntil(() => allSee(tracker, nodes, nodes, 'alive'), { timeoutMs: 30_000 })).toBe(true);
    const oldUid = cluster.nodeUid('n5');
    const superseded: string[] = [];
    onMembership(cluster.events, (e) => {
      if (e.type === 'member-joined' && e.member.name === 'n5' && e.supersedes === oldUid) superseded.push(e.observer);
    });
    await cluster.restart('n5');
    const newUid = cluster.nodeUid('n5');
    expect(newUid).not.toBe(oldUid);
    const everyoneHasNewStart = (): boolean => nodes.every((o) => tracker.view(o).get('n5')?.uid === newUid && tracker.stateOf(o, 'n5') === 'alive');
    expect(await cluster.runUntil(everyoneHasNewStart, { timeoutMs: 30_000 })).toBe(true);
    expect(allSee(tracker, nodes, nodes, 'alive')).toBe(true);
    // Some observers saw the new start replace the old one before they ever declared the old one dead.
    expect(superseded.length).toBeGreaterThan(0);
    await cluster.stop();
  });

  simIt('a wrongly suspected node refutes with a higher incarnation and stays alive', 17, async (seed) => {
    const { cluster, tracker } = await gossipCluster(seed, 8);
    const nodes = cluster.nodes;
    expect(await cluster.runUntil(() => allSee(tracker, nodes, nodes, 'alive'), { timeoutMs: 30_000 })).toBe(true);
    const suspectedAt: string[] = [];
    const deaths: string[] = [];
    onMembership(cluster.events, (e) => {
      if (e.type === 'member-suspected' && e.member.name === 'n3') suspectedAt.push(e.observer);
      if (e.type === 'member-dead') deaths.push(`${e.observer}: ${e.member.name}`);
    });
    // Pausing n3 for two probe periods makes its probers miss acks: a suspicion, not a failure.
    await cluster.pause('n3');
    await cluster.runUntil(() => suspectedAt.length > 0, { timeoutMs: 20 * PERIOD_MS });
    await cluster.resume('n3');
    expect(suspectedAt.length).toBeGreaterThan(0);
    expect(await cluster.runUntil(() => allSee(tracker, nodes, ['n3'], 'alive'), { timeoutMs: 30_000 })).toBe(true);
    expect(deaths).toEqual([]);
    expect((await snapshot(cluster, 'n3')).incarnation).toBeGreaterThan(0);
    await cluster.stop();
  });
});
