/**
 * A broadcast primitive for applications: a value given to any node reaches every node, built
 * from the two epidemics of Demers et al. (1987) as they recommend combining them:
 *
 * - rumor mongering spreads new values fast: each round a node with hot values pushes all of them,
 *   batched in one message, to one random peer; a value stays hot for `k` sends (blind counter);
 * - anti-entropy (push-pull, every `antiEntropyIntervalMs`) backs it up, so a value the rumor
 *   missed (residue, loss, a partition) still arrives; a value learned by anti-entropy becomes a
 *   hot rumor again, which spreads it quickly on the far side of a healed partition.
 *
 * Peers come from the membership plugin (`/system/gossip`) when it runs: alive and suspected
 * members; otherwise from the cluster's node list. Values are kept for the life of the node (a
 * log, as in Maelstrom's broadcast workload).
 */
import {
  type ActorContext,
  type ActorRef,
  type AnyRef,
  defineActor,
  definePlugin,
  Codec,
  type ErrorCode,
  InvalidArgumentError,
  isActorRef,
  MessageTooLargeError,
  type PluginSpec,
  selectActor,
  StarlingError,
  type Terminated,
} from '@starling/actors';
import { AntiEntropySite, type AntiEntropyMessage } from './anti-entropy.ts';
import { isActive, type MemberState } from './member.ts';
import { isMembershipNotice, type MembershipNotice, subscribeToMembership } from './plugin.ts';
import { RumorSite, type RumorMessage } from './rumor.ts';

/** Where the broadcast actor lives on every node. */
export const BROADCAST_PATH = '/system/broadcast';

/** The `custom` event topic of deliveries (with `publishDeliveries`). */
export const BROADCAST_TOPIC = 'gossip.broadcast';

/** Every knob of the broadcast, with its unit. */
export interface BroadcastConfig {
  /** Time between rumor rounds; each round a node with hot values pushes them to one random peer, in ms. Default 50. */
  readonly roundMs: number;
  /**
   * Sends before a value stops being hot at a node (blind counter removal). Default 6: each node
   * that learns a value passes it to 6 random peers, which by Demers et al.'s `s = e^{-k(1-s)}`
   * leaves a residue of about 0.25% for anti-entropy to mend.
   */
  readonly k: number;
  /** Time between anti-entropy exchanges (push-pull with one random peer), in ms. Default 500. */
  readonly antiEntropyIntervalMs: number;
  /** Publish a `custom` event (topic {@link BROADCAST_TOPIC}) for every value a node learns. Default false. */
  readonly publishDeliveries: boolean;
  /**
   * Largest encoded value accepted by `broadcast`, in bytes. Default 64 KiB: far below the
   * cluster's 1 MiB message limit, so a value always fits a message alone; the broadcast is for
   * events and small facts, not bulk data.
   */
  readonly maxValueBytes: number;
}

export const DEFAULT_BROADCAST_CONFIG: BroadcastConfig = { roundMs: 50, k: 6, antiEntropyIntervalMs: 500, publishDeliveries: false, maxValueBytes: 64 * 1024 };

/** A delivered value. `id` is unique cluster-wide: the origin's node uid, a tag of the broadcast actor's start, and a sequence number. */
export interface BroadcastValue<V = unknown> {
  readonly id: string;
  readonly origin: string;
  readonly value: V;
}

/** What a node publishes for each value it learns (with `publishDeliveries`). */
export interface BroadcastDelivery {
  readonly id: string;
  readonly origin: string;
}

/** What subscribers receive. */
export type BroadcastNotice = { readonly type: 'broadcast-delivered' } & BroadcastValue;

/** The reply to a `broadcast` request that was accepted. */
export interface BroadcastOk {
  readonly type: 'broadcast-ok';
  readonly id: string;
}

/** The reply to a `broadcast` request whose value cannot travel: `UNENCODABLE_MESSAGE`, or `MESSAGE_TOO_LARGE` past `maxValueBytes`. */
export interface BroadcastRejected {
  readonly type: 'broadcast-rejected';
  readonly code: ErrorCode;
  readonly message: string;
}

/** The reply to a `read`: values in the order the node learned them; one reply carries what fits one message. */
export interface BroadcastValues {
  readonly type: 'broadcast-values';
  readonly values: readonly BroadcastValue[];
  /** Present when more values follow: read again from this index. */
  readonly nextIndex?: number;
}

