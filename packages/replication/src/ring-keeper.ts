/**
 * `/system/ring`: each node's copy of the ring (principle 7). The ring changes only by an explicit
 * join or leave, which only the claimant named in the ring commits (another node forwards the
 * change to it; while the claimant is unreachable the change waits, so two rings of one version
 * never exist). A committed ring spreads by gossip: every `ringGossipIntervalMs` each node sends
 * its ring to one random member, and a node adopts any valid ring with a higher version, then
 * tells its coordinator.
 *
 * Moving data to new owners when the ring changes is the transfer's job (a later issue); until
 * then a change re-routes requests without moving what is stored.
 */
import { type ActorContext, type ActorRef, defineActor, isActorRef, selectActor, StarlingError } from '@starling/actors';
import { COORDINATOR_PATH } from './coordinator.ts';
import { isRing, joinRing, leaveRing, type Ring, type RingMember } from './ring.ts';
import { savedRing, saveRing } from './ring-disk.ts';

/** Where the ring keeper lives on every node. */
export const RING_PATH = '/system/ring';

/** A ring change, as a client asks for it. */
export type RingChange = { readonly kind: 'join'; readonly member: RingMember } | { readonly kind: 'leave'; readonly node: string };

/** The answer to a change: the committed ring's version, or why not. */
export type RingChangeReply = { readonly type: 'ring-committed'; readonly version: number } | { readonly type: 'ring-refused'; readonly code: string; readonly message: string };

/** What the ring keeper accepts. */
export type RingMessage =
  | { readonly type: 'ring-get'; readonly replyTo: ActorRef<{ readonly type: 'ring'; readonly ring: Ring }> }
  | { readonly type: 'ring-change'; readonly change: RingChange; readonly replyTo: ActorRef<RingChangeReply> }
  /** Gossip: another node's ring. */
  | { readonly type: 'ring-state'; readonly ring: Ring }
  | { readonly type: 'ring-gossip-tick' };

/** What the coordinator on the same node hears when the ring changes. */
export interface RingUpdated {
  readonly type: 'ring-updated';
  readonly ring: Ring;
}

interface RingState {
  ring: Ring;
  readonly gossipIntervalMs: number;
  malformedMessages: number;
}

function isChange(x: unknown): x is RingChange {
  const c = x as RingChange;
  if (typeof x !== 'object' || x === null) return false;
  if (c.kind === 'leave') return typeof c.node === 'string';
  return c.kind === 'join' && typeof c.member === 'object' && c.member !== null && typeof c.member.node === 'string' && typeof c.member.weight === 'number';
}

function adopt(state: RingState, ring: Ring, ctx: ActorContext<RingMessage>): void {
  state.ring = ring;
  saveRing(ctx.disk, ring);
  ctx.tell(selectActor<RingUpdated>(ctx.nodeName, COORDINATOR_PATH), { type: 'ring-updated', ring });
}

/** The ring keeper. */
export const ringKeeperActor = defineActor<RingMessage, RingState, { readonly ring: Ring; readonly gossipIntervalMs: number }>({
  name: 'starling.ring',
  init(props, ctx) {
    const saved = savedRing(ctx.disk);
    return { ring: saved !== undefined && saved.version > props.ring.version ? saved : props.ring, gossipIntervalMs: props.gossipIntervalMs, malformedMessages: 0 };
  },
  onStart(state, ctx) {
    ctx.timers.repeat('gossip', state.gossipIntervalMs, { type: 'ring-gossip-tick' });
    return state;
  },
  receive(state, msg, ctx) {
    if (typeof msg !== 'object' || msg === null) {
      state.malformedMessages++;
      return state;
    }
    switch (msg.type) {
      case 'ring-gossip-tick': {
        const others = state.ring.members.filter((m) => m.node !== ctx.nodeName);
        if (others.length > 0) {
          const to = others[Math.floor(ctx.random() * others.length)]!.node;
          ctx.tell(selectActor<RingMessage>(to, RING_PATH), { type: 'ring-state', ring: state.ring });
        }
        return state;
      }
      case 'ring-state':
        if (!isRing(msg.ring)) break;
        if (msg.ring.version > state.ring.version) adopt(state, msg.ring, ctx);
        return state;
      case 'ring-get':
        if (!isActorRef(msg.replyTo)) break;
        ctx.tell(msg.replyTo, { type: 'ring', ring: state.ring });
        return state;
      case 'ring-change': {
        if (!isActorRef(msg.replyTo) || !isChange(msg.change)) break;
        const { claimant } = state.ring;
        if (claimant !== ctx.nodeName) {
          // Only the claimant commits; the reply goes straight back from it.
          ctx.tell(selectActor<RingMessage>(claimant, RING_PATH), msg);
          return state;
        }
        try {
          const next = msg.change.kind === 'join' ? joinRing(state.ring, msg.change.member, ctx.nodeName) : leaveRing(state.ring, msg.change.node, ctx.nodeName);
          adopt(state, next, ctx);
          // A leaving node is no longer a gossip target: tell it directly that it left.
          if (msg.change.kind === 'leave' && msg.change.node !== ctx.nodeName) ctx.tell(ringRef(msg.change.node), { type: 'ring-state', ring: next });
          ctx.tell(msg.replyTo, { type: 'ring-committed', version: next.version });
        } catch (err) {
          if (!(err instanceof StarlingError)) throw err;
          ctx.tell(msg.replyTo, { type: 'ring-refused', code: String(err.code), message: err.message });
        }
        return state;
      }
      default:
        break;
    }
    state.malformedMessages++;
    return state;
  },
});

/** The typed ref of a node's ring keeper. */
export function ringRef(node: string): ActorRef<RingMessage> {
  return selectActor<RingMessage>(node, RING_PATH);
}

export { savedRing };
