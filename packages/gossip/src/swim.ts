/**
 * SWIM membership and failure detection (Das, Gupta, Motivala, 2002) with Lifeguard's refinements
 * (Dadgar et al., 2018), in the shape memberlist gives them, as a pure state machine.
 *
 * Inputs are a received message, a fired timer, and the host's `join`/`leave`; each takes the
 * current time. Outputs are {@link SwimEffect}s the host carries out: messages to send, timers to
 * set or cancel, membership events, reachability verdicts. No clock, no randomness, no I/O here:
 * the random source comes in through the constructor, so a run replays from its seed and a test
 * can drive the protocol message by message.
 *
 * One protocol period: probe the next member of a shuffled round-robin list with a `ping`; no
 * `ack` within the probe timeout → ask `indirectChecks` others to probe it (`ping-req`); no ack by
 * the end of the period → suspect it. A suspicion spreads by piggybacking; the suspected member
 * refutes it by raising its incarnation; an unrefuted suspicion becomes `dead` after a timeout
 * that shrinks with independent confirmations. Full state is exchanged (`push-pull`) at join,
 * periodically, and with members thought dead, so two sides of a healed partition merge.
 */
import { assert } from './assert.ts';
import type { SwimConfig } from './config.ts';
import type { MembershipEvent } from './events.ts';
import { Awareness, expectedConfirmations, suspicionBoundsMs, suspicionTimeoutMs } from './lifeguard.ts';
import { compareStarts, isActive, type MemberIdentity, type MemberInfo, type MemberState, sameStart } from './member.ts';
import type { MemberRecord, MemberUpdate, SwimMessage } from './messages.ts';
import { retransmitLimit, UpdateQueue } from './update-queue.ts';

/** Where a message goes: a node name, and the start it is meant for when known (else whichever start is current). */
export interface Destination {
  readonly name: string;
  readonly uid?: string;
}

/** What the protocol asks its host to do. */
export type SwimEffect =
  | { readonly kind: 'send'; readonly to: Destination; readonly msg: SwimMessage }
  | { readonly kind: 'set-timer'; readonly key: string; readonly afterMs: number }
  | { readonly kind: 'cancel-timer'; readonly key: string }
  | { readonly kind: 'event'; readonly event: MembershipEvent }
  /** The failure-detector verdict for the runtime: a start of a node is down (dead, left, superseded) or up. */
  | { readonly kind: 'reachability'; readonly node: string; readonly uid: string; readonly status: 'up' | 'down' };

/** Timer keys the protocol sets; `suspicion:<name>` and `indirect:<seq>` are per member and per relayed probe. */
export const TIMER = {
  probe: 'probe',
  probeTimeout: 'probe-timeout',
  gossip: 'gossip',
  pushPull: 'push-pull',
  reconnect: 'reconnect',
  joinRetry: 'join-retry',
} as const;

interface Entry {
  name: string;
  uid: string;
  startedAtMs: number;
  incarnation: number;
  state: MemberState;
  stateChangedAtMs: number;
}

/** The probe of the current protocol period. */
interface Probe {
  readonly seq: number;
  readonly target: MemberIdentity;
  isAcked: boolean;
  hasAskedOthers: boolean;
  expectedNacks: number;
  nacks: number;
}

/** A `ping-req` this node relays: its own ping's seq → whom to answer, under which seq. */
interface Relay {
  readonly originSeq: number;
  readonly origin: MemberIdentity;
}

interface Suspicion {
  readonly identity: MemberIdentity;
  readonly startedAtMs: number;
  readonly k: number;
  readonly minMs: number;
  readonly maxMs: number;
  /** Members that suspected independently; the first suspecter is in the set but is not a confirmation. */
  readonly confirmers: Set<string>;
}

/** Counters a host can read for experiments and dashboards. */
export interface SwimCounters {
  probes: number;
  probesFailed: number;
  pingReqsSent: number;
  suspicionsRaised: number;
  refutations: number;
  deathsDeclared: number;
  messagesSent: number;
}

