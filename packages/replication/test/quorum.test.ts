/**
 * Quorum bookkeeping for one request, pure: a write waits for W acknowledgements and a read for R
 * replies, from the nodes the request went to (primaries and, under sloppy quorum, fallbacks, some
 * added late), each node counted once. What a coordinator relies on to answer neither too early
 * (a stray or repeated reply counted) nor never (a late fallback not counted).
 */
import { describe, expect, it } from 'vitest';
import { clientWrite, type DvvSet, emptyClock, join, sync, update, values } from '../src/dvv.ts';
import { ReadQuorum, WriteQuorum } from '../src/quorum.ts';

function fresh(value: string, id: string): DvvSet<string> {
  return update(clientWrite<string>({}, value), emptyClock(), id);
}

function over(base: DvvSet<string>, value: string, id: string): DvvSet<string> {
  return update(clientWrite<string>(join(base), value), base, id);
}

describe('a write quorum', () => {
  it('is met at W acknowledgements from targets, and complete when every target acknowledged', () => {
    const q = new WriteQuorum(['a', 'b', 'c'], 2);
    expect(q.isMet).toBe(false);
    expect(q.ack('b')).toBe(true);
    expect(q.isMet).toBe(false);
    expect(q.ack('a')).toBe(true);
    expect(q.isMet).toBe(true);
    expect(q.isComplete).toBe(false);
    expect(q.ack('c')).toBe(true);
    expect(q.isComplete).toBe(true);
  });

  it('ignores acknowledgements from nodes the write was not sent to', () => {
    const q = new WriteQuorum(['a', 'b', 'c'], 2);
    expect(q.ack('a')).toBe(true);
    expect(q.ack('z')).toBe(false);
    expect(q.isMet).toBe(false);
    expect(q.hasAcked('z')).toBe(false);
    expect(q.replicas()).toEqual(['a']);
  });

  it('counts each node once, however often it acknowledges', () => {
    const q = new WriteQuorum(['a', 'b', 'c'], 2);
    q.ack('a');
    q.ack('a');
    q.ack('a');
    expect(q.isMet).toBe(false);
    expect(q.replicas()).toEqual(['a']);
    q.ack('c');
    expect(q.isMet).toBe(true);
  });

  it('a fallback added later counts like a first target; adding a target twice is refused', () => {
    const q = new WriteQuorum(['a', 'b'], 3);
    q.ack('a');
    q.ack('b');
    expect(q.isComplete).toBe(true);
    expect(q.isMet).toBe(false);
    expect(q.ack('d')).toBe(false); // not a target yet
    expect(q.addTarget('d')).toBe(true);
    expect(q.isComplete).toBe(false);
    expect(q.addTarget('d')).toBe(false);
    expect(q.addTarget('a')).toBe(false);
    expect(q.ack('d')).toBe(true);
    expect(q.isMet).toBe(true);
    expect(q.isComplete).toBe(true);
  });

  it('lists the replicas that acknowledged in the order they became targets, not the order of acks', () => {
    const q = new WriteQuorum(['a', 'b', 'c'], 1);
    q.addTarget('d');
    q.ack('d');
    q.ack('c');
    q.ack('a');
    expect(q.replicas()).toEqual(['a', 'c', 'd']);
    expect(['a', 'b', 'c', 'd'].map((n) => q.hasAcked(n))).toEqual([true, false, true, true]);
  });

  it('does not keep a reference to the caller’s target list', () => {
    const targets = ['a', 'b'];
    const q = new WriteQuorum(targets, 1);
    targets.push('c');
    expect(q.ack('c')).toBe(false);
  });

  it('refuses W below 1', () => {
    expect(() => new WriteQuorum(['a'], 0)).toThrow(/W is at least 1/);
  });
});

describe('a write quorum with stand-ins', () => {
  it('counts a late fallback and the target it stands in for once: W means W distinct replicas', () => {
    // N = 3, W = 2 during a ring change with one pending replica x: W + 1 = 3 acknowledgements.
    const q = new WriteQuorum(['a', 'b', 'x'], 3);
    q.ack('a');
    q.ack('x');
    expect(q.addTarget('f', 'x')).toBe(true); // x seemed silent: f holds its hint
    q.ack('f');
    expect(q.isMet).toBe(false); // a, and x twice: two replicas' worth
    expect(q.replicas()).toEqual(['a', 'x', 'f']);
    q.ack('b');
    expect(q.isMet).toBe(true);
  });

  it('a stand-in for a stand-in takes the first one’s slot', () => {
    const q = new WriteQuorum(['a', 'b'], 2);
    q.addTarget('f', 'b');
    q.addTarget('g', 'f');
    q.ack('b');
    q.ack('f');
    q.ack('g');
    expect(q.isMet).toBe(false);
    q.ack('a');
    expect(q.isMet).toBe(true);
    expect(q.isComplete).toBe(true);
  });
});

