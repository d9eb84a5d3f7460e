import { describe, expect } from 'vitest';
import { type ActorRef, halves, selectActor, type SimulationCluster } from '@starling/actors';
import { echo, type EchoMsg, sequencer, type SeqMsg } from './fixtures/echo-plugin.ts';
import { ticker, type TickerMsg, worker, type WorkerMsg } from './fixtures/actors.ts';
import { deadLetters, recordEvents, simCluster } from './support/cluster.ts';
import { simIt } from '../../../scripts/testing/seed.ts';

const received = (c: SimulationCluster, ref: ActorRef<SeqMsg>) =>
  c.until(c.ask(ref, (replyTo): SeqMsg => ({ type: 'dump', replyTo }), { timeoutMs: 1000 }));

const generation = async (c: SimulationCluster, node: string): Promise<number> => {
  const w = await c.spawn(node, worker, {}, { name: 'w' });
  const s = await c.until(c.ask(w, (replyTo): WorkerMsg => ({ type: 'get', replyTo }), { timeoutMs: 1000 }));
  return s.generation;
};

describe('node lifecycle', () => {
  simIt('kill loses memory but keeps the disk; restart starts a new incarnation with a new node uid', 61, async (seed) => {
    const c = await simCluster(seed);
    const uid1 = c.nodeUid('n2');
    // The worker counts its starts on the node's disk.
    expect(await generation(c, 'n2')).toBe(1);
    await c.kill('n2');
    expect(c.nodeState('n2')).toBe('down');
    expect(c.nodeUid('n2')).toBeUndefined();
    await c.restart('n2');
    const uid2 = c.nodeUid('n2');
    expect(uid2).toBeDefined();
    expect(uid2).not.toBe(uid1);
    // The actor is gone (memory), the disk survived: this is its second start.
    expect(await generation(c, 'n2')).toBe(2);
    await c.restart('n2');
    expect(c.nodeUid('n2')).not.toBe(uid2);
    expect(await generation(c, 'n2')).toBe(3);
    expect((await c.stats('n2')).starts).toBe(3);
    await c.stop();
  });

  simIt('restartEmpty wipes the disk too', 62, async (seed) => {
    const c = await simCluster(seed);
    expect(await generation(c, 'n3')).toBe(1);
    await c.restartEmpty('n3');
    expect(await generation(c, 'n3')).toBe(1);
    await c.stop();
  });

  simIt('a ref to an earlier incarnation of a node is stale: a dead letter, never a message to a stranger', 63, async (seed) => {
    const c = await simCluster(seed);
    const events = recordEvents(c);
    const old = await c.spawn('n2', echo, undefined, { name: 'e' });
    await c.restart('n2');
    const fresh = await c.spawn('n2', echo, undefined, { name: 'e' });
    expect(fresh.path).toBe(old.path);
    const err = await c.until(c.ask(old, (replyTo): EchoMsg => ({ type: 'echo', text: 'x', replyTo }), { timeoutMs: 1000 })).catch((e: unknown) => e);
    expect(err).toMatchObject({ code: 'ASK_FAILED', reason: 'stale' });
    expect(deadLetters(events, 'stale')).toHaveLength(1);
    expect(await c.until(c.ask(fresh, (replyTo): EchoMsg => ({ type: 'echo', text: 'y', replyTo }), { timeoutMs: 1000 }))).toBe('n2:y');
    await c.stop();
  });

  simIt('a paused node runs nothing and fires no timer; on resume due timers fire once', 64, async (seed) => {
    const c = await simCluster(seed);
    const t = await c.spawn('n1', ticker, undefined, { name: 't' });
    const t0 = c.now();
    c.tell(t, { type: 'start-repeat', key: 'r', intervalMs: 10 });
    await c.runFor(25);
    await c.pause('n1');
    expect(c.nodeState('n1')).toBe('paused');
    await c.runFor(100);
    await c.resume('n1');
    await c.runFor(25);
    const ticks = await c.until(c.ask(t, (replyTo): TickerMsg => ({ type: 'get', replyTo }), { timeoutMs: 100 }));
    // 10, 20; paused 25..125 (the 30 ms tick is held); once at 125; then every 10 ms again.
    expect(ticks).toEqual(['r@' + (t0 + 10), 'r@' + (t0 + 20), 'r@' + (t0 + 125), 'r@' + (t0 + 135), 'r@' + (t0 + 145)]);
    await c.stop();
  });

  simIt('messages to a paused node are held and delivered on resume, except those older than maxMessageAgeMs', 65, async (seed) => {
    const c = await simCluster(seed, { maxMessageAgeMs: 1000, network: { latency: { kind: 'constant', ms: 1 } } });
    const events = recordEvents(c);
    const src = await c.spawn('n1', sequencer, undefined, { name: 'src' });
    const dst = await c.spawn('n2', sequencer, undefined, { name: 'dst' });
    await c.pause('n2');
    c.tell(src, { type: 'blast', to: dst, count: 3 });
    await c.runFor(2000);
    c.tell(src, { type: 'blast', to: dst, count: 2 });
    await c.runFor(500);
    await c.resume('n2');
    expect(await received(c, dst)).toEqual(['n1:1', 'n1:2']);
    expect(deadLetters(events, 'too-old')).toHaveLength(3);
    await c.stop();
  });

  simIt('a paused node holds at most pausedQueueLimit messages; the rest are dropped as queue-full', 66, async (seed) => {
    const c = await simCluster(seed, { pausedQueueLimit: 10 });
    const events = recordEvents(c);
    const src = await c.spawn('n1', sequencer, undefined, { name: 'src' });
    const dst = await c.spawn('n2', sequencer, undefined, { name: 'dst' });
    await c.pause('n2');
    c.tell(src, { type: 'blast', to: dst, count: 25 });
    await c.runFor(10);
    await c.resume('n2');
    expect(await received(c, dst)).toHaveLength(10);
    expect(deadLetters(events, 'dropped-by-network').filter((d) => d.cause === 'queue-full')).toHaveLength(15);
    expect((await c.network.links())['n1->n2']?.dropped['queue-full']).toBe(15);
    await c.stop();
  });

  simIt('messages to a killed node are dropped with cause node-down', 67, async (seed) => {
    const c = await simCluster(seed, { network: { latency: { kind: 'constant', ms: 50 } } });
    const events = recordEvents(c);
    const src = await c.spawn('n1', sequencer, undefined, { name: 'src' });
    const dst = await c.spawn('n2', sequencer, undefined, { name: 'dst' });
    c.tell(src, { type: 'blast', to: dst, count: 5 });
    await c.runFor(10);
    await c.kill('n2');
    await c.runFor(100);
    expect(deadLetters(events, 'dropped-by-network').map((d) => d.cause)).toEqual(Array(5).fill('node-down'));
    expect((await c.network.links())['n1->n2']?.dropped['node-down']).toBe(5);
    await c.stop();
  });

  simIt('a ref naming a node outside the cluster is a dead letter, not an exception', 68, async (seed) => {
    const c = await simCluster(seed);
    const events = recordEvents(c);
    const src = await c.spawn('n1', sequencer, undefined, { name: 'src' });
    c.tell(src, { type: 'blast', to: selectActor('n42', '/user/x'), count: 1 });
    await c.runFor(1);
    expect(deadLetters(events, 'dropped-by-network').map((d) => d.cause)).toEqual(['unknown-node']);
    expect(c.nodeState('n1')).toBe('running');
    await c.stop();
  });
});

