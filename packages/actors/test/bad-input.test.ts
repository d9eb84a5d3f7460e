/**
 * Bad input gets a clear, typed error or a dead letter, loses nothing, and the node keeps serving.
 */
import { describe, expect, it } from 'vitest';
import {
  Codec,
  MessageTooLargeError,
  selectActor,
  type SimulationCluster,
  startCluster,
  UnencodableMessageError,
} from '@starling/actors';
import { echo, type EchoMsg } from './fixtures/echo-plugin.ts';
import { badSender, type MakeBadMsg, sender, type SenderMsg, worker, type WorkerMsg } from './fixtures/actors.ts';
import { deadLetters, recordEvents, simCluster } from './support/cluster.ts';
import { simIt } from '../../../scripts/testing/seed.ts';

const stillServing = async (c: SimulationCluster, node: string): Promise<void> => {
  const e = await c.spawn(node, echo, undefined);
  expect(await c.until(c.ask(e, (replyTo): EchoMsg => ({ type: 'echo', text: 'ok', replyTo }), { timeoutMs: 1000 }))).toBe(`${node}:ok`);
};

describe('the codec', () => {
  it('round-trips plain data, including maps, sets, dates, typed arrays and bigints', () => {
    const codec = new Codec();
    const msg = {
      type: 'data',
      n: 1.5,
      s: 'text',
      nested: { list: [1, 'two', null, true] },
      map: new Map([['k', 1]]),
      set: new Set([1, 2]),
      when: new Date(0),
      bytes: new Uint8Array([1, 2, 3]),
      big: 10n ** 20n,
    };
    expect(codec.decode(codec.encode(msg))).toEqual(msg);
  });

  it('refuses functions, symbols and cycles with UNENCODABLE_MESSAGE, and sizes past the limit with MESSAGE_TOO_LARGE', () => {
    const codec = new Codec({ maxMessageBytes: 100 });
    const cyclic: Record<string, unknown> = {};
    cyclic.self = cyclic;
    for (const bad of [{ f: () => 1 }, { s: Symbol('x') }, cyclic]) {
      expect(() => codec.encode(bad)).toThrow(UnencodableMessageError);
    }
    const err = (() => {
      try {
        codec.encode({ blob: 'x'.repeat(200) });
      } catch (e) {
        return e;
      }
      return undefined;
    })();
    expect(err).toBeInstanceOf(MessageTooLargeError);
    expect(err).toMatchObject({ code: 'MESSAGE_TOO_LARGE', maxMessageBytes: 100 });
    // The codec is still usable after a failure.
    expect(codec.decode(codec.encode({ ok: true }))).toEqual({ ok: true });
  });
});

describe('unencodable and oversized messages', () => {
  for (const kind of ['function', 'symbol', 'cycle', 'big'] as const) {
    simIt(`a ${kind} payload fails synchronously at the tell with a typed error; the node keeps serving`, 80, async (seed) => {
      const c = await simCluster(seed);
      const events = recordEvents(c);
      const bad = await c.spawn('n1', badSender, undefined);
      const target = await c.spawn('n2', echo, undefined, { name: 'e' });
      const code = await c.until(c.ask(bad, (replyTo): MakeBadMsg => ({ type: 'tell-bad', to: target, kind, replyTo }), { timeoutMs: 1000 }));
      expect(code).toBe(kind === 'big' ? 'MESSAGE_TOO_LARGE' : 'UNENCODABLE_MESSAGE');
      // Nothing was sent, nothing else was disturbed.
      expect((await c.network.links())['n1->n2']).toBeUndefined();
      expect(deadLetters(events)).toEqual([]);
      await stillServing(c, 'n1');
      await c.stop();
    });
  }

  simIt('an uncaught encoding error in a handler is a crash: the actor restarts and goes on', 81, async (seed) => {
    const c = await simCluster(seed);
    const events = recordEvents(c);
    const s = await c.spawn('n1', sender, undefined, { name: 's' });
    const e = await c.spawn('n2', echo, undefined, { name: 'e' });
    c.tell(s, { type: 'send-big-uncaught', to: e as never });
    const pong = await c.until(c.ask(s, (replyTo): SenderMsg => ({ type: 'ping', replyTo }), { timeoutMs: 1000 }));
    expect(pong).toBe('pong 0');
    expect(events.filter((ev) => ev.type === 'actor-restarted')).toHaveLength(1);
    await c.stop();
  });

  simIt('the host endpoint gets the same typed errors at its tell and ask', 82, async (seed) => {
    const c = await simCluster(seed);
    const e = await c.spawn('n2', echo, undefined, { name: 'e' });
    expect(() => c.tell(e, { type: 'echo', text: 'x', replyTo: (() => 1) as never })).toThrow(UnencodableMessageError);
    await expect(c.ask(e, (replyTo): EchoMsg => ({ type: 'echo', text: 'x'.repeat(2 * 1024 * 1024), replyTo }), { timeoutMs: 10 })).rejects.toBeInstanceOf(
      MessageTooLargeError,
    );
    await stillServing(c, 'n2');
    await c.stop();
  });
});

