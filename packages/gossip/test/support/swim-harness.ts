/**
 * Test support for the SWIM state machine, without a runtime.
 *
 * - Builders for identities and updates (`idOf`, `alive`, `suspect`, ...) and readers for the
 *   effects a {@link Swim} asks for (`sendsOf`, `eventsOf`, `timerSet`, ...), for tests that drive
 *   one machine message by message, the way etcd/raft's tests drive `Step`.
 * - {@link SwimNet}: a deterministic in-memory network of several machines. It routes their
 *   `send` effects with a seeded latency and loss, keeps a virtual clock and a timer queue built
 *   from their `set-timer`/`cancel-timer` effects, and records membership events. A seed replays
 *   a run exactly.
 */
import { createRandom, type Random } from '@starling/actors';
import { resolveSwimConfig, type SwimConfig } from '../../src/config.ts';
import type { MembershipEvent, MembershipEventType } from '../../src/events.ts';
import type { MemberIdentity, MemberState } from '../../src/member.ts';
import type { MemberRecord, MemberUpdate, SwimMessage, SwimMessageType } from '../../src/messages.ts';
import { type Destination, Swim, type SwimEffect } from '../../src/swim.ts';

// -------------------------------------------------------------------------------------------------
// Builders

/** The identity of one start of `name`: uid `name#startedAtMs`. */
export function idOf(name: string, startedAtMs = 0): MemberIdentity {
  return { name, uid: `${name}#${startedAtMs}`, startedAtMs };
}

export function alive(name: string, incarnation = 0, startedAtMs = 0): MemberUpdate {
  return { kind: 'alive', member: idOf(name, startedAtMs), incarnation };
}

export function suspect(name: string, incarnation: number, from: string, startedAtMs = 0): MemberUpdate {
  return { kind: 'suspect', member: idOf(name, startedAtMs), incarnation, from };
}

export function dead(name: string, incarnation: number, from: string, startedAtMs = 0): MemberUpdate {
  return { kind: 'dead', member: idOf(name, startedAtMs), incarnation, from };
}

export function left(name: string, incarnation: number, startedAtMs = 0): MemberUpdate {
  return { kind: 'left', member: idOf(name, startedAtMs), incarnation };
}

export function record(name: string, state: MemberState, incarnation = 0, startedAtMs = 0): MemberRecord {
  return { ...idOf(name, startedAtMs), state, incarnation };
}

/** A `gossip` message from `from` carrying `updates`: the plainest way to tell a machine some news. */
export function gossip(from: string, updates: readonly MemberUpdate[]): SwimMessage {
  return { type: 'gossip', from: idOf(from), updates };
}

export function config(overrides: Partial<SwimConfig> = {}): SwimConfig {
  return resolveSwimConfig(overrides);
}

/** A machine for `name` (start 0), started at time 0 with no seeds (so joined at once), its start effects drained. */
export function soloSwim(name: string, options: { readonly config?: Partial<SwimConfig>; readonly seed?: number } = {}): Swim {
  const rng = createRandom(options.seed ?? 1, `solo:${name}`);
  const swim = new Swim(idOf(name), config(options.config), () => rng.next());
  swim.start(0, []);
  swim.takeEffects();
  return swim;
}

/**
 * A started machine for `self` whose view also holds `others`, all alive at incarnation 0 (heard
 * in one gossip message), with the effects of building the view drained.
 */
export function swimWithView(self: string, others: readonly string[], options: { readonly config?: Partial<SwimConfig>; readonly seed?: number } = {}): Swim {
  const swim = soloSwim(self, options);
  if (others.length > 0) swim.receive(gossip(others[0]!, others.map((n) => alive(n))), 0);
  swim.takeEffects();
  return swim;
}

/** `count` member names: n01, n02, ... */
export function names(count: number): string[] {
  return Array.from({ length: count }, (_, i) => `n${String(i + 1).padStart(2, '0')}`);
}

// -------------------------------------------------------------------------------------------------
// Reading effects

