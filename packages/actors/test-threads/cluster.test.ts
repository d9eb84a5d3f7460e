/**
 * The threads runtime's host: one worker per node, the same host API as in simulation, kill and
 * restart, and supervision of workers that die.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { type ActorRef, type Cluster, selectActor } from '@starling/actors';
import { echo, type EchoMsg } from '../test/fixtures/echo-plugin.ts';
import { watcher, type WatcherMsg, worker, type WorkerMsg } from '../test/fixtures/actors.ts';
import { saboteur, type SaboteurMsg } from './fixtures/thread-actors.ts';
import { nextEvent, threadsCluster } from './support.ts';

let cluster: Cluster | undefined;
afterEach(async () => {
  await cluster?.stop();
  cluster = undefined;
});

const echoOnce = (c: Cluster, ref: ActorRef<EchoMsg>, text: string) =>
  c.ask(ref, (replyTo): EchoMsg => ({ type: 'echo', text, replyTo }), { timeoutMs: 10_000 });

describe('threads cluster', () => {
  it('runs each node on its own worker thread, with the host API of the simulation', async () => {
    const c = (cluster = await threadsCluster({ nodes: 4 }));
    const seen = await Promise.all(
      c.nodes.map(async (node) => {
        const s = await c.spawn(node, saboteur, undefined, { name: 's' });
        return c.ask(s, (replyTo): SaboteurMsg => ({ type: 'whoami', replyTo }), { timeoutMs: 10_000 });
      }),
    );
    expect(seen.map((s) => s.node)).toEqual(['n1', 'n2', 'n3', 'n4']);
    expect(new Set(seen.map((s) => s.threadId)).size).toBe(4);
    const e = await c.spawn('n3', echo, undefined, { name: 'e' });
    expect(await echoOnce(c, e, 'hi')).toBe('n3:hi');
    expect((await c.stats('n3')).processed).toBeGreaterThan(0);
    await c.stop();
    expect(c.nodes.map((n) => c.nodeState(n))).toEqual(['down', 'down', 'down', 'down']);
    expect((c as unknown as { liveWorkers(): number }).liveWorkers()).toBe(0);
  });

  it('kill is worker.terminate(): it ends a node stuck in a synchronous loop; watchers and askers learn the node is down', async () => {
    const c = (cluster = await threadsCluster());
    const s = await c.spawn('n2', saboteur, undefined, { name: 's' });
    const e = await c.spawn('n2', echo, undefined, { name: 'e' });
    const w = await c.spawn('n1', watcher, undefined, { name: 'w' });
    c.tell(w, { type: 'watch', target: e });
    // The watch message must reach n2 before n2 stops listening.
    expect(await echoOnce(c, e, 'ready')).toBe('n2:ready');
    c.tell(s, { type: 'spin' });
    // n2 never answers now; the ask is pending when the node dies.
    const pending = echoOnce(c, e, 'too late');
    const stopped = nextEvent(c, 'node-stopped', (ev) => ev.node === 'n2');
    await c.kill('n2');
    expect((await stopped).reason).toBe('killed');
    expect(c.nodeState('n2')).toBe('down');
    await expect(pending).rejects.toMatchObject({ code: 'ASK_FAILED', reason: 'node-down' });
    const report = () => c.ask(w, (replyTo): WatcherMsg => ({ type: 'report', replyTo }), { timeoutMs: 10_000 });
    expect(await c.runUntil(async () => (await report()).length > 0, { timeoutMs: 10_000 })).toBe(true);
    expect(await report()).toEqual(['n2/user/e:node-down']);
  });

  it('restart starts a node with a new node uid; in threads its disk was lost with the worker', async () => {
    const c = (cluster = await threadsCluster());
    const first = c.nodeUid('n2');
    const gen = async (): Promise<number> => {
      const w = await c.spawn('n2', worker, {}, { name: 'w' });
      return (await c.ask(w, (replyTo): WorkerMsg => ({ type: 'get', replyTo }), { timeoutMs: 10_000 })).generation;
    };
    expect(await gen()).toBe(1);
    await c.restart('n2');
    expect(c.nodeUid('n2')).not.toBe(first);
    // The worker counts its starts on the node's disk: a fresh worker starts from 1 again.
    expect(await gen()).toBe(1);
    // The restarted node is wired to its peers again.
    const e = await c.spawn('n2', echo, undefined, { name: 'e' });
    const viaPeer = selectActor<EchoMsg>('n2', '/user/e');
    expect(await echoOnce(c, viaPeer, 'back')).toBe('n2:back');
    void e;
  });

  for (const [what, msg, reason] of [
    ['an uncaught error outside the runtime', { type: 'throw-outside' }, 'crashed'],
    ['process.exit inside the worker', { type: 'exit', code: 3 }, 'crashed'],
    ['running out of memory', { type: 'oom' }, 'crashed'],
  ] as const) {
    it(`a worker that dies of ${what} is restarted with a new node uid, and an event says so`, async () => {
      const c = (cluster = await threadsCluster({
        nodeRestart: { minBackoffMs: 10, maxBackoffMs: 100, maxRestarts: 3, withinMs: 60_000 },
        threads: { resourceLimits: { maxOldGenerationSizeMb: 64, maxYoungGenerationSizeMb: 16 } },
      }));
      const uid = c.nodeUid('n2');
      const s = await c.spawn('n2', saboteur, undefined, { name: 's' });
      const stopped = nextEvent(c, 'node-stopped', (e) => e.node === 'n2');
      const started = nextEvent(c, 'node-started', (e) => e.node === 'n2');
      c.tell(s, msg as SaboteurMsg);
      expect((await stopped).reason).toBe(reason);
      const again = await started;
      expect(again.nodeUid).not.toBe(uid);
      expect(await c.runUntil(() => c.nodeState('n2') === 'running', { timeoutMs: 20_000 })).toBe(true);
      expect((await c.stats('n2')).starts).toBe(2);
    });
  }

  it('a failure escalated past the root guardian restarts the node; past the restart limit it stays down', async () => {
    const c = (cluster = await threadsCluster({ nodeRestart: { minBackoffMs: 10, maxBackoffMs: 50, maxRestarts: 1, withinMs: 60_000 } }));
    const crashTopLevel = async (): Promise<void> => {
      const w = await c.spawn('n2', worker, {}, { name: 'w' });
      for (let i = 0; i < 11; i++) c.tell(w, { type: 'crash' });
    };
    let stopped = nextEvent(c, 'node-stopped', (e) => e.node === 'n2');
    await crashTopLevel();
    expect((await stopped).reason).toBe('escalated');
    expect(await c.runUntil(() => c.nodeState('n2') === 'running', { timeoutMs: 20_000 })).toBe(true);
    stopped = nextEvent(c, 'node-stopped', (e) => e.node === 'n2');
    await crashTopLevel();
    expect((await stopped).reason).toBe('escalated');
    // One restart within the window was allowed; the second failure leaves the node down.
    expect(await c.runUntil(() => c.nodeState('n2') === 'running', { timeoutMs: 1000 })).toBe(false);
    expect(c.nodeState('n2')).toBe('down');
  });
});
