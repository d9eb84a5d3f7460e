import { describe, expect } from 'vitest';
import type { ActorRef, AnyRef, RuntimeEvent, SimulationCluster } from '@starling/actors';
import { type AsyncMsg, oneForAll, oneForOne, slowpoke, type SupervisorMsg, type WorkerMsg } from './fixtures/actors.ts';
import { recordEvents, simCluster, withProbe } from './support/cluster.ts';
import { simIt } from '../../../scripts/testing/seed.ts';

const log = (c: SimulationCluster, ref: ActorRef<AsyncMsg>) =>
  c.until(c.ask(ref, (replyTo): AsyncMsg => ({ type: 'get', replyTo }), { timeoutMs: 10_000 }));

const spawnUnder = (c: SimulationCluster, sup: ActorRef<SupervisorMsg>, msg: (replyTo: ActorRef<AnyRef>) => SupervisorMsg) =>
  c.until(c.ask(sup, msg, { timeoutMs: 10 }));

describe('async receive', () => {
  simIt('handles one message at a time even when each handler awaits', 41, async (seed) => {
    const c = await simCluster(seed);
    const s = await c.spawn('n1', slowpoke, {}, { name: 's' });
    const t0 = c.now();
    for (let id = 1; id <= 3; id++) c.tell(s, { type: 'slow', id, ms: 10 });
    const result = await log(c, s);
    expect(result.events).toEqual(['begin 1', 'end 1', 'begin 2', 'end 2', 'begin 3', 'end 3']);
    expect(result.maxInFlight).toBe(1);
    // The `get` waited behind three 10 ms handlers.
    expect(c.now() - t0).toBe(30);
    await c.stop();
  });

  simIt('a rejected async handler is a crash like a thrown one', 42, async (seed) => {
    const c = await simCluster(seed);
    const events = recordEvents(c);
    const sup = await c.spawn('n1', oneForOne, undefined, { name: 'sup' });
    const s = (await spawnUnder(c, sup, (replyTo) => ({ type: 'spawn-slow', name: 's', props: {}, replyTo }))) as ActorRef<AsyncMsg>;
    c.tell(s, { type: 'crash' });
    c.tell(s, { type: 'slow', id: 1, ms: 5 });
    expect((await log(c, s)).events).toEqual(['begin 1', 'end 1']);
    expect(events.filter((e) => e.type === 'actor-restarted')).toHaveLength(1);
    await c.stop();
  });

  simIt('a restart while a handler awaits discards its continuation: no state, no messages', 43, async (seed) => {
    const c = await simCluster(seed);
    const p = await withProbe(c);
    const sup = await c.spawn('n1', oneForAll, undefined, { name: 'sup' });
    const s = (await spawnUnder(c, sup, (replyTo) => ({ type: 'spawn-slow', name: 's', props: { probe: p.ref }, replyTo }))) as ActorRef<AsyncMsg>;
    const w = (await spawnUnder(c, sup, (replyTo) => ({ type: 'spawn-worker', name: 'w', props: {}, replyTo }))) as ActorRef<WorkerMsg>;
    c.tell(s, { type: 'slow', id: 1, ms: 100 });
    await c.runFor(10);
    // The sibling's crash restarts every child (one-for-all), the awaiting one included.
    c.tell(w, { type: 'crash' });
    await c.runFor(200);
    const after = await log(c, s);
    expect(after.events).toEqual([]);
    expect(after.inFlight).toBe(0);
    const notes = await p.notes();
    expect(notes).toEqual(['init /user/sup/s', 'init /user/sup/s']);
    // The restarted actor serves new messages normally.
    c.tell(s, { type: 'slow', id: 2, ms: 1 });
    expect((await log(c, s)).events).toEqual(['begin 2', 'end 2']);
    await c.stop();
  });

  simIt('stopping an actor whose handler awaits discards the continuation and dead-letters the queue', 44, async (seed) => {
    const c = await simCluster(seed);
    const events: RuntimeEvent[] = recordEvents(c);
    const p = await withProbe(c);
    const s = await c.spawn('n1', slowpoke, { probe: p.ref }, { name: 's' });
    c.tell(s, { type: 'slow', id: 1, ms: 100 });
    c.tell(s, { type: 'slow', id: 2, ms: 100 });
    await c.runFor(10);
    await c.stopActor(s);
    await c.runFor(200);
    expect(await p.notes()).toEqual(['init /user/s']);
    // The queued message is a dead letter; the continuation's tell threw STALE_CONTEXT and sent nothing.
    const dead = events.filter((e) => e.type === 'dead-letter');
    expect(dead.map((e) => (e as { reason: string }).reason)).toEqual(['stopped']);
    await c.stop();
  });
});