export type Sent<T extends SwimMessageType = SwimMessageType> = { readonly to: Destination; readonly msg: Extract<SwimMessage, { type: T }> };

function isType<T extends SwimMessageType>(msg: SwimMessage, type: T): msg is Extract<SwimMessage, { type: T }> {
  return msg.type === type;
}

/** The messages sent among `effects`, of one type. */
export function sendsOf<T extends SwimMessageType>(effects: readonly SwimEffect[], type: T): Sent<T>[] {
  const out: Sent<T>[] = [];
  for (const e of effects) if (e.kind === 'send' && isType(e.msg, type)) out.push({ to: e.to, msg: e.msg });
  return out;
}

/** Every message sent among `effects`. */
export function allSends(effects: readonly SwimEffect[]): { readonly to: Destination; readonly msg: SwimMessage }[] {
  const out: { to: Destination; msg: SwimMessage }[] = [];
  for (const e of effects) if (e.kind === 'send') out.push({ to: e.to, msg: e.msg });
  return out;
}

/** The membership events among `effects`, of one type. */
export function eventsOf<T extends MembershipEventType>(effects: readonly SwimEffect[], type: T): Extract<MembershipEvent, { type: T }>[] {
  const out: Extract<MembershipEvent, { type: T }>[] = [];
  for (const e of effects) {
    if (e.kind === 'event' && e.event.type === type) out.push(e.event as Extract<MembershipEvent, { type: T }>);
  }
  return out;
}

/** The delay of the last `set-timer` of `key` among `effects`, or undefined. */
export function timerSet(effects: readonly SwimEffect[], key: string): number | undefined {
  let out: number | undefined;
  for (const e of effects) if (e.kind === 'set-timer' && e.key === key) out = e.afterMs;
  return out;
}

export function isCancelled(effects: readonly SwimEffect[], key: string): boolean {
  return effects.some((e) => e.kind === 'cancel-timer' && e.key === key);
}

export type Reachability = Extract<SwimEffect, { kind: 'reachability' }>;

export function reachabilityOf(effects: readonly SwimEffect[]): Reachability[] {
  const out: Reachability[] = [];
  for (const e of effects) if (e.kind === 'reachability') out.push(e);
  return out;
}

/** Every update piggybacked on the messages among `effects`. */
export function piggybacked(effects: readonly SwimEffect[]): MemberUpdate[] {
  const out: MemberUpdate[] = [];
  for (const e of effects) if (e.kind === 'send' && e.msg.type !== 'push-pull') out.push(...e.msg.updates);
  return out;
}

// -------------------------------------------------------------------------------------------------
// An in-memory network of machines

export interface SwimNetOptions {
  readonly seed: number;
  readonly config?: Partial<SwimConfig>;
  /** One-way latency, drawn uniformly from [min, max] ms. Default 1..10. */
  readonly minLatencyMs?: number;
  readonly maxLatencyMs?: number;
  /** Probability that any one message is lost. Default 0. */
  readonly lossRate?: number;
}

interface NetNode {
  readonly name: string;
  identity: MemberIdentity;
  swim: Swim;
  isUp: boolean;
  starts: number;
  /** Pending timers: key → generation of the `set-timer` that armed it. */
  readonly timers: Map<string, number>;
}

type Scheduled =
  | { readonly at: number; readonly order: number; readonly kind: 'deliver'; readonly from: string; readonly to: Destination; readonly msg: SwimMessage }
  | { readonly at: number; readonly order: number; readonly kind: 'timer'; readonly node: string; readonly key: string; readonly generation: number };

/** A membership event, with who saw it and when. */
export interface Observed {
  readonly atMs: number;
  readonly observer: string;
  readonly event: MembershipEvent;
}

export interface ObservedReachability {
  readonly atMs: number;
  readonly observer: string;
  readonly node: string;
  readonly uid: string;
  readonly status: 'up' | 'down';
}

