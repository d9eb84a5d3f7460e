/**
 * The port mesh: partitions enforced at delivery by epoch through shared memory, bounded links that
 * drop instead of blocking, and a system lane that keeps protocol traffic flowing during a flood.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { type ActorRef, type Cluster, halves, selectActor } from '@starling/actors';
import type { PingMsg } from '../test/fixtures/echo-plugin.ts';
import { flooder, type FlooderMsg, slowReceiver, type SlowMsg, streamer, type StreamMsg } from './fixtures/thread-actors.ts';
import { threadsCluster } from './support.ts';

let cluster: Cluster | undefined;
afterEach(async () => {
  await cluster?.stop();
  cluster = undefined;
});

const counts = (c: Cluster, node: string) =>
  c.ask(selectActor<StreamMsg>(node, '/user/stream'), (replyTo): StreamMsg => ({ type: 'counts', replyTo }), { timeoutMs: 10_000 });

describe('partitions on real threads', () => {
  it('once partition() returns nothing crosses the cut, with traffic in flight on every link and a paused node; after heal() every link carries traffic', async () => {
    const c = (cluster = await threadsCluster({ nodes: 4 }));
    for (const node of c.nodes) await c.spawn(node, streamer, undefined, { name: 'stream' });
    for (const node of c.nodes) c.tell(selectActor<StreamMsg>(node, '/user/stream'), { type: 'stream', peers: [...c.nodes], perTick: 5 });
    // Wait until every node hears every other.
    expect(await c.runUntil(async () => (await Promise.all(c.nodes.map((n) => counts(c, n)))).every((h) => Object.keys(h).length === 3), { timeoutMs: 20_000 })).toBe(true);
    await c.pause('n4');
    await c.network.partition(halves(c.nodes)); // [n1, n2] | [n3, n4]
    const side = (n: string): number => (n === 'n1' || n === 'n2' ? 0 : 1);
    // Everything delivered from here on is under the partition: snapshot, let traffic flow, compare.
    const live = ['n1', 'n2', 'n3'];
    const before = await Promise.all(live.map((n) => counts(c, n)));
    const sameSideGrew = async (): Promise<boolean> => {
      const now = await Promise.all(live.map((n) => counts(c, n)));
      return live.every((node, i) =>
        c.nodes.every((from) => from === node || from === 'n4' || side(from) !== side(node) || (now[i]![from] ?? 0) > (before[i]![from] ?? 0)),
      );
    };
    // Wait for traffic, not for time: every live link on each side has carried more.
    expect(await c.runUntil(sameSideGrew, { timeoutMs: 20_000 })).toBe(true);
    await c.runFor(100);
    const after = await Promise.all(live.map((n) => counts(c, n)));
    live.forEach((node, i) => {
      for (const from of c.nodes) {
        if (from !== node && side(from) !== side(node)) expect((after[i]![from] ?? 0) - (before[i]![from] ?? 0), `${from} -> ${node} across the cut`).toBe(0);
      }
    });
    await c.network.heal();
    await c.resume('n4');
    const healed = await Promise.all(c.nodes.map((n) => counts(c, n)));
    const everyLinkGrew = async (): Promise<boolean> => {
      const now = await Promise.all(c.nodes.map((n) => counts(c, n)));
      return c.nodes.every((node, i) => c.nodes.every((from) => from === node || (now[i]![from] ?? 0) > (healed[i]![from] ?? 0)));
    };
    expect(await c.runUntil(everyLinkGrew, { timeoutMs: 20_000 })).toBe(true);
    const links = await c.network.links();
    expect(links['n1->n3']!.dropped.partition).toBeGreaterThan(0);
  });
});

describe('bounded links', () => {
  it('a flood against a slow actor on another node drops with LINK_FULL, keeps the mailbox bounded, and system traffic keeps flowing', async () => {
    const c = (cluster = await threadsCluster({ nodes: 3, threads: { userLinkCapacity: 500 } }));
    const slow = await c.spawn('n2', slowReceiver, { busyMs: 0.2 }, { name: 'slow' });
    const f = await c.spawn('n1', flooder, undefined, { name: 'f' });
    const linkFull: number[] = [];
    c.events.on('dead-letter', (e) => {
      if (e.reason === 'link-full') linkFull.push(1);
    });
    const flood = c.ask(f, (replyTo): FlooderMsg => ({ type: 'flood', to: slow, count: 50_000, replyTo }), { timeoutMs: 30_000 });
    // Protocol traffic between the same two nodes, on the system lane, during the flood.
    const sysN1 = selectActor<PingMsg>('n1', '/system/pinger');
    const sysN2 = selectActor<PingMsg>('n2', '/system/pinger');
    const sysN3 = selectActor<PingMsg>('n3', '/system/pinger');
    const [rounds, others] = await Promise.all([
      c.ask(sysN1, (done): PingMsg => ({ type: 'start', peer: sysN2, rounds: 50, done }), { timeoutMs: 30_000 }),
      // And between the flooded node and a bystander.
      c.ask(sysN3, (done): PingMsg => ({ type: 'start', peer: sysN2, rounds: 50, done }), { timeoutMs: 30_000 }),
    ]);
    expect([rounds, others]).toEqual([50, 50]);
    const result = await flood;
    // A full link never blocks or throws at the sender: it drops.
    expect(result).toEqual({ sent: 50_000, refused: 0 });
    const links = await c.network.links();
    const dropped = links['n1->n2']!.dropped['link-full'];
    expect(dropped).toBeGreaterThan(0);
    expect(await c.runUntil(() => linkFull.length === dropped, { timeoutMs: 10_000 })).toBe(true);
    // What got through is bounded by the link: the receiver's mailbox never held more than the link's capacity.
    const stats = await c.actorStats(slow);
    expect(stats!.highWaterMark).toBeLessThanOrEqual(500);
    // Everything the link accepted is eventually handled.
    const accepted = 50_000 - dropped;
    expect(
      await c.runUntil(
        async () => (await c.ask(slow, (replyTo): SlowMsg => ({ type: 'count', replyTo }), { timeoutMs: 10_000 })).handled === accepted,
        { timeoutMs: 30_000 },
      ),
    ).toBe(true);
  });
});

export type { ActorRef };
