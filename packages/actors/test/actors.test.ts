import { describe, expect } from 'vitest';
import { type ActorRef, AskTimeoutError, type AnyRef, refToString, selectActor } from '@starling/actors';
import { type EchoMsg, echo, pinger, type PingMsg } from './fixtures/echo-plugin.ts';
import {
  type AskerMsg,
  asker,
  lifecycle,
  type LifecycleMsg,
  oneForOne,
  type SupervisorMsg,
  ticker,
  type TickerMsg,
  worker,
  type WorkerMsg,
} from './fixtures/actors.ts';
import { deadLetters, recordEvents, simCluster, withProbe } from './support/cluster.ts';
import { simIt } from '../../../scripts/testing/seed.ts';

const echoAsk = (text: string) => (replyTo: ActorRef<string>): EchoMsg => ({ type: 'echo', text, replyTo });

describe('spawning and addressing', () => {
  simIt('actors get paths under /user and refs that are plain data naming node, node uid, path and uid', 1, async (seed) => {
    const c = await simCluster(seed);
    const ref = await c.spawn('n2', echo, undefined, { name: 'orders' });
    expect(ref).toEqual({ node: 'n2', nodeUid: c.nodeUid('n2'), path: '/user/orders', uid: expect.any(Number) });
    expect(JSON.parse(JSON.stringify(ref))).toEqual(ref);
    const sup = await c.spawn('n2', oneForOne, undefined, { name: 'orders-sup' });
    const child = await c.until(
      c.ask(sup, (replyTo): SupervisorMsg => ({ type: 'spawn-worker', name: '42', props: {}, replyTo }), { timeoutMs: 100 }),
    );
    expect(child.path).toBe('/user/orders-sup/42');
    await c.stop();
  });

  simIt('a name taken by a sibling and an invalid name are typed errors', 2, async (seed) => {
    const c = await simCluster(seed);
    await c.spawn('n1', echo, undefined, { name: 'a' });
    await expect(c.spawn('n1', echo, undefined, { name: 'a' })).rejects.toMatchObject({ code: 'NAME_TAKEN' });
    await expect(c.spawn('n1', echo, undefined, { name: 'a/b' })).rejects.toMatchObject({ code: 'INVALID_NAME' });
    await expect(c.spawn('n1', 'no-such-definition', undefined)).rejects.toMatchObject({ code: 'UNKNOWN_ACTOR_TYPE' });
    await expect(c.spawn('n9', echo, undefined)).rejects.toMatchObject({ code: 'UNKNOWN_NODE' });
    await c.stop();
  });

  simIt('refs travel inside messages and work from any node', 3, async (seed) => {
    const c = await simCluster(seed, { network: { latency: { kind: 'uniform', minMs: 1, maxMs: 4 } } });
    const a = await c.spawn('n1', pinger, undefined, { name: 'a' });
    const b = await c.spawn('n3', pinger, undefined, { name: 'b' });
    const rounds = await c.until(c.ask(a, (done): PingMsg => ({ type: 'start', peer: b, rounds: 50, done }), { timeoutMs: 10_000 }));
    expect(rounds).toBe(50);
    // 50 pings n1->n3 and 50 pongs back, plus the start and the reply through the host.
    expect((await c.network.links())['n1->n3']?.delivered).toBe(50);
    expect((await c.network.links())['n3->n1']?.delivered).toBe(50);
    await c.stop();
  });

  simIt('a selection reaches whatever actor currently lives at a path', 4, async (seed) => {
    const c = await simCluster(seed);
    await c.spawn('n2', echo, undefined, { name: 'svc' });
    const sel = selectActor<EchoMsg>('n2', '/user/svc');
    expect(await c.until(c.ask(sel, echoAsk('x'), { timeoutMs: 100 }))).toBe('n2:x');
    await c.restart('n2');
    await c.spawn('n2', echo, undefined, { name: 'svc' });
    expect(await c.until(c.ask(sel, echoAsk('y'), { timeoutMs: 100 }))).toBe('n2:y');
    await c.stop();
  });
});