/** A binary min-heap on (at, order): the network's one queue of deliveries and timers. */
class Agenda {
  private readonly items: Scheduled[] = [];

  get size(): number {
    return this.items.length;
  }

  peek(): Scheduled | undefined {
    return this.items[0];
  }

  push(item: Scheduled): void {
    const a = this.items;
    a.push(item);
    let i = a.length - 1;
    while (i > 0) {
      const parent = (i - 1) >> 1;
      if (!Agenda.before(a[i]!, a[parent]!)) break;
      [a[i], a[parent]] = [a[parent]!, a[i]!];
      i = parent;
    }
  }

  pop(): Scheduled | undefined {
    const a = this.items;
    const top = a[0];
    const last = a.pop();
    if (a.length > 0 && last !== undefined) {
      a[0] = last;
      let i = 0;
      for (;;) {
        const l = 2 * i + 1;
        const r = l + 1;
        let m = i;
        if (l < a.length && Agenda.before(a[l]!, a[m]!)) m = l;
        if (r < a.length && Agenda.before(a[r]!, a[m]!)) m = r;
        if (m === i) break;
        [a[i], a[m]] = [a[m]!, a[i]!];
        i = m;
      }
    }
    return top;
  }

  private static before(x: Scheduled, y: Scheduled): boolean {
    return x.at < y.at || (x.at === y.at && x.order < y.order);
  }
}

/**
 * Several {@link Swim} machines on a virtual clock. Messages take a seeded random latency and
 * may be lost; a crashed node neither sends nor receives; a message addressed to a start
 * (`uid`) that is no longer running is dropped, as the runtime does.
 */
export class SwimNet {
  readonly config: SwimConfig;
  readonly events: Observed[] = [];
  readonly reachability: ObservedReachability[] = [];
  /** Messages handed to the network, by type (lost ones included). */
  readonly sentByType = new Map<SwimMessageType, number>();
  /** Called for every message before delivery; returning false drops it. */
  filter: ((from: string, to: string, msg: SwimMessage) => boolean) | undefined;
  lossRate: number;
  private readonly nodes = new Map<string, NetNode>();
  private readonly agenda = new Agenda();
  private readonly netRandom: Random;
  private order = 0;
  private generation = 0;
  private nowMs = 0;

  constructor(private readonly options: SwimNetOptions) {
    this.config = resolveSwimConfig(options.config);
    this.lossRate = options.lossRate ?? 0;
    this.netRandom = createRandom(options.seed, 'swim-net');
  }

  get now(): number {
    return this.nowMs;
  }

  get names(): string[] {
    return [...this.nodes.keys()];
  }

  /** Adds and starts a node at the current time, joining through `seeds`. */
  start(name: string, seeds: readonly string[]): Swim {
    const existing = this.nodes.get(name);
    if (existing?.isUp) throw new Error(`${name} is running`);
    const starts = (existing?.starts ?? 0) + 1;
    const identity: MemberIdentity = { name, uid: `${name}#${starts}`, startedAtMs: this.nowMs };
    const rng = createRandom(this.options.seed, `swim:${name}:${starts}`);
    const swim = new Swim(identity, this.config, () => rng.next());
    const node: NetNode = { name, identity, swim, isUp: true, starts, timers: new Map() };
    this.nodes.set(name, node);
    swim.start(this.nowMs, seeds);
    this.carryOut(node);
    return swim;
  }

  /** The node stops: no more timers, nothing delivered to it, nothing sent by it. */
  crash(name: string): void {
    const node = this.node(name);
    node.isUp = false;
    node.timers.clear();
  }

  swim(name: string): Swim {
    return this.node(name).swim;
  }

  identity(name: string): MemberIdentity {
    return this.node(name).identity;
  }

  isUp(name: string): boolean {
    return this.node(name).isUp;
  }

  /** Runs `fn` against a running node's machine (e.g. `leave`) and carries out its effects. */
  act(name: string, fn: (swim: Swim, nowMs: number) => void): void {
    const node = this.node(name);
    fn(node.swim, this.nowMs);
    this.carryOut(node);
  }

