/**
 * The broadcast primitive as users meet it: a value given to any node reaches every node, once,
 * with or without the membership plugin, through loss, duplication and a partition; Maelstrom's
 * efficient-broadcast goals in virtual time; and bad input that must not take the actor down.
 */
import { type ActorRef, halves, InvalidArgumentError, type NetworkRules, type RuntimeEvent, selectActor, type SimulationCluster, startCluster, usePlugin } from '@starling/actors';
import { describe, expect, it } from 'vitest';
import { simIt } from '../../../scripts/testing/seed.ts';
import { runBroadcastWorkload } from '../src/sim/broadcast-workload.ts';
import {
  BROADCAST_PATH,
  BROADCAST_TOPIC,
  type BroadcastConfig,
  type BroadcastDelivery,
  type BroadcastOk,
  type BroadcastRejected,
  broadcastRef,
  type BroadcastRequest,
  type BroadcastValue,
  type BroadcastValues,
  MembershipTracker,
  useBroadcast,
  useGossip,
} from '../src/index.ts';
import { broadcastTestActorsPlugin, deliveryRecorder, type DeliveryRecorderMsg } from './fixtures/broadcast-actors.ts';

interface ClusterSetup {
  readonly seed: number;
  readonly nodes: number;
  /** Run the membership plugin (joined and converged before the test goes on). */
  readonly withGossip: boolean;
  readonly network?: Partial<NetworkRules>;
  readonly broadcast?: Partial<BroadcastConfig>;
}

interface BroadcastCluster {
  readonly cluster: SimulationCluster;
  /** Per value id, the nodes that published its delivery (every node publishes each value it learns). */
  readonly holders: Map<string, string[]>;
  /** Failures and restarts of any `/system/broadcast` actor. */
  readonly broadcastActorTroubles: RuntimeEvent[];
}

async function startBroadcastCluster(setup: ClusterSetup): Promise<BroadcastCluster> {
  const cluster = (await startCluster({
    runtime: 'simulation',
    seed: setup.seed,
    nodes: setup.nodes,
    hostFailureDetector: false,
    network: { latency: { kind: 'constant', ms: 5 }, ...setup.network },
    plugins: [...(setup.withGossip ? [useGossip()] : []), useBroadcast({ ...setup.broadcast, publishDeliveries: true }), usePlugin(broadcastTestActorsPlugin)],
  })) as SimulationCluster;
  const holders = new Map<string, string[]>();
  const broadcastActorTroubles: RuntimeEvent[] = [];
  cluster.events.on('custom', (e) => {
    if (e.topic !== BROADCAST_TOPIC) return;
    const { id } = e.data as BroadcastDelivery;
    const at = holders.get(id) ?? [];
    at.push(e.node);
    holders.set(id, at);
  });
  cluster.events.on('event', (e) => {
    if ((e.type === 'actor-failed' || e.type === 'actor-restarted') && e.ref.path === BROADCAST_PATH) broadcastActorTroubles.push(e);
  });
  if (setup.withGossip) {
    const tracker = await MembershipTracker.attach(cluster);
    const converged = await cluster.runUntil(() => cluster.nodes.every((o) => cluster.nodes.every((m) => tracker.stateOf(o, m) === 'alive')), { timeoutMs: 30_000 });
    expect(converged, 'membership converged').toBe(true);
  }
  return { cluster, holders, broadcastActorTroubles };
}

/** Broadcasts `value` at `node` and returns its id. */
async function broadcastAt(cluster: SimulationCluster, node: string, value: unknown): Promise<string> {
  const reply = await cluster.until(cluster.ask<BroadcastRequest, BroadcastOk | BroadcastRejected>(broadcastRef(node), (replyTo) => ({ type: 'broadcast', value, replyTo }), { timeoutMs: 1_000 }));
  if (reply.type !== 'broadcast-ok') throw new Error(`broadcast at ${node} rejected: ${reply.code}`);
  return reply.id;
}

async function readAt(cluster: SimulationCluster, node: string): Promise<readonly BroadcastValue[]> {
  const reply = await cluster.until(cluster.ask<BroadcastRequest, BroadcastValues>(broadcastRef(node), (replyTo) => ({ type: 'read', replyTo }), { timeoutMs: 1_000 }));
  return reply.values;
}

