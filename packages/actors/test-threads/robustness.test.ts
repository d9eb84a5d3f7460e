/**
 * The threads runtime under the conditions that break naive implementations: many message shapes
 * on one link, restarts that race each other, dead and stuck workers, large messages, signals that
 * must not overtake messages, and errors that cross threads.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { type ActorRef, type Cluster, InvalidArgumentError, isolate, type RuntimeEvent, selectActor } from '@starling/actors';
import { echo, type PingMsg } from '../test/fixtures/echo-plugin.ts';
import { scribe, type ScribeMsg, ticker, watcher, type WatcherMsg } from '../test/fixtures/actors.ts';
import {
  listener,
  type ListenerMsg,
  saboteur,
  shaper,
  type ShaperMsg,
  sink,
  type SinkMsg,
  slowReceiver,
  talker,
} from './fixtures/thread-actors.ts';
import { nextEvent, threadsCluster } from './support.ts';

let cluster: Cluster | undefined;
afterEach(async () => {
  await cluster?.stop();
  cluster = undefined;
});

const liveWorkers = (c: Cluster): number => (c as unknown as { liveWorkers(): number }).liveWorkers();
const ping = (c: Cluster, a: string, b: string, rounds = 20): Promise<number> =>
  c.ask(selectActor<PingMsg>(a, '/system/pinger'), (done): PingMsg => ({ type: 'start', peer: selectActor(b, '/system/pinger'), rounds, done }), {
    timeoutMs: 20_000,
  });

describe('threads robustness', () => {
  it('a link carries hundreds of distinct message shapes, worker to worker and worker to host', async () => {
    const c = (cluster = await threadsCluster({ nodes: 2 }));
    const s = await c.spawn('n2', sink, undefined, { name: 'sink' });
    const sh = await c.spawn('n1', shaper, undefined, { name: 'shaper' });
    expect(await c.ask(sh, (replyTo): ShaperMsg => ({ type: 'shapes', to: s, count: 300, replyTo }), { timeoutMs: 20_000 })).toBe(300);
    const count = () => c.ask(s as ActorRef<SinkMsg>, (replyTo): SinkMsg => ({ type: 'count', replyTo }), { timeoutMs: 20_000 });
    expect(await c.runUntil(async () => (await count()) === 300, { timeoutMs: 20_000 })).toBe(true);
    for (let i = 0; i < 100; i++) {
      expect(await c.ask(sh, (replyTo): ShaperMsg => ({ type: 'one-shape', i, replyTo }), { timeoutMs: 20_000 })).toEqual({ [`reply${i}`]: i });
    }
    expect(c.nodeState('n1')).toBe('running');
    expect(c.nodeState('n2')).toBe('running');
  });

  it('two nodes restarted at once end up wired to each other', async () => {
    const c = (cluster = await threadsCluster({ nodes: 3 }));
    await Promise.all([c.restart('n1'), c.restart('n2')]);
    expect(await ping(c, 'n1', 'n2')).toBe(20);
    expect(await ping(c, 'n2', 'n3')).toBe(20);
    expect(await ping(c, 'n3', 'n1')).toBe(20);
  });

  it('a kill during an automatic restart is final', async () => {
    const c = (cluster = await threadsCluster({ nodeRestart: { minBackoffMs: 1, maxBackoffMs: 1, maxRestarts: 5, withinMs: 60_000 } }));
    const s = await c.spawn('n2', saboteur, undefined, { name: 's' });
    const crashed = nextEvent(c, 'node-stopped', (e) => e.node === 'n2');
    c.tell(s, { type: 'exit', code: 1 });
    await crashed;
    // The automatic restart is due in 1 ms and takes a while: kill it on the way.
    await c.kill('n2');
    expect(await c.runUntil(() => c.nodeState('n2') === 'running', { timeoutMs: 1500 })).toBe(false);
    expect(liveWorkers(c)).toBe(2);
  });

  it('stop() during a restart and after a schedule leaves no worker and starts nothing again', async () => {
    const c = (cluster = await threadsCluster());
    c.applySchedule({ faults: [{ atMs: 200, fault: { kind: 'restart', node: 'n3' } }] });
    const restarting = c.restart('n2').catch(() => undefined);
    await c.stop();
    await restarting;
    await c.runFor(400);
    expect(liveWorkers(c)).toBe(0);
    expect(c.nodes.map((n) => c.nodeState(n))).toEqual(['down', 'down', 'down']);
    cluster = undefined;
  });

  it('calls to a node stuck in a synchronous loop time out instead of hanging; kill still ends it', async () => {
    const c = (cluster = await threadsCluster({ nodes: 2 }));
    const s = await c.spawn('n2', saboteur, undefined, { name: 's' });
    c.tell(s, { type: 'spin' });
    // Once the node is stuck, a call gives up after its timeout instead of hanging.
    const timedOut = await c.runUntil(() => c.stats('n2').then(() => false, (err: { code?: string }) => err.code === 'TIMEOUT'), { timeoutMs: 30_000 });
    expect(timedOut).toBe(true);
    // links() leaves the stuck node out rather than waiting for it.
    await c.network.links();
    await c.kill('n2');
    expect(c.nodeState('n2')).toBe('down');
  });

  it('large messages fill a link by bytes: LINK_FULL, and the receiving worker survives', async () => {
    const c = (cluster = await threadsCluster({ nodes: 2, threads: { userLinkBytes: 1024 * 1024, resourceLimits: { maxOldGenerationSizeMb: 128 } } }));
    const slow = await c.spawn('n2', slowReceiver, { busyMs: 1 }, { name: 'slow' });
    const linkFull: RuntimeEvent[] = [];
    c.events.on('dead-letter', (e) => {
      if (e.reason === 'link-full') linkFull.push(e);
    });
    // 2000 messages of ~30 kB (60 MB) against a link budget of 1 MiB: the tells never throw or
    // block; what does not fit is dropped at once.
    for (let i = 0; i < 2000; i++) c.tell(slow as ActorRef<unknown>, { type: 'work', n: i, pad: 'x'.repeat(30_000) });
    expect(linkFull.length).toBeGreaterThan(1900);
    expect(await c.runUntil(async () => (await c.stats('n2')).processed >= 2000 - linkFull.length, { timeoutMs: 20_000 })).toBe(true);
    expect(c.nodeState('n2')).toBe('running');
    expect((await c.stats('n2')).starts).toBe(1);
  });

  it('a terminated signal never overtakes the last messages of the actor that stopped', async () => {
    const c = (cluster = await threadsCluster({ nodes: 2 }));
    const l = await c.spawn('n1', listener, undefined, { name: 'l' });
    const t = await c.spawn('n2', talker, undefined, { name: 't' });
    const w = await c.spawn('n1', watcher, undefined, { name: 'w' });
    const e = await c.spawn('n2', echo, undefined, { name: 'e' });
    c.tell(l, { type: 'watch', target: t });
    // n1 handles the listener's watch first, then this: the watcher's echo request follows the
    // listener's watch on the same link and lane, so its answer proves the watch reached n2.
    expect(await c.ask(w, (replyTo): WatcherMsg => ({ type: 'watch-confirmed', target: t, echoOnTargetNode: e, replyTo }), { timeoutMs: 20_000 })).toBe('confirmed');
    c.tell(t, { type: 'talk', to: l, words: 50 });
    const heard = () => c.ask(l, (replyTo): ListenerMsg => ({ type: 'heard', replyTo }), { timeoutMs: 20_000 });
    expect(await c.runUntil(async () => (await heard()).length === 51, { timeoutMs: 20_000 })).toBe(true);
    const got = await heard();
    expect(got.slice(0, 50)).toEqual(Array.from({ length: 50 }, (_, i) => `word ${i}`));
    expect(got[50]).toBe('terminated stopped');
  });

  it('an ask made inside a worker fails with ASK_FAILED node-down when its target node is killed', async () => {
    const c = (cluster = await threadsCluster());
    const target = await c.spawn('n2', echo, undefined, { name: 'e' });
    const s = await c.spawn('n1', scribe, undefined, { name: 's' });
    await c.network.partition(isolate(c.nodes, 'n2')); // the ask will not be answered
    c.tell(s, { type: 'ask-then-write', key: 'k', target });
    await c.runFor(50);
    await c.kill('n2');
    const read = () => c.ask(s, (replyTo): ScribeMsg => ({ type: 'read', key: 'k', replyTo }), { timeoutMs: 20_000 });
    expect(await c.runUntil(async () => (await read()) !== null, { timeoutMs: 20_000 })).toBe(true);
    expect(String(await read())).toMatch(/^ASK_FAILED at /);
  });

  it('errors that cross threads keep their class, code and fields', async () => {
    const c = (cluster = await threadsCluster({ nodes: 2 }));
    const t = await c.spawn('n2', ticker, undefined, { name: 't' });
    const failed = nextEvent(c, 'actor-failed', (e) => e.node === 'n2');
    c.tell(t, { type: 'start-repeat', key: 'r', intervalMs: 0 });
    const e = await failed;
    expect(e.error).toBeInstanceOf(InvalidArgumentError);
    expect(e.error).toMatchObject({ code: 'INVALID_CONFIG' });
    await expect(c.spawn('n2', 'no-such-def', undefined)).rejects.toBeInstanceOf(InvalidArgumentError);
  });

  it('the events that explain an escalation reach the host before the node stops', async () => {
    const c = (cluster = await threadsCluster({ nodeRestart: { minBackoffMs: 10, maxBackoffMs: 10, maxRestarts: 1, withinMs: 60_000 } }));
    const seen: string[] = [];
    c.events.on('event', (e) => {
      if (e.node === 'n2' && (e.type === 'actor-failed' || e.type === 'node-stopped')) seen.push(e.type === 'actor-failed' ? e.directive : e.type);
    });
    const stopped = nextEvent(c, 'node-stopped', (e) => e.node === 'n2');
    const crashy = await c.spawn('n2', 'worker', {}, { name: 'crashy' });
    // Past the /user guardian's intensity: the failure escalates past the root and the node stops.
    for (let i = 0; i < 11; i++) c.tell(crashy as ActorRef<{ type: 'crash' }>, { type: 'crash' });
    await stopped;
    expect(seen.filter((d) => d === 'restart')).toHaveLength(10);
    expect(seen.indexOf('escalate')).toBeGreaterThanOrEqual(0);
    expect(seen.indexOf('escalate')).toBeLessThan(seen.indexOf('node-stopped'));
  });
});
