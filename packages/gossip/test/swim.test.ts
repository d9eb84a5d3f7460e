/**
 * SWIM (Das, Gupta, Motivala, 2002) with Lifeguard (Dadgar et al., 2018), as memberlist runs them,
 * tested on the pure state machine: no runtime, no clock, no waiting. Each test gives a machine a
 * view, feeds it messages and timer firings, and reads the effects it asks for, the way
 * etcd/raft's tests drive `Step`. The last block runs several machines on an in-memory network
 * with a virtual clock (test/support/swim-harness.ts), seeded and replayable with STARLING_SEED.
 */
import { createRandom } from '@starling/actors';
import { describe, expect, it } from 'vitest';
import { simIt } from '../../../scripts/testing/seed.ts';
import { expectedConfirmations, suspicionBoundsMs, suspicionTimeoutMs } from '../src/lifeguard.ts';
import { isSwimMessage, type MemberUpdate, type SwimMessage, type SwimMessageType } from '../src/messages.ts';
import { Swim, type SwimEffect, TIMER } from '../src/swim.ts';
import { retransmitLimit } from '../src/update-queue.ts';
import {
  alive,
  allSends,
  config,
  dead,
  eventsOf,
  gossip,
  idOf,
  isCancelled,
  left,
  names,
  piggybacked,
  reachabilityOf,
  record,
  type Sent,
  sendsOf,
  soloSwim,
  suspect,
  SwimNet,
  swimWithView,
  timerSet,
} from './support/swim-harness.ts';

const DEFAULTS = config();
const PERIOD = DEFAULTS.probeIntervalMs;

/** Fires the probe timer: the start of a protocol period. */
function tick(s: Swim, nowMs: number): SwimEffect[] {
  s.timer(TIMER.probe, nowMs);
  return s.takeEffects();
}

/** The one ping of a probe tick. */
function pingIn(effects: readonly SwimEffect[]): Sent<'ping'> {
  const pings = sendsOf(effects, 'ping');
  expect(pings, 'one ping per protocol period').toHaveLength(1);
  return pings[0]!;
}

/** The probed member answers the ping directly. */
function ackPing(s: Swim, ping: Sent<'ping'>, nowMs: number): SwimEffect[] {
  s.receive({ type: 'ack', seq: ping.msg.seq, from: ping.msg.target, updates: [] }, nowMs);
  return s.takeEffects();
}

/** `periods` protocol periods from `startMs`, every ping acked at once; the probed names in order. */
function probeAndAck(s: Swim, periods: number, startMs: number): string[] {
  const targets: string[] = [];
  for (let i = 0; i < periods; i++) {
    const ping = pingIn(tick(s, startMs + i * PERIOD));
    targets.push(ping.msg.target.name);
    ackPing(s, ping, startMs + i * PERIOD + 5);
  }
  return targets;
}

/** Raises a machine's health score by `times` (each refutation of a suspicion about itself adds 1). */
function refuteSuspicions(s: Swim, self: string, times: number, nowMs: number): void {
  for (let i = 0; i < times; i++) s.receive(gossip('zz', [suspect(self, s.incarnation, 'zz')]), nowMs);
  s.takeEffects();
}

function sorted(xs: readonly string[]): string[] {
  return [...xs].sort();
}

// -------------------------------------------------------------------------------------------------

describe('probing: one member per protocol period, round-robin over a shuffled list (SWIM §4.3)', () => {
  it.each([1, 2, 5, 9])('with %i other members, every one is probed exactly once per round', (count) => {
    const others = names(count);
    const s = swimWithView('a', others);
    for (let round = 0; round < 3; round++) {
      const targets = probeAndAck(s, count, round * count * PERIOD);
      expect(sorted(targets), `round ${round}`).toEqual(others);
    }
    expect(s.counters.probes).toBe(3 * count);
    expect(s.counters.probesFailed).toBe(0);
  });

  it('each round is shuffled afresh', () => {
    const others = names(6);
    const s = swimWithView('a', others);
    const orders = new Set<string>();
    for (let round = 0; round < 6; round++) orders.add(probeAndAck(s, 6, round * 6 * PERIOD).join(','));
    expect(orders.size).toBeGreaterThan(1);
  });

  it('dead and left members are never probed', () => {
    const s = swimWithView('a', ['b', 'c', 'd', 'e', 'f']);
    s.receive(gossip('b', [dead('c', 0, 'b'), left('d', 0)]), 10);
    s.takeEffects();
    const targets = probeAndAck(s, 9, PERIOD);
    expect(targets).not.toContain('c');
    expect(targets).not.toContain('d');
    expect(sorted(targets)).toEqual(['b', 'b', 'b', 'e', 'e', 'e', 'f', 'f', 'f']);
  });

  it('a member that dies mid-round is skipped for the rest of it', () => {
    const s = swimWithView('a', ['b', 'c', 'd', 'e']);
    const first = probeAndAck(s, 1, 0)[0]!;
    const victim = ['b', 'c', 'd', 'e'].find((n) => n !== first)!;
    s.receive(gossip('zz', [dead(victim, 0, 'zz')]), 10);
    s.takeEffects();
    const rest = probeAndAck(s, 6, PERIOD);
    expect(rest).not.toContain(victim);
  });

  // memberlist inserts a new member at a random place among those not yet probed this round.
  it.each([0, 1, 3, 5])('a member that joins %i probes into a round is probed before that round ends', (probedThisRound) => {
    for (let seed = 1; seed <= 8; seed++) {
      const s = swimWithView('a', names(5), { seed });
      probeAndAck(s, 5, 0); // the first round
      probeAndAck(s, probedThisRound, 5 * PERIOD);
      s.receive(gossip('n01', [alive('new')]), 5 * PERIOD + probedThisRound * PERIOD + 1);
      s.takeEffects();
      const remaining = 5 - probedThisRound + 1;
      const next = probeAndAck(s, remaining, (6 + probedThisRound) * PERIOD);
      expect(next, `seed ${seed}`).toContain('new');
    }
  });

  it('alone in the view, a probe tick sends nothing and only re-arms the probe timer', () => {
    const s = soloSwim('a');
    const fx = tick(s, PERIOD);
    expect(allSends(fx)).toEqual([]);
    expect(timerSet(fx, TIMER.probe)).toBe(PERIOD);
  });
});

describe('ping and ack', () => {
  it('a ping is answered with an ack carrying the same seq, sent to the start that pinged', () => {
    const s = swimWithView('a', ['b']);
    s.receive({ type: 'ping', seq: 42, from: idOf('b'), target: idOf('a'), updates: [] }, 100);
    const acks = sendsOf(s.takeEffects(), 'ack');
    expect(acks).toHaveLength(1);
    expect(acks[0]!.to).toEqual({ name: 'b', uid: 'b#0' });
    expect(acks[0]!.msg.seq).toBe(42);
    expect(acks[0]!.msg.from).toEqual(idOf('a'));
  });

  it('a ping meant for another start of this node (another node uid) is not answered', () => {
    const s = swimWithView('a', ['b']);
    s.receive({ type: 'ping', seq: 1, from: idOf('b'), target: { name: 'a', uid: 'a#previous', startedAtMs: 0 }, updates: [] }, 100);
    expect(allSends(s.takeEffects())).toEqual([]);
  });

  it('the node uid is the identity: a ping naming this uid with another start time is answered', () => {
    const s = swimWithView('a', ['b']);
    s.receive({ type: 'ping', seq: 1, from: idOf('b'), target: { name: 'a', uid: 'a#0', startedAtMs: 7 }, updates: [] }, 100);
    expect(allSends(s.takeEffects()).map((x) => x.msg.type)).toEqual(['ack']);
  });

  it('a ping is sent to the start of the target in the view, with a fresh seq each period', () => {
    const s = swimWithView('a', ['b']);
    const first = pingIn(tick(s, 0));
    ackPing(s, first, 5);
    const second = pingIn(tick(s, PERIOD));
    expect(first.to).toEqual({ name: 'b', uid: 'b#0' });
    expect(first.msg.target).toEqual(idOf('b'));
    expect(second.msg.seq).not.toBe(first.msg.seq);
  });

  it('a direct ack before the probe timeout: no ping-req, the timeout is cancelled, health improves by 1', () => {
    const s = swimWithView('a', ['b', 'c', 'd']);
    refuteSuspicions(s, 'a', 2, 0);
    expect(s.health).toBe(2);
    const fx = ackPing(s, pingIn(tick(s, 0)), 50);
    expect(isCancelled(fx, TIMER.probeTimeout)).toBe(true);
    expect(s.health).toBe(1);
    // Even if the host's timeout fires anyway, nobody is asked to probe.
    s.timer(TIMER.probeTimeout, 500);
    expect(sendsOf(s.takeEffects(), 'ping-req')).toEqual([]);
    const next = tick(s, 3 * PERIOD);
    expect(eventsOf(next, 'member-suspected')).toEqual([]);
  });

  it('health never goes below 0', () => {
    const s = swimWithView('a', ['b']);
    probeAndAck(s, 5, 0);
    expect(s.health).toBe(0);
  });

  it('an ack for another seq, or a second ack, changes nothing', () => {
    const s = swimWithView('a', ['b', 'c']);
    refuteSuspicions(s, 'a', 3, 0);
    const ping = pingIn(tick(s, 0));
    s.receive({ type: 'ack', seq: ping.msg.seq + 100, from: ping.msg.target, updates: [] }, 10);
    expect(s.takeEffects()).toEqual([]);
    expect(s.health).toBe(3);
    ackPing(s, ping, 20);
    ackPing(s, ping, 30);
    expect(s.health).toBe(2);
  });
});