export class Swim {
  private readonly members = new Map<string, Entry>();
  private readonly self: Entry;
  private readonly queue = new UpdateQueue();
  private readonly awareness: Awareness;
  private readonly suspicions = new Map<string, Suspicion>();
  private readonly relays = new Map<number, Relay>();
  private effects: SwimEffect[] = [];
  private probeList: string[] = [];
  private probeIndex = 0;
  private probe: Probe | undefined;
  private seq = 0;
  private seeds: readonly string[] = [];
  private isJoined = false;
  private hasStarted = false;
  /** Names of active members other than self; rebuilt when the view changes. */
  private activeCache: string[] | undefined;
  /** Names of dead (not left) members. */
  private deadCache: string[] | undefined;
  readonly counters: SwimCounters = { probes: 0, probesFailed: 0, pingReqsSent: 0, suspicionsRaised: 0, refutations: 0, deathsDeclared: 0, messagesSent: 0 };

  /**
   * `resume` carries what this start of the node already said about itself, when the protocol's
   * host restarts (an actor restart keeps the node and its uid): its incarnation, and whether it
   * had left. Without it a restarted host would speak with incarnation 0, below what others hold.
   */
  constructor(
    identity: MemberIdentity,
    private readonly config: SwimConfig,
    private readonly random: () => number,
    resume: { readonly incarnation: number; readonly hasLeft: boolean } = { incarnation: 0, hasLeft: false },
  ) {
    this.self = { ...identity, incarnation: resume.incarnation, state: resume.hasLeft ? 'left' : 'alive', stateChangedAtMs: identity.startedAtMs };
    this.members.set(identity.name, this.self);
    this.awareness = new Awareness(config.awarenessMaxMultiplier);
  }

  // ---------------------------------------------------------------------------------------------
  // Inputs

  /** Starts the protocol's timers and joins through `seeds` (names; this node's own name is skipped). */
  start(nowMs: number, seeds: readonly string[]): void {
    assert(!this.hasStarted, 'start once');
    this.hasStarted = true;
    this.emitEvent({ type: 'member-joined', member: this.info(this.self) });
    this.setTimer(TIMER.gossip, this.random() * this.config.gossipIntervalMs);
    // A member that left stays out until it is asked to join again.
    if (this.self.state === 'left') return;
    // memberlist's setAlive: our own alive is the first news we spread.
    this.queue.push(this.aliveUpdate(this.self));
    // Staggered first ticks, so nodes started together do not probe and gossip in lockstep.
    this.setTimer(TIMER.probe, this.random() * this.config.probeIntervalMs);
    this.setTimer(TIMER.pushPull, this.pushPullIntervalMs() * (0.5 + this.random()));
    this.setTimer(TIMER.reconnect, this.config.reconnectIntervalMs * (0.5 + this.random()));
    this.join(nowMs, seeds);
  }

  /** Joins (again) through `seeds`; after a leave, the member comes back with a higher incarnation. */
  join(nowMs: number, seeds: readonly string[]): void {
    if (this.self.state === 'left') {
      this.self.state = 'alive';
      this.self.incarnation++;
      this.self.stateChangedAtMs = nowMs;
      this.queue.push(this.aliveUpdate(this.self));
      this.emitEvent({ type: 'member-alive', member: this.info(this.self) });
      this.setTimer(TIMER.probe, this.scaledProbeIntervalMs());
      this.setTimer(TIMER.pushPull, this.pushPullIntervalMs());
      this.setTimer(TIMER.reconnect, this.config.reconnectIntervalMs);
    }
    this.seeds = seeds.filter((s) => s !== this.self.name);
    this.isJoined = this.seeds.length === 0;
    this.sendJoins();
  }

