/**
 * Ring changes in two steps (Riak's pending ownership): `beginChange` commits the ring with `next`
 * (where the change leads) while the owners stay as they are, partitions move, and `finishChange`
 * commits `next` as the ring. What nodes rely on: the target is exactly what joinRing/leaveRing
 * compute, one change at a time, only the claimant commits, the claimant role survives the
 * claimant's own leave, a received ring's `next` is validated, and rings that differ only in
 * `next` are told apart (or gossip would never spread the start of a change).
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { simIt } from '../../../scripts/testing/seed.ts';
import {
  beginChange,
  changingNodes,
  createRing,
  finishChange,
  isRing,
  joinRing,
  leaveRing,
  newerRing,
  reassignClaimant,
  type Ring,
  type RingMember,
  ringNodes,
  settledRing,
} from '../src/index.ts';
// sameRing is not part of the package's index; it is what gossip compares rings with.
import { sameRing } from '../src/ring.ts';
import { refusal } from './support/ring.ts';

// ---- helpers ------------------------------------------------------------------------------------

function equalMembers(nodes: readonly string[]): RingMember[] {
  return nodes.map((node) => ({ node, weight: 1 }));
}

/** A copy of `ring` as plain mutable data, as it would arrive from another node. */
function plain(ring: Ring): {
  version: number;
  claimant: string;
  partitionCount: number;
  owners: string[];
  members: { node: string; weight: number }[];
  next?: { since: number; owners: string[]; members: { node: string; weight: number }[] };
} {
  return JSON.parse(JSON.stringify(ring)) as ReturnType<typeof plain>;
}

const abc = (): Ring => createRing(equalMembers(['a', 'b', 'c']), { partitionCount: 32 });

/** A ring of three with `d` joining. */
const joining = (): Ring => beginChange(abc(), { kind: 'join', member: { node: 'd', weight: 1 } }, 'a');

// ---- beginChange ----------------------------------------------------------------------------------

describe('beginChange', () => {
  it('on a join sets next to what joinRing computes, since = version + 1, and keeps the owners', () => {
    const ring = abc();
    const begun = beginChange(ring, { kind: 'join', member: { node: 'd', weight: 2 } }, 'a');
    const joined = joinRing(ring, { node: 'd', weight: 2 }, 'a');
    expect(begun.version).toBe(ring.version + 1);
    expect(begun.next).toEqual({ since: ring.version + 1, owners: joined.owners, members: joined.members });
    // Reads keep going to the current owners until the move is done.
    expect(begun.owners).toEqual(ring.owners);
    expect(begun.members).toEqual(ring.members);
    expect(begun.claimant).toBe('a');
    expect(begun.partitionCount).toBe(ring.partitionCount);
    expect(isRing(begun)).toBe(true);
    // The input ring is a value: beginning a change does not touch it.
    expect(ring.next).toBeUndefined();
    expect(ring.version).toBe(1);
  });

  it('on a leave sets next to what leaveRing computes, and the leaver still owns its partitions meanwhile', () => {
    const ring = abc();
    const begun = beginChange(ring, { kind: 'leave', node: 'b' }, 'a');
    const left = leaveRing(ring, 'b', 'a');
    expect(begun.version).toBe(2);
    expect(begun.next).toEqual({ since: 2, owners: left.owners, members: left.members });
    expect(begun.owners).toEqual(ring.owners);
    expect(begun.owners).toContain('b');
    expect(begun.next!.owners).not.toContain('b');
    expect(isRing(begun)).toBe(true);
  });

  it('lets the claimant begin its own leave and stay claimant until the move is done', () => {
    const begun = beginChange(abc(), { kind: 'leave', node: 'a' }, 'a');
    expect(begun.claimant).toBe('a');
    expect(begun.next!.members.map((m) => m.node)).toEqual(['b', 'c']);
    expect(isRing(begun)).toBe(true);
  });

  it('on a forced leave names the removed node in next, with the same target as a plain leave', () => {
    const forced = beginChange(abc(), { kind: 'leave', node: 'b', force: true }, 'a');
    const plainLeave = beginChange(abc(), { kind: 'leave', node: 'b' }, 'a');
    expect(forced.next).toEqual({ ...plainLeave.next, removed: 'b' });
    // Only a forced leave names one: receivers would otherwise never ask the leaver for its data.
    expect(plainLeave.next).not.toHaveProperty('removed');
    expect(beginChange(abc(), { kind: 'leave', node: 'b', force: false }, 'a').next).not.toHaveProperty('removed');
    expect(isRing(forced)).toBe(true);
    expect(sameRing(forced, plainLeave)).toBe(false);
    expect(newerRing(forced, plainLeave)).toBe(newerRing(plainLeave, forced));
    const done = finishChange(forced, 'a');
    expect(done.next).toBeUndefined();
    expect(done.members.map((m) => m.node)).toEqual(['a', 'c']);
  });

  it('refuses a second change while one is in progress, and any change by a non-claimant', () => {
    const begun = joining();
    expect(refusal(() => beginChange(begun, { kind: 'join', member: { node: 'e', weight: 1 } }, 'a')).code).toBe('INVALID_ARGUMENT');
    expect(refusal(() => beginChange(begun, { kind: 'leave', node: 'b' }, 'a')).code).toBe('INVALID_ARGUMENT');
    expect(refusal(() => beginChange(abc(), { kind: 'leave', node: 'c' }, 'b')).code).toBe('NOT_CLAIMANT');
    expect(refusal(() => beginChange(abc(), { kind: 'join', member: { node: 'd', weight: 1 } }, 'd')).code).toBe('NOT_CLAIMANT');
  });

  it('refuses what joinRing and leaveRing refuse', () => {
    expect(refusal(() => beginChange(abc(), { kind: 'join', member: { node: 'b', weight: 1 } }, 'a')).code).toBe('INVALID_MEMBER');
    expect(refusal(() => beginChange(abc(), { kind: 'leave', node: 'zz' }, 'a')).code).toBe('UNKNOWN_MEMBER');
    const alone = createRing(equalMembers(['a']), { partitionCount: 8 });
    expect(refusal(() => beginChange(alone, { kind: 'leave', node: 'a' }, 'a')).code).toBe('INVALID_MEMBER');
  });
});

