/**
 * Gossip on real worker threads: the same plugin, real time, real parallelism. Waits for
 * membership states, never for a fixed time.
 */
import { type Cluster, startCluster, usePlugin } from '@starling/actors';
import { afterEach, describe, expect, it } from 'vitest';
import { MembershipTracker, useGossip } from '../src/index.ts';
import { testActorsPlugin, watcher, type WatcherMsg } from '../test/fixtures/actors.ts';

let cluster: Cluster | undefined;
afterEach(async () => {
  await cluster?.stop();
  cluster = undefined;
});

function allSee(tracker: MembershipTracker, observers: readonly string[], members: readonly string[], state: string): boolean {
  return observers.every((o) => members.every((m) => tracker.stateOf(o, m) === state));
}

describe('gossip on threads', () => {
  it('four nodes converge, a killed worker is declared dead by gossip (watch ends node-down), and its restart rejoins', async () => {
    // Short periods keep the test quick; the protocol is the same.
    const c = (cluster = await startCluster({
      runtime: 'threads',
      nodes: 4,
      hostFailureDetector: false,
      nodeRestart: { minBackoffMs: 10 },
      plugins: [useGossip({ probeIntervalMs: 200, probeTimeoutMs: 100, gossipIntervalMs: 50 }), usePlugin(testActorsPlugin)],
    }));
    const tracker = await MembershipTracker.attach(c);
    expect(await c.runUntil(() => allSee(tracker, c.nodes, c.nodes, 'alive'), { timeoutMs: 30_000 })).toBe(true);
    const w = await c.spawn('n1', watcher, undefined, { name: 'w' });
    const target = await c.spawn('n4', watcher, undefined, { name: 't' });
    c.tell(w, { type: 'watch', target });
    await c.ask(w, (replyTo): WatcherMsg => ({ type: 'report', replyTo }), { timeoutMs: 10_000 });
    const oldUid = c.nodeUid('n4');
    await c.kill('n4');
    const live = ['n1', 'n2', 'n3'];
    expect(await c.runUntil(() => allSee(tracker, live, ['n4'], 'dead'), { timeoutMs: 30_000 })).toBe(true);
    expect(await c.runUntil(async () => (await c.ask(w, (replyTo): WatcherMsg => ({ type: 'report', replyTo }), { timeoutMs: 10_000 })).length > 0, { timeoutMs: 10_000 })).toBe(true);
    expect(await c.ask(w, (replyTo): WatcherMsg => ({ type: 'report', replyTo }), { timeoutMs: 10_000 })).toEqual(['n4/user/t:node-down']);
    await c.restart('n4');
    const newUid = c.nodeUid('n4');
    expect(newUid).not.toBe(oldUid);
    const rejoined = (): boolean => c.nodes.every((o) => tracker.view(o).get('n4')?.uid === newUid) && allSee(tracker, c.nodes, c.nodes, 'alive');
    expect(await c.runUntil(rejoined, { timeoutMs: 30_000 })).toBe(true);
  });
});