describe('partitions at delivery', () => {
  simIt('once partition() returns nothing crosses the cut, not even messages already in flight; heal() restores every link', 69, async (seed) => {
    const c = await simCluster(seed, { nodes: 4, network: { latency: { kind: 'constant', ms: 50 } } });
    const events = recordEvents(c);
    const refs = await Promise.all(c.nodes.map((n) => c.spawn(n, sequencer, undefined, { name: 's' })));
    // Traffic in flight on every link.
    for (const from of refs) for (const to of refs) if (from !== to) c.tell(from, { type: 'blast', to, count: 2 });
    await c.runFor(10);
    await c.network.partition(halves(c.nodes)); // [n1,n2] | [n3,n4]
    await c.runFor(100);
    const side = (n: string) => (n === 'n1' || n === 'n2' ? 0 : 1);
    for (const [i, to] of refs.entries()) {
      const got = await received(c, to);
      const senders = [...new Set(got.map((s) => s.split(':')[0]))].sort();
      expect(senders).toEqual(c.nodes.filter((n, j) => j !== i && side(n) === side(c.nodes[i]!)));
    }
    const cut = deadLetters(events, 'dropped-by-network').filter((d) => d.cause === 'partition');
    expect(cut).toHaveLength(8 * 2);
    await c.network.heal();
    for (const from of refs) for (const to of refs) if (from !== to) c.tell(from, { type: 'blast', to, count: 1 });
    await c.runFor(100);
    // Two from the peer on the same side before the heal, one from each of the three others after.
    for (const to of refs) expect((await received(c, to)).length).toBe(2 + 3);
    await c.stop();
  });

  simIt('a one-way drop loses only one direction', 70, async (seed) => {
    const c = await simCluster(seed);
    const a = await c.spawn('n1', sequencer, undefined, { name: 's' });
    const b = await c.spawn('n2', sequencer, undefined, { name: 's' });
    await c.network.grudge('n1', 'n2');
    c.tell(a, { type: 'blast', to: b, count: 3 });
    c.tell(b, { type: 'blast', to: a, count: 3 });
    await c.runFor(10);
    expect(await received(c, b)).toEqual([]);
    expect(await received(c, a)).toEqual(['n2:1', 'n2:2', 'n2:3']);
    await c.stop();
  });

  simIt('changing rules with bad input is a typed error and leaves the old rules in force', 71, async (seed) => {
    const c = await simCluster(seed);
    await c.network.setLoss(0.1);
    const epoch = c.network.epoch;
    await expect(c.network.setLoss(2)).rejects.toMatchObject({ code: 'INVALID_CONFIG' });
    await expect(c.network.partition({ shape: 'groups', groups: [['n1'], ['nope']] })).rejects.toMatchObject({ code: 'UNKNOWN_NODE' });
    expect(c.network.rules.lossProbability).toBe(0.1);
    expect(c.network.epoch).toBe(epoch);
    await c.stop();
  });
});
