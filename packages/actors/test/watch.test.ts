import { describe, expect } from 'vitest';
import { type ActorRef, type AnyRef, selectActor, type SimulationCluster } from '@starling/actors';
import { echo, type EchoMsg } from './fixtures/echo-plugin.ts';
import { type ReporterMsg, watcher, type WatcherMsg, worker } from './fixtures/actors.ts';
import { recordEvents, simCluster } from './support/cluster.ts';
import { simIt } from '../../../scripts/testing/seed.ts';

const seen = (c: SimulationCluster, w: ActorRef<WatcherMsg>) =>
  c.until(c.ask(w, (replyTo): WatcherMsg => ({ type: 'report', replyTo }), { timeoutMs: 1000 }));

/** The fixtures plugin runs a stand-in failure detector at /system/detector on every node. */
const reportTo = (c: SimulationCluster, on: string, report: Omit<ReporterMsg, 'type'>): void =>
  c.tell(selectActor<ReporterMsg>(on, '/system/detector'), { type: 'report', ...report });

describe('watch', () => {
  simIt('a watcher gets terminated(stopped) when a local actor stops', 51, async (seed) => {
    const c = await simCluster(seed);
    const w = await c.spawn('n1', watcher, undefined, { name: 'w' });
    const target = await c.spawn('n1', worker, {}, { name: 't' });
    c.tell(w, { type: 'watch', target });
    await c.runFor(1);
    await c.stopActor(target);
    expect(await seen(c, w)).toEqual(['n1/user/t:stopped']);
    await c.stop();
  });

  simIt('watching an actor that does not exist signals terminated(no-such-actor) at once', 52, async (seed) => {
    const c = await simCluster(seed);
    const w = await c.spawn('n1', watcher, undefined, { name: 'w' });
    c.tell(w, { type: 'watch', target: selectActor('n1', '/user/ghost') });
    c.tell(w, { type: 'watch', target: selectActor('n2', '/user/ghost') });
    await c.runFor(10);
    expect(await seen(c, w)).toEqual(['n1/user/ghost:no-such-actor', 'n2/user/ghost:no-such-actor']);
    await c.stop();
  });

  simIt('a watch across nodes delivers terminated when the remote actor stops', 53, async (seed) => {
    const c = await simCluster(seed, { network: { latency: { kind: 'constant', ms: 3 } } });
    const w = await c.spawn('n1', watcher, undefined, { name: 'w' });
    const target = await c.spawn('n2', worker, {}, { name: 't' });
    c.tell(w, { type: 'watch', target });
    await c.runFor(20);
    await c.stopActor(target);
    await c.runFor(20);
    expect(await seen(c, w)).toEqual(['n2/user/t:stopped']);
    await c.stop();
  });

  simIt('a failure detector declaring the node down terminates watches with node-down; refs still work afterwards', 54, async (seed) => {
    const c = await simCluster(seed, { network: { latency: { kind: 'constant', ms: 3 } } });
    const w = await c.spawn('n1', watcher, undefined, { name: 'w' });
    const target = await c.spawn('n2', echo, undefined, { name: 'e' });
    c.tell(w, { type: 'watch', target });
    await c.runFor(20);
    // A false suspicion: n2 is fine, but n1's detector says it is down.
    reportTo(c, 'n1', { node: 'n2', nodeUid: c.nodeUid('n2')!, status: 'down' });
    await c.runFor(20);
    expect(await seen(c, w)).toEqual(['n2/user/e:node-down']);
    // Not a quarantine: the same node uid is back, and the ref reaches the actor.
    reportTo(c, 'n1', { node: 'n2', nodeUid: c.nodeUid('n2')!, status: 'up' });
    const reply = await c.until(c.ask(target, (replyTo): EchoMsg => ({ type: 'echo', text: 'still here', replyTo }), { timeoutMs: 100 }));
    expect(reply).toBe('n2:still here');
    // And the watcher may watch again.
    c.tell(w, { type: 'watch', target });
    await c.runFor(20);
    await c.stopActor(target);
    await c.runFor(20);
    expect(await seen(c, w)).toEqual(['n2/user/e:node-down', 'n2/user/e:stopped']);
    await c.stop();
  });

  simIt('a node-down report about an older incarnation does not touch watches of the current one', 55, async (seed) => {
    const c = await simCluster(seed);
    const w = await c.spawn('n1', watcher, undefined, { name: 'w' });
    const target = await c.spawn('n2', echo, undefined, { name: 'e' });
    c.tell(w, { type: 'watch', target });
    await c.runFor(5);
    reportTo(c, 'n1', { node: 'n2', nodeUid: 'deadbeef', status: 'down' });
    await c.runFor(5);
    expect(await seen(c, w)).toEqual([]);
    await c.stop();
  });

  simIt('unwatch means no terminated arrives', 56, async (seed) => {
    const c = await simCluster(seed);
    const w = await c.spawn('n1', watcher, undefined, { name: 'w' });
    const local = await c.spawn('n1', worker, {}, { name: 'l' });
    const remote = await c.spawn('n3', worker, {}, { name: 'r' });
    c.tell(w, { type: 'watch', target: local });
    c.tell(w, { type: 'watch', target: remote });
    await c.runFor(5);
    c.tell(w, { type: 'unwatch', target: local });
    c.tell(w, { type: 'unwatch', target: remote });
    await c.runFor(5);
    await c.stopActor(local);
    await c.stopActor(remote);
    await c.runFor(5);
    expect(await seen(c, w)).toEqual([]);
    await c.stop();
  });

  simIt('a watcher that restarts forgets its watches (a fresh incarnation, as in Erlang)', 57, async (seed) => {
    const c = await simCluster(seed);
    const w = await c.spawn('n1', watcher, undefined, { name: 'w' });
    const target: AnyRef = await c.spawn('n2', worker, {}, { name: 't' });
    c.tell(w, { type: 'watch', target });
    await c.runFor(5);
    c.tell(w, { type: 'crash' });
    await c.runFor(5);
    await c.stopActor(target);
    await c.runFor(5);
    expect(await seen(c, w)).toEqual([]);
    await c.stop();
  });
});