/** Requests the broadcast actor serves. */
export type BroadcastRequest =
  /** Spreads `value` to every node; the reply (if asked) carries its id. */
  | { readonly type: 'broadcast'; readonly value: unknown; readonly replyTo?: ActorRef<BroadcastOk | BroadcastRejected> }
  /** The values this node has, in the order it learned them, from `fromIndex` (default 0) on, as many as fit one message. */
  | { readonly type: 'read'; readonly replyTo: ActorRef<BroadcastValues>; readonly fromIndex?: number }
  /** Sends the subscriber every value this node learns from now on, until it stops. */
  | { readonly type: 'subscribe'; readonly subscriber: ActorRef<BroadcastNotice> };

type Payload = { readonly origin: string; readonly value: unknown };

/** What broadcast actors send each other. */
export type BroadcastWire =
  | { readonly type: 'bc-rumor'; readonly from: string; readonly msg: RumorMessage<string, Payload> }
  | { readonly type: 'bc-anti-entropy'; readonly from: string; readonly msg: AntiEntropyMessage<string, Payload> };

type Tick = { readonly type: 'bc-round' } | { readonly type: 'bc-anti-entropy-round' };

/** Everything `/system/broadcast` accepts. */
export type BroadcastMessage = BroadcastRequest | BroadcastWire | Tick | MembershipNotice | Terminated;

interface BroadcastState {
  readonly config: BroadcastConfig;
  readonly rumor: RumorSite<string, Payload, string>;
  readonly antiEntropy: AntiEntropySite<string, Payload, string>;
  /** Ids in the order this node learned them. */
  readonly order: string[];
  readonly subscribers: ActorRef<BroadcastNotice>[];
  /** Member states from the membership plugin, when it runs. */
  readonly members: Map<string, MemberState>;
  /**
   * The node uid and a random tag drawn at this actor's start: a restart of the actor (its
   * sequence starts over) must never mint an id the cluster already holds.
   */
  readonly idPrefix: string;
  nextSeq: number;
  /** Measures values against `maxValueBytes`. */
  readonly valueCodec: Codec;
  malformedMessages: number;
  rejectedValues: number;
  /** Messages that could not be sent even split (a digest past the size limit). */
  oversizedMessages: number;
}

/** The typed ref of a node's broadcast actor. */
export function broadcastRef(node: string): ActorRef<BroadcastRequest> {
  return selectActor<BroadcastRequest>(node, BROADCAST_PATH);
}

function cycleOf(ctx: ActorContext<BroadcastMessage>, config: BroadcastConfig): number {
  return Math.floor(ctx.now() / config.roundMs);
}

/** Replies to a read with the values from `from` on, as many as fit one message; `nextIndex` says where to go on. */
function replyWithValues(state: BroadcastState, ctx: ActorContext<BroadcastMessage>, replyTo: ActorRef<BroadcastValues>, from: number): void {
  let count = state.order.length - from;
  for (;;) {
    const values: BroadcastValue[] = [];
    for (const id of state.order.slice(from, from + Math.max(0, count))) {
      const payload = state.antiEntropy.entry(id)!.update.value;
      values.push({ id, origin: payload.origin, value: payload.value });
    }
    const end = from + values.length;
    try {
      ctx.tell(replyTo, end < state.order.length ? { type: 'broadcast-values', values, nextIndex: end } : { type: 'broadcast-values', values });
      return;
    } catch (err) {
      // Values are at most maxValueBytes each, so a reply of one always fits.
      if (!(err instanceof MessageTooLargeError) || count <= 1) throw err;
      count = Math.ceil(count / 2);
    }
  }
}

/**
 * Sends one wire message. A batch past the cluster's `maxMessageBytes` is split in halves until
 * each part fits: batches of values are the protocol's choice, not the application's, and a value
 * alone always fits (`maxValueBytes` is checked at `broadcast`). A digest too large to send (tens
 * of thousands of ids) skips this exchange and is counted.
 */
function send(state: BroadcastState, ctx: ActorContext<BroadcastMessage>, to: string, wire: BroadcastWire): void {
  try {
    ctx.tell(selectActor<BroadcastWire>(to, BROADCAST_PATH), wire);
  } catch (err) {
    if (!(err instanceof MessageTooLargeError)) throw err;
    const halves = splitWire(wire);
    if (halves === undefined) {
      state.oversizedMessages++;
      return;
    }
    for (const part of halves) send(state, ctx, to, part);
  }
}

