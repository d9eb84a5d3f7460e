/**
 * The membership plugin: `/system/gossip` on every node, a thin actor around the {@link Swim}
 * state machine. It carries out the machine's effects (sends, timers, events) and is the
 * runtime's failure detector: members declared dead or left are reported down, so cross-node
 * `watch` delivers `Terminated` with reason `node-down`.
 */
import {
  type ActorContext,
  type ActorRef,
  type AnyRef,
  defineActor,
  definePlugin,
  InvalidArgumentError,
  isActorRef,
  type PluginSpec,
  selectActor,
  type Terminated,
} from '@starling/actors';
import { resolveSwimConfig, type SwimConfig } from './config.ts';
import { MEMBERSHIP_TOPIC, type MembershipEvent } from './events.ts';
import type { MemberIdentity, MemberInfo } from './member.ts';
import { isMemberIdentity, isSwimMessage, type SwimMessage } from './messages.ts';
import { Swim, type SwimCounters, type SwimEffect } from './swim.ts';

/** Where the membership actor lives on every node. */
export const GOSSIP_PATH = '/system/gossip';

/** Options of the gossip plugin: every SWIM knob, plus the seeds to join through. */
export interface GossipOptions extends Partial<SwimConfig> {
  /** Node names to join through. Default: the first three nodes of the cluster config. */
  readonly seeds?: readonly string[];
  /** Join at start (default true). With false the node waits for a `join` request. */
  readonly joinAtStart?: boolean;
}

/** Options after validation. */
export interface ResolvedGossipOptions {
  readonly swim: SwimConfig;
  readonly seeds: readonly string[] | undefined;
  readonly joinAtStart: boolean;
}

/** One node's view of the cluster. */
export interface MembershipSnapshot {
  readonly type: 'membership-snapshot';
  readonly node: string;
  readonly nodeUid: string;
  /** This node's SWIM incarnation number. */
  readonly incarnation: number;
  /** Lifeguard's local health score (0 = healthy; probes slow down by `health + 1`). */
  readonly health: number;
  /** Every member, this node included, in name order. */
  readonly members: readonly MemberInfo[];
  readonly counters: Readonly<SwimCounters> & { readonly malformedMessages: number };
}

/** What a subscriber receives: the current view first, then every change. */
export type MembershipNotice = MembershipSnapshot | { readonly type: 'membership-event'; readonly event: MembershipEvent };

const MEMBER_STATES: ReadonlySet<string> = new Set(['alive', 'suspect', 'dead', 'left']);

function isMemberInfo(x: unknown): x is MemberInfo {
  const m = x as MemberInfo;
  return typeof x === 'object' && x !== null && typeof m.name === 'string' && typeof m.uid === 'string' && MEMBER_STATES.has(m.state) && Number.isSafeInteger(m.incarnation);
}

/** Checks a membership notice from outside (a subscriber's mailbox also takes messages from other nodes). */
export function isMembershipNotice(x: unknown): x is MembershipNotice {
  if (typeof x !== 'object' || x === null) return false;
  const n = x as MembershipNotice;
  if (n.type === 'membership-snapshot') return Array.isArray(n.members) && n.members.every(isMemberInfo);
  return n.type === 'membership-event' && typeof n.event === 'object' && n.event !== null && typeof n.event.type === 'string' && isMemberInfo(n.event.member);
}

/** Requests the membership actor serves. */
export type GossipRequest =
  /** Sends the subscriber a snapshot, then every membership event, until it stops or unsubscribes. */
  | { readonly type: 'subscribe'; readonly subscriber: ActorRef<MembershipNotice> }
  | { readonly type: 'unsubscribe'; readonly subscriber: ActorRef<MembershipNotice> }
  | { readonly type: 'snapshot'; readonly replyTo: ActorRef<MembershipSnapshot> }
  /**
   * A static bootstrap: these starts of other nodes enter the view alive, without gossip. For
   * experiments that start from a converged view (see `introduceAll`); a real cluster joins.
   */
  | { readonly type: 'introduce'; readonly members: readonly MemberIdentity[] }
  /** Joins (again, after a leave) through these node names. */
  | { readonly type: 'join'; readonly seeds: readonly string[] }
  /** Leaves gracefully; the reply comes once the leave is announced. */
  | { readonly type: 'leave'; readonly replyTo?: ActorRef<{ readonly type: 'left' }> };

/** A protocol timer firing. `token` is drawn at each start of the actor: no other actor can drive the protocol's clock. */
type TimerFired = { readonly type: 'swim-timer'; readonly key: string; readonly token: number };

/** Everything `/system/gossip` accepts. */
export type GossipMessage = GossipRequest | SwimMessage | TimerFired | Terminated;

/**
 * What must outlive a restart of the actor while the node (and its uid) lives on, kept in the
 * node's disk area under the node uid (principle 8: durable state lives outside actor state). A
 * restarted actor keeps speaking with this start's time and incarnation, stays out if it had left,
 * and keeps its subscribers. A new start of the node has a new uid, so it never reads an old record.
 */
