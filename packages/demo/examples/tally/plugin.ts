/**
 * A user's own actor, load-tested with `pnpm demo load`: a grow-only counter (a G-Counter CRDT,
 * Shapiro et al. 2011) on every node. An increment is counted in the receiving node's own slot,
 * copied to one peer, and acknowledged once that peer has it, so no single crash (or disk wiped)
 * loses an acknowledged increment; every `gossipIntervalMs` each node sends all its slots to every
 * peer, which keeps the larger count of each slot, so all nodes converge on the same total
 * whatever the network did in between.
 *
 * Slots are per start of a node (name and uid): a node restarted empty (in threads, its disk dies
 * with its worker) starts a fresh slot instead of counting again from zero in one its peers
 * remember as larger. The slots live on the node's disk, so in simulation and local runtimes a
 * restart keeps them.
 */
import { type ActorContext, type ActorRef, definePlugin, defineActor, isActorRef, selectActor } from '@starling/actors';

export type TallyMsg =
  | { readonly type: 'incr'; readonly replyTo: ActorRef<TallyReply> }
  | { readonly type: 'read'; readonly replyTo: ActorRef<TallyReply> }
  /** Slots from a peer; with `replyTo`, the peer waits to hear they are merged. */
  | { readonly type: 'merge'; readonly slots: Readonly<Record<string, number>>; readonly replyTo?: ActorRef<Merged> }
  | { readonly type: 'gossip' }
  /** How copying an increment to a peer went (`tried` peers so far). */
  | { readonly type: 'copied'; readonly ok: boolean; readonly tried: number; readonly first: number; readonly replyTo: ActorRef<TallyReply> };

export interface Merged {
  readonly type: 'merged';
}

export type TallyReply =
  | { readonly type: 'tally'; readonly node: string; readonly total: number }
  /** Counted here, but no peer confirmed a copy: the increment may or may not survive a crash of this node. */
  | { readonly type: 'tally-uncopied'; readonly node: string };

export interface TallyOptions {
  /** How often a node sends its slots to its peers, in ms. */
  readonly gossipIntervalMs: number;
  /** How long a copy to one peer may take before the next peer is tried, in ms. */
  readonly copyTimeoutMs: number;
}

/** Where the tally runs on every node. */
export const TALLY_PATH = '/user/tally';

interface TallyProps extends TallyOptions {
  /** Every node of the cluster. */
  readonly peers: readonly string[];
}

interface TallyState {
  readonly peers: readonly string[];
  readonly slots: Map<string, number>;
  readonly own: string;
  readonly copyTimeoutMs: number;
}

function total(slots: ReadonlyMap<string, number>): number {
  let t = 0;
  for (const n of slots.values()) t += n;
  return t;
}

const tallyRef = (node: string): ActorRef<TallyMsg> => selectActor<TallyMsg>(node, TALLY_PATH);

/** Copies this node's slot to the `tried`-th peer after `first` (in turn), reporting back as `copied`. */
function copy(state: TallyState, ctx: ActorContext<TallyMsg>, first: number, tried: number, replyTo: ActorRef<TallyReply>): void {
  const others = state.peers.filter((p) => p !== ctx.nodeName);
  const peer = others[(first + tried) % others.length]!;
  const slots = { [state.own]: state.slots.get(state.own) ?? 0 };
  ctx.pipeToSelf(
    ctx.ask<TallyMsg, Merged>(tallyRef(peer), (r) => ({ type: 'merge', slots, replyTo: r }), { timeoutMs: state.copyTimeoutMs }),
    (result): TallyMsg => ({ type: 'copied', ok: result.ok, tried: tried + 1, first, replyTo }),
  );
}

export const tallyActor = defineActor<TallyMsg, TallyState, TallyProps>({
  name: 'example.tally',
  init(props: TallyProps, ctx): TallyState {
    ctx.timers.repeat('gossip', props.gossipIntervalMs, { type: 'gossip' });
    // The disk's map is the state: what survives a crash of the actor (and, off threads, of the node).
    return { peers: props.peers, slots: ctx.disk.area<number>('example.tally'), own: `${ctx.nodeName}@${ctx.nodeUid}`, copyTimeoutMs: props.copyTimeoutMs };
  },
  receive(state, msg: TallyMsg, ctx) {
    switch (msg.type) {
      case 'incr':
        state.slots.set(state.own, (state.slots.get(state.own) ?? 0) + 1);
        if (state.peers.length < 2) ctx.tell(msg.replyTo, { type: 'tally', node: ctx.nodeName, total: total(state.slots) });
        else copy(state, ctx, Math.floor(ctx.random() * (state.peers.length - 1)), 0, msg.replyTo);
        return state;
      case 'copied':
        if (msg.ok) ctx.tell(msg.replyTo, { type: 'tally', node: ctx.nodeName, total: total(state.slots) });
        else if (msg.tried < state.peers.length - 1) copy(state, ctx, msg.first, msg.tried, msg.replyTo);
        else ctx.tell(msg.replyTo, { type: 'tally-uncopied', node: ctx.nodeName });
        return state;
      case 'read':
        ctx.tell(msg.replyTo, { type: 'tally', node: ctx.nodeName, total: total(state.slots) });
        return state;
      case 'merge':
        // Input from another node: only finite non-negative counts are merged.
        if (typeof msg.slots !== 'object' || msg.slots === null) return state;
        for (const [slot, n] of Object.entries(msg.slots)) {
          if (Number.isSafeInteger(n) && n >= 0 && n > (state.slots.get(slot) ?? 0)) state.slots.set(slot, n);
        }
        if (isActorRef(msg.replyTo)) ctx.tell(msg.replyTo, { type: 'merged' });
        return state;
      case 'gossip': {
        const slots = Object.fromEntries(state.slots);
        for (const peer of state.peers) if (peer !== ctx.nodeName) ctx.tell(tallyRef(peer), { type: 'merge', slots });
        return state;
      }
    }
  },
});

export const tallyPlugin = definePlugin<TallyOptions>({
  name: 'example.tally',
  module: import.meta.url,
  actors: [tallyActor],
  options: (raw) => {
    const o = (raw ?? {}) as Partial<TallyOptions>;
    return { gossipIntervalMs: o.gossipIntervalMs ?? 200, copyTimeoutMs: o.copyTimeoutMs ?? 250 };
  },
  setup(node) {
    node.spawn('user', tallyActor, { ...node.options, peers: node.clusterNodes }, { name: 'tally' });
  },
});