  /**
   * Adds members every node is told about at once (a static bootstrap, for experiments that start
   * from a converged view): they enter the view alive, without being gossiped, since everyone
   * hears the same. Known names are left alone.
   */
  introduce(members: readonly MemberIdentity[], nowMs: number): void {
    for (const m of members) {
      if (m.name === this.self.name || this.members.has(m.name)) continue;
      const entry: Entry = { name: m.name, uid: m.uid, startedAtMs: m.startedAtMs, incarnation: 0, state: 'alive', stateChangedAtMs: nowMs };
      this.members.set(entry.name, entry);
      this.insertIntoProbeList(entry.name);
      this.emitEvent({ type: 'member-joined', member: this.info(entry) });
      this.reach(entry, 'up');
    }
    this.viewChanged();
    this.isJoined = true;
    // The first exchange was timed for a view of one; re-time it for the size now known.
    if (this.self.state !== 'left') this.setTimer(TIMER.pushPull, this.pushPullIntervalMs() * (0.5 + this.random()));
  }

  /** Leaves gracefully: tells the others (they mark this member `left`, not dead) and stops probing. */
  leave(nowMs: number): void {
    if (this.self.state === 'left') return;
    this.self.state = 'left';
    this.self.stateChangedAtMs = nowMs;
    this.queue.push({ kind: 'left', member: this.identity(this.self), incarnation: this.self.incarnation });
    this.emitEvent({ type: 'member-left', member: this.info(this.self) });
    this.probe = undefined;
    for (const key of [TIMER.probe, TIMER.probeTimeout, TIMER.pushPull, TIMER.reconnect, TIMER.joinRetry]) this.cancelTimer(key);
    // Say it now rather than at the next gossip round: the caller may stop the node soon after.
    this.gossipRound(nowMs);
  }

  /**
   * A message from another member. Returns false (and does nothing) for a message that cannot
   * come from another member: one that names this node as its sender, or asks it to probe itself.
   */
  receive(msg: SwimMessage, nowMs: number): boolean {
    if (!this.hasStarted) return true;
    if (msg.from.name === this.self.name || (msg.type === 'ping-req' && msg.target.name === this.self.name)) return false;
    this.applyUpdates(msg.type === 'push-pull' ? [] : msg.updates, nowMs);
    switch (msg.type) {
      case 'ping':
        // A ping meant for an earlier start of this node is not ours to answer (memberlist checks the name).
        if (!sameStart(msg.target, this.self)) return true;
        this.send(msg.from, { type: 'ack', seq: msg.seq, from: this.identity(this.self), updates: this.piggyback() });
        return true;
      case 'ack':
        this.onAck(msg.seq);
        return true;
      case 'nack':
        if (this.probe?.seq === msg.seq) this.probe.nacks++;
        return true;
      case 'ping-req': {
        const seq = this.nextSeq();
        this.relays.set(seq, { originSeq: msg.seq, origin: msg.from });
        this.send(msg.target, { type: 'ping', seq, from: this.identity(this.self), target: msg.target, updates: this.piggyback() });
        // Lifeguard: nack a little before the prober's own deadline, so the nack can still count.
        this.setTimer(`indirect:${seq}`, this.config.probeTimeoutMs * 0.8);
        return true;
      }
      case 'gossip':
        return true;
      case 'push-pull':
        this.merge(msg.members, nowMs);
        if (msg.isReply) this.isJoined = true;
        else this.send({ name: msg.from.name, uid: msg.from.uid }, this.pushPullMessage(true, false));
        return true;
    }
  }

  timer(key: string, nowMs: number): void {
    if (!this.hasStarted) return;
    if (key === TIMER.probe) this.probeTick(nowMs);
    else if (key === TIMER.probeTimeout) this.probeTimeout();
    else if (key === TIMER.gossip) {
      this.gossipRound(nowMs);
      this.setTimer(TIMER.gossip, this.config.gossipIntervalMs);
    } else if (key === TIMER.pushPull) this.pushPullTick();
    else if (key === TIMER.reconnect) this.reconnectTick(nowMs);
    else if (key === TIMER.joinRetry) {
      if (!this.isJoined) this.sendJoins();
    } else if (key.startsWith('suspicion:')) this.suspicionTimeout(key.slice('suspicion:'.length), nowMs);
    else if (key.startsWith('indirect:')) {
      const seq = Number(key.slice('indirect:'.length));
      const relay = this.relays.get(seq);
      if (!relay) return;
      this.relays.delete(seq);
      this.send(relay.origin, { type: 'nack', seq: relay.originSeq, from: this.identity(this.self), updates: this.piggyback() });
    }
  }