// ---- finishChange ---------------------------------------------------------------------------------

describe('finishChange', () => {
  it('commits next as the ring, version + 1, with no next', () => {
    const begun = joining();
    const done = finishChange(begun, 'a');
    expect(done.version).toBe(begun.version + 1);
    expect(done.next).toBeUndefined();
    expect('next' in done).toBe(false);
    expect(done.owners).toEqual(begun.next!.owners);
    expect(done.members).toEqual(begun.next!.members);
    expect(done.claimant).toBe('a');
    expect(isRing(done)).toBe(true);
  });

  it('hands the role of a claimant that left to the first remaining member by name', () => {
    // Members chosen so that the first remaining by name is not the first given.
    const ring = createRing(equalMembers(['m', 'k', 'x', 'q']), { partitionCount: 32, claimant: 'k' });
    const done = finishChange(beginChange(ring, { kind: 'leave', node: 'k' }, 'k'), 'k');
    expect(done.claimant).toBe('m');
    expect(done.members.map((m) => m.node)).toEqual(['m', 'q', 'x']);
    expect(isRing(done)).toBe(true);
  });

  it('keeps the claimant when another member leaves', () => {
    const ring = createRing(equalMembers(['a', 'b', 'c']), { partitionCount: 32, claimant: 'c' });
    expect(finishChange(beginChange(ring, { kind: 'leave', node: 'a' }, 'c'), 'c').claimant).toBe('c');
  });

  it('refuses a non-claimant, and a ring with no change in progress', () => {
    expect(refusal(() => finishChange(joining(), 'b')).code).toBe('NOT_CLAIMANT');
    // The joiner is not claimant either, though it is in next.
    expect(refusal(() => finishChange(joining(), 'd')).code).toBe('NOT_CLAIMANT');
    expect(refusal(() => finishChange(abc(), 'a')).code).toBe('INVALID_ARGUMENT');
    expect(refusal(() => finishChange(finishChange(joining(), 'a'), 'a')).code).toBe('INVALID_ARGUMENT');
  });

  it('lets the next change begin once the previous one is finished', () => {
    const done = finishChange(joining(), 'a');
    const again = beginChange(done, { kind: 'leave', node: 'd' }, 'a');
    expect(again.next!.since).toBe(done.version + 1);
    expect(isRing(again)).toBe(true);
  });

  simIt('over random changes, begin then finish ends exactly where joinRing/leaveRing lead, two versions on', 5101, (seed) => {
    const arb = fc.record({
      size: fc.integer({ min: 1, max: 6 }),
      q: fc.integer({ min: 8, max: 64 }),
      changes: fc.array(fc.record({ isJoin: fc.boolean(), pick: fc.nat(), weight: fc.integer({ min: 1, max: 3 }) }), { minLength: 1, maxLength: 5 }),
    });
    fc.assert(
      fc.property(arb, ({ size, q, changes }) => {
        let ring = createRing(equalMembers(Array.from({ length: size }, (_, i) => `n${i}`)), { partitionCount: q });
        changes.forEach((c, i) => {
          const count = ring.members.length;
          const isJoin = count === 1 || (c.isJoin && count < Math.min(8, q));
          const by = ring.claimant;
          const direct = isJoin ? joinRing(ring, { node: `j${i}`, weight: c.weight }, by) : leaveRing(ring, ring.members[c.pick % count]!.node, by);
          const change = isJoin ? { kind: 'join' as const, member: { node: `j${i}`, weight: c.weight } } : { kind: 'leave' as const, node: ring.members[c.pick % count]!.node };
          const begun = beginChange(ring, change, by);
          expect(isRing(begun)).toBe(true);
          expect(begun.owners).toEqual(ring.owners);
          const done = finishChange(begun, by);
          expect(isRing(done)).toBe(true);
          expect(done.version).toBe(ring.version + 2);
          expect(done.owners).toEqual(direct.owners);
          expect(done.members).toEqual(direct.members);
          // leaveRing and finishChange pick the same successor to a leaving claimant.
          expect(done.claimant).toBe(direct.claimant);
          ring = done;
        });
      }),
      { seed, numRuns: 100 },
    );
  });
});

