/**
 * The `local` runtime: the same in-process runtime on the real clock. These tests wait for
 * outcomes, never for amounts of time.
 */
import { describe, expect, it } from 'vitest';
import { type ActorRef, createSystem, defineActor, startCluster, usePlugin } from '@starling/actors';
import { echo, type EchoMsg, pinger, type PingMsg, sequencer } from './fixtures/echo-plugin.ts';
import { testPlugin } from './fixtures/echo-plugin.ts';

describe('local runtime', () => {
  it('runs the README example: a counter actor told and asked from outside', async () => {
    type CounterMsg = { type: 'add'; n: number } | { type: 'get'; replyTo: ActorRef<number> };
    const counter = defineActor({
      name: 'counter',
      init: () => 0,
      receive(count, msg: CounterMsg, ctx) {
        if (msg.type === 'add') return count + msg.n;
        ctx.tell(msg.replyTo, count);
        return count;
      },
    });
    const system = await createSystem();
    const ref = system.spawn(counter, undefined, { name: 'counter' });
    system.tell(ref, { type: 'add', n: 2 });
    system.tell(ref, { type: 'add', n: 40 });
    expect(await system.ask(ref, (replyTo): CounterMsg => ({ type: 'get', replyTo }), { timeoutMs: 1000 })).toBe(42);
    expect(system.actorStats(ref)).toMatchObject({ enqueued: 3, processed: 3, size: 0 });
    expect(system.stats()).toMatchObject({ processed: 3, failures: 0 });
    await system.shutdown();
  });

  it('real timers: a repeating timer keeps firing until the actor stops', async () => {
    type Msg = { type: 'tick' } | { type: 'count'; replyTo: ActorRef<number> };
    const ticking = defineActor({
      name: 'ticking',
      init: (_: undefined, ctx) => {
        ctx.timers.repeat('t', 2, { type: 'tick' });
        return 0;
      },
      receive: (n, msg: Msg, ctx) => {
        if (msg.type === 'tick') return n + 1;
        ctx.tell(msg.replyTo, n);
        return n;
      },
    });
    const system = await createSystem();
    const ref = system.spawn(ticking, undefined);
    let ticks = 0;
    while (ticks < 5) ticks = await system.ask(ref, (replyTo): Msg => ({ type: 'count', replyTo }), { timeoutMs: 5000 });
    expect(ticks).toBeGreaterThanOrEqual(5);
    await system.shutdown();
  });

  it('runs a multi-node cluster on the real clock, with the network model between nodes', async () => {
    const cluster = await startCluster({
      runtime: 'local',
      nodes: 3,
      plugins: [usePlugin(testPlugin)],
      network: { latency: { kind: 'constant', ms: 1 } },
    });
    const a = await cluster.spawn('n1', pinger, undefined, { name: 'a' });
    const b = await cluster.spawn('n3', pinger, undefined, { name: 'b' });
    const rounds = await cluster.ask(a, (done): PingMsg => ({ type: 'start', peer: b, rounds: 20, done }), { timeoutMs: 10_000 });
    expect(rounds).toBe(20);
    await cluster.network.isolate('n2');
    const e = await cluster.spawn('n2', echo, undefined, { name: 'e' });
    // From the host (not subject to faults) n2 still answers; from n1 it is cut off.
    expect(await cluster.ask(e, (replyTo): EchoMsg => ({ type: 'echo', text: 'hi', replyTo }), { timeoutMs: 5000 })).toBe('n2:hi');
    const s1 = await cluster.spawn('n1', sequencer, undefined, { name: 's' });
    const s2 = await cluster.spawn('n2', sequencer, undefined, { name: 's' });
    cluster.tell(s1, { type: 'blast', to: s2, count: 5 });
    expect(await cluster.runUntil(async () => (await cluster.network.links())['n1->n2']?.dropped.partition === 5, { timeoutMs: 5000 })).toBe(true);
    await cluster.pause('n2');
    await expect(cluster.ask(e, (replyTo): EchoMsg => ({ type: 'echo', text: 'paused', replyTo }), { timeoutMs: 50 })).rejects.toMatchObject({
      code: 'ASK_TIMEOUT',
    });
    await cluster.resume('n2');
    expect(await cluster.ask(e, (replyTo): EchoMsg => ({ type: 'echo', text: 'back', replyTo }), { timeoutMs: 5000 })).toBe('n2:back');
    await cluster.stop();
  });
});
