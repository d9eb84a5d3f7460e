/**
 * Robustness of the gossip actors: forged or self-naming input, restarts of an actor on a live
 * node, and values that strain message limits. Each test began as a bug an independent review
 * found (docs/decisions.md #33-35).
 */
import { type RuntimeEvent, selectActor, type SimulationCluster, startCluster, usePlugin } from '@starling/actors';
import { describe, expect, it } from 'vitest';
import { simIt } from '../../../scripts/testing/seed.ts';
import {
  BROADCAST_PATH,
  type BroadcastOk,
  type BroadcastRejected,
  broadcastRef,
  type BroadcastRequest,
  type BroadcastValues,
  GOSSIP_PATH,
  MembershipTracker,
  onMembership,
  useBroadcast,
  useGossip,
} from '../src/index.ts';
import type { SwimMessage } from '../src/messages.ts';
import { subscriber, type SubscriberMsg, testActorsPlugin, watcher, type WatcherMsg } from './fixtures/actors.ts';
import { idOf, swimWithView } from './support/swim-harness.ts';

async function converged(seed: number, nodes = 4) {
  const cluster = (await startCluster({
    runtime: 'simulation',
    seed,
    nodes,
    hostFailureDetector: false,
    network: { latency: { kind: 'constant', ms: 3 } },
    plugins: [useGossip(), usePlugin(testActorsPlugin)],
  })) as SimulationCluster;
  const troubles: RuntimeEvent[] = [];
  cluster.events.on('event', (e) => {
    if ((e.type === 'actor-failed' || e.type === 'actor-restarted') && e.ref.path === GOSSIP_PATH) troubles.push(e);
  });
  const tracker = await MembershipTracker.attach(cluster);
  const ok = await cluster.runUntil(() => cluster.nodes.every((o) => cluster.nodes.every((m) => tracker.stateOf(o, m) === 'alive')), { timeoutMs: 30_000 });
  expect(ok).toBe(true);
  return { cluster, tracker, troubles };
}

describe('SWIM input that names the receiver itself', () => {
  // Each is well-formed by isSwimMessage, so the plugin hands it to the machine, whose `send`
  // asserts that a node never sends to itself: the throw restarts /system/gossip.
  const self = idOf('a');
  const cases: readonly (readonly [string, SwimMessage])[] = [
    ['a ping whose sender is the receiver', { type: 'ping', seq: 1, from: self, target: self, updates: [] }],
    ['a ping-req whose target is the receiver', { type: 'ping-req', seq: 1, from: idOf('b'), target: self, updates: [] }],
    ['a push-pull whose sender is the receiver', { type: 'push-pull', from: self, members: [], isReply: false, isJoin: false }],
  ];
  for (const [label, msg] of cases) {
    it(`${label} is dropped, not thrown on`, () => {
      const s = swimWithView('a', ['b', 'c']);
      expect(() => s.receive(msg, 10)).not.toThrow();
    });
  }

  it('a ping-req whose origin is the receiver is refused, so no relay (and no later send to itself) is set up', () => {
    const s = swimWithView('a', ['b', 'c']);
    expect(s.receive({ type: 'ping-req', seq: 7, from: idOf('a'), target: idOf('b'), updates: [] }, 10)).toBe(false);
    expect(s.takeEffects()).toEqual([]);
  });
});

describe('the membership actor', () => {
  simIt('a forged ping naming the receiver as sender does not restart /system/gossip', 901, async (seed) => {
    const { cluster, troubles } = await converged(seed);
    const n2 = { name: 'n2', uid: cluster.nodeUid('n2'), startedAtMs: 0 };
    cluster.tell(selectActor<unknown>('n2', GOSSIP_PATH), { type: 'ping', seq: 1, from: n2, target: n2, updates: [] });
    await cluster.runFor(100);
    expect(troubles.map((e) => `${e.node} ${e.type}`)).toEqual([]);
    await cluster.stop();
  });

  simIt('a forged terminated without a ref does not restart /system/gossip when it has a subscriber', 902, async (seed) => {
    const { cluster, troubles } = await converged(seed);
    await cluster.spawn('n2', subscriber, undefined, { name: 'sub' });
    await cluster.runFor(20);
    cluster.tell(selectActor<unknown>('n2', GOSSIP_PATH), { type: 'terminated' });
    await cluster.runFor(100);
    expect(troubles.map((e) => `${e.node} ${e.type}`)).toEqual([]);
    await cluster.stop();
  });

  simIt('a restart of /system/gossip on a running node does not report that node down elsewhere (watchers keep their watch)', 903, async (seed) => {
    const { cluster } = await converged(seed);
    const w = await cluster.spawn('n1', watcher, undefined, { name: 'w' });
    const target = await cluster.spawn('n2', watcher, undefined, { name: 't' });
    cluster.tell(w, { type: 'watch', target });
    await cluster.runFor(50);
    const downs: string[] = [];
    cluster.events.on('node-reachability', (e) => {
      if (e.status === 'down') downs.push(`${e.node} reports ${e.subject}`);
    });
    const superseded: string[] = [];
    onMembership(cluster.events, (e) => {
      if (e.type === 'member-joined' && e.supersedes !== undefined) superseded.push(`${e.observer}: ${e.member.name} ${e.supersedes} -> ${e.member.uid}`);
    });
    // Any exception in receive restarts the actor; a forged ping naming n2 itself is one way in.
    const n2 = { name: 'n2', uid: cluster.nodeUid('n2'), startedAtMs: 0 };
    cluster.tell(selectActor<unknown>('n2', GOSSIP_PATH), { type: 'ping', seq: 1, from: n2, target: n2, updates: [] });
    await cluster.runFor(30_000);
    // n2 never stopped: it is the same node start (same uid) throughout.
    expect(cluster.nodeState('n2')).toBe('running');
    const seen = await cluster.until(cluster.ask(w, (replyTo): WatcherMsg => ({ type: 'report', replyTo }), { timeoutMs: 1_000 }));
    expect({ superseded, downs, terminatedAtWatcher: seen }).toEqual({ superseded: [], downs: [], terminatedAtWatcher: [] });
    await cluster.stop();
  });

  simIt('a subscription to /system/gossip survives a restart of the actor (subscribers, e.g. /system/broadcast, keep hearing changes)', 906, async (seed) => {
    const { cluster, tracker } = await converged(seed);
    const sub = await cluster.spawn('n2', subscriber, undefined, { name: 'sub' });
    await cluster.runFor(20);
    const n2 = { name: 'n2', uid: cluster.nodeUid('n2'), startedAtMs: 0 };
    cluster.tell(selectActor<unknown>('n2', GOSSIP_PATH), { type: 'ping', seq: 1, from: n2, target: n2, updates: [] });
    await cluster.runFor(5_000);
    await cluster.kill('n4');
    expect(await cluster.runUntil(() => tracker.stateOf('n2', 'n4') === 'dead', { timeoutMs: 60_000 })).toBe(true);
    await cluster.runFor(10);
    const heard = await cluster.until(cluster.ask(sub, (replyTo): SubscriberMsg => ({ type: 'report', replyTo }), { timeoutMs: 1_000 }));
    expect(heard).toContain('member-dead:n4:dead');
    await cluster.stop();
  });

  simIt('a swim-timer message sent by another node does not drive the protocol (forged probe ticks raise false suspicions)', 904, async (seed) => {
    const { cluster } = await converged(seed);
    const suspected: string[] = [];
    onMembership(cluster.events, (e) => {
      if (e.type === 'member-suspected') suspected.push(`${e.observer} suspects ${e.member.name}`);
    });
    // Each forged tick ends the probe under way before its ack can arrive (3 ms away).
    for (let i = 0; i < 4; i++) cluster.tell(selectActor<unknown>('n1', GOSSIP_PATH), { type: 'swim-timer', key: 'probe' });
    await cluster.runFor(50);
    expect(suspected).toEqual([]);
    await cluster.stop();
  });
});

