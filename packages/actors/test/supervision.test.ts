import { describe, expect } from 'vitest';
import { type ActorDef, type ActorRef, refToString, type RuntimeEvent, type SimulationCluster } from '@starling/actors';
import {
  backoff,
  escalator,
  type LifecycleMsg,
  type LifecycleProps,
  oneForAll,
  oneForOne,
  restForOne,
  resumer,
  stopper,
  strict,
  type SupervisorMsg,
  tolerant,
  worker,
  type WorkerMsg,
  type WorkerProps,
  type WorkerState,
} from './fixtures/actors.ts';
import { deadLetters, recordEvents, simCluster, withProbe } from './support/cluster.ts';
import { simIt } from '../../../scripts/testing/seed.ts';

type Kind<T extends RuntimeEvent['type']> = Extract<RuntimeEvent, { type: T }>;
const ofType = <T extends RuntimeEvent['type']>(events: readonly RuntimeEvent[], type: T): Kind<T>[] =>
  events.filter((e): e is Kind<T> => e.type === type);

async function spawnWorker(c: SimulationCluster, sup: ActorRef<SupervisorMsg>, name: string, props: WorkerProps = {}): Promise<ActorRef<WorkerMsg>> {
  const ref = await c.until(c.ask(sup, (replyTo): SupervisorMsg => ({ type: 'spawn-worker', name, props, replyTo }), { timeoutMs: 10 }));
  return ref as ActorRef<WorkerMsg>;
}

async function spawnLifecycle(c: SimulationCluster, sup: ActorRef<SupervisorMsg>, name: string, props: LifecycleProps): Promise<ActorRef<LifecycleMsg>> {
  const ref = await c.until(c.ask(sup, (replyTo): SupervisorMsg => ({ type: 'spawn', name, props, replyTo }), { timeoutMs: 10 }));
  return ref as ActorRef<LifecycleMsg>;
}

const getState = (c: SimulationCluster, w: ActorRef<WorkerMsg>): Promise<WorkerState> =>
  c.until(c.ask(w, (replyTo): WorkerMsg => ({ type: 'get', replyTo }), { timeoutMs: 10_000 }));

async function supervised(seed: number, def: ActorDef<SupervisorMsg, undefined, undefined>) {
  const c = await simCluster(seed);
  const events = recordEvents(c);
  const sup = await c.spawn('n1', def, undefined, { name: 'sup' });
  return { c, events, sup };
}

describe('one-for-one restart', () => {
  simIt('a crash re-initialises the state, keeps the rest of the mailbox, and dead-letters the failing message with its error', 21, async (seed) => {
    const { c, events, sup } = await supervised(seed, oneForOne);
    const w = await spawnWorker(c, sup, 'w');
    c.tell(w, { type: 'work', id: 1 });
    c.tell(w, { type: 'crash', id: 2, error: 'boom' });
    c.tell(w, { type: 'work', id: 3 });
    c.tell(w, { type: 'work', id: 4 });
    const state = await getState(c, w);
    expect(state).toEqual({ generation: 2, handled: [3, 4] });
    const crashed = deadLetters(events, 'crashed');
    expect(crashed).toHaveLength(1);
    expect(crashed[0]!.msg).toEqual({ type: 'crash', id: 2, error: 'boom' });
    expect((crashed[0]!.error as Error).message).toBe('boom');
    expect(ofType(events, 'actor-failed').map((e) => e.directive)).toEqual(['restart']);
    expect(ofType(events, 'actor-restarted').map((e) => refToString(e.ref))).toEqual([refToString(w)]);
    await c.stop();
  });

  simIt('the ref stays valid across restarts and siblings are untouched', 22, async (seed) => {
    const { c, sup } = await supervised(seed, oneForOne);
    const a = await spawnWorker(c, sup, 'a');
    const b = await spawnWorker(c, sup, 'b');
    c.tell(b, { type: 'work', id: 7 });
    c.tell(a, { type: 'crash' });
    c.tell(a, { type: 'work', id: 1 });
    expect(await getState(c, a)).toEqual({ generation: 2, handled: [1] });
    expect(await getState(c, b)).toEqual({ generation: 1, handled: [7] });
    await c.stop();
  });

  simIt('restart runs preRestart with the old state, stops the children, then init and postRestart', 23, async (seed) => {
    const { c, sup } = await supervised(seed, oneForOne);
    const p = await withProbe(c);
    const a = await spawnLifecycle(c, sup, 'a', { probe: p.ref, label: 'a', children: ['kid'] });
    c.tell(a, { type: 'crash' });
    await c.runFor(1);
    expect(await p.notes()).toEqual([
      'init a',
      'init a/kid',
      'start a/kid',
      'start a',
      'preRestart a (crash of a)',
      'stop a/kid',
      'init a',
      'init a/kid',
      'start a/kid',
      'postRestart a',
    ]);
    await c.stop();
  });
});

