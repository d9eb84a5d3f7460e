/**
 * Rumor mongering (Demers et al. 1987, §1.4), site by site: no runtime, fixed random draws, every
 * message handed over by the test.
 */
import { describe, expect, it } from 'vitest';
import { randomPeer } from '../src/partners.ts';
import { resolveRumorConfig, type RumorConfig, type RumorMessage, RumorSite, type RumorStep } from '../src/rumor.ts';

/** Draws in order; a test that draws more than it planned fails instead of reading garbage. */
function draws(...values: number[]): () => number {
  let i = 0;
  return () => {
    if (i >= values.length) throw new Error(`random drawn ${i + 1} times, the test planned ${values.length}`);
    return values[i++]!;
  };
}

const NODES = ['a', 'b', 'c', 'd'] as const;
type Node = (typeof NODES)[number];

/** With self 'a', a draw in [0, 1/3) picks b, [1/3, 2/3) c, [2/3, 1) d. */
const PICK = { b: 0.1, c: 0.5, d: 0.9 } as const;

function site(self: Node, config: Partial<RumorConfig>, random: () => number = draws()): RumorSite<string, string, Node> {
  return new RumorSite<string, string, Node>({ self, peers: NODES, config, random });
}

function only<K, V, P>(step: RumorStep<K, V, P>): { to: P; msg: RumorMessage<K, V> } {
  expect(step.sends).toHaveLength(1);
  return step.sends[0]!;
}

describe('partner choice', () => {
  it.each([
    { selfIndex: 0, draw: 0, partner: 'b' },
    { selfIndex: 0, draw: 0.999, partner: 'd' },
    { selfIndex: 2, draw: 0.4, partner: 'b' },
    { selfIndex: 2, draw: 0.7, partner: 'd' },
    { selfIndex: 3, draw: 0.999, partner: 'c' },
    { selfIndex: -1, draw: 0.999, partner: 'd' },
  ])('self at $selfIndex, draw $draw: $partner, never self', ({ selfIndex, draw, partner }) => {
    expect(randomPeer(NODES, selfIndex, () => draw)).toBe(partner);
  });

  it('membership changes replace the peers partners are drawn from', () => {
    const a = site('a', { mode: 'pull' }, draws(0.999, 0.999));
    expect(only(a.tick(1)).to).toBe('d');
    a.setPeers(['b', 'c']);
    expect(a.peerList()).toEqual(['b', 'c']);
    expect(only(a.tick(2)).to).toBe('c');
  });

  it('a site alone has no partner and sends nothing', () => {
    const alone = new RumorSite<string, string, string>({ self: 'a', peers: ['a'], config: { mode: 'push-pull' }, random: draws() });
    alone.update('x', 'v', 0);
    expect(alone.tick(1).sends).toEqual([]);
  });
});

describe('push', () => {
  it('a susceptible site says nothing; an infective one sends its hot rumors to one random partner', () => {
    const a = site('a', { mode: 'push' }, draws(PICK.c));
    expect(a.tick(1).sends).toEqual([]);
    expect(a.update('x', 'hello', 1).learned).toEqual(['x']);
    expect(a.status('x')).toBe('infective');
    expect(only(a.tick(2))).toEqual({ to: 'c', msg: { type: 'rumor-push', rumors: [{ id: 'x', value: 'hello' }] } });
    expect(a.entry('x')?.copiesSent).toBe(1);
  });

  it.each([
    { receiver: 'susceptible', learnedAt: undefined, feedback: { known: [], news: ['x'] }, learned: ['x'] },
    { receiver: 'knew it before this cycle', learnedAt: 3, feedback: { known: ['x'], news: [] }, learned: [] },
    // Contacts of one cycle are simultaneous: the second sender of the cycle was not wasted either.
    { receiver: 'learned it earlier this cycle', learnedAt: 5, feedback: { known: [], news: ['x'] }, learned: [] },
  ])('the receiver answers with feedback when it $receiver', ({ learnedAt, feedback, learned }) => {
    const b = site('b', { mode: 'push' });
    if (learnedAt !== undefined) b.update('x', 'v', learnedAt);
    const step = b.receive('a', { type: 'rumor-push', rumors: [{ id: 'x', value: 'v' }] }, 5);
    expect(step.learned).toEqual(learned);
    expect(only(step)).toEqual({ to: 'a', msg: { type: 'rumor-feedback', ...feedback } });
    expect(b.status('x')).toBe('infective');
  });

  it('blind removal sends no feedback', () => {
    const b = site('b', { mode: 'push', removal: 'blind' });
    expect(b.receive('a', { type: 'rumor-push', rumors: [{ id: 'x', value: 'v' }] }, 1).sends).toEqual([]);
  });
});

/**
 * Drives one site through cycles: each cycle it ticks (settling the previous cycle's contacts),
 * pushes, and gets the feedback listed for that cycle. Returns the cycle at whose tick it lost
 * interest, or undefined.
 */