  /** Takes the effects produced since the last call (etcd raft's `Ready`). */
  takeEffects(): SwimEffect[] {
    const out = this.effects;
    this.effects = [];
    return out;
  }

  // ---------------------------------------------------------------------------------------------
  // Reading the view

  /** Every member this node knows, itself included, in name order. */
  view(): MemberInfo[] {
    return [...this.members.values()].map((e) => this.info(e)).sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  }

  member(name: string): MemberInfo | undefined {
    const e = this.members.get(name);
    return e ? this.info(e) : undefined;
  }

  get incarnation(): number {
    return this.self.incarnation;
  }

  /** True after `leave`, until the next `join`. */
  get hasLeft(): boolean {
    return this.self.state === 'left';
  }

  /** Lifeguard's local health score (0 = healthy). */
  get health(): number {
    return this.awareness.health;
  }

  /** Members in `alive` or `suspect` state, this one included: SWIM's n. */
  activeCount(): number {
    return this.activeNames().length + (this.self.state === 'alive' ? 1 : 0);
  }

  /** Updates still waiting to be piggybacked. */
  pendingUpdates(): MemberUpdate[] {
    return this.queue.pending();
  }

  // ---------------------------------------------------------------------------------------------
  // Probing

  private probeTick(nowMs: number): void {
    if (this.self.state === 'left') return;
    this.finishProbe(nowMs);
    this.setTimer(TIMER.probe, this.scaledProbeIntervalMs());
    const target = this.nextProbeTarget();
    if (!target) return;
    const seq = this.nextSeq();
    this.probe = { seq, target: this.identity(target), isAcked: false, hasAskedOthers: false, expectedNacks: 0, nacks: 0 };
    this.counters.probes++;
    // Lifeguard's buddy system: a suspected member hears of its suspicion in the probe itself.
    const buddy: MemberUpdate[] =
      target.state === 'suspect' ? [{ kind: 'suspect', member: this.identity(target), incarnation: target.incarnation, from: this.self.name }] : [];
    const updates = [...buddy, ...this.piggyback(this.config.maxPiggybackUpdates - buddy.length)];
    this.send(target, { type: 'ping', seq, from: this.identity(this.self), target: this.identity(target), updates });
    this.setTimer(TIMER.probeTimeout, this.awareness.scale(this.config.probeTimeoutMs));
  }

  private probeTimeout(): void {
    const probe = this.probe;
    if (!probe || probe.isAcked || probe.hasAskedOthers) return;
    probe.hasAskedOthers = true;
    // Only alive members help: a suspected one is likely down, and its missing nack would count against our own health.
    const helpers = this.sample(this.aliveNames().filter((n) => n !== probe.target.name), this.config.indirectChecks);
    probe.expectedNacks = helpers.length;
    for (const name of helpers) {
      this.counters.pingReqsSent++;
      this.send(this.destinationOf(name), { type: 'ping-req', seq: probe.seq, from: this.identity(this.self), target: probe.target, updates: this.piggyback() });
    }
  }

  private onAck(seq: number): void {
    const relay = this.relays.get(seq);
    if (relay) {
      this.relays.delete(seq);
      this.cancelTimer(`indirect:${seq}`);
      this.send(relay.origin, { type: 'ack', seq: relay.originSeq, from: this.identity(this.self), updates: this.piggyback() });
      return;
    }
    const probe = this.probe;
    if (!probe || probe.seq !== seq || probe.isAcked) return;
    probe.isAcked = true;
    // Lifeguard (as memberlist applies it): a successful probe, direct or relayed, is evidence that this node is healthy.
    this.awareness.apply(-1);
    if (!probe.hasAskedOthers) this.cancelTimer(TIMER.probeTimeout);
  }