describe('indirect probes: ping-req after a missed ack (SWIM §3.1)', () => {
  it.each([
    { others: 1, indirectChecks: 3, helpers: 0 },
    { others: 2, indirectChecks: 3, helpers: 1 },
    { others: 4, indirectChecks: 3, helpers: 3 },
    { others: 10, indirectChecks: 3, helpers: 3 },
    { others: 10, indirectChecks: 5, helpers: 5 },
    { others: 10, indirectChecks: 0, helpers: 0 },
  ])(
    'with $others others and indirectChecks $indirectChecks, the probe timeout sends ping-req to $helpers members, never the target',
    ({ others, indirectChecks, helpers }) => {
      const s = swimWithView('a', names(others), { config: { indirectChecks } });
      const tickFx = tick(s, 0);
      const ping = pingIn(tickFx);
      expect(timerSet(tickFx, TIMER.probeTimeout)).toBe(DEFAULTS.probeTimeoutMs);
      s.timer(TIMER.probeTimeout, DEFAULTS.probeTimeoutMs);
      const reqs = sendsOf(s.takeEffects(), 'ping-req');
      expect(reqs).toHaveLength(helpers);
      expect(new Set(reqs.map((r) => r.to.name)).size).toBe(helpers);
      for (const r of reqs) {
        expect(r.to.name).not.toBe(ping.msg.target.name);
        expect(r.to.uid).toBe(`${r.to.name}#0`);
        expect(r.msg.seq).toBe(ping.msg.seq);
        expect(r.msg.target).toEqual(ping.msg.target);
        expect(r.msg.from).toEqual(idOf('a'));
      }
      expect(s.counters.pingReqsSent).toBe(helpers);
    },
  );

  // memberlist's probeNode picks its indirect helpers among *alive* members: a suspected member
  // is likely down, and its missing nack would count against this node's own health.
  it('only alive members are asked to probe indirectly, not suspected ones', () => {
    const s = swimWithView('a', ['b', 'c', 'd', 'e']);
    s.receive(gossip('zz', [suspect('c', 0, 'zz'), suspect('d', 0, 'zz'), suspect('e', 0, 'zz')]), 1);
    s.takeEffects();
    for (let period = 0; period < 4; period++) {
      const t = 10 + period * PERIOD;
      const ping = pingIn(tick(s, t));
      s.timer(TIMER.probeTimeout, t + 500);
      const helpers = sendsOf(s.takeEffects(), 'ping-req').map((r) => r.to.name);
      const aliveOthers = ['b', 'c', 'd', 'e'].filter((n) => n !== ping.msg.target.name && s.member(n)?.state === 'alive');
      expect(helpers.filter((h) => !aliveOthers.includes(h)), `period ${period}: helpers ${helpers.join(',')}, probing ${ping.msg.target.name}`).toEqual([]);
      ackPing(s, ping, t + 600);
    }
  });

  it('the intermediary pings the target and relays its ack to the prober under the prober’s seq', () => {
    const b = swimWithView('b', ['a', 'c']);
    b.receive({ type: 'ping-req', seq: 7, from: idOf('a'), target: idOf('c'), updates: [] }, 0);
    const fx = b.takeEffects();
    const pings = sendsOf(fx, 'ping');
    expect(pings).toHaveLength(1);
    const relayed = pings[0]!;
    expect(relayed.to).toEqual({ name: 'c', uid: 'c#0' });
    expect(relayed.msg.target).toEqual(idOf('c'));
    expect(relayed.msg.from).toEqual(idOf('b'));

    b.receive({ type: 'ack', seq: relayed.msg.seq, from: idOf('c'), updates: [] }, 20);
    const ackFx = b.takeEffects();
    const acks = sendsOf(ackFx, 'ack');
    expect(acks).toHaveLength(1);
    expect(acks[0]!.to).toEqual({ name: 'a', uid: 'a#0' });
    expect(acks[0]!.msg.seq).toBe(7);
    expect(isCancelled(ackFx, `indirect:${relayed.msg.seq}`)).toBe(true);
    // No nack after an ack, even if the timer fires anyway.
    b.timer(`indirect:${relayed.msg.seq}`, 400);
    expect(sendsOf(b.takeEffects(), 'nack')).toEqual([]);
  });

  it('when the target does not answer, the intermediary sends a nack before the prober’s period ends (Lifeguard)', () => {
    const b = swimWithView('b', ['a', 'c']);
    b.receive({ type: 'ping-req', seq: 7, from: idOf('a'), target: idOf('c'), updates: [] }, 0);
    const fx = b.takeEffects();
    const relayed = sendsOf(fx, 'ping')[0]!;
    const key = `indirect:${relayed.msg.seq}`;
    const nackAfterMs = timerSet(fx, key);
    expect(nackAfterMs).toBeDefined();
    // The prober asked at its probe timeout; the nack must get back before its next tick.
    expect(DEFAULTS.probeTimeoutMs + nackAfterMs!).toBeLessThan(DEFAULTS.probeIntervalMs);
    b.timer(key, nackAfterMs!);
    const nacks = sendsOf(b.takeEffects(), 'nack');
    expect(nacks).toHaveLength(1);
    expect(nacks[0]!.to).toEqual({ name: 'a', uid: 'a#0' });
    expect(nacks[0]!.msg.seq).toBe(7);
    // A late ack from the target is no longer relayed.
    b.receive({ type: 'ack', seq: relayed.msg.seq, from: idOf('c'), updates: [] }, 450);
    expect(sendsOf(b.takeEffects(), 'ack')).toEqual([]);
  });

  it('an ack relayed by an intermediary saves the target from suspicion', () => {
    const s = swimWithView('a', ['b', 'c', 'd', 'e']);
    const ping = pingIn(tick(s, 0));
    s.timer(TIMER.probeTimeout, 500);
    const [req] = sendsOf(s.takeEffects(), 'ping-req');
    s.receive({ type: 'ack', seq: ping.msg.seq, from: idOf(req!.to.name), updates: [] }, 700);
    s.takeEffects();
    const next = tick(s, PERIOD);
    expect(eventsOf(next, 'member-suspected')).toEqual([]);
    expect(s.member(ping.msg.target.name)?.state).toBe('alive');
    expect(s.counters.probesFailed).toBe(0);
  });
});