describe('a read quorum', () => {
  it('is met at R replies from targets, and complete when every target replied', () => {
    const q = new ReadQuorum<string>(['a', 'b', 'c'], 2);
    expect(q.isMet).toBe(false);
    expect(q.reply('a', fresh('x', 'a@e'))).toBe(true);
    expect(q.isMet).toBe(false);
    expect(q.reply('c', undefined)).toBe(true);
    expect(q.isMet).toBe(true);
    expect(q.isComplete).toBe(false);
    expect(q.silent()).toEqual(['b']);
    q.reply('b', undefined);
    expect(q.isComplete).toBe(true);
    expect(q.silent()).toEqual([]);
  });

  it('merges every clock received with the DVV sync: concurrent values are siblings, overwritten ones are gone', () => {
    const a = fresh('a', 'n1@e');
    const b = fresh('b', 'n2@e');
    const c = over(a, 'c', 'n1@e');
    const q = new ReadQuorum<string>(['n1', 'n2', 'n3'], 3);
    q.reply('n1', a);
    q.reply('n2', b);
    expect(q.result()).toEqual(sync(a, b));
    q.reply('n3', c);
    expect(q.result()).toEqual(sync(sync(a, b), c));
    expect(values(q.result()).sort()).toEqual(['b', 'c']);
  });

  it('starts from the empty clock, and a node holding nothing changes nothing', () => {
    const q = new ReadQuorum<string>(['a', 'b'], 1);
    expect(q.result()).toEqual(emptyClock());
    q.reply('a', undefined);
    expect(q.result()).toEqual(emptyClock());
    const x = fresh('x', 'b@e');
    q.reply('b', x);
    expect(q.result()).toEqual(x);
  });

  it('ignores replies from non-targets: not counted, not merged, not listed', () => {
    const q = new ReadQuorum<string>(['a', 'b'], 1);
    expect(q.reply('z', fresh('stray', 'z@e'))).toBe(false);
    expect(q.isMet).toBe(false);
    expect(q.result()).toEqual(emptyClock());
    expect(q.replyOf('z')).toBeUndefined();
    expect(q.replicas()).toEqual([]);
    expect(q.isTarget('z')).toBe(false);
    expect(q.isTarget('a')).toBe(true);
  });

  it("counts a node once; its later reply (it was asked again) is merged into the result and into what it replied", () => {
    const a1 = fresh('a1', 'n1@e');
    const b = fresh('b', 'n2@e');
    const q = new ReadQuorum<string>(['n1', 'n2'], 2);
    expect(q.reply('n1', a1)).toBe(true);
    expect(q.reply('n1', b)).toBe(false);
    expect(q.isMet).toBe(false);
    expect(q.replicas()).toEqual(['n1']);
    expect(q.result()).toEqual(sync(a1, b));
    expect(q.replyOf('n1')).toEqual({ clock: sync(a1, b) });
    // A later "nothing held" does not erase what the node said before.
    q.reply('n1', undefined);
    expect(q.replyOf('n1')).toEqual({ clock: sync(a1, b) });
    // A node that first held nothing and later something: the something.
    q.reply('n2', undefined);
    q.reply('n2', a1);
    expect(q.replyOf('n2')).toEqual({ clock: a1 });
  });

  it('replyOf tells "held nothing" from "did not reply"', () => {
    const q = new ReadQuorum<string>(['a', 'b'], 1);
    q.reply('a', undefined);
    expect(q.replyOf('a')).toEqual({ clock: undefined });
    expect(q.replyOf('a')).not.toBeUndefined();
    expect(q.replyOf('b')).toBeUndefined();
  });

  it('a target added later counts; targets, replicas and silent nodes keep the order in which nodes became targets', () => {
    const q = new ReadQuorum<string>(['c', 'a'], 3);
    expect(q.addTarget('b')).toBe(true);
    expect(q.addTarget('a')).toBe(false);
    expect(q.addTarget('b')).toBe(false);
    expect(q.targets()).toEqual(['c', 'a', 'b']);
    q.reply('b', undefined);
    q.reply('c', undefined);
    expect(q.replicas()).toEqual(['c', 'b']);
    expect(q.silent()).toEqual(['a']);
    expect(q.isMet).toBe(false);
    q.reply('a', undefined);
    expect(q.isMet).toBe(true);
    expect(q.isComplete).toBe(true);
  });

  it('does not keep a reference to the caller’s target list', () => {
    const targets = ['a'];
    const q = new ReadQuorum<string>(targets, 1);
    targets.push('b');
    expect(q.reply('b', undefined)).toBe(false);
    expect(q.targets()).toEqual(['a']);
  });

  it('refuses R below 1', () => {
    expect(() => new ReadQuorum<string>(['a'], 0)).toThrow(/R is at least 1/);
  });
});