  /** Ends the previous period's probe: unacknowledged means suspected. */
  private finishProbe(nowMs: number): void {
    const probe = this.probe;
    this.probe = undefined;
    if (!probe || probe.isAcked) return;
    this.counters.probesFailed++;
    // Lifeguard: missing nacks mean our own links are the problem, so slow down.
    if (probe.expectedNacks > 0) this.awareness.apply(Math.max(0, probe.expectedNacks - probe.nacks));
    else this.awareness.apply(1);
    const e = this.members.get(probe.target.name);
    if (!e || !sameStart(e, probe.target) || !isActive(e.state)) return;
    this.counters.suspicionsRaised++;
    this.applySuspect({ kind: 'suspect', member: probe.target, incarnation: e.incarnation, from: this.self.name }, nowMs);
  }

  private nextProbeTarget(): Entry | undefined {
    for (let attempts = 0; attempts <= this.probeList.length + 1; attempts++) {
      if (this.probeIndex >= this.probeList.length) {
        this.probeList = this.shuffle(this.activeNames());
        this.probeIndex = 0;
        if (this.probeList.length === 0) return undefined;
      }
      const e = this.members.get(this.probeList[this.probeIndex++]!);
      if (e && isActive(e.state) && e !== this.self) return e;
    }
    return undefined;
  }

  // ---------------------------------------------------------------------------------------------
  // Dissemination and state exchange

  private gossipRound(nowMs: number): void {
    if (this.queue.size === 0) return;
    const candidates = this.activeNames();
    const recentlyDead = this.deadNames().filter((name) => nowMs - this.members.get(name)!.stateChangedAtMs < this.config.gossipToTheDeadMs);
    for (const name of this.sample(recentlyDead.length > 0 ? [...candidates, ...recentlyDead] : candidates, this.config.gossipNodes)) {
      const updates = this.piggyback();
      if (updates.length === 0) return;
      this.send(this.destinationOf(name), { type: 'gossip', from: this.identity(this.self), updates });
    }
  }

  private pushPullTick(): void {
    if (this.self.state === 'left') return;
    this.setTimer(TIMER.pushPull, this.pushPullIntervalMs());
    const [name] = this.sample(this.aliveNames(), 1);
    if (name !== undefined) this.send(this.destinationOf(name), this.pushPullMessage(false, false));
  }

  /** Serf's reconnect: try one random dead member, whichever start of it now answers. Also forgets long-gone members. */
  private reconnectTick(nowMs: number): void {
    if (this.self.state === 'left') return;
    this.setTimer(TIMER.reconnect, this.config.reconnectIntervalMs);
    const dead: string[] = [];
    for (const e of [...this.members.values()]) {
      if (e === this.self) continue;
      const age = nowMs - e.stateChangedAtMs;
      if ((e.state === 'dead' && age >= this.config.deadRetentionMs) || (e.state === 'left' && age >= this.config.leftRetentionMs)) {
        this.members.delete(e.name);
        this.queue.forget(e.name);
        this.emitEvent({ type: 'member-reaped', member: this.info(e) });
      } else if (e.state === 'dead') dead.push(e.name);
    }
    const [name] = this.sample(dead, 1);
    if (name !== undefined) this.send({ name }, this.pushPullMessage(false, false));
  }

  private sendJoins(): void {
    if (this.isJoined) return;
    for (const seed of this.seeds) this.send({ name: seed }, this.pushPullMessage(false, true));
    this.setTimer(TIMER.joinRetry, this.config.joinRetryIntervalMs);
  }

  private pushPullMessage(isReply: boolean, isJoin: boolean): SwimMessage {
    const members: MemberRecord[] = [];
    for (const e of this.members.values()) members.push({ name: e.name, uid: e.uid, startedAtMs: e.startedAtMs, state: e.state, incarnation: e.incarnation });
    return { type: 'push-pull', from: this.identity(this.self), members, isReply, isJoin };
  }