describe('a missed probe becomes a suspicion (SWIM §4.2), and Lifeguard reads it as a health signal', () => {
  it('no ack by the end of the period: the target is suspected and a suspect update is queued', () => {
    const s = swimWithView('a', ['b', 'c', 'd', 'e']);
    const ping = pingIn(tick(s, 0));
    s.timer(TIMER.probeTimeout, 500);
    s.takeEffects();
    const fx = tick(s, PERIOD);
    const target = ping.msg.target.name;
    const suspected = eventsOf(fx, 'member-suspected');
    expect(suspected.map((e) => e.member.name)).toEqual([target]);
    expect(suspected[0]!.member).toMatchObject({ state: 'suspect', incarnation: 0, stateChangedAtMs: PERIOD });
    expect(s.member(target)?.state).toBe('suspect');
    expect(s.pendingUpdates()).toContainEqual(suspect(target, 0, 'a'));
    expect(s.counters.probesFailed).toBe(1);
    expect(s.counters.suspicionsRaised).toBe(1);
    // A suspect is still reachable: no reachability verdict yet.
    expect(reachabilityOf(fx)).toEqual([]);
  });

  it.each([
    { nacks: 0, health: 3 },
    { nacks: 1, health: 2 },
    { nacks: 2, health: 1 },
    { nacks: 3, health: 0 },
  ])('3 ping-reqs and $nacks nacks: health rises by the missing nacks, to $health', ({ nacks, health }) => {
    const s = swimWithView('a', ['b', 'c', 'd', 'e']);
    const ping = pingIn(tick(s, 0));
    s.timer(TIMER.probeTimeout, 500);
    const reqs = sendsOf(s.takeEffects(), 'ping-req');
    expect(reqs).toHaveLength(3);
    for (const r of reqs.slice(0, nacks)) s.receive({ type: 'nack', seq: ping.msg.seq, from: idOf(r.to.name), updates: [] }, 900);
    // A nack for another probe does not count.
    s.receive({ type: 'nack', seq: ping.msg.seq + 50, from: idOf(reqs[0]!.to.name), updates: [] }, 900);
    tick(s, PERIOD);
    expect(s.health).toBe(health);
  });

  it.each([
    { what: 'no other member to ask', others: ['b'], indirectChecks: 3 },
    { what: 'indirect checks turned off', others: ['b', 'c', 'd'], indirectChecks: 0 },
  ])('a failed probe with no ping-req sent ($what) raises health by 1', ({ others, indirectChecks }) => {
    const s = swimWithView('a', others, { config: { indirectChecks } });
    tick(s, 0);
    s.timer(TIMER.probeTimeout, 500);
    s.takeEffects();
    tick(s, PERIOD);
    expect(s.health).toBe(1);
  });

  it('the probe interval and the probe timeout stretch by health + 1', () => {
    const s = swimWithView('a', ['b', 'c']);
    refuteSuspicions(s, 'a', 2, 0);
    const fx = tick(s, 0);
    expect(timerSet(fx, TIMER.probe)).toBe(3 * DEFAULTS.probeIntervalMs);
    expect(timerSet(fx, TIMER.probeTimeout)).toBe(3 * DEFAULTS.probeTimeoutMs);
  });

  it("Lifeguard's buddy system: a ping to a suspected member leads with the suspicion about it", () => {
    const s = swimWithView('a', ['c']);
    s.receive(gossip('b', [alive('b'), suspect('c', 0, 'b')]), 10);
    s.takeEffects();
    for (let i = 0; i < 2; i++) {
      const fx = tick(s, 100 + i * PERIOD);
      const ping = pingIn(fx);
      if (ping.msg.target.name !== 'c') {
        ackPing(s, ping, 150 + i * PERIOD);
        continue;
      }
      expect(ping.msg.updates[0]).toEqual(suspect('c', 0, 'a'));
      expect(ping.msg.updates.length).toBeLessThanOrEqual(DEFAULTS.maxPiggybackUpdates);
      return;
    }
    throw new Error('c was not probed within a round');
  });

  it('the buddy suspicion counts against maxPiggybackUpdates', () => {
    const s = swimWithView('a', ['c'], { config: { maxPiggybackUpdates: 2 } });
    s.receive(gossip('b', [suspect('c', 0, 'b'), ...names(10).map((n) => alive(n))]), 10);
    s.takeEffects();
    // Probe until c's turn comes; every ping, the buddy one included, stays within the limit.
    for (let i = 0; i < 12; i++) {
      const ping = pingIn(tick(s, 100 + i * PERIOD));
      expect(ping.msg.updates.length).toBeLessThanOrEqual(2);
      if (ping.msg.target.name === 'c') {
        expect(ping.msg.updates[0]).toEqual(suspect('c', 0, 'a'));
        return;
      }
      ackPing(s, ping, 150 + i * PERIOD);
    }
    throw new Error('c was not probed within a round');
  });
});

describe('refuting a suspicion: incarnation numbers (SWIM §4.2)', () => {
  // SWIM §4.2: a member that successfully pings a suspected member un-marks the suspicion.
  // memberlist leaves that to Lifeguard's buddy system: the ping carries the suspicion, the
  // suspect refutes, and the refutation rides back on the ack. A suspect that refuted earlier,
  // and has since sent its alive the allotted number of times, must still get it to a prober
  // that missed it: otherwise that prober's suspicion runs out while every one of its pings is
  // answered, and it declares a live member dead.
  it('a member that already refuted answers a buddy ping carrying the stale suspicion with its current alive', () => {
    const b = swimWithView('b', ['a', 'c']);
    b.receive(gossip('c', [suspect('b', 0, 'c')]), 100);
    expect(b.incarnation).toBe(1);
    for (let i = 0; i < 10; i++) b.timer(TIMER.gossip, 200 + i * DEFAULTS.gossipIntervalMs);
    b.takeEffects();
    expect(b.pendingUpdates()).toEqual([]);
    // a missed the refutation and still suspects b at incarnation 0.
    b.receive({ type: 'ping', seq: 9, from: idOf('a'), target: idOf('b'), updates: [suspect('b', 0, 'a')] }, 5_000);
    const acks = sendsOf(b.takeEffects(), 'ack');
    expect(acks).toHaveLength(1);
    expect(acks[0]!.msg.updates).toContainEqual(alive('b', 1));

    const a = swimWithView('a', ['b', 'c']);
    a.receive(gossip('c', [suspect('b', 0, 'c')]), 100);
    a.receive(acks[0]!.msg, 5_010);
    expect(a.member('b')).toMatchObject({ state: 'alive', incarnation: 1 });
  });


  it.each([
    { rumoured: 0, after: 1 },
    { rumoured: 4, after: 5 },
  ])('suspected at incarnation $rumoured (>= its own), a member refutes with incarnation $after', ({ rumoured, after }) => {
    const s = swimWithView('a', ['b', 'c']);
    s.receive(gossip('b', [suspect('a', rumoured, 'b')]), 100);
    const fx = s.takeEffects();
    expect(s.incarnation).toBe(after);
    expect(s.pendingUpdates()).toContainEqual(alive('a', after));
    expect(s.health).toBe(1);
    expect(s.counters.refutations).toBe(1);
    expect(s.member('a')?.state).toBe('alive');
    expect(eventsOf(fx, 'member-suspected')).toEqual([]);
  });

  it('a suspicion about itself at an older incarnation needs no refutation', () => {
    const s = swimWithView('a', ['b']);
    s.receive(gossip('b', [suspect('a', 2, 'b')]), 100);
    expect(s.incarnation).toBe(3);
    s.receive(gossip('b', [suspect('a', 1, 'b'), dead('a', 2, 'b')]), 200);
    expect(s.incarnation).toBe(3);
    expect(s.health).toBe(1);
  });

  it('a suspicion about another start of itself is not refuted', () => {
    const s = swimWithView('a', ['b']);
    s.receive(gossip('b', [{ kind: 'suspect', member: { name: 'a', uid: 'a#old', startedAtMs: 0 }, incarnation: 0, from: 'b' }]), 100);
    expect(s.incarnation).toBe(0);
    expect(s.pendingUpdates()).not.toContainEqual(alive('a', 1));
  });

  it('a suspicion about a member at a lower incarnation than known is ignored', () => {
    const s = swimWithView('a', ['b', 'c']);
    s.receive(gossip('b', [alive('b', 3)]), 10);
    s.takeEffects();
    s.receive(gossip('c', [suspect('b', 2, 'c')]), 20);
    const fx = s.takeEffects();
    expect(eventsOf(fx, 'member-suspected')).toEqual([]);
    expect(s.member('b')).toMatchObject({ state: 'alive', incarnation: 3 });
  });

  it('alive at a higher incarnation clears a suspicion (member-alive) and cancels its timer', () => {
    const s = swimWithView('a', ['b', 'c']);
    s.receive(gossip('c', [suspect('b', 0, 'c')]), 10);
    expect(timerSet(s.takeEffects(), 'suspicion:b')).toBeDefined();
    s.receive(gossip('b', [alive('b', 1)]), 500);
    const fx = s.takeEffects();
    expect(eventsOf(fx, 'member-alive').map((e) => e.member)).toEqual([expect.objectContaining({ name: 'b', state: 'alive', incarnation: 1 })]);
    expect(isCancelled(fx, 'suspicion:b')).toBe(true);
    // Still reachable throughout: no verdict either way.
    expect(reachabilityOf(fx)).toEqual([]);
    // A stale timer firing does nothing.
    s.timer('suspicion:b', 30_000);
    expect(eventsOf(s.takeEffects(), 'member-dead')).toEqual([]);
    expect(s.member('b')?.state).toBe('alive');
  });

  it('alive at the same incarnation does not clear a suspicion', () => {
    const s = swimWithView('a', ['b', 'c']);
    s.receive(gossip('c', [suspect('b', 0, 'c')]), 10);
    s.receive(gossip('b', [alive('b', 0)]), 20);
    expect(eventsOf(s.takeEffects(), 'member-alive')).toEqual([]);
    expect(s.member('b')?.state).toBe('suspect');
  });
});

