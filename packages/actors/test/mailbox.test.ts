import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { type ActorRef, createSystem, defineActor, MailboxFullError } from '@starling/actors';
import { Mailbox } from '../src/mailbox.ts';
import { type AsyncMsg, slowpoke, watcher, type WatcherMsg, worker } from './fixtures/actors.ts';
import { deadLetters, recordEvents, simCluster } from './support/cluster.ts';
import { simIt } from '../../../scripts/testing/seed.ts';

describe('Mailbox', () => {
  it('is FIFO through any interleaving of enqueues and dequeues, across growth and wrap-around', () => {
    fc.assert(
      fc.property(fc.array(fc.boolean(), { maxLength: 3000 }), (ops) => {
        const box = new Mailbox();
        const model: number[] = [];
        let next = 0;
        for (const isEnqueue of ops) {
          if (isEnqueue || model.length === 0) {
            box.enqueue(next, undefined);
            model.push(next++);
          } else {
            expect(box.dequeue()).toBe(model.shift());
          }
          expect(box.size).toBe(model.length);
        }
        expect(box.drain().map((e) => e.msg)).toEqual(model);
      }),
    );
  });

  it('counts enqueued, dropped and the high-water mark', () => {
    const box = new Mailbox({ capacity: 3, overflow: 'drop-newest' });
    for (let i = 0; i < 5; i++) box.enqueue(i, undefined);
    box.dequeue();
    expect(box.counters()).toEqual({ enqueued: 3, processed: 0, dropped: 2, highWaterMark: 3, size: 2 });
  });

  it('drop-newest refuses the incoming message; drop-oldest evicts the head', () => {
    const newest = new Mailbox({ capacity: 2, overflow: 'drop-newest' });
    newest.enqueue('a', undefined);
    newest.enqueue('b', undefined);
    expect(newest.enqueue('c', undefined)?.msg).toBe('c');
    expect(newest.drain().map((e) => e.msg)).toEqual(['a', 'b']);
    const oldest = new Mailbox({ capacity: 2, overflow: 'drop-oldest' });
    oldest.enqueue('a', undefined);
    oldest.enqueue('b', undefined);
    expect(oldest.enqueue('c', undefined)?.msg).toBe('a');
    expect(oldest.drain().map((e) => e.msg)).toEqual(['b', 'c']);
  });

  it('rejects a capacity below one', () => {
    expect(() => new Mailbox({ capacity: 0, overflow: 'drop-newest' })).toThrow(RangeError);
  });
});

describe('bounded mailboxes on actors', () => {
  const busy = (ms: number, id = 0): AsyncMsg => ({ type: 'slow', id, ms });
  const log = (c: Awaited<ReturnType<typeof simCluster>>, ref: ActorRef<AsyncMsg>) =>
    c.until(c.ask(ref, (replyTo): AsyncMsg => ({ type: 'get', replyTo }), { timeoutMs: 10_000 }));

  simIt('drop-newest: messages past the capacity become dead letters (mailbox-full), the queued ones are handled', 91, async (seed) => {
    const c = await simCluster(seed);
    const events = recordEvents(c);
    const s = await c.spawn('n1', slowpoke, {}, { name: 's', mailbox: { capacity: 2, overflow: 'drop-newest' } });
    c.tell(s, busy(50, 0));
    await c.runFor(1);
    for (let id = 1; id <= 5; id++) c.tell(s, busy(1, id));
    await c.runFor(100);
    expect((await log(c, s)).events.filter((e) => e.startsWith('begin'))).toEqual(['begin 0', 'begin 1', 'begin 2']);
    expect(deadLetters(events, 'mailbox-full').map((d) => (d.msg as { id: number }).id)).toEqual([3, 4, 5]);
    expect((await c.actorStats(s))).toMatchObject({ dropped: 3, highWaterMark: 2 });
    await c.stop();
  });

  simIt('drop-oldest: the oldest queued messages make room for new ones', 92, async (seed) => {
    const c = await simCluster(seed);
    const events = recordEvents(c);
    const s = await c.spawn('n1', slowpoke, {}, { name: 's', mailbox: { capacity: 2, overflow: 'drop-oldest' } });
    c.tell(s, busy(50, 0));
    await c.runFor(1);
    for (let id = 1; id <= 5; id++) c.tell(s, busy(1, id));
    await c.runFor(100);
    expect((await log(c, s)).events.filter((e) => e.startsWith('begin'))).toEqual(['begin 0', 'begin 4', 'begin 5']);
    expect(deadLetters(events, 'mailbox-full').map((d) => (d.msg as { id: number }).id)).toEqual([1, 2, 3]);
    await c.stop();
  });

  simIt('reject: an ask to a full mailbox fails at once with ASK_FAILED (mailbox-full)', 93, async (seed) => {
    const c = await simCluster(seed);
    const s = await c.spawn('n2', slowpoke, {}, { name: 's', mailbox: { capacity: 1, overflow: 'reject' } });
    c.tell(s, busy(500, 0));
    await c.runFor(10);
    c.tell(s, busy(1, 1));
    const start = c.now();
    const err = await c.until(c.ask(s, (replyTo): AsyncMsg => ({ type: 'get', replyTo }), { timeoutMs: 10_000 })).catch((e: unknown) => e);
    expect(err).toMatchObject({ code: 'ASK_FAILED', reason: 'mailbox-full' });
    expect(c.now() - start).toBeLessThan(10);
    await c.stop();
  });
});

describe('bounded mailboxes and the runtime\'s own signals', () => {
  simIt('a Terminated signal reaches a watcher whose bounded mailbox is full', 94, async (seed) => {
    const c = await simCluster(seed);
    const events = recordEvents(c);
    const w = await c.spawn('n1', watcher, undefined, { name: 'w', mailbox: { capacity: 1, overflow: 'drop-newest' } });
    const target = await c.spawn('n1', worker, {}, { name: 't' });
    c.tell(w, { type: 'watch', target });
    await c.runFor(1);
    // Fill the mailbox: the next event delivers this message, and the drain that would handle it has not run yet.
    c.tell(w, { type: 'unwatch', target: w });
    await c.step();
    expect((await c.actorStats(w))?.size).toBe(1);
    await c.stopActor(target);
    await c.runFor(1);
    const seen = await c.until(c.ask(w, (replyTo): WatcherMsg => ({ type: 'report', replyTo }), { timeoutMs: 100 }));
    expect(seen).toEqual(['n1/user/t:stopped']);
    expect(deadLetters(events, 'mailbox-full')).toHaveLength(0);
    await c.stop();
  });

  it('reject: a tell from the same node to a full mailbox throws MAILBOX_FULL at the tell', async () => {
    type Msg = { type: 'hold'; ms: number } | { type: 'count'; replyTo: ActorRef<number> };
    const holder = defineActor({
      name: 'holder',
      init: () => 0,
      async receive(n, msg: Msg, ctx) {
        if (msg.type === 'hold') await ctx.delay(msg.ms);
        else ctx.tell(msg.replyTo, n);
        return n + 1;
      },
    });
    const system = await createSystem();
    const h = system.spawn(holder, undefined, { mailbox: { capacity: 1, overflow: 'reject' } });
    system.tell(h, { type: 'hold', ms: 50 });
    // The first message is being handled; one more fits, the next one is refused to its sender.
    await new Promise((r) => setTimeout(r, 5));
    system.tell(h, { type: 'hold', ms: 1 });
    expect(() => system.tell(h, { type: 'hold', ms: 1 })).toThrow(MailboxFullError);
    expect(system.actorStats(h)).toMatchObject({ dropped: 1, size: 1 });
    await system.shutdown();
  });
});