  /** memberlist's `mergeState`: a remote `dead` only makes us suspect, so a live member gets its chance to refute. */
  private merge(records: readonly MemberRecord[], nowMs: number): void {
    for (const r of records) {
      const member: MemberIdentity = { name: r.name, uid: r.uid, startedAtMs: r.startedAtMs };
      if (r.state === 'alive') this.applyAlive({ kind: 'alive', member, incarnation: r.incarnation }, nowMs);
      else if (r.state === 'left') this.applyDeparture({ kind: 'left', member, incarnation: r.incarnation }, nowMs);
      else this.applySuspect({ kind: 'suspect', member, incarnation: r.incarnation, from: '' }, nowMs);
    }
  }

  private applyUpdates(updates: readonly MemberUpdate[], nowMs: number): void {
    for (const u of updates) {
      if (u.kind === 'alive') this.applyAlive(u, nowMs);
      else if (u.kind === 'suspect') this.applySuspect(u, nowMs);
      else this.applyDeparture(u, nowMs);
    }
  }

  // ---------------------------------------------------------------------------------------------
  // The state transitions (memberlist's aliveNode, suspectNode, deadNode)

  private applyAlive(u: Extract<MemberUpdate, { kind: 'alive' }>, nowMs: number): void {
    if (u.member.name === this.self.name) {
      // News of our own liveness needs no answer, but others may hold a higher incarnation of this
      // start than we do (our host restarted): adopt it, so our next word is not ignored as stale.
      if (sameStart(u.member, this.self) && u.incarnation > this.self.incarnation) this.self.incarnation = u.incarnation;
      return;
    }
    const e = this.members.get(u.member.name);
    // The common case by far (news heard again): the same start, nothing newer.
    if (e && u.incarnation <= e.incarnation && e.uid === u.member.uid) return;
    if (!e) {
      const entry: Entry = { ...u.member, incarnation: u.incarnation, state: 'alive', stateChangedAtMs: nowMs };
      this.members.set(entry.name, entry);
      this.viewChanged();
      this.insertIntoProbeList(entry.name);
      this.emitEvent({ type: 'member-joined', member: this.info(entry) });
      this.reach(entry, 'up');
      this.queue.push(u);
      return;
    }
    const order = compareStarts(u.member, e);
    if (order < 0) return; // about an earlier start: stale
    if (order > 0) {
      // A restart: the new start supersedes the old entry, whose watchers learn it is gone.
      const old = this.info(e);
      if (isActive(e.state)) this.reach(e, 'down');
      this.endSuspicion(e.name);
      Object.assign(e, { uid: u.member.uid, startedAtMs: u.member.startedAtMs, incarnation: u.incarnation, state: 'alive', stateChangedAtMs: nowMs });
      this.viewChanged();
      this.emitEvent({ type: 'member-joined', member: this.info(e), supersedes: old.uid });
      this.reach(e, 'up');
      this.queue.push(u);
      return;
    }
    if (u.incarnation <= e.incarnation) return;
    const previous = e.state;
    e.incarnation = u.incarnation;
    e.state = 'alive';
    if (previous !== 'alive') {
      e.stateChangedAtMs = nowMs;
      this.endSuspicion(e.name);
      this.viewChanged();
      if (previous !== 'suspect') {
        this.insertIntoProbeList(e.name);
        this.reach(e, 'up');
      }
      this.emitEvent({ type: 'member-alive', member: this.info(e) });
    }
    this.queue.push(u);
  }