/** Every node's `read`, as sorted ids (the order a node learned them in differs from node to node). */
async function idsEverywhere(cluster: SimulationCluster): Promise<Record<string, string[]>> {
  const out: Record<string, string[]> = {};
  for (const node of cluster.nodes) out[node] = (await readAt(cluster, node)).map((v) => v.id).sort();
  return out;
}

function everyNodeHas(cluster: SimulationCluster, ids: readonly string[]): Record<string, string[]> {
  return Object.fromEntries(cluster.nodes.map((n) => [n, [...ids].sort()]));
}

/** Runs until every node has published the delivery of every id; false if `timeoutMs` passes first. */
function untilEveryNodeHas(bc: BroadcastCluster, ids: readonly string[], timeoutMs: number): Promise<boolean> {
  const { cluster, holders } = bc;
  return bc.cluster.runUntil(() => ids.every((id) => (holders.get(id)?.length ?? 0) >= cluster.nodes.length), { timeoutMs });
}

async function spawnRecorders(cluster: SimulationCluster): Promise<Map<string, ActorRef<DeliveryRecorderMsg>>> {
  const recorders = new Map<string, ActorRef<DeliveryRecorderMsg>>();
  for (const node of cluster.nodes) recorders.set(node, await cluster.spawn(node, deliveryRecorder, undefined, { name: 'recorder' }));
  // Let the subscriptions land before anything is broadcast.
  await cluster.runFor(50);
  return recorders;
}

async function recordedAt(cluster: SimulationCluster, recorder: ActorRef<DeliveryRecorderMsg>): Promise<readonly string[]> {
  return cluster.until(cluster.ask<DeliveryRecorderMsg, readonly string[]>(recorder, (replyTo) => ({ type: 'report', replyTo }), { timeoutMs: 1_000 }));
}

/** Broadcasts `count` values, round-robin over the nodes, `gapMs` apart; returns their ids. */
async function broadcastMany(cluster: SimulationCluster, count: number, gapMs: number, nodes: readonly string[] = cluster.nodes): Promise<string[]> {
  const ids: string[] = [];
  for (let i = 0; i < count; i++) {
    ids.push(await broadcastAt(cluster, nodes[i % nodes.length]!, { n: i }));
    if (gapMs > 0) await cluster.runFor(gapMs);
  }
  return ids;
}