describe('watch and the host failure detector', () => {
  simIt('killing a node terminates the watches of its actors with node-down', 58, async (seed) => {
    const c = await simCluster(seed, { network: { latency: { kind: 'constant', ms: 2 } } });
    const w = await c.spawn('n1', watcher, undefined, { name: 'w' });
    const target = await c.spawn('n2', echo, undefined, { name: 'e' });
    c.tell(w, { type: 'watch', target });
    await c.runFor(10);
    await c.kill('n2');
    await c.runFor(10);
    expect(await seen(c, w)).toEqual(['n2/user/e:node-down']);
    await c.stop();
  });

  simIt('with the host failure detector off, a kill is not reported (a membership plugin would detect it)', 59, async (seed) => {
    const c = await simCluster(seed, { hostFailureDetector: false });
    const events = recordEvents(c);
    const w = await c.spawn('n1', watcher, undefined, { name: 'w' });
    const target = await c.spawn('n2', echo, undefined, { name: 'e' });
    c.tell(w, { type: 'watch', target });
    await c.runFor(10);
    await c.kill('n2');
    await c.runFor(10);
    expect(await seen(c, w)).toEqual([]);
    expect(events.filter((e) => e.type === 'node-reachability')).toEqual([]);
    await c.stop();
  });

  simIt('repeated and duplicated watches of one actor keep one watcher entry: one terminated message on stop', 60, async (seed) => {
    const c = await simCluster(seed, { network: { duplicateProbability: 1 } });
    const w = await c.spawn('n1', watcher, undefined, { name: 'w' });
    const target = await c.spawn('n2', echo, undefined, { name: 'e' });
    for (let i = 0; i < 20; i++) {
      c.tell(w, { type: 'watch', target });
      await c.runFor(5);
      reportTo(c, 'n1', { node: 'n2', nodeUid: c.nodeUid('n2')!, status: 'down' });
      await c.runFor(5);
    }
    c.tell(w, { type: 'watch', target });
    await c.runFor(5);
    const before = (await c.network.links())['n2->n1']?.sent ?? 0;
    await c.stopActor(target);
    await c.runFor(5);
    expect(((await c.network.links())['n2->n1']?.sent ?? 0) - before).toBe(1);
    await c.stop();
  });

  simIt('only actors under /system may report reachability', 61, async (seed) => {
    const c = await simCluster(seed);
    const events = recordEvents(c);
    const { fakeDetector } = await import('./fixtures/actors.ts');
    const rogue = await c.spawn('n1', fakeDetector, undefined, { name: 'rogue' });
    c.tell(rogue, { type: 'report', node: 'n2', nodeUid: c.nodeUid('n2')!, status: 'down' });
    await c.runFor(1);
    const failed = events.find((e): e is Extract<typeof e, { type: 'actor-failed' }> => e.type === 'actor-failed');
    expect(failed?.error).toMatchObject({ code: 'NOT_PERMITTED' });
    expect(events.filter((e) => e.type === 'node-reachability')).toEqual([]);
    await c.stop();
  });
});