  private applySuspect(u: Extract<MemberUpdate, { kind: 'suspect' }>, nowMs: number): void {
    if (u.member.name === this.self.name) {
      if (sameStart(u.member, this.self)) this.refute(u.incarnation, nowMs);
      return;
    }
    const e = this.members.get(u.member.name);
    if (!e || !sameStart(e, u.member) || u.incarnation < e.incarnation || !isActive(e.state)) return;
    if (e.state === 'suspect') {
      const s = this.suspicions.get(e.name);
      if (u.incarnation > e.incarnation) e.incarnation = u.incarnation;
      if (s && u.from !== '' && !s.confirmers.has(u.from)) {
        s.confirmers.add(u.from);
        this.queue.push(u); // an independent confirmation is news worth spreading
        this.rearmSuspicion(s, nowMs);
      }
      return;
    }
    e.state = 'suspect';
    e.incarnation = u.incarnation;
    e.stateChangedAtMs = nowMs;
    const n = this.activeCount();
    const { minMs, maxMs } = suspicionBoundsMs(n, this.config.suspicionMult, this.config.suspicionMaxTimeoutMult, this.config.probeIntervalMs);
    const s: Suspicion = {
      identity: this.identity(e),
      startedAtMs: nowMs,
      k: expectedConfirmations(n, this.config.suspicionMult),
      minMs,
      maxMs,
      // A suspicion from a state exchange has no sender: we raise it ourselves (memberlist's `From: self`).
      confirmers: new Set([u.from === '' ? this.self.name : u.from]),
    };
    this.suspicions.set(e.name, s);
    this.rearmSuspicion(s, nowMs);
    this.emitEvent({ type: 'member-suspected', member: this.info(e) });
    this.queue.push(u.from === '' ? { ...u, from: this.self.name } : u);
  }

  /** `dead` (declared by another member) or `left` (announced by the member itself). */
  private applyDeparture(u: Extract<MemberUpdate, { kind: 'dead' | 'left' }>, nowMs: number): void {
    if (u.member.name === this.self.name) {
      // Told we are dead: refute. Our own leave coming back to us needs nothing.
      if (sameStart(u.member, this.self) && this.self.state !== 'left') this.refute(u.incarnation, nowMs);
      return;
    }
    const e = this.members.get(u.member.name);
    if (!e || !sameStart(e, u.member) || u.incarnation < e.incarnation || e.state === 'left') return;
    if (e.state === 'dead' && u.kind === 'dead') return;
    const wasActive = isActive(e.state);
    e.state = u.kind;
    e.incarnation = u.incarnation;
    e.stateChangedAtMs = nowMs;
    this.endSuspicion(e.name);
    this.viewChanged();
    if (wasActive) this.reach(e, 'down');
    this.emitEvent({ type: u.kind === 'dead' ? 'member-dead' : 'member-left', member: this.info(e) });
    this.queue.push(u);
  }

  /** SWIM §4.2: a member that hears it is suspected or dead raises its incarnation and says it is alive. */
  private refute(rumouredIncarnation: number, nowMs: number): void {
    if (this.self.state === 'left') return;
    if (rumouredIncarnation < this.self.incarnation) {
      // Already refuted, but this member has not heard it (our alive may have run out of
      // retransmits): say it again, without raising the incarnation.
      this.queue.push(this.aliveUpdate(this.self));
      return;
    }
    this.self.incarnation = rumouredIncarnation + 1;
    this.self.stateChangedAtMs = nowMs;
    this.counters.refutations++;
    // Lifeguard: being suspected hints that this node is the slow one.
    this.awareness.apply(1);
    this.queue.push(this.aliveUpdate(this.self));
  }

  private rearmSuspicion(s: Suspicion, nowMs: number): void {
    const confirmations = Math.max(0, s.confirmers.size - 1);
    const timeoutMs = suspicionTimeoutMs(confirmations, s.k, s.minMs, s.maxMs);
    const remainingMs = s.startedAtMs + timeoutMs - nowMs;
    if (remainingMs <= 0) this.suspicionTimeout(s.identity.name, nowMs);
    else this.setTimer(`suspicion:${s.identity.name}`, remainingMs);
  }

  private suspicionTimeout(name: string, nowMs: number): void {
    const s = this.suspicions.get(name);
    const e = this.members.get(name);
    if (!s || !e || e.state !== 'suspect' || !sameStart(e, s.identity)) return;
    this.counters.deathsDeclared++;
    this.applyDeparture({ kind: 'dead', member: s.identity, incarnation: e.incarnation, from: this.self.name }, nowMs);
  }

  private endSuspicion(name: string): void {
    if (this.suspicions.delete(name)) this.cancelTimer(`suspicion:${name}`);
  }

  // ---------------------------------------------------------------------------------------------
  // Helpers

  private piggyback(max = this.config.maxPiggybackUpdates): MemberUpdate[] {
    return this.queue.take(max, retransmitLimit(this.config.retransmitMult, this.activeCount()));
  }