describe('broadcast', () => {
  simIt('acknowledged values whose hot batch exceeds the 1 MiB message limit are not lost (the actor does not crash)', 905, async (seed) => {
    const cluster = (await startCluster({
      runtime: 'simulation',
      seed,
      nodes: 3,
      network: { latency: { kind: 'constant', ms: 5 } },
      plugins: [useBroadcast()],
    })) as SimulationCluster;
    const troubles: string[] = [];
    cluster.events.on('event', (e) => {
      if ((e.type === 'actor-failed' || e.type === 'actor-restarted') && e.ref.path === BROADCAST_PATH) {
        troubles.push(`${e.node} ${e.type}${e.type === 'actor-failed' ? `: ${String((e.error as Error).message ?? e.error)}` : ''}`);
      }
    });
    // Twenty-four 50 KB values (under maxValueBytes, 64 KiB), given to n1 within one rumor round (50 ms): 1.2 MB hot.
    const big = 'x'.repeat(50_000);
    const asks = Array.from({ length: 24 }, (_, i) =>
      cluster.ask<BroadcastRequest, BroadcastOk | BroadcastRejected>(broadcastRef('n1'), (replyTo) => ({ type: 'broadcast', value: `${i}:${big}`, replyTo }), { timeoutMs: 1_000 }),
    );
    const replies = await cluster.until(Promise.all(asks));
    expect(replies.map((r) => r.type)).toEqual(Array.from({ length: 24 }, () => 'broadcast-ok'));
    await cluster.runFor(5_000);
    expect(troubles).toEqual([]);
    for (const node of cluster.nodes) {
      // 1.2 MB of values do not fit one reply either: the reader pages through them.
      const values: unknown[] = [];
      let fromIndex: number | undefined = 0;
      while (fromIndex !== undefined) {
        const at: number = fromIndex;
        const page: BroadcastValues = await cluster.until(cluster.ask<BroadcastRequest, BroadcastValues>(broadcastRef(node), (replyTo) => ({ type: 'read', replyTo, fromIndex: at }), { timeoutMs: 1_000 }));
        values.push(...page.values);
        fromIndex = page.nextIndex;
      }
      expect(values.length, `values at ${node}`).toBe(24);
    }
    await cluster.stop();
  });

  simIt('a value past maxValueBytes is rejected with MESSAGE_TOO_LARGE, never acknowledged or spread', 906, async (seed) => {
    const cluster = (await startCluster({ runtime: 'simulation', seed, nodes: 2, plugins: [useBroadcast({ maxValueBytes: 1_000 })] })) as SimulationCluster;
    const ask = (value: unknown) =>
      cluster.until(cluster.ask<BroadcastRequest, BroadcastOk | BroadcastRejected>(broadcastRef('n1'), (replyTo) => ({ type: 'broadcast', value, replyTo }), { timeoutMs: 1_000 }));
    expect(await ask('x'.repeat(2_000))).toMatchObject({ type: 'broadcast-rejected', code: 'MESSAGE_TOO_LARGE' });
    expect(await ask('small')).toMatchObject({ type: 'broadcast-ok' });
    await cluster.runFor(2_000);
    const read = await cluster.until(cluster.ask<BroadcastRequest, BroadcastValues>(broadcastRef('n2'), (replyTo) => ({ type: 'read', replyTo }), { timeoutMs: 1_000 }));
    expect(read.values.map((v) => v.value)).toEqual(['small']);
    await cluster.stop();
  });
});