// ---- reassignClaimant -----------------------------------------------------------------------------

describe('reassignClaimant', () => {
  it('makes a member claimant, version + 1, keeping owners, members and the change in progress', () => {
    const ring = abc();
    const moved = reassignClaimant(ring, 'c');
    expect(moved.claimant).toBe('c');
    expect(moved.version).toBe(2);
    expect(moved.owners).toEqual(ring.owners);
    expect(isRing(moved)).toBe(true);

    const begun = joining();
    const during = reassignClaimant(begun, 'b');
    expect(during.claimant).toBe('b');
    expect(during.version).toBe(begun.version + 1);
    // `since` names the change across the new claimant's versions.
    expect(during.next).toEqual(begun.next);
    expect(isRing(during)).toBe(true);
    // The new claimant can finish the change; the old one no longer can.
    expect(refusal(() => finishChange(during, 'a')).code).toBe('NOT_CLAIMANT');
    expect(finishChange(during, 'b').claimant).toBe('b');
  });

  it('refuses a node that is not in the ring at all, and a node that is only joining', () => {
    expect(refusal(() => reassignClaimant(abc(), 'zz')).code).toBe('UNKNOWN_MEMBER');
    expect(refusal(() => reassignClaimant(joining(), 'zz')).code).toBe('UNKNOWN_MEMBER');
    // d is in next but owns nothing yet: it cannot commit the ring it is not a member of.
    expect(refusal(() => reassignClaimant(joining(), 'd')).code).toBe('INVALID_MEMBER');
  });

  it('accepts a member that is leaving (it is still a member of the ring it commits)', () => {
    const begun = beginChange(abc(), { kind: 'leave', node: 'c' }, 'a');
    const during = reassignClaimant(begun, 'c');
    expect(during.claimant).toBe('c');
    expect(isRing(during)).toBe(true);
    // And when it finishes its own leave it hands the role on.
    expect(finishChange(during, 'c').claimant).toBe('a');
  });
});

// ---- isRing on next --------------------------------------------------------------------------------

