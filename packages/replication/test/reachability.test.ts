/**
 * Which nodes the coordinator and storage treat as down, from the membership plugin's notices (a
 * snapshot, then events). Members are starts of nodes: a node is down only while membership knows
 * it and its newest start is neither alive nor suspect. What sloppy quorum and handoff rely on: a node
 * gossip never mentioned is never skipped, a restarted node is up whatever order the news of its
 * two starts arrives in, and the nodes that come back are reported once, so handoff starts at once.
 */
import type { MemberInfo, MembershipEvent, MembershipNotice, MembershipSnapshot, MemberState } from '@starling/gossip';
import { describe, expect, it } from 'vitest';
import { Reachability } from '../src/reachability.ts';

// ---- helpers ------------------------------------------------------------------------------------

/** One start of `name`: its uid defaults to `name#1`. */
function member(name: string, state: MemberState, uid = `${name}#1`, startedAtMs = 0): MemberInfo {
  return { name, uid, startedAtMs, state, incarnation: 0, stateChangedAtMs: 0 };
}

function snapshot(...members: MemberInfo[]): MembershipSnapshot {
  return {
    type: 'membership-snapshot',
    node: 'self',
    nodeUid: 'self#1',
    incarnation: 0,
    health: 0,
    members,
    counters: { probes: 0, probesFailed: 0, pingReqsSent: 0, suspicionsRaised: 0, refutations: 0, deathsDeclared: 0, messagesSent: 0, malformedMessages: 0 },
  };
}

function event(e: MembershipEvent): MembershipNotice {
  return { type: 'membership-event', event: e };
}

const joined = (m: MemberInfo, supersedes?: string): MembershipNotice => event(supersedes === undefined ? { type: 'member-joined', member: m } : { type: 'member-joined', member: m, supersedes });
const alive = (m: MemberInfo): MembershipNotice => event({ type: 'member-alive', member: m });
const suspected = (m: MemberInfo): MembershipNotice => event({ type: 'member-suspected', member: m });
const dead = (m: MemberInfo): MembershipNotice => event({ type: 'member-dead', member: m });
const left = (m: MemberInfo): MembershipNotice => event({ type: 'member-left', member: m });
const reaped = (m: MemberInfo): MembershipNotice => event({ type: 'member-reaped', member: m });

function downOf(r: Reachability, nodes: readonly string[]): string[] {
  return nodes.filter((n) => r.isDown(n));
}

// ---- tests --------------------------------------------------------------------------------------

describe('reachability before and without membership', () => {
  it('nobody is down before any notice (without the membership plugin nothing is)', () => {
    const r = new Reachability();
    expect(downOf(r, ['n1', 'n2', 'anything'])).toEqual([]);
  });

  it('a node membership never mentioned is not down, even after a snapshot', () => {
    const r = new Reachability();
    r.apply(snapshot(member('n1', 'alive'), member('n2', 'dead')));
    expect(r.isDown('n9')).toBe(false);
  });
});

describe('member states', () => {
  it("'alive' and 'suspect' count as up; 'dead' and 'left' as down", () => {
    const r = new Reachability();
    r.apply(snapshot(member('a', 'alive'), member('s', 'suspect'), member('d', 'dead'), member('l', 'left')));
    expect(downOf(r, ['a', 's', 'd', 'l'])).toEqual(['d', 'l']);
  });

  it('events after the snapshot move a node down and up', () => {
    const r = new Reachability();
    r.apply(snapshot(member('n1', 'alive'), member('n2', 'alive')));
    r.apply(suspected(member('n2', 'suspect')));
    expect(r.isDown('n2')).toBe(false);
    r.apply(dead(member('n2', 'dead')));
    expect(r.isDown('n2')).toBe(true);
    r.apply(alive(member('n2', 'alive')));
    expect(r.isDown('n2')).toBe(false);
    r.apply(left(member('n1', 'left')));
    expect(downOf(r, ['n1', 'n2'])).toEqual(['n1']);
  });

  it('events work without a snapshot first', () => {
    const r = new Reachability();
    r.apply(joined(member('n1', 'alive')));
    expect(r.isDown('n1')).toBe(false);
    r.apply(dead(member('n1', 'dead')));
    expect(r.isDown('n1')).toBe(true);
  });

  it('a later snapshot replaces what was known', () => {
    const r = new Reachability();
    r.apply(snapshot(member('n1', 'dead'), member('n2', 'alive')));
    r.apply(snapshot(member('n1', 'alive'), member('n2', 'dead')));
    expect(downOf(r, ['n1', 'n2'])).toEqual(['n2']);
  });

  it('a snapshot is the whole view: a node it no longer lists is not known any more, so not down', () => {
    const r = new Reachability();
    r.apply(snapshot(member('n1', 'dead'), member('n2', 'alive')));
    r.apply(snapshot(member('n2', 'alive')));
    expect(r.isDown('n1')).toBe(false);
  });

  it('a dead member that is reaped stays down until a start of it joins', () => {
    const r = new Reachability();
    r.apply(snapshot(member('n1', 'alive')));
    r.apply(dead(member('n1', 'dead')));
    r.apply(reaped(member('n1', 'dead')));
    expect(r.isDown('n1')).toBe(true);
    r.apply(joined(member('n1', 'alive', 'n1#2', 100)));
    expect(r.isDown('n1')).toBe(false);
  });
});