  /** `observer`'s view of `member`, or undefined when unknown. */
  stateOf(observer: string, member: string): MemberState | undefined {
    return this.node(observer).swim.member(member)?.state;
  }

  /** True when every running node sees every running node, itself included, alive. */
  allRunningSeeEachOtherAlive(): boolean {
    const up = [...this.nodes.values()].filter((n) => n.isUp);
    return up.every((o) => up.every((m) => {
      const info = o.swim.member(m.name);
      return info !== undefined && info.uid === m.identity.uid && info.state === 'alive';
    }));
  }

  /** Advances the clock by `ms`, processing everything due. */
  runFor(ms: number): void {
    const until = this.nowMs + ms;
    for (let next = this.agenda.peek(); next !== undefined && next.at <= until; next = this.agenda.peek()) this.step();
    this.nowMs = until;
  }

  /** Runs until `done()` holds (checked after every step) or `maxMs` pass; returns whether it held. */
  runUntil(done: () => boolean, maxMs: number): boolean {
    const until = this.nowMs + maxMs;
    if (done()) return true;
    for (let next = this.agenda.peek(); next !== undefined && next.at <= until; next = this.agenda.peek()) {
      this.step();
      if (done()) return true;
    }
    this.nowMs = until;
    return done();
  }

  eventsOfType<T extends MembershipEventType>(type: T): (Observed & { readonly event: Extract<MembershipEvent, { type: T }> })[] {
    return this.events.filter((o): o is Observed & { readonly event: Extract<MembershipEvent, { type: T }> } => o.event.type === type);
  }

  private node(name: string): NetNode {
    const node = this.nodes.get(name);
    if (!node) throw new Error(`no node ${name}`);
    return node;
  }

  private step(): void {
    const item = this.agenda.pop();
    if (!item) return;
    this.nowMs = Math.max(this.nowMs, item.at);
    if (item.kind === 'timer') {
      const node = this.nodes.get(item.node);
      if (!node || !node.isUp || node.timers.get(item.key) !== item.generation) return;
      node.timers.delete(item.key);
      node.swim.timer(item.key, this.nowMs);
      this.carryOut(node);
      return;
    }
    const node = this.nodes.get(item.to.name);
    if (!node || !node.isUp || (item.to.uid !== undefined && item.to.uid !== node.identity.uid)) return;
    if (this.filter && !this.filter(item.from, item.to.name, item.msg)) return;
    node.swim.receive(item.msg, this.nowMs);
    this.carryOut(node);
  }

  private carryOut(node: NetNode): void {
    for (const effect of node.swim.takeEffects()) {
      if (!node.isUp) return;
      switch (effect.kind) {
        case 'send': {
          this.sentByType.set(effect.msg.type, (this.sentByType.get(effect.msg.type) ?? 0) + 1);
          if (this.lossRate > 0 && this.netRandom.next() < this.lossRate) break;
          const min = this.options.minLatencyMs ?? 1;
          const max = this.options.maxLatencyMs ?? 10;
          const at = this.nowMs + min + this.netRandom.next() * (max - min);
          this.agenda.push({ at, order: this.order++, kind: 'deliver', from: node.name, to: effect.to, msg: effect.msg });
          break;
        }
        case 'set-timer': {
          const generation = ++this.generation;
          node.timers.set(effect.key, generation);
          this.agenda.push({ at: this.nowMs + effect.afterMs, order: this.order++, kind: 'timer', node: node.name, key: effect.key, generation });
          break;
        }
        case 'cancel-timer':
          node.timers.delete(effect.key);
          break;
        case 'event':
          this.events.push({ atMs: this.nowMs, observer: node.name, event: effect.event });
          break;
        case 'reachability':
          this.reachability.push({ atMs: this.nowMs, observer: node.name, node: effect.node, uid: effect.uid, status: effect.status });
          break;
      }
    }
  }
}