interface DurableRecord {
  readonly startedAtMs: number;
  incarnation: number;
  hasLeft: boolean;
  readonly subscribers: ActorRef<MembershipNotice>[];
}

interface GossipState {
  readonly swim: Swim;
  /** Seeds to join through at start (and after a restart of this actor). */
  readonly startSeeds: readonly string[];
  readonly record: DurableRecord;
  readonly timerToken: number;
  malformedMessages: number;
}

const DISK_AREA = 'starling.gossip';

/** The typed ref of a node's membership actor. */
export function gossipRef(node: string): ActorRef<GossipRequest> {
  return selectActor<GossipRequest>(node, GOSSIP_PATH);
}

/**
 * Subscribes the calling actor to its node's membership: it receives a snapshot, then every
 * event, as {@link MembershipNotice}s. Without the gossip plugin this is a harmless dead letter.
 */
export function subscribeToMembership(ctx: { readonly nodeName: string; readonly self: AnyRef; tell<M>(to: ActorRef<M>, msg: M): void }): void {
  ctx.tell(gossipRef(ctx.nodeName), { type: 'subscribe', subscriber: ctx.self as ActorRef<MembershipNotice> });
}

function sameSubscriber(a: AnyRef, b: AnyRef): boolean {
  return a.node === b.node && a.nodeUid === b.nodeUid && a.path === b.path && a.uid === b.uid;
}

function snapshotOf(state: GossipState, ctx: ActorContext<GossipMessage>): MembershipSnapshot {
  const { swim } = state;
  return {
    type: 'membership-snapshot',
    node: ctx.nodeName,
    nodeUid: ctx.nodeUid,
    incarnation: swim.incarnation,
    health: swim.health,
    members: swim.view(),
    counters: { ...swim.counters, malformedMessages: state.malformedMessages },
  };
}

/** Requests carry refs to reply to; a request from another node may lack them (types vanish across nodes). */
function isWellFormedRequest(msg: GossipMessage): boolean {
  switch (msg.type) {
    case 'subscribe':
    case 'unsubscribe':
      return isActorRef(msg.subscriber);
    case 'snapshot':
      return isActorRef(msg.replyTo);
    case 'leave':
      return msg.replyTo === undefined || isActorRef(msg.replyTo);
    case 'swim-timer':
      return typeof msg.key === 'string';
    case 'terminated':
      return isActorRef(msg.ref);
    default:
      return true;
  }
}

/** Carries out what the protocol asked for, and keeps the durable record current. */
function apply(state: GossipState, ctx: ActorContext<GossipMessage>): void {
  for (const effect of state.swim.takeEffects()) carryOut(effect, state, ctx);
  state.record.incarnation = state.swim.incarnation;
  state.record.hasLeft = state.swim.hasLeft;
}

function carryOut(effect: SwimEffect, state: GossipState, ctx: ActorContext<GossipMessage>): void {
  switch (effect.kind) {
    case 'send': {
      const ref: ActorRef<SwimMessage> = { node: effect.to.name, nodeUid: effect.to.uid ?? '', path: GOSSIP_PATH, uid: 0 };
      ctx.tell(ref, effect.msg);
      return;
    }
    case 'set-timer':
      ctx.timers.once(effect.key, effect.afterMs, { type: 'swim-timer', key: effect.key, token: state.timerToken });
      return;
    case 'cancel-timer':
      ctx.timers.cancel(effect.key);
      return;
    case 'event':
      ctx.publish(MEMBERSHIP_TOPIC, effect.event);
      for (const s of state.record.subscribers) ctx.tell(s, { type: 'membership-event', event: effect.event });
      return;
    case 'reachability':
      ctx.reportReachability({ node: effect.node, nodeUid: effect.uid, status: effect.status });
      return;
  }
}