function removalCycle(config: Partial<RumorConfig>, feedbacks: readonly ('known' | 'news')[], random: () => number): number | undefined {
  const a = site('a', { mode: 'push', ...config }, random);
  a.update('x', 'v', 0);
  for (let cycle = 1; cycle <= feedbacks.length + 1; cycle++) {
    const step = a.tick(cycle);
    if (step.removed.includes('x')) return cycle;
    expect(step.sends).toHaveLength(1);
    const said = feedbacks[cycle - 1];
    if (said !== undefined && config.removal !== 'blind') {
      a.receive('b', { type: 'rumor-feedback', known: said === 'known' ? ['x'] : [], news: said === 'news' ? ['x'] : [] }, cycle);
    }
  }
  return undefined;
}

describe('losing interest', () => {
  const partner = (times: number): number[] => Array<number>(times).fill(PICK.b);

  it.each([
    { k: 1, feedbacks: ['news', 'news', 'known'], removedAt: 4 },
    { k: 2, feedbacks: ['known', 'known'], removedAt: 3 },
    // News resets the counter: k unnecessary contacts in a row, not in total.
    { k: 2, feedbacks: ['known', 'news', 'known', 'known'], removedAt: 5 },
    { k: 3, feedbacks: ['known', 'known', 'news', 'known', 'known', 'known'], removedAt: 7 },
  ] as const)('feedback + counter, k=$k, partners said $feedbacks: removed at the tick of cycle $removedAt', ({ k, feedbacks, removedAt }) => {
    expect(removalCycle({ removal: 'feedback', stop: 'counter', k }, feedbacks, draws(...partner(feedbacks.length)))).toBe(removedAt);
  });

  it.each([
    // k=2: each all-unnecessary cycle flips a coin; lose interest when it comes below 1/2.
    { feedbacks: ['known', 'known'], coins: [0.7, 0.3], removedAt: 3 },
    { feedbacks: ['known', 'news', 'known'], coins: [0.9, 0.1], removedAt: 4 },
  ] as const)('feedback + coin (k=2), partners said $feedbacks, coins $coins: removed at cycle $removedAt', ({ feedbacks, coins, removedAt }) => {
    // Per cycle: the tick first settles (a coin if the last cycle was all unnecessary), then picks a partner.
    const sequence: number[] = [PICK.b];
    let coin = 0;
    feedbacks.forEach((said) => {
      if (said === 'known') sequence.push(coins[coin++]!);
      sequence.push(PICK.b);
    });
    expect(removalCycle({ removal: 'feedback', stop: 'coin', k: 2 }, feedbacks, draws(...sequence))).toBe(removedAt);
  });

  it.each([
    { k: 1, removedAt: 2 },
    { k: 3, removedAt: 4 },
  ])('blind + counter, k=$k: removed after k sends, whatever the partners knew', ({ k, removedAt }) => {
    expect(removalCycle({ removal: 'blind', stop: 'counter', k }, ['news', 'news', 'news', 'news'], draws(...partner(k)))).toBe(removedAt);
  });

  it('blind + coin (k=4): after every send, removed with probability 1/4', () => {
    // tick 1: partner; tick 2: coin 0.5 (keep), partner; tick 3: coin 0.2 (< 1/4: removed).
    expect(removalCycle({ removal: 'blind', stop: 'coin', k: 4 }, ['news', 'news', 'news'], draws(PICK.b, 0.5, PICK.b, 0.2))).toBe(3);
  });

  it('a removed rumor is known but no longer sent', () => {
    const a = site('a', { mode: 'push', removal: 'blind', stop: 'counter', k: 1 }, draws(PICK.b));
    a.update('x', 'v', 0);
    a.tick(1);
    expect(a.tick(2)).toEqual({ sends: [], learned: [], removed: ['x'] });
    expect(a.status('x')).toBe('removed');
    expect(a.isInfective).toBe(false);
  });
});