describe('broadcast', () => {
  for (const withGossip of [true, false]) {
    const peers = withGossip ? 'with the gossip plugin (peers from membership)' : "without the gossip plugin (peers from the cluster's node list)";
    simIt(`a value broadcast at one node is read at every node, and each subscriber hears it exactly once, ${peers}`, withGossip ? 101 : 102, async (seed) => {
      const bc = await startBroadcastCluster({ seed, nodes: 6, withGossip });
      const { cluster } = bc;
      const recorders = await spawnRecorders(cluster);
      const first = await broadcastAt(cluster, 'n3', 'hello');
      const rest = await broadcastMany(cluster, 5, 20);
      const ids = [first, ...rest];
      expect(new Set(ids).size).toBe(ids.length);
      expect(await untilEveryNodeHas(bc, ids, 10_000)).toBe(true);
      // Several anti-entropy rounds more: nothing is delivered twice.
      await cluster.runFor(3_000);
      expect(await idsEverywhere(cluster)).toEqual(everyNodeHas(cluster, ids));
      for (const node of cluster.nodes) {
        const values = await readAt(cluster, node);
        expect(values.find((v) => v.id === first)).toEqual({ id: first, origin: 'n3', value: 'hello' });
        expect([...(await recordedAt(cluster, recorders.get(node)!))].sort(), `deliveries heard at ${node}`).toEqual([...ids].sort());
      }
      expect(bc.broadcastActorTroubles).toEqual([]);
      await cluster.stop();
    });
  }

  simIt('with 20% loss on every link, every node eventually has every value (anti-entropy mends what rumors miss)', 103, async (seed) => {
    const bc = await startBroadcastCluster({ seed, nodes: 8, withGossip: false });
    const { cluster } = bc;
    await cluster.network.setLoss(0.2);
    const ids = await broadcastMany(cluster, 40, 25);
    expect(await untilEveryNodeHas(bc, ids, 30_000)).toBe(true);
    expect(await idsEverywhere(cluster)).toEqual(everyNodeHas(cluster, ids));
    // Loss did bite: some messages between nodes were dropped.
    const lost = Object.values(await cluster.network.links()).reduce((sum, l) => sum + l.dropped.loss, 0);
    expect(lost).toBeGreaterThan(0);
    await cluster.stop();
  });

  simIt('with 20% loss and the gossip plugin running, every node eventually has every value', 104, async (seed) => {
    const bc = await startBroadcastCluster({ seed, nodes: 8, withGossip: true });
    const { cluster } = bc;
    await cluster.network.setLoss(0.2);
    const ids = await broadcastMany(cluster, 40, 25);
    expect(await untilEveryNodeHas(bc, ids, 30_000)).toBe(true);
    expect(await idsEverywhere(cluster)).toEqual(everyNodeHas(cluster, ids));
    await cluster.stop();
  });

  simIt('with messages duplicated by the network, read holds each value once and subscribers hear each once', 105, async (seed) => {
    const bc = await startBroadcastCluster({ seed, nodes: 6, withGossip: false, network: { duplicateProbability: 0.5 } });
    const { cluster } = bc;
    const recorders = await spawnRecorders(cluster);
    const ids = await broadcastMany(cluster, 30, 10);
    expect(await untilEveryNodeHas(bc, ids, 10_000)).toBe(true);
    await cluster.runFor(3_000);
    for (const node of cluster.nodes) {
      const readIds = (await readAt(cluster, node)).map((v) => v.id);
      expect(readIds.length, `values read at ${node}`).toBe(ids.length);
      expect(new Set(readIds).size, `distinct values read at ${node}`).toBe(ids.length);
      const heard = await recordedAt(cluster, recorders.get(node)!);
      expect([...heard].sort(), `deliveries heard at ${node}`).toEqual([...ids].sort());
    }
    // Duplication did happen, and each node still published each value's delivery once.
    const duplicated = Object.values(await cluster.network.links()).reduce((sum, l) => sum + l.duplicated, 0);
    expect(duplicated).toBeGreaterThan(0);
    for (const id of ids) expect([...bc.holders.get(id)!].sort()).toEqual([...cluster.nodes].sort());
    await cluster.stop();
  });

  simIt('values broadcast on each side of a partition reach the other side after the heal', 106, async (seed) => {
    const bc = await startBroadcastCluster({ seed, nodes: 6, withGossip: true });
    const { cluster } = bc;
    const sides = halves(cluster.nodes);
    if (sides.shape !== 'groups') throw new Error('halves gives two groups');
    const [left, right] = sides.groups as [readonly string[], readonly string[]];
    const before = await broadcastMany(cluster, 3, 20);
    expect(await untilEveryNodeHas(bc, before, 5_000)).toBe(true);

    await cluster.network.partition(sides);
    const leftIds = await broadcastMany(cluster, 10, 100, left);
    const rightIds = await broadcastMany(cluster, 10, 100, right);
    await cluster.runFor(10_000);
    // During the partition each side has its own values and none of the other side's.
    for (const node of left) expect((await readAt(cluster, node)).map((v) => v.id).sort(), `read at ${node}, left side`).toEqual([...before, ...leftIds].sort());
    for (const node of right) expect((await readAt(cluster, node)).map((v) => v.id).sort(), `read at ${node}, right side`).toEqual([...before, ...rightIds].sort());

    await cluster.network.heal();
    const all = [...before, ...leftIds, ...rightIds];
    expect(await untilEveryNodeHas(bc, all, 30_000)).toBe(true);
    expect(await idsEverywhere(cluster)).toEqual(everyNodeHas(cluster, all));
    await cluster.stop();
  });

  simIt('values broadcast on each side of a partition reach the other side after the heal, without the gossip plugin', 107, async (seed) => {
    const bc = await startBroadcastCluster({ seed, nodes: 6, withGossip: false });
    const { cluster } = bc;
    const sides = halves(cluster.nodes);
    if (sides.shape !== 'groups') throw new Error('halves gives two groups');
    const [left, right] = sides.groups as [readonly string[], readonly string[]];
    await cluster.network.partition(sides);
    const leftIds = await broadcastMany(cluster, 10, 100, left);
    const rightIds = await broadcastMany(cluster, 10, 100, right);
    await cluster.runFor(5_000);
    await cluster.network.heal();
    const all = [...leftIds, ...rightIds];
    expect(await untilEveryNodeHas(bc, all, 30_000)).toBe(true);
    expect(await idsEverywhere(cluster)).toEqual(everyNodeHas(cluster, all));
    await cluster.stop();
  });
});