describe("Lifeguard's dynamic suspicion timeout", () => {
  // 8 members: min = 4 * max(1, log10 8) * 1 s = 4 s, max = 6 * 4 s = 24 s, k = 4 - 2 = 2.
  const view = ['b', 'c', 'd', 'e', 'f', 'g', 'h'];
  const { minMs, maxMs } = suspicionBoundsMs(8, DEFAULTS.suspicionMult, DEFAULTS.suspicionMaxTimeoutMult, PERIOD);
  const k = expectedConfirmations(8, DEFAULTS.suspicionMult);

  it('the cluster this block uses: 4 s .. 24 s, 2 confirmations expected', () => {
    expect({ minMs, maxMs, k }).toEqual({ minMs: 4_000, maxMs: 24_000, k: 2 });
  });

  it('a suspicion starts at the maximum timeout', () => {
    const s = swimWithView('a', view);
    s.receive(gossip('b', [suspect('c', 0, 'b')]), 1_000);
    expect(timerSet(s.takeEffects(), 'suspicion:c')).toBe(maxMs);
  });

  it('each independent confirmation shrinks what is left of it; a repeat from the same member does not', () => {
    const s = swimWithView('a', view);
    s.receive(gossip('b', [suspect('c', 0, 'b')]), 1_000);
    s.takeEffects();
    // b again: not independent. Neither is the first suspecter's word counted as a confirmation.
    s.receive(gossip('b', [suspect('c', 0, 'b')]), 3_000);
    expect(timerSet(s.takeEffects(), 'suspicion:c')).toBeUndefined();
    // d: the first confirmation.
    s.receive(gossip('d', [suspect('c', 0, 'd')]), 5_000);
    const fx = s.takeEffects();
    expect(timerSet(fx, 'suspicion:c')).toBe(1_000 + suspicionTimeoutMs(1, k, minMs, maxMs) - 5_000);
    // A confirmation is news worth spreading.
    expect(s.pendingUpdates()).toContainEqual(suspect('c', 0, 'd'));
    s.receive(gossip('d', [suspect('c', 0, 'd')]), 5_500);
    expect(timerSet(s.takeEffects(), 'suspicion:c')).toBeUndefined();
    expect(s.member('c')?.state).toBe('suspect');
  });

  it("this node's own failed probe of a member suspected by another is a confirmation", () => {
    const s = swimWithView('a', view);
    s.receive(gossip('b', [suspect('c', 0, 'b')]), 0);
    s.takeEffects();
    // Probe until c's turn comes, and let that probe fail.
    for (let i = 0; i < 8; i++) {
      const t = 100 + i * PERIOD;
      const ping = pingIn(tick(s, t));
      if (ping.msg.target.name !== 'c') {
        ackPing(s, ping, t + 5);
        continue;
      }
      s.timer(TIMER.probeTimeout, t + 500);
      s.takeEffects();
      const failed = tick(s, t + PERIOD);
      expect(timerSet(failed, 'suspicion:c')).toBe(suspicionTimeoutMs(1, k, minMs, maxMs) - (t + PERIOD));
      return;
    }
    throw new Error('c was not probed within a round');
  });

  it('in a cluster too small to confirm (k = 0), a suspicion lasts the minimum from the start', () => {
    const small = suspicionBoundsMs(3, DEFAULTS.suspicionMult, DEFAULTS.suspicionMaxTimeoutMult, PERIOD);
    expect(expectedConfirmations(3, DEFAULTS.suspicionMult)).toBe(0);
    const s = swimWithView('a', ['b', 'c']);
    s.receive(gossip('b', [suspect('c', 0, 'b')]), 1_000);
    expect(timerSet(s.takeEffects(), 'suspicion:c')).toBe(small.minMs);
  });

  it('with k confirmations, the suspicion ends at the minimum: at once if that has passed', () => {
    const s = swimWithView('a', view);
    s.receive(gossip('b', [suspect('c', 0, 'b')]), 1_000);
    s.receive(gossip('d', [suspect('c', 0, 'd')]), 2_000);
    s.takeEffects();
    s.receive(gossip('e', [suspect('c', 0, 'e')]), 3_000);
    expect(timerSet(s.takeEffects(), 'suspicion:c')).toBe(1_000 + minMs - 3_000);
    const late = swimWithView('a', view);
    late.receive(gossip('b', [suspect('c', 0, 'b')]), 1_000);
    late.receive(gossip('d', [suspect('c', 0, 'd')]), 2_000);
    late.takeEffects();
    late.receive(gossip('e', [suspect('c', 0, 'e')]), 6_000);
    const fx = late.takeEffects();
    expect(eventsOf(fx, 'member-dead').map((e) => e.member.name)).toEqual(['c']);
    expect(reachabilityOf(fx)).toEqual([{ kind: 'reachability', node: 'c', uid: 'c#0', status: 'down' }]);
  });

  it('at the timeout: member-dead, reachability down, and a dead update to spread', () => {
    const s = swimWithView('a', view);
    s.receive(gossip('b', [suspect('c', 0, 'b')]), 1_000);
    s.takeEffects();
    s.timer('suspicion:c', 1_000 + maxMs);
    const fx = s.takeEffects();
    expect(eventsOf(fx, 'member-dead').map((e) => e.member)).toEqual([
      expect.objectContaining({ name: 'c', uid: 'c#0', state: 'dead', incarnation: 0, stateChangedAtMs: 1_000 + maxMs }),
    ]);
    expect(reachabilityOf(fx)).toEqual([{ kind: 'reachability', node: 'c', uid: 'c#0', status: 'down' }]);
    expect(s.pendingUpdates()).toContainEqual(dead('c', 0, 'a'));
    expect(s.counters.deathsDeclared).toBe(1);
    expect(s.activeCount()).toBe(7);
  });

  // memberlist's mergeState suspects with From = this node, and newSuspicion puts `from` in the
  // confirmation set: the first *other* member that suspects too is a confirmation.
  it('a suspicion learnt in a push-pull is raised by this node: the next member to suspect is a confirmation', () => {
    const s = swimWithView('a', view);
    s.receive({ type: 'push-pull', from: idOf('b'), members: [record('b', 'alive'), record('c', 'suspect')], isReply: true, isJoin: false }, 1_000);
    const first = s.takeEffects();
    expect(timerSet(first, 'suspicion:c')).toBe(maxMs);
    expect(s.pendingUpdates()).toContainEqual(suspect('c', 0, 'a'));
    s.receive(gossip('d', [suspect('c', 0, 'd')]), 2_000);
    expect(timerSet(s.takeEffects(), 'suspicion:c')).toBe(1_000 + suspicionTimeoutMs(1, k, minMs, maxMs) - 2_000);
  });
});