describe('tell and ask', () => {
  simIt('messages to one actor are handled in the order they were sent', 5, async (seed) => {
    const c = await simCluster(seed);
    const w = await c.spawn('n1', worker, {}, { name: 'w' });
    for (let id = 0; id < 100; id++) c.tell(w, { type: 'work', id });
    const state = await c.until(c.ask(w, (replyTo): WorkerMsg => ({ type: 'get', replyTo }), { timeoutMs: 100 }));
    expect(state.handled).toEqual(Array.from({ length: 100 }, (_, i) => i));
    await c.stop();
  });

  simIt('an ask with no reply fails with ASK_TIMEOUT after exactly its timeout of virtual time', 6, async (seed) => {
    const c = await simCluster(seed);
    const w = await c.spawn('n1', worker, {}, { name: 'w' });
    const start = c.now();
    // `work` never replies.
    const p = c.ask(w, (): WorkerMsg => ({ type: 'work', id: 1 }), { timeoutMs: 250 });
    const err = await c.until(p).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(AskTimeoutError);
    expect(err).toMatchObject({ code: 'ASK_TIMEOUT', timeoutMs: 250 });
    expect(c.now() - start).toBe(250);
    await c.stop();
  });

  simIt('an ask without a valid timeout is refused', 7, async (seed) => {
    const c = await simCluster(seed);
    const w = await c.spawn('n1', echo, undefined);
    await expect(c.ask(w, echoAsk('x'), { timeoutMs: 0 })).rejects.toMatchObject({ code: 'INVALID_CONFIG' });
    await expect(c.ask(w, echoAsk('x'), {} as { timeoutMs: number })).rejects.toMatchObject({ code: 'INVALID_CONFIG' });
    await c.stop();
  });

  simIt('an ask to a missing actor fails at once with ASK_FAILED instead of waiting for its timeout', 8, async (seed) => {
    const c = await simCluster(seed, { network: { latency: { kind: 'constant', ms: 5 } } });
    const start = c.now();
    const missing = selectActor<EchoMsg>('n2', '/user/nobody');
    const err = await c.until(c.ask(missing, echoAsk('x'), { timeoutMs: 10_000 })).catch((e: unknown) => e);
    expect(err).toMatchObject({ code: 'ASK_FAILED', reason: 'no-such-actor' });
    expect(c.now() - start).toBeLessThan(100);
    await c.stop();
  });

  simIt('awaiting asks between two actors deadlocks until the timeout; pipeToSelf does not', 9, async (seed) => {
    const c = await simCluster(seed);
    const a = await c.spawn('n1', asker, undefined, { name: 'a' });
    const b = await c.spawn('n2', asker, undefined, { name: 'b' });
    // a awaits b while b awaits a: both mailboxes are held, both asks time out.
    const ra = c.ask(a, (replyTo): AskerMsg => ({ type: 'ask-peer', peer: b, replyTo }), { timeoutMs: 5000 });
    const rb = c.ask(b, (replyTo): AskerMsg => ({ type: 'ask-peer', peer: a, replyTo }), { timeoutMs: 5000 });
    expect(await c.until(Promise.all([ra, rb]))).toEqual(['failed ASK_TIMEOUT', 'failed ASK_TIMEOUT']);
    const pa = c.ask(a, (replyTo): AskerMsg => ({ type: 'pipe-peer', peer: b, replyTo }), { timeoutMs: 5000 });
    const pb = c.ask(b, (replyTo): AskerMsg => ({ type: 'pipe-peer', peer: a, replyTo }), { timeoutMs: 5000 });
    expect(await c.until(Promise.all([pa, pb]))).toEqual(['got answer from /user/b', 'got answer from /user/a']);
    await c.stop();
  });
});