describe('restarted nodes (two starts of one name)', () => {
  const old = (state: MemberState): MemberInfo => member('n1', state, 'n1#1', 0);
  const fresh = (state: MemberState): MemberInfo => member('n1', state, 'n1#2', 500);

  it('old start dead, then new start joins: down, then up', () => {
    const r = new Reachability();
    r.apply(snapshot(old('alive')));
    r.apply(dead(old('dead')));
    expect(r.isDown('n1')).toBe(true);
    r.apply(joined(fresh('alive'), 'n1#1'));
    expect(r.isDown('n1')).toBe(false);
  });

  it('new start joins, then the old start is reported dead: never down', () => {
    const r = new Reachability();
    r.apply(snapshot(old('alive')));
    r.apply(joined(fresh('alive'), 'n1#1'));
    expect(r.isDown('n1')).toBe(false);
    r.apply(dead(old('dead')));
    expect(r.isDown('n1')).toBe(false);
  });

  it('a snapshot that shows both starts, the old one dead, leaves the node up (in either order)', () => {
    for (const members of [
      [old('dead'), fresh('alive')],
      [fresh('alive'), old('dead')],
    ]) {
      const r = new Reachability();
      r.apply(snapshot(...members));
      expect(r.isDown('n1')).toBe(false);
    }
  });

  it('the new start dying makes the node down, whatever happened to the old one', () => {
    const r = new Reachability();
    r.apply(snapshot(old('alive')));
    r.apply(dead(old('dead')));
    r.apply(joined(fresh('alive'), 'n1#1'));
    r.apply(dead(fresh('dead')));
    expect(r.isDown('n1')).toBe(true);
  });

  it('a restart noticed only as the new start superseding the old (SWIM sends no death for the old start), then the new start dies: down', () => {
    // What swim.ts emits when a node restarts before its old start was declared dead: one
    // member-joined naming the old uid in `supersedes`, and never again news of the old start.
    const r = new Reachability();
    r.apply(snapshot(old('alive')));
    r.apply(joined(fresh('alive'), 'n1#1'));
    expect(r.isDown('n1')).toBe(false);
    r.apply(dead(fresh('dead')));
    expect(r.isDown('n1')).toBe(true);
  });

  it('late news of the old start changes nothing: it neither brings the node back nor takes it down', () => {
    const r = new Reachability();
    r.apply(snapshot(old('alive')));
    r.apply(joined(fresh('alive'), 'n1#1'));
    r.apply(dead(fresh('dead')));
    expect(r.apply(alive(old('alive')))).toEqual([]);
    expect(r.apply(suspected(old('suspect')))).toEqual([]);
    expect(r.isDown('n1')).toBe(true);
    r.apply(alive(fresh('alive')));
    r.apply(dead(old('dead')));
    r.apply(left(old('left')));
    expect(r.isDown('n1')).toBe(false);
  });
});

describe('apply reports the nodes that came back', () => {
  it('a node going down, suspect or joining is not reported; one back from dead is, once', () => {
    const r = new Reachability();
    expect(r.apply(snapshot(member('n1', 'alive'), member('n2', 'alive')))).toEqual([]);
    expect(r.apply(suspected(member('n2', 'suspect')))).toEqual([]);
    expect(r.apply(dead(member('n2', 'dead')))).toEqual([]);
    expect(r.apply(alive(member('n2', 'alive')))).toEqual(['n2']);
    expect(r.apply(alive(member('n2', 'alive')))).toEqual([]);
    expect(r.apply(joined(member('n3', 'alive')))).toEqual([]);
  });

  it('a snapshot reports every node it brings back', () => {
    const r = new Reachability();
    r.apply(snapshot(member('n1', 'dead'), member('n2', 'left'), member('n3', 'dead')));
    expect(r.apply(snapshot(member('n1', 'alive'), member('n2', 'suspect'), member('n3', 'dead'))).sort()).toEqual(['n1', 'n2']);
  });

  it('a restart reports the node when its new start joins after the old one died, and not when it never looked down', () => {
    const r = new Reachability();
    r.apply(snapshot(member('n1', 'alive', 'n1#1')));
    expect(r.apply(dead(member('n1', 'dead', 'n1#1')))).toEqual([]);
    expect(r.apply(joined(member('n1', 'alive', 'n1#2', 500), 'n1#1'))).toEqual(['n1']);

    const q = new Reachability();
    q.apply(snapshot(member('n1', 'alive', 'n1#1')));
    expect(q.apply(joined(member('n1', 'alive', 'n1#2', 500), 'n1#1'))).toEqual([]);
    expect(q.apply(dead(member('n1', 'dead', 'n1#1')))).toEqual([]);
  });

  it('other nodes are not affected by one node’s news', () => {
    const r = new Reachability();
    r.apply(snapshot(member('n1', 'dead'), member('n2', 'dead')));
    expect(r.apply(alive(member('n1', 'alive')))).toEqual(['n1']);
    expect(r.isDown('n2')).toBe(true);
  });
});