describe('unknown, stopped and stale targets', () => {
  simIt('telling an unknown actor, locally or on another node, is a dead letter with reason no-such-actor', 83, async (seed) => {
    const c = await simCluster(seed);
    const events = recordEvents(c);
    const s = await c.spawn('n1', sender, undefined);
    for (const to of [selectActor('n1', '/user/ghost'), selectActor('n2', '/user/ghost')]) {
      const r = await c.until(c.ask(s, (replyTo): SenderMsg => ({ type: 'send', to, payload: { type: 'hello' }, replyTo }), { timeoutMs: 1000 }));
      expect(r).toBe('ok');
    }
    await c.runFor(5);
    expect(deadLetters(events, 'no-such-actor').map((d) => d.node)).toEqual(['n1', 'n2']);
    await stillServing(c, 'n1');
    await c.stop();
  });

  simIt('telling a stopped actor is a dead letter with reason stopped; a stale one with reason stale', 84, async (seed) => {
    const c = await simCluster(seed);
    const events = recordEvents(c);
    const w = await c.spawn('n2', worker, {}, { name: 'w' });
    await c.stopActor(w);
    c.tell(w, { type: 'work', id: 1 });
    await c.runFor(1);
    // A new actor at the same path: the old ref is now stale.
    const again = await c.spawn('n2', worker, {}, { name: 'w' });
    c.tell(w, { type: 'work', id: 2 });
    await c.runFor(1);
    expect(deadLetters(events).map((d) => d.reason)).toEqual(['stopped', 'stale']);
    const state = await c.until(c.ask(again, (replyTo): WorkerMsg => ({ type: 'get', replyTo }), { timeoutMs: 1000 }));
    expect(state.handled).toEqual([]);
    await c.stop();
  });

  simIt('a crashing handler dead-letters its message with the error and the node keeps serving', 85, async (seed) => {
    const c = await simCluster(seed);
    const events = recordEvents(c);
    const e = await c.spawn('n3', echo, undefined, { name: 'e' });
    c.tell(e, { type: 'crash', reason: 'bad input' });
    await c.runFor(1);
    const [crash] = deadLetters(events, 'crashed');
    expect((crash!.error as Error).message).toBe('bad input');
    expect(await c.until(c.ask(e, (replyTo): EchoMsg => ({ type: 'echo', text: 'after', replyTo }), { timeoutMs: 1000 }))).toBe('n3:after');
    await c.stop();
  });
});

describe('bad configuration', () => {
  it('an invalid cluster config is refused with INVALID_CONFIG naming the problem', async () => {
    await expect(startCluster({ runtime: 'simulation', nodes: 0 })).rejects.toMatchObject({ code: 'INVALID_CONFIG' });
    await expect(startCluster({ runtime: 'simulation', nodes: ['a', 'a'] })).rejects.toThrow(/listed twice/);
    await expect(startCluster({ runtime: 'simulation', nodes: ['a b'] })).rejects.toThrow(/not a valid node name/);
    await expect(startCluster({ runtime: 'warp' as never, nodes: 1 })).rejects.toMatchObject({ code: 'INVALID_CONFIG' });
    await expect(startCluster({ runtime: 'simulation', nodes: 2, network: { lossProbability: -1 } })).rejects.toMatchObject({ code: 'INVALID_CONFIG' });
  });

  it('a plugin that cannot be found is refused with UNKNOWN_PLUGIN', async () => {
    await expect(startCluster({ runtime: 'simulation', nodes: 1, plugins: [{ module: 'file:///nowhere/plugin.js', name: 'x' }] })).rejects.toMatchObject({
      code: 'UNKNOWN_PLUGIN',
    });
    const here = new URL('./fixtures/actors.ts', import.meta.url).href;
    await expect(startCluster({ runtime: 'simulation', nodes: 1, plugins: [{ module: here, name: 'not-exported' }] })).rejects.toMatchObject({
      code: 'UNKNOWN_PLUGIN',
    });
  });
});
