/**
 * Supervision's edge cases: escalations that are resumed, failures at start, crash loops in
 * `init`, idempotent stops, and what a stopping or dead incarnation may no longer do.
 */
import { describe, expect } from 'vitest';
import { type ActorRef, type AnyRef, type RuntimeEvent, type SimulationCluster } from '@starling/actors';
import {
  permissive,
  resumer,
  oneForOne,
  probe,
  type ProbeMsg,
  stopSpawner,
  type SupervisorMsg,
  ticker,
  worker,
  type WorkerMsg,
  type WorkerState,
} from './fixtures/actors.ts';
import { recordEvents, simCluster, withProbe } from './support/cluster.ts';
import { simIt } from '../../../scripts/testing/seed.ts';

const ask = <T>(c: SimulationCluster, ref: ActorRef<SupervisorMsg>, msg: (replyTo: ActorRef<AnyRef>) => SupervisorMsg) =>
  c.until(c.ask(ref, msg, { timeoutMs: 10_000 })) as Promise<T>;
const state = (c: SimulationCluster, w: ActorRef<WorkerMsg>): Promise<WorkerState> =>
  c.until(c.ask(w, (replyTo): WorkerMsg => ({ type: 'get', replyTo }), { timeoutMs: 10_000 }));
const failures = (events: readonly RuntimeEvent[]) =>
  events.filter((e): e is Extract<RuntimeEvent, { type: 'actor-failed' }> => e.type === 'actor-failed').map((e) => [e.ref.path, e.phase, e.directive]);

describe('supervision edge cases', () => {
  simIt('when an escalation ends in resume, the child that escalated resumes too and keeps its state', 121, async (seed) => {
    const c = await simCluster(seed);
    const events = recordEvents(c);
    const top = await c.spawn('n1', resumer, undefined, { name: 'top' });
    const mid = await ask<ActorRef<SupervisorMsg>>(c, top, (replyTo) => ({ type: 'spawn-escalator', name: 'mid', replyTo }));
    const w = await ask<ActorRef<WorkerMsg>>(c, mid, (replyTo) => ({ type: 'spawn-worker', name: 'w', props: {}, replyTo }));
    c.tell(w, { type: 'work', id: 1 });
    c.tell(w, { type: 'crash' });
    c.tell(w, { type: 'work', id: 2 });
    expect(await state(c, w)).toEqual({ generation: 1, handled: [1, 2] });
    expect(failures(events)).toEqual([
      ['/user/top/mid/w', 'receive', 'escalate'],
      ['/user/top/mid', 'receive', 'resume'],
    ]);
    await c.stop();
  });

  simIt('resume after a failure to start restarts instead: there is no state to resume', 122, async (seed) => {
    const c = await simCluster(seed);
    const events = recordEvents(c);
    const sup = await c.spawn('n1', resumer, undefined, { name: 'sup' });
    const w = await ask<ActorRef<WorkerMsg>>(c, sup, (replyTo) => ({ type: 'spawn-worker', name: 'w', props: { failInitOnStarts: [1] }, replyTo }));
    c.tell(w, { type: 'work', id: 7 });
    expect(await state(c, w)).toEqual({ generation: 2, handled: [7] });
    expect(failures(events)).toEqual([['/user/sup/w', 'start', 'restart']]);
    await c.stop();
  });

  simIt('a crash loop in init under a permissive intensity restarts thousands of times without recursion', 123, async (seed) => {
    const c = await simCluster(seed);
    const sup = await c.spawn('n1', permissive, undefined, { name: 'sup' });
    const w = await ask<ActorRef<WorkerMsg>>(c, sup, (replyTo) => ({ type: 'spawn-worker', name: 'w', props: { failInitUntilStart: 5000 }, replyTo }));
    c.tell(w, { type: 'work', id: 1 });
    expect(await state(c, w)).toEqual({ generation: 5001, handled: [1] });
    expect((await c.stats('n1')).restarts).toBe(5000);
    await c.stop();
  });

  simIt('a spawn from the host whose init throws is refused with ACTOR_FAILED and leaves the node serving', 124, async (seed) => {
    const c = await simCluster(seed);
    const before = (await c.stats('n1'));
    await expect(c.spawn('n1', worker, { failInitOnStarts: [1] }, { name: 'w' })).rejects.toMatchObject({ code: 'ACTOR_FAILED' });
    const after = (await c.stats('n1'));
    expect(after.actors).toBe(before.actors);
    expect(after.starts).toBe(1);
    // The name is free again.
    const w = await c.spawn('n1', worker, {}, { name: 'w' });
    expect((await state(c, w)).generation).toBe(2);
    await c.stop();
  });

  simIt('stopping a child that is already stopped is a no-op, not a crash of the parent', 125, async (seed) => {
    const c = await simCluster(seed);
    const events = recordEvents(c);
    const sup = await c.spawn('n1', oneForOne, undefined, { name: 'sup' });
    const child = await ask<AnyRef>(c, sup, (replyTo) => ({ type: 'stop-child-twice', name: 'k', replyTo }));
    expect(child.path).toBe('/user/sup/k');
    expect(failures(events)).toEqual([]);
    await c.stop();
  });

  simIt('an actor that is stopping cannot spawn children (no orphans outlive their parent)', 126, async (seed) => {
    const c = await simCluster(seed);
    const p = await withProbe(c);
    const s = await c.spawn('n1', stopSpawner, { probe: p.ref }, { name: 's' });
    const actorsBefore = (await c.stats('n1')).actors;
    await c.stopActor(s);
    await c.runFor(1);
    expect(await p.notes()).toEqual(['spawn in onStop: ACTOR_STOPPED']);
    expect((await c.stats('n1')).actors).toBe(actorsBefore - 1);
    await c.stop();
  });

  simIt('bad mailbox settings and timer intervals are typed errors', 127, async (seed) => {
    const c = await simCluster(seed);
    const events = recordEvents(c);
    await expect(c.spawn('n1', probe, undefined, { mailbox: { capacity: 0 } })).rejects.toMatchObject({ code: 'INVALID_CONFIG' });
    await expect(c.spawn('n1', probe, undefined, { mailbox: { overflow: 'bogus' as never } })).rejects.toMatchObject({ code: 'INVALID_CONFIG' });
    const t = await c.spawn('n1', ticker, undefined, { name: 't' });
    c.tell(t, { type: 'start-repeat', key: 'r', intervalMs: 0 });
    await c.runFor(1);
    const failed = events.find((e): e is Extract<RuntimeEvent, { type: 'actor-failed' }> => e.type === 'actor-failed');
    expect(failed?.error).toMatchObject({ code: 'INVALID_CONFIG' });
    await c.stop();
  });
});

export type { ProbeMsg };
