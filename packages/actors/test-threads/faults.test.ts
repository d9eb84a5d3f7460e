/**
 * The fault model applies unchanged on threads: loss, duplication and one-way drops, with link
 * counters that add up from both ends.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { type ActorRef, type Cluster } from '@starling/actors';
import { sequencer, type SeqMsg } from '../test/fixtures/echo-plugin.ts';
import { threadsCluster } from './support.ts';

let cluster: Cluster | undefined;
afterEach(async () => {
  await cluster?.stop();
  cluster = undefined;
});

async function pair(c: Cluster): Promise<[ActorRef<SeqMsg>, ActorRef<SeqMsg>]> {
  return [await c.spawn('n1', sequencer, undefined, { name: 's' }), await c.spawn('n2', sequencer, undefined, { name: 's' })];
}

const received = (c: Cluster, ref: ActorRef<SeqMsg>) => c.ask(ref, (replyTo): SeqMsg => ({ type: 'dump', replyTo }), { timeoutMs: 20_000 });

/** Waits until all `count` messages sent on n1->n2 are accounted for, delivered or dropped. */
async function settled(c: Cluster, count: number): Promise<void> {
  const done = await c.runUntil(
    async () => {
      const l = (await c.network.links())['n1->n2'];
      if (!l || l.sent < count) return false;
      const dropped = Object.values(l.dropped).reduce((a, b) => a + b, 0);
      return l.queueDepth === 0 && l.delivered + dropped === l.sent + l.duplicated;
    },
    { timeoutMs: 20_000 },
  );
  expect(done).toBe(true);
}

describe('the fault model on threads', () => {
  it('loss drops a share of messages, never duplicates, keeps order; the counters add up', async () => {
    const c = (cluster = await threadsCluster({ nodes: 2, network: { lossProbability: 0.3 } }));
    const [a, b] = await pair(c);
    c.tell(a, { type: 'blast', to: b, count: 1000 });
    await settled(c, 1000);
    const got = (await received(c, b)).map((s) => Number(s.split(':')[1]));
    const l = (await c.network.links())['n1->n2']!;
    expect(l.sent).toBe(1000);
    expect(l.dropped.loss).toBe(1000 - got.length);
    expect(got.length).toBeGreaterThan(600);
    expect(got.length).toBeLessThan(800);
    expect(got).toEqual([...got].sort((x, y) => x - y));
    expect(new Set(got).size).toBe(got.length);
  });

  it('duplication delivers some messages twice, in order, and counts them', async () => {
    const c = (cluster = await threadsCluster({ nodes: 2, network: { duplicateProbability: 0.2 } }));
    const [a, b] = await pair(c);
    c.tell(a, { type: 'blast', to: b, count: 500 });
    await settled(c, 500);
    const got = (await received(c, b)).map((s) => Number(s.split(':')[1]));
    const l = (await c.network.links())['n1->n2']!;
    expect(got.length - 500).toBe(l.duplicated);
    expect(l.duplicated).toBeGreaterThan(40);
    expect(new Set(got).size).toBe(500);
    expect(got).toEqual([...got].sort((x, y) => x - y));
  });

  it('a one-way drop loses one direction only', async () => {
    const c = (cluster = await threadsCluster({ nodes: 2 }));
    const [a, b] = await pair(c);
    await c.network.grudge('n1', 'n2');
    c.tell(a, { type: 'blast', to: b, count: 20 });
    c.tell(b, { type: 'blast', to: a, count: 20 });
    expect(await c.runUntil(async () => (await received(c, a)).length === 20, { timeoutMs: 20_000 })).toBe(true);
    await settled(c, 20);
    expect(await received(c, b)).toEqual([]);
    expect((await c.network.links())['n1->n2']!.dropped.grudge).toBe(20);
  });

  it('latency delays delivery but loses nothing', async () => {
    const c = (cluster = await threadsCluster({ nodes: 2, network: { latency: { kind: 'uniform', minMs: 5, maxMs: 30 } } }));
    const [a, b] = await pair(c);
    c.tell(a, { type: 'blast', to: b, count: 200 });
    expect(await c.runUntil(async () => (await received(c, b)).length === 200, { timeoutMs: 20_000 })).toBe(true);
    const got = (await received(c, b)).map((s) => Number(s.split(':')[1]));
    expect(got).toEqual(Array.from({ length: 200 }, (_, i) => i + 1));
  });
});