describe('directives', () => {
  simIt('resume keeps the state and goes on with the next message', 24, async (seed) => {
    const { c, sup } = await supervised(seed, resumer);
    const w = await spawnWorker(c, sup, 'w');
    c.tell(w, { type: 'work', id: 1 });
    c.tell(w, { type: 'crash' });
    c.tell(w, { type: 'work', id: 2 });
    expect(await getState(c, w)).toEqual({ generation: 1, handled: [1, 2] });
    await c.stop();
  });

  simIt('stop ends the child; later messages are dead letters and watchers are told it failed', 25, async (seed) => {
    const { c, events, sup } = await supervised(seed, stopper);
    const w = await spawnWorker(c, sup, 'w');
    c.tell(w, { type: 'crash' });
    c.tell(w, { type: 'work', id: 2 });
    await c.runFor(1);
    expect(ofType(events, 'actor-stopped').map((e) => refToString(e.ref))).toEqual([refToString(w)]);
    expect(deadLetters(events, 'stopped')).toHaveLength(1);
    await c.stop();
  });

  simIt('escalate fails the parent, which its own parent then restarts with its children', 26, async (seed) => {
    const c = await simCluster(seed);
    const events = recordEvents(c);
    // The /user guardian supervises `sup` (restart); `sup` escalates its child's failure.
    const sup = await c.spawn('n1', escalator, undefined, { name: 'sup' });
    const w = await spawnWorker(c, sup, 'w');
    c.tell(w, { type: 'crash', error: 'deep' });
    await c.runFor(1);
    const failed = ofType(events, 'actor-failed');
    expect(failed.map((e) => [e.ref.path, e.directive])).toEqual([
      ['/user/sup/w', 'escalate'],
      ['/user/sup', 'restart'],
    ]);
    // Restarting `sup` stopped its child.
    expect(ofType(events, 'actor-stopped').map((e) => e.ref.path)).toEqual(['/user/sup/w']);
    expect(c.nodeState('n1')).toBe('running');
    await c.stop();
  });
});

describe('strategies', () => {
  async function threeChildren(seed: number, def: ActorDef<SupervisorMsg, undefined, undefined>) {
    const { c, events, sup } = await supervised(seed, def);
    const kids = [await spawnWorker(c, sup, 'a'), await spawnWorker(c, sup, 'b'), await spawnWorker(c, sup, 'c')];
    c.tell(kids[1]!, { type: 'crash' });
    await c.runFor(1);
    const generations = await Promise.all(kids.map(async (k) => (await getState(c, k)).generation));
    return { c, events, generations };
  }

  simIt('one-for-one restarts only the failed child', 27, async (seed) => {
    const { c, generations } = await threeChildren(seed, oneForOne);
    expect(generations).toEqual([1, 2, 1]);
    await c.stop();
  });

  simIt('one-for-all restarts every child', 28, async (seed) => {
    const { c, generations } = await threeChildren(seed, oneForAll);
    expect(generations).toEqual([2, 2, 2]);
    await c.stop();
  });

  simIt('rest-for-one restarts the failed child and those started after it', 29, async (seed) => {
    const { c, generations } = await threeChildren(seed, restForOne);
    expect(generations).toEqual([1, 2, 2]);
    await c.stop();
  });
});