describe('death, and coming back from it', () => {
  it('a live member told it is dead refutes: incarnation + 1, alive queued, never marks itself dead', () => {
    const b = swimWithView('b', ['a', 'c']);
    b.receive(gossip('a', [dead('b', 0, 'a')]), 100);
    const fx = b.takeEffects();
    expect(b.incarnation).toBe(1);
    expect(b.member('b')?.state).toBe('alive');
    expect(b.pendingUpdates()).toContainEqual(alive('b', 1));
    expect(eventsOf(fx, 'member-dead')).toEqual([]);
  });

  it('the others hear the higher incarnation and take it back: member-alive, reachability up, probed again', () => {
    const a = swimWithView('a', ['b', 'c']);
    a.receive(gossip('c', [dead('b', 0, 'c')]), 100);
    const down = a.takeEffects();
    expect(eventsOf(down, 'member-dead').map((e) => e.member.name)).toEqual(['b']);
    expect(reachabilityOf(down)).toEqual([{ kind: 'reachability', node: 'b', uid: 'b#0', status: 'down' }]);

    a.receive(gossip('b', [alive('b', 1)]), 200);
    const up = a.takeEffects();
    expect(eventsOf(up, 'member-alive').map((e) => e.member)).toEqual([expect.objectContaining({ name: 'b', state: 'alive', incarnation: 1 })]);
    expect(reachabilityOf(up)).toEqual([{ kind: 'reachability', node: 'b', uid: 'b#0', status: 'up' }]);
    expect(probeAndAck(a, 3, PERIOD)).toContain('b');
  });

  it('a dead update about an already dead member is not news', () => {
    const a = swimWithView('a', ['b', 'c']);
    a.receive(gossip('c', [dead('b', 0, 'c')]), 100);
    a.takeEffects();
    a.receive(gossip('d', [dead('b', 0, 'd')]), 200);
    expect(a.takeEffects()).toEqual([]);
  });

  it('a dead member stays dead on a stale alive (same incarnation)', () => {
    const a = swimWithView('a', ['b', 'c']);
    a.receive(gossip('c', [dead('b', 0, 'c')]), 100);
    a.receive(gossip('c', [alive('b', 0)]), 200);
    expect(a.member('b')?.state).toBe('dead');
  });
});

describe('restarts: a newer start of a name supersedes the older', () => {
  it('alive about a newer start replaces the entry: member-joined with supersedes, old uid down, new uid up', () => {
    const a = swimWithView('a', ['b', 'c']);
    a.receive(gossip('b', [alive('b', 0, 5_000)]), 5_010);
    const fx = a.takeEffects();
    const joined = eventsOf(fx, 'member-joined');
    expect(joined).toHaveLength(1);
    expect(joined[0]!.supersedes).toBe('b#0');
    expect(joined[0]!.member).toMatchObject({ name: 'b', uid: 'b#5000', startedAtMs: 5_000, state: 'alive', incarnation: 0 });
    expect(reachabilityOf(fx)).toEqual([
      { kind: 'reachability', node: 'b', uid: 'b#0', status: 'down' },
      { kind: 'reachability', node: 'b', uid: 'b#5000', status: 'up' },
    ]);
    expect(a.member('b')?.uid).toBe('b#5000');
    expect(a.view().map((m) => m.name)).toEqual(['a', 'b', 'c']);
  });

  it('a new start is accepted whatever its incarnation (a restart begins again at 0)', () => {
    const a = swimWithView('a', ['b']);
    a.receive(gossip('b', [alive('b', 9)]), 10);
    a.receive(gossip('b', [alive('b', 0, 5_000)]), 5_010);
    expect(a.member('b')).toMatchObject({ uid: 'b#5000', incarnation: 0, state: 'alive' });
  });

  it('news about the older start is ignored once the newer is known', () => {
    const a = swimWithView('a', ['b', 'c']);
    a.receive(gossip('b', [alive('b', 0, 5_000)]), 5_010);
    a.takeEffects();
    a.receive(gossip('c', [alive('b', 7, 0), suspect('b', 7, 'c', 0), dead('b', 7, 'c', 0), left('b', 7, 0)]), 6_000);
    expect(a.takeEffects()).toEqual([]);
    expect(a.member('b')).toMatchObject({ uid: 'b#5000', state: 'alive', incarnation: 0 });
  });

  it('superseding a suspected member ends its suspicion', () => {
    const a = swimWithView('a', ['b', 'c']);
    a.receive(gossip('c', [suspect('b', 0, 'c')]), 100);
    a.takeEffects();
    a.receive(gossip('b', [alive('b', 0, 5_000)]), 5_010);
    expect(isCancelled(a.takeEffects(), 'suspicion:b')).toBe(true);
    a.timer('suspicion:b', 30_000);
    expect(eventsOf(a.takeEffects(), 'member-dead')).toEqual([]);
  });

  it('superseding a dead start reports only the new start up (the old one is already down)', () => {
    const a = swimWithView('a', ['b', 'c']);
    a.receive(gossip('c', [dead('b', 0, 'c')]), 100);
    a.takeEffects();
    a.receive(gossip('b', [alive('b', 0, 5_000)]), 5_010);
    expect(reachabilityOf(a.takeEffects())).toEqual([{ kind: 'reachability', node: 'b', uid: 'b#5000', status: 'up' }]);
  });
});

describe('leaving gracefully (memberlist: left, not dead)', () => {
  it('leave: a left update, member-left about itself, probing stops, and the news goes out at once', () => {
    const a = swimWithView('a', ['b', 'c', 'd']);
    a.leave(1_000);
    const fx = a.takeEffects();
    expect(eventsOf(fx, 'member-left').map((e) => e.member.name)).toEqual(['a']);
    expect(isCancelled(fx, TIMER.probe)).toBe(true);
    const gossips = sendsOf(fx, 'gossip');
    expect(gossips.length).toBeGreaterThan(0);
    expect(gossips.length).toBeLessThanOrEqual(DEFAULTS.gossipNodes);
    for (const g of gossips) expect(g.msg.updates).toContainEqual(left('a', 0));
    expect(a.member('a')?.state).toBe('left');
    expect(allSends(tick(a, 2_000))).toEqual([]);
    // Leaving twice is leaving once.
    a.leave(3_000);
    expect(a.takeEffects()).toEqual([]);
  });

  it('the others mark it left, report it down, and never probe it', () => {
    const b = swimWithView('b', ['a', 'c', 'd']);
    b.receive(gossip('a', [left('a', 0)]), 100);
    const fx = b.takeEffects();
    expect(eventsOf(fx, 'member-left').map((e) => e.member)).toEqual([expect.objectContaining({ name: 'a', state: 'left' })]);
    expect(reachabilityOf(fx)).toEqual([{ kind: 'reachability', node: 'a', uid: 'a#0', status: 'down' }]);
    expect(probeAndAck(b, 6, PERIOD)).not.toContain('a');
    expect(b.activeCount()).toBe(3);
  });

  it('a later dead, suspect or stale alive about a left member changes nothing', () => {
    const b = swimWithView('b', ['a', 'c']);
    b.receive(gossip('a', [left('a', 0)]), 100);
    b.takeEffects();
    b.receive(gossip('c', [dead('a', 0, 'c'), suspect('a', 0, 'c'), alive('a', 0)]), 200);
    expect(b.takeEffects()).toEqual([]);
    expect(b.member('a')?.state).toBe('left');
  });

  it('its own leave coming back to a left member needs no refutation', () => {
    const a = swimWithView('a', ['b']);
    a.leave(100);
    a.takeEffects();
    a.receive(gossip('b', [left('a', 0), dead('a', 0, 'b'), suspect('a', 0, 'b')]), 200);
    expect(a.incarnation).toBe(0);
    expect(a.member('a')?.state).toBe('left');
  });

  it('rejoining after a leave comes back with a higher incarnation, and the others see it alive', () => {
    const a = swimWithView('a', ['b', 'c']);
    a.leave(100);
    a.takeEffects();
    a.join(2_000, ['b']);
    const fx = a.takeEffects();
    expect(a.incarnation).toBe(1);
    expect(a.member('a')?.state).toBe('alive');
    expect(eventsOf(fx, 'member-alive').map((e) => e.member.name)).toEqual(['a']);
    expect(a.pendingUpdates()).toContainEqual(alive('a', 1));
    expect(sendsOf(fx, 'push-pull').map((p) => p.to.name)).toEqual(['b']);
    expect(timerSet(fx, TIMER.probe)).toBeDefined();

    const b = swimWithView('b', ['a', 'c']);
    b.receive(gossip('a', [left('a', 0)]), 100);
    b.takeEffects();
    b.receive(gossip('a', [alive('a', 1)]), 2_010);
    const back = b.takeEffects();
    expect(eventsOf(back, 'member-alive').map((e) => e.member)).toEqual([expect.objectContaining({ name: 'a', incarnation: 1, state: 'alive' })]);
    expect(reachabilityOf(back)).toEqual([{ kind: 'reachability', node: 'a', uid: 'a#0', status: 'up' }]);
  });
});