describe('Maelstrom efficient-broadcast workload (25 nodes, 100 ms links, 100 values/s for 20 s; virtual time)', () => {
  simIt('without faults: under 20 messages per broadcast, stable in a median under 1 s and at most under 2 s', 1, async (seed) => {
    const r = await runBroadcastWorkload({ seed });
    expect(r.stableValues).toBe(r.values);
    expect(r.messagesPerBroadcast).toBeLessThan(20);
    expect(r.stableLatencyMedianMs).toBeLessThan(1_000);
    expect(r.stableLatencyMaxMs).toBeLessThan(2_000);
  });

  simIt('with a partition from 5 s to 12 s: every value is everywhere within 2 s of the heal', 2, async (seed) => {
    const r = await runBroadcastWorkload({ seed, partition: { startMs: 5_000, endMs: 12_000 } });
    expect(r.stableValues).toBe(r.values);
    expect(r.stableAfterHealMaxMs).toBeDefined();
    expect(r.stableAfterHealMaxMs!).toBeLessThanOrEqual(2_000);
  });
});

/**
 * Malformed messages, as another node (or a buggy client) could send them. Each must be dropped:
 * the actor neither fails nor restarts (a restart would lose every value the node holds), and the
 * node keeps serving reads and broadcasts.
 */
const MALFORMED: readonly (readonly [label: string, msg: unknown])[] = [
  ['null', null],
  ['a number', 42],
  ['a string', 'broadcast'],
  ['an object without type', { value: 1 }],
  ['an unknown type', { type: 'no-such-request' }],
  ['bc-rumor without fields', { type: 'bc-rumor' }],
  ['bc-rumor whose msg is not an object', { type: 'bc-rumor', from: 'n1', msg: 'x' }],
  ['bc-rumor with a non-string from', { type: 'bc-rumor', from: 7, msg: { type: 'rumor-push', rumors: [] } }],
  ['bc-rumor whose rumors is a string', { type: 'bc-rumor', from: 'n1', msg: { type: 'rumor-push', rumors: 'x' } }],
  ['bc-rumor whose rumors is a number', { type: 'bc-rumor', from: 'n1', msg: { type: 'rumor-push', rumors: 5 } }],
  ['bc-rumor whose rumors is missing', { type: 'bc-rumor', from: 'n1', msg: { type: 'rumor-push' } }],
  ['bc-rumor whose rumors holds null', { type: 'bc-rumor', from: 'n1', msg: { type: 'rumor-push', rumors: [null] } }],
  ['bc-rumor whose rumor has a null payload', { type: 'bc-rumor', from: 'n1', msg: { type: 'rumor-push', rumors: [{ id: 'forged', value: null }] } }],
  ['bc-rumor with an unknown rumor message type', { type: 'bc-rumor', from: 'n1', msg: { type: 'rumor-gossip', rumors: [] } }],
  ['bc-anti-entropy without fields', { type: 'bc-anti-entropy' }],
  ['bc-anti-entropy digest without ids', { type: 'bc-anti-entropy', from: 'n1', msg: { type: 'ae-digest', mode: 'push-pull' } }],
  ['bc-anti-entropy reply without updates', { type: 'bc-anti-entropy', from: 'n1', msg: { type: 'ae-reply', wants: [] } }],
  ['bc-anti-entropy updates holding null', { type: 'bc-anti-entropy', from: 'n1', msg: { type: 'ae-updates', updates: [null] } }],
  ['read without replyTo', { type: 'read' }],
  ['subscribe without subscriber', { type: 'subscribe' }],
  ['broadcast with a replyTo that is not a ref', { type: 'broadcast', value: 1, replyTo: 'n1' }],
  // Messages the node's own membership actor and runtime send, forged by another node.
  ['terminated without ref', { type: 'terminated' }],
  ['membership-snapshot without members', { type: 'membership-snapshot' }],
  ['membership-event without event', { type: 'membership-event' }],
  ['membership-event whose event has no member', { type: 'membership-event', event: { type: 'member-dead' } }],
];