/** Two messages that together say what `wire` says, or undefined when it cannot be split. */
function splitWire(wire: BroadcastWire): BroadcastWire[] | undefined {
  const half = <T>(xs: readonly T[]): [T[], T[]] => [xs.slice(0, Math.ceil(xs.length / 2)), xs.slice(Math.ceil(xs.length / 2))];
  const m = wire.msg;
  if (wire.type === 'bc-rumor' && m.type === 'rumor-push' && m.rumors.length > 1) {
    const [a, b] = half(m.rumors);
    return [
      { type: 'bc-rumor', from: wire.from, msg: { type: 'rumor-push', rumors: a } },
      { type: 'bc-rumor', from: wire.from, msg: { type: 'rumor-push', rumors: b } },
    ];
  }
  if (wire.type === 'bc-anti-entropy' && (m.type === 'ae-reply' || m.type === 'ae-updates') && m.updates.length > 1) {
    const [a, b] = half(m.updates);
    // The reply's `wants` travel with the first part; the rest is plain updates, which the initiator learns the same way.
    const first: AntiEntropyMessage<string, Payload> = m.type === 'ae-reply' ? { type: 'ae-reply', updates: a, wants: m.wants } : { type: 'ae-updates', updates: a };
    return [
      { type: 'bc-anti-entropy', from: wire.from, msg: first },
      { type: 'bc-anti-entropy', from: wire.from, msg: { type: 'ae-updates', updates: b } },
    ];
  }
  return undefined;
}

/** Records newly learned values and cross-feeds them between the two epidemics. */
function learned(state: BroadcastState, ids: readonly string[], from: 'rumor' | 'anti-entropy', ctx: ActorContext<BroadcastMessage>): void {
  const cycle = cycleOf(ctx, state.config);
  for (const id of ids) {
    const payload = from === 'rumor' ? state.rumor.entry(id)?.rumor.value : state.antiEntropy.entry(id)?.update.value;
    if (payload === undefined) continue;
    if (from === 'rumor') {
      if (state.antiEntropy.has(id)) continue;
      state.antiEntropy.update(id, payload, cycle);
    } else {
      if (state.rumor.status(id) !== 'susceptible') continue;
      // Learned by anti-entropy: hot again, so it spreads fast on this side too.
      carryOutRumor(state, state.rumor.update(id, payload, cycle).sends, ctx);
    }
    state.order.push(id);
    const notice: BroadcastNotice = { type: 'broadcast-delivered', id, origin: payload.origin, value: payload.value };
    for (const s of state.subscribers) ctx.tell(s, notice);
    if (state.config.publishDeliveries) ctx.publish(BROADCAST_TOPIC, { id, origin: payload.origin } satisfies BroadcastDelivery);
  }
}

function carryOutRumor(state: BroadcastState, sends: ReturnType<RumorSite<string, Payload, string>['tick']>['sends'], ctx: ActorContext<BroadcastMessage>): void {
  for (const s of sends) send(state, ctx, s.to, { type: 'bc-rumor', from: ctx.nodeName, msg: s.msg });
}

function carryOutAntiEntropy(state: BroadcastState, sends: ReturnType<AntiEntropySite<string, Payload, string>['tick']>['sends'], ctx: ActorContext<BroadcastMessage>): void {
  for (const s of sends) send(state, ctx, s.to, { type: 'bc-anti-entropy', from: ctx.nodeName, msg: s.msg });
}

/**
 * Rumors go to live members only (a rumor to a dead node is a wasted message); anti-entropy also
 * to members thought dead, so an exchange crosses a healed partition as soon as the network
 * allows, without waiting for membership to notice (failure detection decides whom the fast path
 * skips, never who eventually gets the values).
 */
function updatePeers(state: BroadcastState, self: string): void {
  const live: string[] = [];
  const reachable: string[] = [];
  for (const [name, memberState] of state.members) {
    if (name === self || memberState === 'left') continue;
    reachable.push(name);
    if (isActive(memberState)) live.push(name);
  }
  state.rumor.setPeers(live);
  state.antiEntropy.setPeers(reachable);
}

const isStrings = (x: unknown): x is string[] => Array.isArray(x) && x.every((s) => typeof s === 'string');

