/**
 * Pausing a node on threads: it runs nothing and fires no timer while paused; messages to it are
 * held and delivered after resume.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { type Cluster, isolate } from '@starling/actors';
import { echo, type EchoMsg } from '../test/fixtures/echo-plugin.ts';
import { scribe, type ScribeMsg, ticker, type TickerMsg } from '../test/fixtures/actors.ts';
import { threadsCluster } from './support.ts';

let cluster: Cluster | undefined;
afterEach(async () => {
  await cluster?.stop();
  cluster = undefined;
});

describe('pause on threads', () => {
  it('a paused node fires no timer and handles nothing; on resume held messages are delivered', async () => {
    const c = (cluster = await threadsCluster({ nodes: 2 }));
    const t = await c.spawn('n2', ticker, undefined, { name: 't' });
    const e = await c.spawn('n2', echo, undefined, { name: 'e' });
    c.tell(t, { type: 'start-repeat', key: 'r', intervalMs: 5 });
    const ticks = () => c.ask(t, (replyTo): TickerMsg => ({ type: 'get', replyTo }), { timeoutMs: 20_000 });
    expect(await c.runUntil(async () => (await ticks()).length >= 3, { timeoutMs: 10_000 })).toBe(true);
    await c.pause('n2');
    const pausedAt = c.now();
    // Sent while paused: held, not lost, not handled.
    let answered = false;
    const held = c.ask(e, (replyTo): EchoMsg => ({ type: 'echo', text: 'held', replyTo }), { timeoutMs: 20_000 }).then((r) => {
      answered = true;
      return r;
    });
    await c.runFor(300);
    expect(answered).toBe(false);
    const resumedAt = c.now();
    await c.resume('n2');
    expect(await held).toBe('n2:held');
    const times = (await ticks()).map((tick) => Number(tick.split('@')[1]));
    // Allow one slice of slack after the pause for an event that was already running.
    expect(times.filter((at) => at > pausedAt + 20 && at < resumedAt)).toEqual([]);
    expect(times.some((at) => at >= resumedAt)).toBe(true);
  });

  it('news reaching a paused node (another node died) runs no actor code until it resumes', async () => {
    const c = (cluster = await threadsCluster({ nodes: 3 }));
    const target = await c.spawn('n3', echo, undefined, { name: 'e' });
    const s = await c.spawn('n1', scribe, undefined, { name: 's' });
    await c.network.partition(isolate(c.nodes, 'n3'));
    c.tell(s, { type: 'ask-then-write', key: 'k', target });
    // The scribe now awaits its ask (holding its mailbox: a read would queue behind it).
    const read = () => c.ask(s, (replyTo): ScribeMsg => ({ type: 'read', key: 'k', replyTo }), { timeoutMs: 20_000 });
    await c.runFor(50);
    await c.pause('n1');
    await c.kill('n3'); // the host reports n3 down to n1, whose pending ask fails...
    await c.runFor(300);
    const resumedAt = c.now();
    await c.resume('n1');
    // ...but the handler awaiting it only continues once n1 runs again (well before its 10 s timeout).
    const [code, , at] = String(await read()).split(' ');
    expect(code).toBe('ASK_FAILED');
    expect(Number(at)).toBeGreaterThanOrEqual(resumedAt);
  });
});

