/**
 * The gossip plugin as users meet it: cross-node `watch` with gossip as the failure detector,
 * membership subscriptions, options validation, and bad input that must not take the node down.
 */
import { InvalidArgumentError, selectActor, startCluster, usePlugin } from '@starling/actors';
import { describe, expect, it } from 'vitest';
import { simIt } from '../../../scripts/testing/seed.ts';
import { gossipRef, type GossipRequest, type MembershipSnapshot, MembershipTracker, resolveSwimConfig, useGossip } from '../src/index.ts';
import { subscriber, type SubscriberMsg, testActorsPlugin, watcher, type WatcherMsg } from './fixtures/actors.ts';

async function converged(seed: number, nodes = 4, trace = false) {
  const cluster = await startCluster({
    runtime: 'simulation',
    seed,
    nodes,
    trace,
    hostFailureDetector: false,
    network: { latency: { kind: 'constant', ms: 3 } },
    plugins: [useGossip(), usePlugin(testActorsPlugin)],
  });
  const tracker = await MembershipTracker.attach(cluster);
  const ok = await cluster.runUntil(() => cluster.nodes.every((o) => cluster.nodes.every((m) => tracker.stateOf(o, m) === 'alive')), { timeoutMs: 30_000 });
  expect(ok).toBe(true);
  return { cluster, tracker };
}

describe('gossip plugin', () => {
  simIt('a cross-node watch ends with node-down when gossip declares the watched node dead', 21, async (seed) => {
    const { cluster, tracker } = await converged(seed);
    const w = await cluster.spawn('n1', watcher, undefined, { name: 'w' });
    const target = await cluster.spawn('n3', watcher, undefined, { name: 't' });
    cluster.tell(w, { type: 'watch', target });
    await cluster.runFor(50);
    await cluster.kill('n3');
    expect(await cluster.runUntil(() => tracker.stateOf('n1', 'n3') === 'dead', { timeoutMs: 60_000 })).toBe(true);
    await cluster.runFor(10);
    const seen = await cluster.until(cluster.ask(w, (replyTo): WatcherMsg => ({ type: 'report', replyTo }), { timeoutMs: 1_000 }));
    expect(seen).toEqual(['n3/user/t:node-down']);
    await cluster.stop();
  });

  simIt('a subscriber gets the current view, then each change', 22, async (seed) => {
    const { cluster, tracker } = await converged(seed);
    const sub = await cluster.spawn('n2', subscriber, undefined, { name: 'sub' });
    await cluster.runFor(10);
    await cluster.kill('n4');
    expect(await cluster.runUntil(() => tracker.stateOf('n2', 'n4') === 'dead', { timeoutMs: 60_000 })).toBe(true);
    await cluster.runFor(10);
    const heard = await cluster.until(cluster.ask(sub, (replyTo): SubscriberMsg => ({ type: 'report', replyTo }), { timeoutMs: 1_000 }));
    expect(heard[0]).toBe('snapshot:4');
    expect(heard.slice(1)).toEqual(['member-suspected:n4:suspect', 'member-dead:n4:dead']);
    await cluster.stop();
  });

  simIt('malformed messages to /system/gossip are counted and dropped; the node keeps serving', 23, async (seed) => {
    const { cluster, tracker } = await converged(seed);
    const target = selectActor<unknown>('n2', '/system/gossip');
    const junk: unknown[] = [
      null,
      42,
      'ping',
      { type: 'ping' },
      { type: 'ping', seq: 1, from: { name: 'n1' }, target: {}, updates: [] },
      { type: 'ack', seq: 'x', from: { name: 'n1', uid: 'u', startedAtMs: 0 }, updates: [] },
      { type: 'gossip', from: { name: 'n1', uid: 'u', startedAtMs: 0 }, updates: [{ kind: 'dead', member: { name: 'n3' } }] },
      { type: 'push-pull', from: { name: 'n1', uid: 'u', startedAtMs: 0 }, members: [{ name: 'n3', state: 'zombie' }], isReply: false, isJoin: false },
      { type: 'join', seeds: 'n1' },
      { type: 'subscribe' },
      { type: 'snapshot', replyTo: 'n1' },
      { type: 'leave', replyTo: 7 },
      { type: 'introduce', members: [{ name: 'n9' }] },
      { type: 'swim-timer' },
      { type: 'no-such-request' },
    ];
    for (const msg of junk) cluster.tell(target, msg);
    await cluster.runFor(100);
    const snap = await cluster.until(cluster.ask<GossipRequest, MembershipSnapshot>(gossipRef('n2'), (replyTo) => ({ type: 'snapshot', replyTo }), { timeoutMs: 1_000 }));
    expect(snap.counters.malformedMessages).toBe(junk.length);
    // Nothing was restarted and the view is intact.
    expect(snap.members.every((m) => m.state === 'alive')).toBe(true);
    await cluster.runFor(20_000);
    expect(cluster.nodes.every((o) => tracker.stateOf(o, 'n2') === 'alive')).toBe(true);
    await cluster.stop();
  });

  simIt('the same seed gives the same run, event for event', 24, async (seed) => {
    const digests: string[] = [];
    for (let run = 0; run < 2; run++) {
      const { cluster } = await converged(seed, 6, true);
      await cluster.kill('n2');
      await cluster.runFor(30_000);
      digests.push(cluster.traceDigest());
      await cluster.stop();
    }
    expect(digests[1]).toBe(digests[0]);
  });

  it('bad options fail the cluster start with INVALID_CONFIG naming the knob', async () => {
    expect(() => resolveSwimConfig({ probeIntervalMs: -1 })).toThrow(/probeIntervalMs/);
    expect(() => resolveSwimConfig({ probeTimeoutMs: 2_000, probeIntervalMs: 1_000 })).toThrow(/probeTimeoutMs/);
    expect(() => resolveSwimConfig({ indirectChecks: 1.5 })).toThrow(/indirectChecks/);
    expect(() => resolveSwimConfig({ probeIntervalMillis: 5 } as never)).toThrow(/probeIntervalMillis/);
    const start = startCluster({ runtime: 'simulation', nodes: 2, plugins: [useGossip({ seeds: 'n1' as never })] });
    await expect(start).rejects.toBeInstanceOf(InvalidArgumentError);
    await expect(start).rejects.toMatchObject({ code: 'INVALID_CONFIG' });
  });
});
