/**
 * A user's own actor, load-tested with `pnpm demo load`: a grow-only counter (a G-Counter CRDT,
 * Shapiro et al. 2011) on every node. An increment is counted in the receiving node's own slot and
 * acknowledged at once; every `gossipIntervalMs` each node sends its slots to every peer, which
 * keeps the larger count of each slot, so all nodes converge on the same total whatever the
 * network did in between.
 *
 * Slots are per start of a node (name and uid): a node restarted empty (in threads, its disk dies
 * with its worker) starts a fresh slot instead of counting again from zero in one its peers
 * remember as larger. The slots live on the node's disk, so in simulation and local runtimes a
 * restart keeps them.
 */
import { type ActorRef, definePlugin, defineActor, selectActor } from '@starling/actors';

export type TallyMsg =
  | { readonly type: 'incr'; readonly replyTo: ActorRef<TallyValue> }
  | { readonly type: 'read'; readonly replyTo: ActorRef<TallyValue> }
  | { readonly type: 'merge'; readonly slots: Readonly<Record<string, number>> }
  | { readonly type: 'gossip' };

export interface TallyValue {
  readonly type: 'tally';
  readonly node: string;
  readonly total: number;
}

export interface TallyOptions {
  /** How often a node sends its slots to its peers, in ms. */
  readonly gossipIntervalMs: number;
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
  readonly gossipIntervalMs: number;
}

function total(slots: ReadonlyMap<string, number>): number {
  let t = 0;
  for (const n of slots.values()) t += n;
  return t;
}

export const tallyActor = defineActor({
  name: 'example.tally',
  init(props: TallyProps, ctx): TallyState {
    ctx.timers.repeat('gossip', props.gossipIntervalMs, { type: 'gossip' });
    // The disk's map is the state: what survives a crash of the actor (and, off threads, of the node).
    return { peers: props.peers, slots: ctx.disk.area<number>('example.tally'), own: `${ctx.nodeName}@${ctx.nodeUid}`, gossipIntervalMs: props.gossipIntervalMs };
  },
  receive(state, msg: TallyMsg, ctx) {
    switch (msg.type) {
      case 'incr':
        state.slots.set(state.own, (state.slots.get(state.own) ?? 0) + 1);
        ctx.tell(msg.replyTo, { type: 'tally', node: ctx.nodeName, total: total(state.slots) });
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
        return state;
      case 'gossip': {
        const slots = Object.fromEntries(state.slots);
        for (const peer of state.peers) if (peer !== ctx.nodeName) ctx.tell(selectActor<TallyMsg>(peer, TALLY_PATH), { type: 'merge', slots });
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
    return { gossipIntervalMs: o.gossipIntervalMs ?? 200 };
  },
  setup(node) {
    node.spawn('user', tallyActor, { ...node.options, peers: node.clusterNodes }, { name: 'tally' });
  },
});