  private send(to: MemberIdentity | Entry | Destination, msg: SwimMessage): void {
    assert(to.name !== this.self.name, 'a node never sends SWIM messages to itself');
    this.counters.messagesSent++;
    this.effects.push({ kind: 'send', to: to.uid === undefined ? { name: to.name } : { name: to.name, uid: to.uid }, msg });
  }

  private destinationOf(name: string): Destination {
    const e = this.members.get(name);
    return e ? { name, uid: e.uid } : { name };
  }

  private setTimer(key: string, afterMs: number): void {
    this.effects.push({ kind: 'set-timer', key, afterMs: Math.max(0, afterMs) });
  }

  private cancelTimer(key: string): void {
    this.effects.push({ kind: 'cancel-timer', key });
  }

  private emitEvent(event: MembershipEvent): void {
    this.effects.push({ kind: 'event', event });
  }

  private reach(e: Entry, status: 'up' | 'down'): void {
    this.effects.push({ kind: 'reachability', node: e.name, uid: e.uid, status });
  }

  private nextSeq(): number {
    return ++this.seq;
  }

  private scaledProbeIntervalMs(): number {
    return this.awareness.scale(this.config.probeIntervalMs);
  }

  /** memberlist's `pushPullScale`: above 32 members the interval grows with log2(n), keeping the cluster-wide rate flat. */
  private pushPullIntervalMs(): number {
    const n = this.activeCount();
    if (n <= 32) return this.config.pushPullIntervalMs;
    return this.config.pushPullIntervalMs * (Math.ceil(Math.log2(n) - Math.log2(32)) + 1);
  }

  private activeNames(): string[] {
    if (!this.activeCache) this.rebuildCaches();
    return this.activeCache!;
  }

  private aliveNames(): string[] {
    return this.activeNames().filter((name) => this.members.get(name)!.state === 'alive');
  }

  private deadNames(): string[] {
    if (!this.deadCache) this.rebuildCaches();
    return this.deadCache!;
  }

  private rebuildCaches(): void {
    this.activeCache = [];
    this.deadCache = [];
    for (const e of this.members.values()) {
      if (e === this.self) continue;
      if (isActive(e.state)) this.activeCache.push(e.name);
      else if (e.state === 'dead') this.deadCache.push(e.name);
    }
  }

  private viewChanged(): void {
    this.activeCache = undefined;
    this.deadCache = undefined;
  }

  /** memberlist inserts a new member at a random place in the probe order, so it is probed within one round. */
  private insertIntoProbeList(name: string): void {
    const at = this.probeIndex + Math.floor(this.random() * (this.probeList.length - this.probeIndex + 1));
    this.probeList.splice(at, 0, name);
  }

  private shuffle<T>(items: readonly T[]): T[] {
    const out = [...items];
    for (let i = out.length - 1; i > 0; i--) {
      const j = Math.floor(this.random() * (i + 1));
      [out[i], out[j]] = [out[j]!, out[i]!];
    }
    return out;
  }

  /** Up to `k` distinct items, uniformly (a partial Fisher-Yates shuffle). */
  private sample<T>(items: readonly T[], k: number): T[] {
    const pool = [...items];
    const n = Math.min(k, pool.length);
    for (let i = 0; i < n; i++) {
      const j = i + Math.floor(this.random() * (pool.length - i));
      [pool[i], pool[j]] = [pool[j]!, pool[i]!];
    }
    return pool.slice(0, n);
  }

  private identity(e: MemberIdentity): MemberIdentity {
    return { name: e.name, uid: e.uid, startedAtMs: e.startedAtMs };
  }

  private aliveUpdate(e: Entry): MemberUpdate {
    return { kind: 'alive', member: this.identity(e), incarnation: e.incarnation };
  }

  private info(e: Entry): MemberInfo {
    return { name: e.name, uid: e.uid, startedAtMs: e.startedAtMs, state: e.state, incarnation: e.incarnation, stateChangedAtMs: e.stateChangedAtMs };
  }
}