describe('stopping', () => {
  simIt('stop stops children first, runs every stop hook, then tells watchers', 10, async (seed) => {
    const c = await simCluster(seed);
    const p = await withProbe(c);
    const root = await c.spawn('n1', lifecycle, { probe: p.ref, label: 'top', children: ['a', 'b'] }, { name: 'top' });
    await c.runFor(1);
    await c.stopActor(root);
    await c.runFor(1);
    const notes = await p.notes();
    expect(notes.filter((n) => n.startsWith('stop'))).toEqual(['stop top/b', 'stop top/a', 'stop top']);
    await c.stop();
  });

  simIt('messages to a stopped actor become dead letters with reason stopped; its queue too', 11, async (seed) => {
    const c = await simCluster(seed);
    const events = recordEvents(c);
    const w = await c.spawn('n1', worker, {}, { name: 'w' });
    await c.stopActor(w);
    c.tell(w, { type: 'work', id: 1 });
    await c.runFor(1);
    expect(deadLetters(events, 'stopped').map((d) => refToString(d.to))).toEqual([refToString(w)]);
    expect((await c.stats('n1')).deadLetters.stopped).toBe(1);
    await c.stop();
  });
});

describe('timers', () => {
  simIt('once and repeating timers fire on the runtime clock; cancel stops them', 12, async (seed) => {
    const c = await simCluster(seed);
    const t = await c.spawn('n1', ticker, undefined, { name: 't' });
    const t0 = c.now();
    c.tell(t, { type: 'start-once', key: 'once', afterMs: 100 });
    c.tell(t, { type: 'start-repeat', key: 'rep', intervalMs: 30 });
    await c.runFor(100);
    c.tell(t, { type: 'cancel', key: 'rep' });
    await c.runFor(200);
    const ticks = await c.until(c.ask(t, (replyTo): TickerMsg => ({ type: 'get', replyTo }), { timeoutMs: 10 }));
    expect(ticks).toEqual([`rep@${t0 + 30}`, `rep@${t0 + 60}`, `rep@${t0 + 90}`, `once@${t0 + 100}`]);
    await c.stop();
  });

  simIt('a cancelled timer message already queued is not delivered; restarting a key replaces it', 13, async (seed) => {
    const c = await simCluster(seed);
    const t = await c.spawn('n1', ticker, undefined, { name: 't' });
    const t0 = c.now();
    // Hold the mailbox for 50 ms; the timer fires at 10 ms and its message queues behind.
    c.tell(t, { type: 'start-once', key: 'k', afterMs: 10 });
    c.tell(t, { type: 'block', ms: 50 });
    c.tell(t, { type: 'cancel', key: 'k' });
    c.tell(t, { type: 'start-once', key: 'j', afterMs: 10 });
    c.tell(t, { type: 'start-once', key: 'j', afterMs: 80 });
    await c.runFor(200);
    const ticks = await c.until(c.ask(t, (replyTo): TickerMsg => ({ type: 'get', replyTo }), { timeoutMs: 10 }));
    expect(ticks).toEqual([`j@${t0 + 50 + 80}`]);
    await c.stop();
  });
});

describe('context', () => {
  simIt('the context names self, parent, node and node uid', 14, async (seed) => {
    const c = await simCluster(seed);
    const sup = await c.spawn('n3', oneForOne, undefined, { name: 'sup' });
    const p = await withProbe(c, 'n3');
    const child: AnyRef = await c.until(
      c.ask(sup, (replyTo): SupervisorMsg => ({ type: 'spawn', name: 'kid', props: { probe: p.ref, label: 'kid' }, replyTo }), { timeoutMs: 10 }),
    );
    expect(child).toMatchObject({ node: 'n3', nodeUid: c.nodeUid('n3'), path: '/user/sup/kid' });
    const label = await c.until(c.ask(child as ActorRef<LifecycleMsg>, (replyTo): LifecycleMsg => ({ type: 'ping', replyTo }), { timeoutMs: 10 }));
    expect(label).toBe('kid');
    await c.stop();
  });
});