describe('restart intensity and backoff', () => {
  simIt('one restart more than maxRestarts within withinMs escalates', 30, async (seed) => {
    const { c, events, sup } = await supervised(seed, strict); // 3 within 1000 ms
    const w = await spawnWorker(c, sup, 'w');
    for (let i = 0; i < 3; i++) c.tell(w, { type: 'crash' });
    await c.runFor(1);
    expect(ofType(events, 'actor-failed').map((e) => e.directive)).toEqual(['restart', 'restart', 'restart']);
    c.tell(w, { type: 'crash' });
    await c.runFor(1);
    expect(ofType(events, 'actor-failed').slice(3).map((e) => [e.ref.path, e.directive])).toEqual([
      ['/user/sup/w', 'escalate'],
      ['/user/sup', 'restart'],
    ]);
    await c.stop();
  });

  simIt('crashes spread wider than the window never escalate', 31, async (seed) => {
    const { c, events, sup } = await supervised(seed, strict);
    const w = await spawnWorker(c, sup, 'w');
    for (let i = 0; i < 10; i++) {
      c.tell(w, { type: 'crash' });
      await c.runFor(400);
    }
    expect(ofType(events, 'actor-failed').every((e) => e.directive === 'restart')).toBe(true);
    expect(ofType(events, 'actor-restarted')).toHaveLength(10);
    await c.stop();
  });

  simIt('backoff doubles from minMs up to maxMs with jitter, and resets after a stable period', 32, async (seed) => {
    const { c, events, sup } = await supervised(seed, backoff); // 100 .. 1600 ms, jitter 0.2, reset after 10 s
    const w = await spawnWorker(c, sup, 'w');
    const delays: number[] = [];
    for (let i = 0; i < 6; i++) {
      const failedAt = c.now();
      c.tell(w, { type: 'crash' });
      await c.runUntil(() => ofType(events, 'actor-restarted').length === i + 1, { timeoutMs: 5000 });
      delays.push(c.now() - failedAt);
      expect(ofType(events, 'actor-restarted')[i]!.backoffMs).toBe(c.now() - failedAt);
    }
    const bases = [100, 200, 400, 800, 1600, 1600];
    delays.forEach((d, i) => {
      expect(d).toBeGreaterThanOrEqual(bases[i]!);
      expect(d).toBeLessThanOrEqual(bases[i]! * 1.2);
    });
    // Messages sent during a backoff wait in the mailbox.
    c.tell(w, { type: 'crash' });
    c.tell(w, { type: 'work', id: 9 });
    expect((await getState(c, w)).handled).toEqual([9]);
    await c.runFor(20_000);
    const failedAt = c.now();
    c.tell(w, { type: 'crash' });
    await c.runUntil(() => ofType(events, 'actor-restarted').length === 8, { timeoutMs: 5000 });
    expect(c.now() - failedAt).toBeLessThanOrEqual(120);
    await c.stop();
  });

  simIt('10 000 crashes under an intensity that allows them neither hang the node nor grow its memory', 33, async (seed) => {
    // No event recorder here: it would itself grow with every crash.
    const c = await simCluster(seed);
    const sup = await c.spawn('n1', tolerant, undefined, { name: 'sup' }); // 5 restarts per 10 ms
    const w = await spawnWorker(c, sup, 'w');
    let restarts = 0;
    c.events.on('actor-restarted', () => restarts++);
    const gc = (globalThis as { gc?: () => void }).gc;
    const heapAfterGc = (): number => {
      gc?.();
      return process.memoryUsage().heapUsed;
    };
    // One crash every 2 ms: exactly 5 restarts in every 10 ms window, right at the limit.
    const crashMany = async (n: number): Promise<void> => {
      for (let i = 0; i < n; i++) {
        c.tell(w, { type: 'crash', id: i });
        await c.runFor(2);
      }
    };
    await crashMany(1000);
    const heapAfterWarmup = heapAfterGc();
    await crashMany(9000);
    expect(restarts).toBe(10_000);
    expect((await c.stats('n1')).restarts).toBe(10_000);
    expect((await c.stats('n1')).deadLetters.crashed).toBe(10_000);
    expect(c.nodeState('n1')).toBe('running');
    expect((await c.actorStats(w))).toMatchObject({ size: 0, processed: 10_000 });
    // Nothing per crash is retained: 9000 more crashes cost no more than noise after a collection.
    expect(heapAfterGc() - heapAfterWarmup).toBeLessThan(gc ? 2 * 1024 * 1024 : 32 * 1024 * 1024);
    // Still serving.
    c.tell(w, { type: 'work', id: 1 });
    expect((await getState(c, w)).handled).toEqual([1]);
    await c.stop();
  }, 120_000);
});