describe('isRing checks next', () => {
  it('accepts a ring with a well-formed next, including since below the version (after a reassignment)', () => {
    expect(isRing(joining())).toBe(true);
    const later = plain(joining());
    later.version = 7;
    expect(isRing(later)).toBe(true);
  });

  const malformed: [string, (r: ReturnType<typeof plain>) => void][] = [
    ['since above the version', (r) => (r.next!.since = r.version + 1)],
    ['since 0', (r) => (r.next!.since = 0)],
    ['since negative', (r) => (r.next!.since = -1)],
    ['since fractional', (r) => (r.next!.since = 1.5)],
    ['since missing', (r) => delete (r.next as { since?: number }).since],
    ['owners naming a node outside next (the leaver of the current ring)', (r) => (r.next!.owners[0] = 'zz')],
    ['owners one short', (r) => r.next!.owners.pop()],
    ['owners one too many', (r) => r.next!.owners.push('a')],
    ['owners not an array', (r) => ((r.next as unknown as { owners: unknown }).owners = 'a')],
    ['members unsorted', (r) => r.next!.members.reverse()],
    ['members duplicated', (r) => (r.next!.members[1] = { ...r.next!.members[0]! })],
    ['members empty', (r) => (r.next!.members = [])],
    ['a member of weight 0', (r) => (r.next!.members[0]!.weight = 0)],
    ['a member with an empty name', (r) => (r.next!.members[0]!.node = '')],
    ['next null', (r) => ((r as { next: unknown }).next = null)],
    ['next a string', (r) => ((r as { next: unknown }).next = 'soon')],
    ['removed naming a node outside the ring', (r) => ((r.next as { removed?: unknown }).removed = 'zz')],
    ['removed not a string', (r) => ((r.next as { removed?: unknown }).removed = 1)],
  ];
  for (const [name, spoil] of malformed) {
    it(`rejects next with ${name}`, () => {
      const r = plain(joining());
      expect(isRing(r)).toBe(true);
      spoil(r);
      expect(isRing(r)).toBe(false);
    });
  }

  it('rejects next owners naming the node that leaves (it is a member of the ring, not of next)', () => {
    const r = plain(beginChange(abc(), { kind: 'leave', node: 'b' }, 'a'));
    r.next!.owners[3] = 'b';
    expect(isRing(r)).toBe(false);
  });

  it('rejects next with more members than partitions', () => {
    const r = plain(createRing(equalMembers(['a', 'b']), { partitionCount: 2 }));
    r.version = 2;
    r.next = { since: 2, owners: ['a', 'b'], members: equalMembers(['a', 'b', 'c']) };
    expect(isRing(r)).toBe(false);
    r.next.members.pop();
    expect(isRing(r)).toBe(true);
  });
});

// ---- comparing rings ------------------------------------------------------------------------------

describe('rings that differ only in next', () => {
  /** `ring` with another next at the same version, as a confused or malicious claimant could send. */
  function withNext(ring: Ring, next: Ring['next']): Ring {
    return { ...ring, next } as Ring;
  }

  it('are not the same ring, whichever part of next differs', () => {
    const begun = joining();
    const bare = withNext(begun, undefined);
    const otherSince = withNext(begun, { ...begun.next!, since: 1 });
    const otherWeight = withNext(begun, { ...begun.next!, members: begun.next!.members.map((m) => (m.node === 'd' ? { ...m, weight: 2 } : m)) });
    const otherMember = withNext(begun, { ...begun.next!, members: begun.next!.members.map((m) => (m.node === 'd' ? { ...m, node: 'e' } : m)), owners: begun.next!.owners.map((o) => (o === 'd' ? 'e' : o)) });
    const swapped = [...begun.next!.owners];
    const i = swapped.indexOf('d');
    const j = swapped.findIndex((o) => o !== 'd');
    [swapped[i], swapped[j]] = [swapped[j]!, swapped[i]!];
    const otherOwners = withNext(begun, { ...begun.next!, owners: swapped });
    const variants = [bare, otherSince, otherWeight, otherMember, otherOwners];
    expect(sameRing(begun, plain(begun) as Ring)).toBe(true);
    for (const v of variants) {
      expect(sameRing(begun, v)).toBe(false);
      expect(sameRing(v, begun)).toBe(false);
    }
  });

  it('newerRing picks the same one whatever the argument order, so every node converges', () => {
    const begun = joining();
    const bare = withNext(begun, undefined);
    const otherSince = withNext(begun, { ...begun.next!, since: 1 });
    const rings = [begun, bare, otherSince];
    for (const a of rings) for (const b of rings) expect(newerRing(a, b)).toBe(newerRing(b, a));
    // A ring with a change in progress wins over the same version without one.
    expect(newerRing(begun, bare)).toBe(begun);
    expect(newerRing(bare, begun)).toBe(begun);
    // A higher version wins whatever next says.
    const finished = finishChange(begun, 'a');
    expect(newerRing(begun, finished)).toBe(finished);
    expect(newerRing(finished, begun)).toBe(finished);
  });
});

