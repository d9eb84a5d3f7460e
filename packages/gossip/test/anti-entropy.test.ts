/**
 * Anti-entropy (Demers et al. 1987, §1.3), exchange by exchange: no runtime, fixed random draws.
 * How fast it spreads on 1000 sites is in epidemic.test.ts.
 */
import { createRandom } from '@starling/actors';
import { describe, expect, it } from 'vitest';
import { type AntiEntropyMessage, AntiEntropySite, resolveAntiEntropyConfig } from '../src/anti-entropy.ts';
import type { SpreadMode } from '../src/rumor.ts';

const NODES = ['a', 'b', 'c'] as const;
type Node = (typeof NODES)[number];

/** With self 'a', a draw below 1/2 picks b. */
const PICK_B = 0.1;

function site(self: Node, mode: SpreadMode, holds: readonly string[], random: () => number = () => PICK_B): AntiEntropySite<string, string, Node> {
  const s = new AntiEntropySite<string, string, Node>({ self, peers: NODES, config: { mode }, random });
  for (const id of holds) s.update(id, `v${id}`, 0);
  return s;
}

/** Runs one exchange from `a` to `b` to completion; returns the messages in order. */
function exchange(a: AntiEntropySite<string, string, Node>, b: AntiEntropySite<string, string, Node>, cycle: number): AntiEntropyMessage<string, string>[] {
  const sites = { a, b } as Record<string, AntiEntropySite<string, string, Node>>;
  const queue = a.tick(cycle).sends.map((s) => ({ from: 'a' as Node, ...s }));
  const seen: AntiEntropyMessage<string, string>[] = [];
  while (queue.length > 0) {
    const { from, to, msg } = queue.shift()!;
    seen.push(msg);
    for (const s of sites[to]!.receive(from, msg, cycle).sends) queue.push({ from: to, ...s });
  }
  return seen;
}

const ids = (s: AntiEntropySite<string, string, Node>): string[] => [...s.known()].map((e) => e.update.id).sort();

describe('one exchange', () => {
  it.each([
    {
      mode: 'pull',
      a: ['x'],
      b: ['x', 'y'],
      messages: [
        { type: 'ae-digest', mode: 'pull', ids: ['x'] },
        { type: 'ae-reply', updates: [{ id: 'y', value: 'vy' }], wants: [] },
      ],
      after: { a: ['x', 'y'], b: ['x', 'y'] },
    },
    {
      // Pull only: b does not get what a has.
      mode: 'pull',
      a: ['x', 'z'],
      b: ['y'],
      messages: [
        { type: 'ae-digest', mode: 'pull', ids: ['x', 'z'] },
        { type: 'ae-reply', updates: [{ id: 'y', value: 'vy' }], wants: [] },
      ],
      after: { a: ['x', 'y', 'z'], b: ['y'] },
    },
    {
      mode: 'push',
      a: ['x', 'z'],
      b: ['y'],
      messages: [
        { type: 'ae-digest', mode: 'push', ids: ['x', 'z'] },
        { type: 'ae-reply', updates: [], wants: ['x', 'z'] },
        { type: 'ae-updates', updates: [{ id: 'x', value: 'vx' }, { id: 'z', value: 'vz' }] },
      ],
      after: { a: ['x', 'z'], b: ['x', 'y', 'z'] },
    },
    {
      mode: 'push-pull',
      a: ['x', 'z'],
      b: ['y', 'z'],
      messages: [
        { type: 'ae-digest', mode: 'push-pull', ids: ['x', 'z'] },
        { type: 'ae-reply', updates: [{ id: 'y', value: 'vy' }], wants: ['x'] },
        { type: 'ae-updates', updates: [{ id: 'x', value: 'vx' }] },
      ],
      after: { a: ['x', 'y', 'z'], b: ['x', 'y', 'z'] },
    },
    {
      // Equal sites: the digest alone.
      mode: 'push-pull',
      a: ['x'],
      b: ['x'],
      messages: [{ type: 'ae-digest', mode: 'push-pull', ids: ['x'] }],
      after: { a: ['x'], b: ['x'] },
    },
    {
      // One value: the digest is its presence. An empty push has nothing to offer and says nothing.
      mode: 'push',
      a: [],
      b: ['x'],
      messages: [],
      after: { a: [], b: ['x'] },
    },
    {
      mode: 'pull',
      a: [],
      b: ['x'],
      messages: [
        { type: 'ae-digest', mode: 'pull', ids: [] },
        { type: 'ae-reply', updates: [{ id: 'x', value: 'vx' }], wants: [] },
      ],
      after: { a: ['x'], b: ['x'] },
    },
  ] as const)('$mode from $a to $b: only the missing updates travel', ({ mode, a, b, messages, after }) => {
    const sa = site('a', mode, a);
    const sb = site('b', mode, b);
    expect(exchange(sa, sb, 1)).toEqual(messages);
    expect({ a: ids(sa), b: ids(sb) }).toEqual(after);
  });

  it('counts every message and every copy of an update it sends, and when each update arrived', () => {
    const a = site('a', 'push-pull', ['x', 'z']);
    const b = site('b', 'push-pull', ['y', 'z']);
    exchange(a, b, 7);
    expect(a.counters).toEqual({ messagesSent: 2, copiesSent: 1 });
    expect(b.counters).toEqual({ messagesSent: 1, copiesSent: 1 });
    expect(a.entry('y')?.learnedAtCycle).toBe(7);
    expect(b.entry('x')?.learnedAtCycle).toBe(7);
    expect(b.entry('z')?.learnedAtCycle).toBe(0);
  });

  it('membership changes replace the peers partners are drawn from', () => {
    const a = site('a', 'pull', [], () => 0.999);
    expect(a.tick(1).sends[0]?.to).toBe('c');
    a.setPeers(['a', 'b']);
    expect(a.peerList()).toEqual(['a', 'b']);
    expect(a.tick(2).sends[0]?.to).toBe('b');
  });

  it('rejects an unknown mode', () => {
    expect(() => resolveAntiEntropyConfig({ mode: 'sideways' as SpreadMode })).toThrow(RangeError);
    expect(resolveAntiEntropyConfig()).toEqual({ mode: 'push-pull' });
  });
});

describe('a population', () => {
  it.each(['push', 'pull', 'push-pull'] as const)('%s: every site ends with every update, whoever wrote it', (mode) => {
    const n = 40;
    const peers = Array.from({ length: n }, (_, i) => i);
    const random = createRandom(7, `ae-${mode}`);
    const sites = peers.map((i) => new AntiEntropySite<string, number, number>({ self: i, peers, config: { mode }, random: () => random.next() }));
    // Five updates written at five different sites.
    for (let u = 0; u < 5; u++) sites[u * 7]!.update(`u${u}`, u, 0);
    let cycle = 0;
    while (sites.some((s) => s.size < 5)) {
      cycle++;
      expect(cycle, 'anti-entropy converges').toBeLessThan(60);
      const queue = sites.flatMap((s, i) => s.tick(cycle).sends.map((send) => ({ from: i, ...send })));
      while (queue.length > 0) {
        const { from, to, msg } = queue.shift()!;
        for (const send of sites[to]!.receive(from, msg, cycle).sends) queue.push({ from: to, ...send });
      }
    }
    for (const s of sites) expect([...s.known()].map((e) => e.update.value).sort()).toEqual([0, 1, 2, 3, 4]);
  });
});