describe('pull', () => {
  it('every site asks a partner; only an infective partner answers, with its hot rumors', () => {
    const a = site('a', { mode: 'pull' }, draws(PICK.b));
    const b = site('b', { mode: 'pull' });
    const c = site('c', { mode: 'pull' });
    c.update('x', 'v', 0);
    expect(only(a.tick(1))).toEqual({ to: 'b', msg: { type: 'rumor-pull' } });
    expect(b.receive('a', { type: 'rumor-pull' }, 1).sends).toEqual([]);
    expect(only(c.receive('a', { type: 'rumor-pull' }, 1))).toEqual({ to: 'a', msg: { type: 'rumor-reply', rumors: [{ id: 'x', value: 'v' }], known: [], news: [] } });
  });

  it("the requester's feedback settles the answerer's counter, one event per cycle however many asked", () => {
    const c = site('c', { mode: 'pull', stop: 'counter', k: 2 }, draws(PICK.b, PICK.b));
    c.update('x', 'v', 0);
    // Cycle 1: two requesters already knew x: one removal event, not two.
    c.receive('a', { type: 'rumor-pull' }, 1);
    c.receive('b', { type: 'rumor-pull' }, 1);
    c.receive('a', { type: 'rumor-feedback', known: ['x'], news: [] }, 1);
    c.receive('b', { type: 'rumor-feedback', known: ['x'], news: [] }, 1);
    expect(c.tick(2).removed).toEqual([]);
    expect(c.entry('x')?.counter).toBe(1);
    // Cycle 2: one knew, one did not: the news resets the counter.
    c.receive('a', { type: 'rumor-feedback', known: ['x'], news: [] }, 2);
    c.receive('d', { type: 'rumor-feedback', known: [], news: ['x'] }, 2);
    expect(c.tick(3).removed).toEqual([]);
    expect(c.entry('x')?.counter).toBe(0);
    expect(c.entry('x')?.copiesSent).toBe(2);
  });

  it('a requester that gets a rumor becomes infective and tells the answerer whether it was news', () => {
    const a = site('a', { mode: 'pull' });
    const step = a.receive('c', { type: 'rumor-reply', rumors: [{ id: 'x', value: 'v' }], known: [], news: [] }, 4);
    expect(step.learned).toEqual(['x']);
    expect(only(step)).toEqual({ to: 'c', msg: { type: 'rumor-feedback', known: [], news: ['x'] } });
    expect(a.entry('x')?.learnedAtCycle).toBe(4);
  });
});

describe('push-pull', () => {
  it('the initiator pushes its hot rumors and asks for the partner’s; the reply leaves out what was pushed and carries the feedback', () => {
    const a = site('a', { mode: 'push-pull' }, draws(PICK.b));
    const b = site('b', { mode: 'push-pull' });
    a.update('x', 'vx', 0);
    b.update('x', 'vx', 0);
    b.update('y', 'vy', 0);
    const push = only(a.tick(1));
    expect(push).toEqual({ to: 'b', msg: { type: 'rumor-push-pull', rumors: [{ id: 'x', value: 'vx' }] } });
    const reply = only(b.receive('a', push.msg, 1));
    expect(reply).toEqual({ to: 'a', msg: { type: 'rumor-reply', rumors: [{ id: 'y', value: 'vy' }], known: ['x'], news: [] } });
    const back = a.receive('b', reply.msg, 1);
    expect(back.learned).toEqual(['y']);
    expect(only(back)).toEqual({ to: 'b', msg: { type: 'rumor-feedback', known: [], news: ['y'] } });
  });

  it('a site with nothing hot still asks, and a partner with nothing to say stays silent', () => {
    const a = site('a', { mode: 'push-pull' }, draws(PICK.d));
    const d = site('d', { mode: 'push-pull' });
    const ask = only(a.tick(1));
    expect(ask).toEqual({ to: 'd', msg: { type: 'rumor-push-pull', rumors: [] } });
    expect(d.receive('a', ask.msg, 1).sends).toEqual([]);
  });
});

describe('many updates', () => {
  it('each update has its own status and counter', () => {
    const a = site('a', { mode: 'push', stop: 'counter', k: 1 }, draws(PICK.b, PICK.b, PICK.b));
    a.update('x', 'vx', 0);
    a.update('y', 'vy', 0);
    expect(only(a.tick(1)).msg).toEqual({ type: 'rumor-push', rumors: [{ id: 'x', value: 'vx' }, { id: 'y', value: 'vy' }] });
    a.receive('b', { type: 'rumor-feedback', known: ['x'], news: ['y'] }, 1);
    const cycle2 = a.tick(2);
    expect(cycle2.removed).toEqual(['x']);
    expect(only(cycle2).msg).toEqual({ type: 'rumor-push', rumors: [{ id: 'y', value: 'vy' }] });
    expect([a.status('x'), a.status('y'), a.status('z')]).toEqual(['removed', 'infective', 'susceptible']);
    expect(a.hotIds()).toEqual(['y']);
    expect(a.counters).toEqual({ messagesSent: 2, copiesSent: 3 });
  });

  it('a local update of an id the site knows changes nothing', () => {
    const a = site('a', { mode: 'push' });
    a.update('x', 'first', 0);
    expect(a.update('x', 'second', 1).learned).toEqual([]);
    expect(a.entry('x')?.rumor.value).toBe('first');
  });
});

describe('configuration', () => {
  it('defaults to push, feedback, counter, k=3', () => {
    expect(resolveRumorConfig()).toEqual({ mode: 'push', removal: 'feedback', stop: 'counter', k: 3 });
  });

  it.each([{ k: 0 }, { k: 1.5 }, { mode: 'sideways' }, { removal: 'never' }, { stop: 'maybe' }] as unknown as Partial<RumorConfig>[])('rejects %o', (bad) => {
    expect(() => resolveRumorConfig(bad)).toThrow(RangeError);
  });
});