function isValues(x: unknown): boolean {
  return (
    Array.isArray(x) &&
    x.every((r: unknown) => {
      const u = r as { id?: unknown; value?: Payload | null };
      return typeof r === 'object' && r !== null && typeof u.id === 'string' && typeof u.value === 'object' && u.value !== null && typeof u.value.origin === 'string';
    })
  );
}

/**
 * Checks a message from another node against the wire format before the protocol sees it: types
 * vanish across nodes, and one malformed message must not crash the actor (and lose its values
 * with its state).
 */
function isWire(msg: BroadcastWire): boolean {
  if (typeof msg.from !== 'string' || typeof msg.msg !== 'object' || msg.msg === null) return false;
  const m = msg.msg;
  switch (m.type) {
    case 'rumor-push':
    case 'rumor-push-pull':
      return isValues(m.rumors);
    case 'rumor-pull':
      return true;
    case 'rumor-reply':
      return isValues(m.rumors) && isStrings(m.known) && isStrings(m.news);
    case 'rumor-feedback':
      return isStrings(m.known) && isStrings(m.news);
    case 'ae-digest':
      return isStrings(m.ids) && (m.mode === 'push' || m.mode === 'pull' || m.mode === 'push-pull');
    case 'ae-reply':
      return isValues(m.updates) && isStrings(m.wants);
    case 'ae-updates':
      return isValues(m.updates);
    default:
      return false;
  }
}

function sameRef(a: AnyRef, b: AnyRef): boolean {
  return a.node === b.node && a.nodeUid === b.nodeUid && a.path === b.path && a.uid === b.uid;
}

/** The broadcast actor. */
export const broadcastActor = defineActor<BroadcastMessage, BroadcastState, { readonly config: BroadcastConfig; readonly clusterNodes: readonly string[] }>({
  name: 'starling.broadcast',
  init(props, ctx) {
    const peers = props.clusterNodes.filter((n) => n !== ctx.nodeName);
    const random = (): number => ctx.random();
    return {
      config: props.config,
      rumor: new RumorSite<string, Payload, string>({ self: ctx.nodeName, peers, random, config: { mode: 'push', removal: 'blind', stop: 'counter', k: props.config.k } }),
      antiEntropy: new AntiEntropySite<string, Payload, string>({ self: ctx.nodeName, peers, random, config: { mode: 'push-pull' } }),
      order: [],
      subscribers: [],
      members: new Map(),
      idPrefix: `${ctx.nodeUid}.${Math.floor(ctx.random() * 0x1_0000_0000).toString(16).padStart(8, '0')}`,
      nextSeq: 1,
      valueCodec: new Codec({ maxMessageBytes: props.config.maxValueBytes }),
      malformedMessages: 0,
      rejectedValues: 0,
      oversizedMessages: 0,
    };
  },
  onStart(state, ctx) {
    ctx.timers.repeat('round', state.config.roundMs, { type: 'bc-round' });
    ctx.timers.repeat('anti-entropy', state.config.antiEntropyIntervalMs, { type: 'bc-anti-entropy-round' });
    // Peers from membership when the gossip plugin runs (otherwise this is a harmless dead letter).
    subscribeToMembership(ctx);
    return state;
  },
  receive(state, msg, ctx) {
    if (typeof msg !== 'object' || msg === null) {
      state.malformedMessages++;
      return state;
    }
    const cycle = cycleOf(ctx, state.config);
    switch (msg.type) {
      case 'bc-round': {
        const step = state.rumor.tick(cycle);
        carryOutRumor(state, step.sends, ctx);
        return state;
      }
      case 'bc-anti-entropy-round':
        carryOutAntiEntropy(state, state.antiEntropy.tick(cycle).sends, ctx);
        return state;
      case 'bc-rumor': {
        if (!isWire(msg) || !msg.msg.type.startsWith('rumor-')) break;
        const step = state.rumor.receive(msg.from, msg.msg, cycle);
        carryOutRumor(state, step.sends, ctx);
        learned(state, step.learned, 'rumor', ctx);
        return state;
      }
      case 'bc-anti-entropy': {
        if (!isWire(msg) || !msg.msg.type.startsWith('ae-')) break;
        const step = state.antiEntropy.receive(msg.from, msg.msg, cycle);
        carryOutAntiEntropy(state, step.sends, ctx);
        learned(state, step.learned, 'anti-entropy', ctx);
        return state;
      }
      case 'broadcast': {
        if (msg.replyTo !== undefined && !isActorRef(msg.replyTo)) break;
        // Refuse now what could never travel, rather than acknowledge it and fail later.
        try {
          state.valueCodec.encode(msg.value);
        } catch (err) {
          const code = err instanceof StarlingError ? err.code : 'UNENCODABLE_MESSAGE';
          state.rejectedValues++;
          if (msg.replyTo) ctx.tell(msg.replyTo, { type: 'broadcast-rejected', code, message: (err as Error).message });
          return state;
        }
        const id = `${state.idPrefix}:${state.nextSeq++}`;
        const payload: Payload = { origin: ctx.nodeName, value: msg.value };
        const step = state.rumor.update(id, payload, cycle);
        carryOutRumor(state, step.sends, ctx);
        learned(state, step.learned, 'rumor', ctx);
        if (msg.replyTo) ctx.tell(msg.replyTo, { type: 'broadcast-ok', id });
        return state;
      }
      case 'read': {
        const from = msg.fromIndex ?? 0;
        if (!isActorRef(msg.replyTo) || !Number.isSafeInteger(from) || from < 0) break;
        replyWithValues(state, ctx, msg.replyTo, from);
        return state;
      }
      case 'subscribe':
        if (!isActorRef(msg.subscriber)) break;
        if (!state.subscribers.some((s) => sameRef(s, msg.subscriber))) {
          state.subscribers.push(msg.subscriber);
          ctx.watch(msg.subscriber);
        }
        return state;
      case 'terminated': {
        if (!isActorRef(msg.ref)) break;
        const at = state.subscribers.findIndex((s) => sameRef(s, msg.ref));
        if (at >= 0) state.subscribers.splice(at, 1);
        return state;
      }
      case 'membership-snapshot':
        if (!isMembershipNotice(msg)) break;
        state.members.clear();
        for (const m of msg.members) state.members.set(m.name, m.state);
        updatePeers(state, ctx.nodeName);
        return state;
      case 'membership-event': {
        if (!isMembershipNotice(msg)) break;
        const { member } = msg.event;
        if (msg.event.type === 'member-reaped') state.members.delete(member.name);
        else state.members.set(member.name, member.state);
        updatePeers(state, ctx.nodeName);
        return state;
      }
      default:
        break;
    }
    state.malformedMessages++;
    return state;
  },
});