// ---- ringNodes, settledRing -------------------------------------------------------------------------

describe('ringNodes and settledRing', () => {
  it('ringNodes is the members of the ring and of next, once each, sorted by code unit', () => {
    const ring = createRing(equalMembers(['b', 'Z', 'c']), { partitionCount: 16, claimant: 'b' });
    expect(ringNodes(ring)).toEqual(['Z', 'b', 'c']);
    const join = beginChange(ring, { kind: 'join', member: { node: 'a', weight: 1 } }, 'b');
    expect(ringNodes(join)).toEqual(['Z', 'a', 'b', 'c']);
    // A leaver stays in ringNodes until the leave is finished.
    const leave = beginChange(ring, { kind: 'leave', node: 'Z' }, 'b');
    expect(ringNodes(leave)).toEqual(['Z', 'b', 'c']);
    expect(ringNodes(finishChange(leave, 'b'))).toEqual(['b', 'c']);
  });

  it('settledRing is the target with the ring’s version and claimant, and the ring itself when nothing is in progress', () => {
    const ring = abc();
    expect(settledRing(ring)).toBe(ring);
    const begun = joining();
    const settled = settledRing(begun);
    expect(settled.version).toBe(begun.version);
    expect(settled.claimant).toBe(begun.claimant);
    expect(settled.owners).toEqual(begun.next!.owners);
    expect(settled.members).toEqual(begun.next!.members);
    expect(settled.next).toBeUndefined();
    expect(isRing(settled)).toBe(true);
    // finishChange differs from it only by the version.
    const done = finishChange(begun, 'a');
    expect({ ...settled, version: done.version }).toEqual(done);
  });
});

describe('a forced leave while a change is in progress', () => {
  const begun = (change: Parameters<typeof beginChange>[1]): Ring => beginChange(abc(), change, 'a');

  it('names the nodes the change adds or removes', () => {
    expect(changingNodes(abc())).toEqual([]);
    expect(changingNodes(begun({ kind: 'join', member: { node: 'd', weight: 1 } }))).toEqual(['d']);
    expect(changingNodes(begun({ kind: 'leave', node: 'b' }))).toEqual(['b']);
  });

  it('of the joiner abandons the change: the current owners stay, one version later, nothing pending', () => {
    const ring = begun({ kind: 'join', member: { node: 'd', weight: 1 } });
    const out = beginChange(ring, { kind: 'leave', node: 'd', force: true }, 'a');
    expect(out.version).toBe(ring.version + 1);
    expect(out.next).toBeUndefined();
    expect(out.owners).toEqual(ring.owners);
    expect(out.members).toEqual(ring.members);
    expect(isRing(JSON.parse(JSON.stringify(out)))).toBe(true);
  });

  it('of the leaver forces the same change: same target, removed names it, since is the new version', () => {
    const ring = begun({ kind: 'leave', node: 'b' });
    const out = beginChange(ring, { kind: 'leave', node: 'b', force: true }, 'a');
    expect(out.version).toBe(ring.version + 1);
    expect(out.next).toEqual({ ...ring.next, since: ring.version + 1, removed: 'b' });
    expect(out.owners).toEqual(ring.owners);
    expect(isRing(JSON.parse(JSON.stringify(out)))).toBe(true);
    // The end is what the plain leave would have ended in.
    expect(settledRing(finishChange(out, 'a')).owners).toEqual(settledRing(ring).owners);
  });

  it('of any other node, or of the claimant, waits: refused while the change is in progress', () => {
    expect(refusal(() => beginChange(begun({ kind: 'join', member: { node: 'd', weight: 1 } }), { kind: 'leave', node: 'b', force: true }, 'a')).code).toBe('INVALID_ARGUMENT');
    expect(refusal(() => beginChange(begun({ kind: 'leave', node: 'a' }), { kind: 'leave', node: 'a', force: true }, 'a')).code).toBe('INVALID_MEMBER');
  });
});