describe('bad input', () => {
  MALFORMED.forEach(([label, junk], i) => {
    simIt(`a malformed message to /system/broadcast (${label}) is dropped; the actor does not crash and the node keeps serving`, 200 + i, async (seed) => {
      const bc = await startBroadcastCluster({ seed, nodes: 3, withGossip: false });
      const { cluster } = bc;
      const recorders = await spawnRecorders(cluster);
      const before = await broadcastAt(cluster, 'n2', 'before');
      expect(await untilEveryNodeHas(bc, [before], 5_000)).toBe(true);

      cluster.tell(selectActor<unknown>('n2', BROADCAST_PATH), junk);
      await cluster.runFor(1_000);
      expect(bc.broadcastActorTroubles.map((e) => `${e.node} ${e.type}: ${e.type === 'actor-failed' ? String(e.error) : ''}`)).toEqual([]);

      const afterHere = await broadcastAt(cluster, 'n2', 'after, here');
      const afterThere = await broadcastAt(cluster, 'n1', 'after, there');
      const ids = [before, afterHere, afterThere];
      expect(await untilEveryNodeHas(bc, ids, 5_000)).toBe(true);
      await cluster.runFor(2_000);
      // The value learned before the junk is still there (no restart lost it), and nothing forged shows up.
      expect(await idsEverywhere(cluster)).toEqual(everyNodeHas(cluster, ids));
      // The subscription made before the junk still holds.
      expect([...(await recordedAt(cluster, recorders.get('n2')!))].sort()).toEqual([...ids].sort());
      expect(bc.broadcastActorTroubles).toEqual([]);
      await cluster.stop();
    });
  });

  simIt("a malformed rumor naming a value's id without the value does not keep the real value from any node", 250, async (seed) => {
    const bc = await startBroadcastCluster({ seed, nodes: 3, withGossip: false });
    const { cluster } = bc;
    // Ids end in a sequence number: after n1's first value `<prefix>:1`, its next will be `<prefix>:2`.
    const first = await broadcastAt(cluster, 'n1', 'first');
    const forged = first.replace(/:1$/, ':2');
    cluster.tell(selectActor<unknown>('n3', BROADCAST_PATH), { type: 'bc-rumor', from: 'n1', msg: { type: 'rumor-push', rumors: [{ id: forged }] } });
    await cluster.runFor(1_000);
    const id = await broadcastAt(cluster, 'n1', 'real');
    expect(id).toBe(forged);
    expect(await untilEveryNodeHas(bc, [first, id], 10_000)).toBe(true);
    for (const node of cluster.nodes) {
      expect(await readAt(cluster, node), `read at ${node}`).toEqual([
        { id: first, origin: 'n1', value: 'first' },
        { id, origin: 'n1', value: 'real' },
      ]);
    }
    await cluster.stop();
  });

  it('bad options fail the cluster start with INVALID_CONFIG', async () => {
    const bad: readonly unknown[] = [{ k: 0 }, { k: 2.5 }, { roundMs: 0 }, { antiEntropyIntervalMs: 'fast' }, { publishDeliveries: 'yes' }, { fanout: 3 }, 'k=3'];
    for (const options of bad) {
      const start = startCluster({ runtime: 'simulation', nodes: 2, plugins: [useBroadcast(options as Partial<BroadcastConfig>)] });
      await expect(start, JSON.stringify(options)).rejects.toBeInstanceOf(InvalidArgumentError);
      await expect(start, JSON.stringify(options)).rejects.toMatchObject({ code: 'INVALID_CONFIG' });
    }
  });
});