/** The membership actor. */
export const gossipActor = defineActor<GossipMessage, GossipState, { readonly swim: SwimConfig; readonly startSeeds: readonly string[] }>({
  name: 'starling.gossip',
  init(props, ctx) {
    const area = ctx.disk.area<DurableRecord>(DISK_AREA);
    let record = area.get(ctx.nodeUid);
    if (!record) {
      // Earlier starts' records are of no use to this one.
      area.clear();
      record = { startedAtMs: ctx.now(), incarnation: 0, hasLeft: false, subscribers: [] };
      area.set(ctx.nodeUid, record);
    }
    const swim = new Swim({ name: ctx.nodeName, uid: ctx.nodeUid, startedAtMs: record.startedAtMs }, props.swim, () => ctx.random(), record);
    return { swim, startSeeds: props.startSeeds, record, timerToken: Math.floor(ctx.random() * 0x1_0000_0000), malformedMessages: 0 };
  },
  onStart(state, ctx) {
    // Watches end with the old incarnation of the actor: renew them for the subscribers it keeps.
    for (const s of state.record.subscribers) ctx.watch(s);
    state.swim.start(ctx.now(), state.startSeeds);
    apply(state, ctx);
    return state;
  },
  receive(state, msg, ctx) {
    if (typeof msg !== 'object' || msg === null) {
      state.malformedMessages++;
      return state;
    }
    if (!isWellFormedRequest(msg)) {
      state.malformedMessages++;
      return state;
    }
    switch (msg.type) {
      case 'swim-timer':
        if (msg.token !== state.timerToken) {
          state.malformedMessages++;
          return state;
        }
        state.swim.timer(msg.key, ctx.now());
        break;
      case 'subscribe':
        if (!state.record.subscribers.some((s) => sameSubscriber(s, msg.subscriber))) state.record.subscribers.push(msg.subscriber);
        ctx.watch(msg.subscriber);
        ctx.tell(msg.subscriber, snapshotOf(state, ctx));
        return state;
      case 'unsubscribe': {
        const at = state.record.subscribers.findIndex((s) => sameSubscriber(s, msg.subscriber));
        if (at >= 0) {
          state.record.subscribers.splice(at, 1);
          ctx.unwatch(msg.subscriber);
        }
        return state;
      }
      case 'terminated': {
        const at = state.record.subscribers.findIndex((s) => sameSubscriber(s, msg.ref));
        if (at >= 0) state.record.subscribers.splice(at, 1);
        return state;
      }
      case 'snapshot':
        ctx.tell(msg.replyTo, snapshotOf(state, ctx));
        return state;
      case 'join':
        if (!Array.isArray(msg.seeds) || !msg.seeds.every((s) => typeof s === 'string')) {
          state.malformedMessages++;
          return state;
        }
        state.swim.join(ctx.now(), msg.seeds);
        break;
      case 'introduce':
        if (!Array.isArray(msg.members) || !msg.members.every(isMemberIdentity)) {
          state.malformedMessages++;
          return state;
        }
        state.swim.introduce(msg.members, ctx.now());
        break;
      case 'leave':
        state.swim.leave(ctx.now());
        apply(state, ctx);
        if (msg.replyTo) ctx.tell(msg.replyTo, { type: 'left' });
        return state;
      default:
        // From another node: check the shape before the protocol sees it.
        if (!isSwimMessage(msg)) {
          state.malformedMessages++;
          return state;
        }
        if (!state.swim.receive(msg, ctx.now())) state.malformedMessages++;
    }
    apply(state, ctx);
    return state;
  },
});

const DEFAULT_SEED_COUNT = 3;

function resolveGossipOptions(raw: unknown): ResolvedGossipOptions {
  if (raw === undefined) return { swim: resolveSwimConfig(undefined), seeds: undefined, joinAtStart: true };
  if (typeof raw !== 'object' || raw === null) throw new InvalidArgumentError('INVALID_CONFIG', 'gossip options must be an object');
  const { seeds, joinAtStart, ...swim } = raw as GossipOptions;
  if (seeds !== undefined && (!Array.isArray(seeds) || !seeds.every((s) => typeof s === 'string'))) {
    throw new InvalidArgumentError('INVALID_CONFIG', 'gossip.seeds must be a list of node names');
  }
  if (joinAtStart !== undefined && typeof joinAtStart !== 'boolean') throw new InvalidArgumentError('INVALID_CONFIG', 'gossip.joinAtStart must be a boolean');
  return { swim: resolveSwimConfig(swim), seeds, joinAtStart: joinAtStart ?? true };
}

/**
 * The membership plugin. Add it to a cluster config with {@link useGossip}; every node then runs
 * SWIM as `/system/gossip`, reports deaths to the runtime (cross-node `watch`), and publishes
 * membership events (topic {@link MEMBERSHIP_TOPIC}; read them with `onMembership` or a
 * `MembershipTracker`). Turn the host's perfect detector off (`hostFailureDetector: false`) to
 * let gossip alone decide.
 */
export const gossipPlugin = definePlugin<ResolvedGossipOptions>({
  name: 'starling.gossip',
  module: import.meta.url,
  actors: [gossipActor],
  options: resolveGossipOptions,
  setup(ctx) {
    const seeds = ctx.options.seeds ?? ctx.clusterNodes.slice(0, DEFAULT_SEED_COUNT);
    ctx.spawn('system', gossipActor, { swim: ctx.options.swim, startSeeds: ctx.options.joinAtStart ? seeds : [] }, { name: 'gossip' });
  },
});

/** The config entry of the membership plugin: `plugins: [useGossip({ probeIntervalMs: 500 })]`. */
export function useGossip(options?: GossipOptions): PluginSpec {
  return options === undefined
    ? { module: gossipPlugin.module, name: gossipPlugin.name }
    : { module: gossipPlugin.module, name: gossipPlugin.name, options };
}