describe('joining, and full state exchange (push-pull)', () => {
  function fresh(name: string): Swim {
    const rng = createRandom(5, name);
    return new Swim(idOf(name), DEFAULTS, () => rng.next());
  }

  it('a join sends push-pull (isJoin) to each seed except itself, to whichever start is running', () => {
    const c = fresh('c');
    c.start(0, ['a', 'b', 'c']);
    const fx = c.takeEffects();
    const joins = sendsOf(fx, 'push-pull');
    expect(joins.map((j) => j.to)).toEqual([{ name: 'a' }, { name: 'b' }]);
    for (const j of joins) {
      expect(j.msg).toMatchObject({ isJoin: true, isReply: false, from: idOf('c') });
      expect(j.msg.members).toEqual([record('c', 'alive')]);
    }
    expect(timerSet(fx, TIMER.joinRetry)).toBe(DEFAULTS.joinRetryIntervalMs);
    expect(eventsOf(fx, 'member-joined').map((e) => e.member.name)).toEqual(['c']);
  });

  it('the receiver merges the joiner and replies (isReply) with its whole view', () => {
    const a = swimWithView('a', ['b']);
    a.receive({ type: 'push-pull', from: idOf('c'), members: [record('c', 'alive')], isReply: false, isJoin: true }, 10);
    const fx = a.takeEffects();
    expect(eventsOf(fx, 'member-joined').map((e) => e.member.name)).toEqual(['c']);
    expect(reachabilityOf(fx)).toEqual([{ kind: 'reachability', node: 'c', uid: 'c#0', status: 'up' }]);
    const replies = sendsOf(fx, 'push-pull');
    expect(replies).toHaveLength(1);
    expect(replies[0]!.to).toEqual({ name: 'c', uid: 'c#0' });
    expect(replies[0]!.msg).toMatchObject({ isReply: true, isJoin: false });
    expect(sorted(replies[0]!.msg.members.map((m) => m.name))).toEqual(['a', 'b', 'c']);
  });

  it('a remote dead record makes the receiver suspect, not kill; unknown dead members are not added', () => {
    const a = swimWithView('a', ['b', 'd']);
    a.receive(
      {
        type: 'push-pull',
        from: idOf('c'),
        members: [record('c', 'alive'), record('b', 'dead'), record('d', 'suspect'), record('e', 'dead'), record('f', 'left')],
        isReply: false,
        isJoin: false,
      },
      10,
    );
    const fx = a.takeEffects();
    expect(eventsOf(fx, 'member-dead')).toEqual([]);
    expect(sorted(eventsOf(fx, 'member-suspected').map((e) => e.member.name))).toEqual(['b', 'd']);
    expect(a.member('b')?.state).toBe('suspect');
    expect(a.member('e')).toBeUndefined();
    expect(reachabilityOf(fx).filter((r) => r.status === 'down')).toEqual([]);
  });

  it('a remote dead record about the receiver itself makes it refute', () => {
    const a = swimWithView('a', ['b']);
    a.receive({ type: 'push-pull', from: idOf('b'), members: [record('b', 'alive'), record('a', 'dead', 2)], isReply: false, isJoin: false }, 10);
    expect(a.incarnation).toBe(3);
    expect(a.pendingUpdates()).toContainEqual(alive('a', 3));
  });

  it('a join is retried every joinRetryIntervalMs until a reply arrives, then no more', () => {
    const c = fresh('c');
    c.start(0, ['a']);
    c.takeEffects();
    for (let i = 1; i <= 3; i++) {
      c.timer(TIMER.joinRetry, i * DEFAULTS.joinRetryIntervalMs);
      const fx = c.takeEffects();
      expect(sendsOf(fx, 'push-pull').map((p) => [p.to.name, p.msg.isJoin]), `retry ${i}`).toEqual([['a', true]]);
      expect(timerSet(fx, TIMER.joinRetry)).toBe(DEFAULTS.joinRetryIntervalMs);
    }
    c.receive({ type: 'push-pull', from: idOf('a'), members: [record('a', 'alive'), record('b', 'alive')], isReply: true, isJoin: false }, 3_500);
    const merged = c.takeEffects();
    expect(sendsOf(merged, 'push-pull')).toEqual([]); // a reply is not answered
    expect(c.view().map((m) => m.name)).toEqual(['a', 'b', 'c']);
    c.timer(TIMER.joinRetry, 4_000);
    const after = c.takeEffects();
    expect(allSends(after)).toEqual([]);
    expect(timerSet(after, TIMER.joinRetry)).toBeUndefined();
  });

  // memberlist's setAlive broadcasts the node's own alive at start: the news of a join then
  // spreads from the joiner too, not only from the seed's few retransmissions.
  it('a starting node queues its own alive, so news of its join spreads from it as well as from the seed', () => {
    const c = fresh('c');
    c.start(0, ['a']);
    c.takeEffects();
    expect(c.pendingUpdates()).toContainEqual(alive('c', 0));
  });

  it('with no seed but itself, a node is joined at once: no push-pull, no retry', () => {
    const a = fresh('a');
    a.start(0, ['a']);
    const fx = a.takeEffects();
    expect(allSends(fx)).toEqual([]);
    expect(timerSet(fx, TIMER.joinRetry)).toBeUndefined();
  });

  it('the periodic push-pull goes to one active member and asks for its state', () => {
    const a = swimWithView('a', ['b', 'c']);
    a.timer(TIMER.pushPull, DEFAULTS.pushPullIntervalMs);
    const fx = a.takeEffects();
    const pp = sendsOf(fx, 'push-pull');
    expect(pp).toHaveLength(1);
    expect(pp[0]!.msg).toMatchObject({ isReply: false, isJoin: false });
    expect(['b', 'c']).toContain(pp[0]!.to.name);
    expect(timerSet(fx, TIMER.pushPull)).toBe(DEFAULTS.pushPullIntervalMs);
  });
});

describe("reconnecting to the dead, and forgetting them (Serf's reconnect and reap)", () => {
  const retention = { deadRetentionMs: 60_000, leftRetentionMs: 120_000 };

  it('the reconnect tick sends push-pull to one dead member, to whichever start of it now runs', () => {
    const a = swimWithView('a', ['b', 'c', 'd'], { config: retention });
    a.receive(gossip('b', [dead('c', 0, 'b')]), 0);
    a.takeEffects();
    a.timer(TIMER.reconnect, 1_000);
    const fx = a.takeEffects();
    const pp = sendsOf(fx, 'push-pull');
    expect(pp.map((p) => p.to)).toEqual([{ name: 'c' }]);
    expect(pp[0]!.msg).toMatchObject({ isReply: false, isJoin: false });
    expect(timerSet(fx, TIMER.reconnect)).toBe(DEFAULTS.reconnectIntervalMs);
  });

  it('a dead member is forgotten after deadRetentionMs, a left one after leftRetentionMs (member-reaped)', () => {
    const a = swimWithView('a', ['b', 'c', 'd'], { config: retention });
    a.receive(gossip('b', [dead('c', 0, 'b'), left('d', 0)]), 0);
    a.takeEffects();
    a.timer(TIMER.reconnect, 60_000);
    const first = a.takeEffects();
    expect(eventsOf(first, 'member-reaped').map((e) => e.member.name)).toEqual(['c']);
    expect(sendsOf(first, 'push-pull')).toEqual([]);
    expect(a.member('c')).toBeUndefined();
    expect(a.member('d')?.state).toBe('left');
    a.timer(TIMER.reconnect, 120_000);
    expect(eventsOf(a.takeEffects(), 'member-reaped').map((e) => e.member.name)).toEqual(['d']);
    expect(a.view().map((m) => m.name)).toEqual(['a', 'b']);
    // Coming back after being forgotten is joining afresh.
    a.receive(gossip('c', [alive('c', 1)]), 130_000);
    expect(eventsOf(a.takeEffects(), 'member-joined').map((e) => e.member.name)).toEqual(['c']);
  });
});

