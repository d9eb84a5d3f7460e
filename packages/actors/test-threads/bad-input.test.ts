/**
 * Bad input on real threads: typed errors at the tell, dead letters with reasons, and nodes that
 * keep serving.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { type Cluster, MessageTooLargeError, type RuntimeEvent, selectActor, UnencodableMessageError } from '@starling/actors';
import { echo, type EchoMsg } from '../test/fixtures/echo-plugin.ts';
import { badSender, type MakeBadMsg, sender, type SenderMsg, watcher, type WatcherMsg } from '../test/fixtures/actors.ts';
import { threadsCluster } from './support.ts';

let cluster: Cluster | undefined;
afterEach(async () => {
  await cluster?.stop();
  cluster = undefined;
});

const stillServing = async (c: Cluster, node: string): Promise<void> => {
  const e = await c.spawn(node, echo, undefined);
  expect(await c.ask(e, (replyTo): EchoMsg => ({ type: 'echo', text: 'ok', replyTo }), { timeoutMs: 10_000 })).toBe(`${node}:ok`);
};

describe('bad input on threads', () => {
  it('an unencodable or oversized message is a typed error at the tell, in a worker and at the host; nothing else is disturbed', async () => {
    const c = (cluster = await threadsCluster());
    const bad = await c.spawn('n1', badSender, undefined);
    const target = await c.spawn('n2', echo, undefined, { name: 'e' });
    for (const kind of ['function', 'symbol', 'cycle', 'big'] as const) {
      const code = await c.ask(bad, (replyTo): MakeBadMsg => ({ type: 'tell-bad', to: target, kind, replyTo }), { timeoutMs: 10_000 });
      expect(code).toBe(kind === 'big' ? 'MESSAGE_TOO_LARGE' : 'UNENCODABLE_MESSAGE');
    }
    expect(() => c.tell(target, { type: 'echo', text: 'x', replyTo: (() => 1) as never })).toThrow(UnencodableMessageError);
    expect(() => c.tell(target, { type: 'echo', text: 'x'.repeat(2 * 1024 * 1024), replyTo: target as never })).toThrow(MessageTooLargeError);
    expect((await c.network.links())['n1->n2']?.sent ?? 0).toBe(0);
    await stillServing(c, 'n1');
    await stillServing(c, 'n2');
  });

  it('an unknown node or actor is a dead letter with its reason; a throwing handler keeps the node serving', async () => {
    const c = (cluster = await threadsCluster());
    const dead: Extract<RuntimeEvent, { type: 'dead-letter' }>[] = [];
    c.events.on('dead-letter', (e) => dead.push(e));
    const s = await c.spawn('n1', sender, undefined, { name: 's' });
    for (const to of [selectActor('n2', '/user/ghost'), selectActor('n9', '/user/x')]) {
      expect(await c.ask(s, (replyTo): SenderMsg => ({ type: 'send', to, payload: { type: 'hi' }, replyTo }), { timeoutMs: 10_000 })).toBe('ok');
    }
    expect(await c.runUntil(() => dead.length >= 2, { timeoutMs: 10_000 })).toBe(true);
    // Events from different threads arrive in any order.
    expect(dead.map((d) => `${d.node} ${d.reason} ${d.cause ?? ''}`.trim()).sort()).toEqual(['n1 dropped-by-network unknown-node', 'n2 no-such-actor']);
    const e = await c.spawn('n3', echo, undefined, { name: 'e' });
    c.tell(e, { type: 'crash', reason: 'bad input' });
    expect(await c.ask(e, (replyTo): EchoMsg => ({ type: 'echo', text: 'after', replyTo }), { timeoutMs: 10_000 })).toBe('n3:after');
  });

  it('a cross-node watch delivers terminated when the watched actor stops', async () => {
    const c = (cluster = await threadsCluster());
    const w = await c.spawn('n1', watcher, undefined, { name: 'w' });
    const e = await c.spawn('n3', echo, undefined, { name: 'e' });
    const report = () => c.ask(w, (replyTo): WatcherMsg => ({ type: 'report', replyTo }), { timeoutMs: 10_000 });
    // The watch and the watcher's own ask travel n1 -> n3 in order: the answer proves the watch arrived.
    expect(await c.ask(w, (replyTo): WatcherMsg => ({ type: 'watch-confirmed', target: e, echoOnTargetNode: e, replyTo }), { timeoutMs: 20_000 })).toBe(
      'confirmed',
    );
    await c.stopActor(e);
    expect(await c.runUntil(async () => (await report()).length > 0, { timeoutMs: 10_000 })).toBe(true);
    expect(await report()).toEqual(['n3/user/e:stopped']);
  });
});