function resolveBroadcastConfig(raw: unknown): BroadcastConfig {
  if (raw === undefined) return DEFAULT_BROADCAST_CONFIG;
  if (typeof raw !== 'object' || raw === null) throw new InvalidArgumentError('INVALID_CONFIG', 'broadcast options must be an object');
  const out: Record<string, number | boolean> = { ...DEFAULT_BROADCAST_CONFIG };
  for (const [key, value] of Object.entries(raw)) {
    if (!(key in DEFAULT_BROADCAST_CONFIG)) throw new InvalidArgumentError('INVALID_CONFIG', `broadcast has no option '${key}'`);
    if (key === 'publishDeliveries') {
      if (typeof value !== 'boolean') throw new InvalidArgumentError('INVALID_CONFIG', 'broadcast.publishDeliveries must be a boolean');
    } else if (typeof value !== 'number' || !(value >= 1) || (key === 'k' && !Number.isInteger(value))) {
      throw new InvalidArgumentError('INVALID_CONFIG', `broadcast.${key} must be ${key === 'k' ? 'an integer' : 'a number'} >= 1, got ${String(value)}`);
    }
    out[key] = value as number | boolean;
  }
  return out as unknown as BroadcastConfig;
}

/** The broadcast plugin: `/system/broadcast` on every node. Runs with or without the gossip plugin. */
export const broadcastPlugin = definePlugin<BroadcastConfig>({
  name: 'starling.broadcast',
  module: import.meta.url,
  actors: [broadcastActor],
  options: resolveBroadcastConfig,
  setup(ctx) {
    ctx.spawn('system', broadcastActor, { config: ctx.options, clusterNodes: ctx.clusterNodes }, { name: 'broadcast' });
  },
});

/** The config entry of the broadcast plugin. */
export function useBroadcast(options?: Partial<BroadcastConfig>): PluginSpec {
  return options === undefined ? { module: broadcastPlugin.module, name: broadcastPlugin.name } : { module: broadcastPlugin.module, name: broadcastPlugin.name, options };
}
