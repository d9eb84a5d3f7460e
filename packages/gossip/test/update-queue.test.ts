/**
 * The piggyback queue (memberlist's TransmitLimitedQueue): what SWIM §4.1's "infection-style"
 * dissemination relies on. Each update rides on `retransmitMult * ceil(log10(n + 1))` messages,
 * a few at a time, least-sent first, and news about a member replaces older news about it.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type { MemberUpdate } from '../src/messages.ts';
import { retransmitLimit, UpdateQueue } from '../src/update-queue.ts';
import { alive, dead, suspect } from './support/swim-harness.ts';

function namesOf(updates: readonly MemberUpdate[]): string[] {
  return updates.map((u) => u.member.name);
}

describe('retransmitLimit: retransmitMult * ceil(log10(n + 1))', () => {
  it.each([
    { mult: 4, members: 1, limit: 4 },
    { mult: 4, members: 8, limit: 4 },
    { mult: 4, members: 9, limit: 4 },
    { mult: 4, members: 10, limit: 8 },
    { mult: 4, members: 99, limit: 8 },
    { mult: 4, members: 100, limit: 12 },
    { mult: 3, members: 1_000, limit: 12 },
    { mult: 1, members: 5, limit: 1 },
  ])('$members members, retransmitMult $mult: each update is sent $limit times', ({ mult, members, limit }) => {
    expect(retransmitLimit(mult, members)).toBe(limit);
  });
});

describe('UpdateQueue', () => {
  it('an update is piggybacked exactly `limit` times, then leaves the queue', () => {
    const q = new UpdateQueue();
    q.push(alive('b'));
    for (let i = 0; i < 4; i++) expect(namesOf(q.take(20, 4)), `take ${i + 1}`).toEqual(['b']);
    expect(q.take(20, 4)).toEqual([]);
    expect(q.size).toBe(0);
  });

  it('one take carries at most `max` updates, and never the same update twice', () => {
    const q = new UpdateQueue();
    for (const n of ['b', 'c', 'd', 'e', 'f']) q.push(alive(n));
    const taken = q.take(3, 10);
    expect(taken).toHaveLength(3);
    expect(new Set(namesOf(taken)).size).toBe(3);
    expect(q.take(0, 10)).toEqual([]);
    expect(q.take(-1, 10)).toEqual([]);
  });

  it('least-sent first: fresh news goes out before news already sent', () => {
    const q = new UpdateQueue();
    q.push(alive('b'));
    q.push(alive('c'));
    expect(namesOf(q.take(2, 10))).toEqual(['b', 'c']);
    q.push(alive('d'));
    expect(namesOf(q.take(1, 10))).toEqual(['d']);
    // b and c were sent once, d once: among equals, the one longest at that count goes first.
    expect(namesOf(q.take(3, 10))).toEqual(['b', 'c', 'd']);
  });

  it('with more news than fits, every update still gets its turn (rotation, not starvation)', () => {
    const q = new UpdateQueue();
    const all = ['b', 'c', 'd', 'e', 'f', 'g', 'h'];
    for (const n of all) q.push(alive(n));
    const sent = new Map<string, number>();
    for (let round = 0; round < 7; round++) for (const n of namesOf(q.take(2, 2))) sent.set(n, (sent.get(n) ?? 0) + 1);
    expect(Object.fromEntries(sent)).toEqual(Object.fromEntries(all.map((n) => [n, 2])));
    expect(q.size).toBe(0);
  });

  it('a newer update about the same member replaces the older one and starts its count afresh', () => {
    const q = new UpdateQueue();
    q.push(alive('b', 1));
    q.take(20, 3);
    q.take(20, 3);
    q.push(suspect('b', 1, 'c'));
    expect(q.pending()).toEqual([suspect('b', 1, 'c')]);
    expect(q.size).toBe(1);
    // Three more sends for the suspicion, not the one left of the alive's count.
    for (let i = 0; i < 3; i++) expect(q.take(20, 3)).toEqual([suspect('b', 1, 'c')]);
    expect(q.size).toBe(0);
  });

  it('forget drops the pending update about a member (and is a no-op for unknown names)', () => {
    const q = new UpdateQueue();
    q.push(alive('b'));
    q.push(dead('c', 0, 'a'));
    q.take(1, 5);
    q.forget('b');
    q.forget('zz');
    expect(namesOf(q.pending())).toEqual(['c']);
    expect(namesOf(q.take(20, 5))).toEqual(['c']);
  });

  it("Lifeguard's buddy: `first` goes in regardless of how often it was sent, and counts against `max`", () => {
    const q = new UpdateQueue();
    q.push(suspect('b', 0, 'a'));
    q.take(20, 10); // b sent once
    q.push(alive('c'));
    q.push(alive('d'));
    expect(namesOf(q.take(2, 10, 'b'))).toEqual(['b', 'c']);
    // A buddy with nothing pending changes nothing.
    expect(namesOf(q.take(1, 10, 'zz'))).toEqual(['d']);
  });

  it('property: a take returns distinct, least-sent updates, and no update is sent more than `limit` times', () => {
    const op = fc.oneof(
      fc.record({ kind: fc.constant('push' as const), name: fc.constantFrom('b', 'c', 'd', 'e', 'f', 'g'), incarnation: fc.nat(5) }),
      fc.record({ kind: fc.constant('take' as const), max: fc.integer({ min: 0, max: 4 }) }),
      fc.record({ kind: fc.constant('forget' as const), name: fc.constantFrom('b', 'c', 'd') }),
    );
    fc.assert(
      fc.property(fc.array(op, { maxLength: 60 }), fc.integer({ min: 1, max: 5 }), (ops, limit) => {
        const q = new UpdateQueue();
        // The model: for each pending member, its update and how often it was sent.
        const model = new Map<string, { update: MemberUpdate; sent: number }>();
        for (const o of ops) {
          if (o.kind === 'push') {
            const u = alive(o.name, o.incarnation);
            q.push(u);
            model.set(o.name, { update: u, sent: 0 });
          } else if (o.kind === 'forget') {
            q.forget(o.name);
            model.delete(o.name);
          } else {
            const taken = q.take(o.max, limit);
            const names = namesOf(taken);
            expect(names.length).toBe(Math.min(o.max, model.size));
            expect(new Set(names).size).toBe(names.length);
            const takenSends = names.map((n) => model.get(n)!.sent);
            const leftSends = [...model.entries()].filter(([n]) => !names.includes(n)).map(([, m]) => m.sent);
            if (takenSends.length > 0 && leftSends.length > 0) expect(Math.max(...takenSends)).toBeLessThanOrEqual(Math.min(...leftSends));
            for (const u of taken) {
              const m = model.get(u.member.name)!;
              expect(u).toEqual(m.update);
              m.sent++;
              if (m.sent >= limit) model.delete(u.member.name);
            }
          }
          expect(q.size).toBe(model.size);
          expect(new Set(namesOf(q.pending()))).toEqual(new Set(model.keys()));
        }
      }),
      { numRuns: 300 },
    );
  });
});