describe('piggybacking: infection-style dissemination (SWIM §4.1)', () => {
  function countOf(updates: readonly MemberUpdate[], u: MemberUpdate): number {
    return updates.filter((x) => JSON.stringify(x) === JSON.stringify(u)).length;
  }

  it.each([
    { others: 7, limit: 4 },
    { others: 9, limit: 8 },
  ])('with $others others, a piece of news rides on exactly retransmitMult * ceil(log10(n + 1)) = $limit messages', ({ others, limit }) => {
    const view = names(others);
    expect(retransmitLimit(DEFAULTS.retransmitMult, others + 1)).toBe(limit);
    const s = swimWithView('a', view);
    s.receive(gossip('n01', [suspect('n02', 0, 'n01')]), 10);
    s.takeEffects();
    const sent: MemberUpdate[] = [];
    for (let i = 0; i < 20; i++) {
      s.timer(TIMER.gossip, 100 + i * DEFAULTS.gossipIntervalMs);
      sent.push(...piggybacked(s.takeEffects()));
    }
    expect(countOf(sent, suspect('n02', 0, 'n01'))).toBe(limit);
    for (const name of view) expect(countOf(sent, alive(name)), name).toBeLessThanOrEqual(limit);
    expect(s.pendingUpdates()).toEqual([]);
  });

  it('no message carries more than maxPiggybackUpdates updates, whatever its type', () => {
    const s = swimWithView('a', names(30));
    const all: SwimEffect[] = [];
    s.timer(TIMER.gossip, 100);
    all.push(...s.takeEffects());
    const ping = pingIn(tick(s, 200));
    s.timer(TIMER.probeTimeout, 700);
    all.push(...s.takeEffects());
    s.receive({ type: 'ping', seq: 1, from: idOf('n05'), target: idOf('a'), updates: [] }, 710);
    all.push(...s.takeEffects());
    const sends = allSends(all);
    expect(new Set(sends.map((x) => x.msg.type))).toEqual(new Set(['gossip', 'ping-req', 'ack']));
    for (const x of sends) if (x.msg.type !== 'push-pull') expect(x.msg.updates.length, x.msg.type).toBeLessThanOrEqual(DEFAULTS.maxPiggybackUpdates);
    expect(ping.msg.updates.length).toBeLessThanOrEqual(DEFAULTS.maxPiggybackUpdates);
  });

  it('a newer update about a member replaces the pending older one', () => {
    const s = swimWithView('a', ['b', 'c']);
    s.receive(gossip('c', [suspect('b', 0, 'c')]), 10);
    s.receive(gossip('b', [alive('b', 1)]), 20);
    const aboutB = s.pendingUpdates().filter((u) => u.member.name === 'b');
    expect(aboutB).toEqual([alive('b', 1)]);
  });

  it('gossip goes to active members and to the recently dead (so they can refute), not to the long dead or the left', () => {
    const s = swimWithView('a', ['b', 'c', 'd']);
    s.receive(gossip('zz', [dead('c', 0, 'zz'), left('d', 0)]), 0);
    s.takeEffects();
    const to = new Set<string>();
    for (let i = 0; i < 10; i++) {
      s.receive(gossip('zz', [alive('zz', i + 1)]), 10 + i);
      s.timer(TIMER.gossip, 10 + i);
      for (const x of sendsOf(s.takeEffects(), 'gossip')) to.add(x.to.name);
    }
    expect(to.has('d')).toBe(false);
    expect(to.has('c')).toBe(true);
    const t = DEFAULTS.gossipToTheDeadMs + 100;
    const later = new Set<string>();
    for (let i = 0; i < 10; i++) {
      s.receive(gossip('zz', [alive('zz', 100 + i)]), t + i);
      s.timer(TIMER.gossip, t + i);
      for (const x of sendsOf(s.takeEffects(), 'gossip')) later.add(x.to.name);
    }
    expect(later.has('c')).toBe(false);
    expect(later.has('d')).toBe(false);
  });
});

describe('isSwimMessage: the wire format check', () => {
  const ping: SwimMessage = { type: 'ping', seq: 1, from: idOf('a'), target: idOf('b'), updates: [alive('c'), suspect('d', 1, 'a')] };

  const malformed: { what: string; msg: unknown }[] = [
    { what: 'null', msg: null },
    { what: 'undefined', msg: undefined },
    { what: 'a number', msg: 42 },
    { what: 'a string', msg: 'ping' },
    { what: 'an array', msg: [ping] },
    { what: 'an empty object', msg: {} },
    { what: 'an unknown type', msg: { ...ping, type: 'pong' } },
    { what: 'no from', msg: { type: 'ping', seq: 1, target: idOf('b'), updates: [] } },
    { what: 'from without uid', msg: { ...ping, from: { name: 'a', startedAtMs: 0 } } },
    { what: 'from with a numeric name', msg: { ...ping, from: { name: 1, uid: 'a#0', startedAtMs: 0 } } },
    { what: 'from with a non-finite start', msg: { ...ping, from: { name: 'a', uid: 'a#0', startedAtMs: Number.NaN } } },
    { what: 'from with a string start', msg: { ...ping, from: { name: 'a', uid: 'a#0', startedAtMs: '0' } } },
    { what: 'a ping without target', msg: { type: 'ping', seq: 1, from: idOf('a'), updates: [] } },
    { what: 'a ping-req with a bad target', msg: { type: 'ping-req', seq: 1, from: idOf('a'), target: { name: 'b' }, updates: [] } },
    { what: 'a fractional seq', msg: { ...ping, seq: 1.5 } },
    { what: 'a string seq', msg: { ...ping, seq: '1' } },
    { what: 'an ack without seq', msg: { type: 'ack', from: idOf('a'), updates: [] } },
    { what: 'a nack with a null seq', msg: { type: 'nack', seq: null, from: idOf('a'), updates: [] } },
    { what: 'updates not an array', msg: { ...ping, updates: { 0: alive('c') } } },
    { what: 'a gossip without updates', msg: { type: 'gossip', from: idOf('a') } },
    { what: 'an update of unknown kind', msg: { ...ping, updates: [{ kind: 'zombie', member: idOf('c'), incarnation: 0 }] } },
    { what: 'a suspect without from', msg: { ...ping, updates: [{ kind: 'suspect', member: idOf('c'), incarnation: 0 }] } },
    { what: 'a dead with a numeric from', msg: { ...ping, updates: [{ kind: 'dead', member: idOf('c'), incarnation: 0, from: 3 }] } },
    { what: 'a negative incarnation', msg: { ...ping, updates: [alive('c', -1)] } },
    { what: 'a fractional incarnation', msg: { ...ping, updates: [alive('c', 0.5)] } },
    { what: 'an update with a bad member', msg: { ...ping, updates: [{ kind: 'alive', member: 'c', incarnation: 0 }] } },
    { what: 'a null update', msg: { ...ping, updates: [null] } },
    { what: 'a push-pull without members', msg: { type: 'push-pull', from: idOf('a'), isReply: false, isJoin: false } },
    { what: 'a push-pull with a record of unknown state', msg: { type: 'push-pull', from: idOf('a'), members: [record('a', 'alive'), { ...record('b', 'alive'), state: 'zombie' }], isReply: false, isJoin: false } },
    { what: 'a push-pull with a record without incarnation', msg: { type: 'push-pull', from: idOf('a'), members: [{ name: 'b', uid: 'b#0', startedAtMs: 0, state: 'alive' }], isReply: false, isJoin: false } },
    { what: 'a push-pull with a record without uid', msg: { type: 'push-pull', from: idOf('a'), members: [{ name: 'b', startedAtMs: 0, state: 'alive', incarnation: 0 }], isReply: false, isJoin: false } },
    { what: 'a push-pull with a non-boolean isReply', msg: { type: 'push-pull', from: idOf('a'), members: [], isReply: 'no', isJoin: false } },
    { what: 'a push-pull without isJoin', msg: { type: 'push-pull', from: idOf('a'), members: [], isReply: false } },
  ];

  it.each(malformed)('rejects $what', ({ msg }) => {
    expect(isSwimMessage(msg)).toBe(false);
  });

  it('accepts a hand-written message of each type', () => {
    const ok: SwimMessage[] = [
      ping,
      { type: 'ack', seq: 0, from: idOf('b'), updates: [] },
      { type: 'ping-req', seq: 3, from: idOf('a'), target: idOf('c'), updates: [dead('e', 2, 'a'), left('f', 0)] },
      { type: 'nack', seq: 3, from: idOf('b'), updates: [] },
      { type: 'gossip', from: idOf('a'), updates: [alive('b')] },
      { type: 'push-pull', from: idOf('a'), members: [record('a', 'alive'), record('b', 'dead', 3), record('c', 'left')], isReply: true, isJoin: false },
    ];
    for (const m of ok) expect(isSwimMessage(m), m.type).toBe(true);
  });

  simIt('accepts every message the machines emit, also after a JSON round trip (as between threads)', 11, async (seed) => {
    const net = new SwimNet({ seed });
    const seen = new Map<SwimMessageType, SwimMessage>();
    const rejected: SwimMessage[] = [];
    net.filter = (_from, _to, msg) => {
      if (!seen.has(msg.type)) seen.set(msg.type, msg);
      if (!isSwimMessage(msg) || !isSwimMessage(JSON.parse(JSON.stringify(msg)))) rejected.push(msg);
      return true;
    };
    for (const n of names(5)) net.start(n, ['n01']);
    net.runFor(10_000);
    net.crash('n03');
    net.runFor(10_000);
    expect(rejected).toEqual([]);
    expect(new Set(seen.keys()), `seed ${seed}`).toEqual(new Set(['ping', 'ack', 'ping-req', 'nack', 'gossip', 'push-pull']));
  });
});