describe('lifecycle hooks that throw', () => {
  simIt('an init that throws at the first start is a failure its supervisor restarts', 34, async (seed) => {
    const { c, events, sup } = await supervised(seed, oneForOne);
    const w = await spawnWorker(c, sup, 'w', { failInitOnStarts: [1, 2] });
    c.tell(w, { type: 'work', id: 1 });
    expect(await getState(c, w)).toEqual({ generation: 3, handled: [1] });
    expect(ofType(events, 'actor-failed').map((e) => e.phase)).toEqual(['start', 'restart']);
    await c.stop();
  });

  simIt('an onStop or preRestart that throws is reported and the stop or restart completes', 35, async (seed) => {
    const { c, events, sup } = await supervised(seed, oneForOne);
    const p = await withProbe(c);
    const a = await spawnLifecycle(c, sup, 'a', { probe: p.ref, label: 'a', throwInPreRestart: true, throwInOnStop: true });
    c.tell(a, { type: 'crash' });
    await c.runFor(1);
    expect(ofType(events, 'actor-restarted')).toHaveLength(1);
    await c.stopActor(a);
    await c.runFor(1);
    expect(ofType(events, 'actor-stopped').map((e) => e.ref.path)).toContain('/user/sup/a');
    expect(ofType(events, 'actor-failed').map((e) => e.phase)).toEqual(['receive', 'restart', 'stop']);
    const label = c.ask(a, (replyTo): LifecycleMsg => ({ type: 'ping', replyTo }), { timeoutMs: 10 });
    await expect(c.until(label)).rejects.toMatchObject({ code: 'ASK_FAILED', reason: 'stopped' });
    await c.stop();
  });

  simIt('an init that throws on every start exhausts the intensity and escalates', 36, async (seed) => {
    const { c, events, sup } = await supervised(seed, strict); // 3 restarts within 1000 ms
    // Each restart is an event of its own: the parent's spawn returns, and the failures follow.
    const w = await spawnWorker(c, sup, 'w', { failInitOnStarts: [1, 2, 3, 4, 5, 6] });
    expect(w.path).toBe('/user/sup/w');
    await c.runFor(1);
    const failed = ofType(events, 'actor-failed');
    expect(failed.map((e) => [e.ref.path, e.phase, e.directive])).toEqual([
      ['/user/sup/w', 'start', 'restart'],
      ['/user/sup/w', 'restart', 'restart'],
      ['/user/sup/w', 'restart', 'restart'],
      ['/user/sup/w', 'restart', 'escalate'],
      ['/user/sup', 'receive', 'restart'],
    ]);
    expect(c.nodeState('n1')).toBe('running');
    await c.stop();
  });
});

describe('escalation past the root guardian', () => {
  simIt('stops the node, and the host restarts it with a new node uid after a backoff', 37, async (seed) => {
    const c = await simCluster(seed);
    const events = recordEvents(c);
    const uid = c.nodeUid('n2');
    // A top-level actor is supervised by the /user guardian: 10 restarts within 10 s, then escalate.
    const w = await c.spawn('n2', worker, {}, { name: 'w' });
    for (let i = 0; i < 11; i++) c.tell(w, { type: 'crash' });
    await c.runFor(1);
    expect(c.nodeState('n2')).toBe('down');
    const stopped = ofType(events, 'node-stopped');
    expect(stopped.map((e) => [e.node, e.reason, e.nodeUid])).toEqual([['n2', 'escalated', uid]]);
    await c.runFor(200);
    expect(c.nodeState('n2')).toBe('running');
    expect(c.nodeUid('n2')).not.toBe(uid);
    expect((await c.stats('n2')).starts).toBe(2);
    // The other nodes never noticed.
    expect((await c.stats('n1')).starts).toBe(1);
    await c.stop();
  });
});
