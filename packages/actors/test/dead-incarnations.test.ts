/**
 * What an incarnation that has ended may no longer do: the continuation of an async handler of an
 * actor that restarted, or of a node that was killed, cannot send, pipe, or write the disk.
 */
import { describe, expect } from 'vitest';
import { type ActorRef, type AnyRef, type SimulationCluster } from '@starling/actors';
import { echo } from './fixtures/echo-plugin.ts';
import { oneForAll, scribe, type ScribeMsg, type SupervisorMsg, worker, type WorkerMsg } from './fixtures/actors.ts';
import { simCluster } from './support/cluster.ts';
import { simIt } from '../../../scripts/testing/seed.ts';

const read = (c: SimulationCluster, s: ActorRef<ScribeMsg>, key: string) =>
  c.until(c.ask(s, (replyTo): ScribeMsg => ({ type: 'read', key, replyTo }), { timeoutMs: 1000 }));

async function scribeWithSibling(c: SimulationCluster): Promise<{ s: ActorRef<ScribeMsg>; w: ActorRef<WorkerMsg> }> {
  const sup = await c.spawn('n1', oneForAll, undefined, { name: 'sup' });
  const ask = (msg: (replyTo: ActorRef<AnyRef>) => SupervisorMsg) => c.until(c.ask(sup, msg, { timeoutMs: 100 }));
  const s = (await ask((replyTo) => ({ type: 'spawn-scribe', name: 's', replyTo }))) as ActorRef<ScribeMsg>;
  const w = (await ask((replyTo) => ({ type: 'spawn-worker', name: 'w', props: {}, replyTo }))) as ActorRef<WorkerMsg>;
  return { s, w };
}

describe('dead incarnations', () => {
  simIt('after a restart, an old continuation cannot write the disk', 131, async (seed) => {
    const c = await simCluster(seed);
    const { s, w } = await scribeWithSibling(c);
    c.tell(s, { type: 'write-later', key: 'k', ms: 50 });
    await c.runFor(10);
    c.tell(w, { type: 'crash' }); // one-for-all: the scribe restarts while it awaits
    await c.runFor(100);
    expect(await read(c, s, 'k')).toBeNull();
    await c.stop();
  });

  simIt('after a restart, an old pipeToSelf does not deliver into the new incarnation', 132, async (seed) => {
    const c = await simCluster(seed);
    const { s, w } = await scribeWithSibling(c);
    c.tell(s, { type: 'pipe-later', key: 'p', ms: 50 });
    await c.runFor(10);
    c.tell(w, { type: 'crash' });
    await c.runFor(100);
    expect(await read(c, s, 'p')).toBeNull();
    // A pipe of the current incarnation still arrives.
    c.tell(s, { type: 'pipe-later', key: 'q', ms: 5 });
    await c.runFor(10);
    expect(await read(c, s, 'q')).toBe('piped from generation 2 into generation 2');
    await c.stop();
  });

  simIt('after a kill, a handler that was awaiting an ask never runs again: the disk keeps no trace of it', 133, async (seed) => {
    const c = await simCluster(seed, { network: { latency: { kind: 'constant', ms: 20 } } });
    const target = await c.spawn('n2', echo, undefined, { name: 'slow' });
    const s = await c.spawn('n1', scribe, undefined, { name: 's' });
    await c.network.isolate('n2'); // the ask will never be answered
    c.tell(s, { type: 'ask-then-write', key: 'zombie', target });
    await c.runFor(10);
    await c.kill('n1');
    await c.runFor(20_000);
    await c.restart('n1');
    const again = await c.spawn('n1', scribe, undefined, { name: 's' });
    expect(await read(c, again, 'zombie')).toBeNull();
    await c.stop();
  });

  simIt('a kill cancels an automatic restart that was pending after an escalation', 134, async (seed) => {
    const c = await simCluster(seed);
    const w = await c.spawn('n2', worker, {}, { name: 'w' });
    for (let i = 0; i < 11; i++) c.tell(w, { type: 'crash' }); // past the /user guardian's intensity
    await c.runFor(1);
    expect(c.nodeState('n2')).toBe('down');
    await c.kill('n2');
    await c.runFor(60_000);
    expect(c.nodeState('n2')).toBe('down');
    await c.stop();
  });

  simIt('the host refuses to spawn or stop actors on a paused node', 135, async (seed) => {
    const c = await simCluster(seed);
    const w = await c.spawn('n1', worker, {}, { name: 'w' });
    await c.pause('n1');
    await expect(c.spawn('n1', worker, {}, { name: 'x' })).rejects.toMatchObject({ code: 'NODE_NOT_RUNNING' });
    await expect(c.stopActor(w)).rejects.toMatchObject({ code: 'NODE_NOT_RUNNING' });
    await c.resume('n1');
    await c.stopActor(w);
    await c.stop();
  });
});

describe('work outside the runtime', () => {
  simIt('ctx.external: simulation holds virtual time still until outside work settles', 136, async (seed) => {
    const c = await simCluster(seed);
    const s = await c.spawn('n1', scribe, undefined, { name: 's' });
    const t0 = c.now();
    const reply = await c.until(c.ask(s, (replyTo): ScribeMsg => ({ type: 'external', value: 42, waitMs: 30, replyTo }), { timeoutMs: 1000 }));
    expect(reply).toBe(`42@${t0}`);
    await c.stop();
  });
});