describe('a cluster on an in-memory network (virtual time, seeded)', () => {
  const N = 8;
  const { maxMs: suspicionMaxMs } = suspicionBoundsMs(N, DEFAULTS.suspicionMult, DEFAULTS.suspicionMaxTimeoutMult, PERIOD);
  // News that gossip failed to carry is carried by the next full state exchange, whose first
  // tick comes within 1.5 push-pull intervals.
  const convergeMs = 1.5 * DEFAULTS.pushPullIntervalMs + 5 * PERIOD;

  function joinedCluster(seed: number, options: { lossRate?: number } = {}): SwimNet {
    const net = new SwimNet({ seed, ...options });
    const all = names(N);
    for (const n of all) net.start(n, ['n01']);
    const converged = net.runUntil(() => net.allRunningSeeEachOtherAlive(), convergeMs);
    expect(converged, `seed ${seed}: ${N} nodes did not all see each other alive within ${convergeMs} ms`).toBe(true);
    return net;
  }

  simIt('eight nodes join through one seed and all see everyone alive, with no suspicion on the way', 1, async (seed) => {
    const net = joinedCluster(seed);
    expect(net.eventsOfType('member-suspected'), `seed ${seed}`).toEqual([]);
    for (const n of net.names) expect(net.swim(n).activeCount(), `seed ${seed}, ${n}`).toBe(N);
  });

  simIt('a crashed node is declared dead by every other within suspicionMax + a few periods; nobody else is', 2, async (seed) => {
    const net = joinedCluster(seed);
    const victim = 'n05';
    const others = net.names.filter((n) => n !== victim);
    net.crash(victim);
    const crashedAt = net.now;
    const boundMs = suspicionMaxMs + 5 * PERIOD;
    const detected = net.runUntil(() => others.every((o) => net.stateOf(o, victim) === 'dead'), boundMs);
    const states = others.map((o) => `${o}:${net.stateOf(o, victim)}`).join(' ');
    expect(detected, `seed ${seed}: after ${net.now - crashedAt} ms: ${states}`).toBe(true);
    const deaths = net.eventsOfType('member-dead');
    expect(deaths.every((d) => d.event.member.name === victim), `seed ${seed}`).toBe(true);
    // Every survivor's failure detector reported the victim's start down.
    for (const o of others) {
      expect(net.reachability.some((r) => r.observer === o && r.node === victim && r.uid === net.identity(victim).uid && r.status === 'down'), `seed ${seed}, ${o}`).toBe(true);
    }
    net.runFor(10 * PERIOD);
    for (const o of others) for (const m of others) expect(net.stateOf(o, m), `seed ${seed}: ${o} sees ${m}`).toBe('alive');
  });

  // One run is 2 400 probes; eight seeded runs make the claim worth something. STARLING_SEED=s
  // runs seeds s .. s + 7.
  simIt('with 10% message loss, nobody is declared dead over 300 protocol periods (8 seeded runs)', 1, async (seed) => {
    const falseDeaths: string[] = [];
    for (let run = seed; run < seed + 8; run++) {
      const net = joinedCluster(run);
      net.lossRate = 0.1;
      net.runFor(300 * PERIOD);
      for (const d of net.eventsOfType('member-dead')) falseDeaths.push(`seed ${run}: ${d.observer} declared ${d.event.member.name} dead at ${Math.round(d.atMs)} ms`);
      // Loss does raise suspicions now and then; once it stops, every one is refuted.
      net.lossRate = 0;
      const healed = net.runUntil(() => net.allRunningSeeEachOtherAlive(), convergeMs);
      expect(healed, `seed ${run}: not all alive again after the loss stopped`).toBe(true);
    }
    expect(falseDeaths).toEqual([]);
  });

  simIt('a node that restarts supersedes its old start at every member', 4, async (seed) => {
    const net = joinedCluster(seed);
    const oldUid = net.identity('n03').uid;
    net.crash('n03');
    net.runFor(2 * PERIOD);
    net.start('n03', ['n01']);
    const newUid = net.identity('n03').uid;
    const ok = net.runUntil(() => net.allRunningSeeEachOtherAlive(), convergeMs);
    expect(ok, `seed ${seed}`).toBe(true);
    for (const o of net.names.filter((n) => n !== 'n03')) {
      expect(net.swim(o).member('n03')?.uid, `seed ${seed}, ${o}`).toBe(newUid);
      expect(net.eventsOfType('member-joined').some((e) => e.observer === o && e.event.supersedes === oldUid), `seed ${seed}, ${o}`).toBe(true);
    }
    // The old start may well be declared dead (it is); nothing else is.
    const deaths = net.eventsOfType('member-dead').filter((d) => d.event.member.uid !== oldUid);
    expect(deaths, `seed ${seed}`).toEqual([]);
  });

  simIt('a node cut off long enough to be declared dead comes back alive everywhere once the network heals', 6, async (seed) => {
    const net = joinedCluster(seed);
    const cut = 'n06';
    net.filter = (from, to) => from !== cut && to !== cut;
    const others = net.names.filter((n) => n !== cut);
    const declared = net.runUntil(() => others.every((o) => net.stateOf(o, cut) === 'dead'), suspicionMaxMs + 10 * PERIOD);
    expect(declared, `seed ${seed}`).toBe(true);
    net.runFor(5 * PERIOD);
    net.filter = undefined;
    const healedAt = net.now;
    const back = net.runUntil(() => net.allRunningSeeEachOtherAlive(), 2 * DEFAULTS.reconnectIntervalMs);
    const views = net.names.map((o) => `${o}: ${net.swim(o).view().filter((m) => m.state !== 'alive').map((m) => `${m.name}=${m.state}`).join(',')}`).join('; ');
    expect(back, `seed ${seed}: ${net.now - healedAt} ms after healing: ${views}`).toBe(true);
    expect(net.swim(cut).incarnation, `seed ${seed}`).toBeGreaterThan(0);
    for (const o of others) expect(net.eventsOfType('member-alive').some((e) => e.observer === o && e.event.member.name === cut && e.atMs >= healedAt), `seed ${seed}, ${o}`).toBe(true);
  });

  simIt('a node that leaves is seen left by every other, never dead, and never probed again', 5, async (seed) => {
    const net = joinedCluster(seed);
    const pings: string[] = [];
    net.filter = (from, to, msg) => {
      if (msg.type === 'ping' && to === 'n04' && from !== 'n04') pings.push(from);
      return true;
    };
    net.act('n04', (s, now) => s.leave(now));
    const others = net.names.filter((n) => n !== 'n04');
    const ok = net.runUntil(() => others.every((o) => net.stateOf(o, 'n04') === 'left'), 5 * PERIOD);
    expect(ok, `seed ${seed}`).toBe(true);
    pings.length = 0;
    net.crash('n04');
    net.runFor(60 * PERIOD);
    expect(pings, `seed ${seed}`).toEqual([]);
    expect(net.eventsOfType('member-dead'), `seed ${seed}`).toEqual([]);
    for (const o of others) expect(net.stateOf(o, 'n04'), `seed ${seed}`).toBe('left');
  });
});
