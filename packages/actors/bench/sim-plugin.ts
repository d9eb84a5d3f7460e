/**
 * The plugin of the `sim.inter_node` benchmark: forwarders that pass a token on to a forwarder on
 * another node until its hops run out, and the tally that ends a round. The host spawns one
 * forwarder per node and links them, so every forward is a cross-node tell (encoded at the tell,
 * decoded at delivery).
 */
import { type ActorRef, defineActor, definePlugin } from '@starling/actors';
import { tally, type TallyMsg } from './tally.ts';

/** A token in flight. `from` is the sender, as a reply-to would be in a real protocol. */
export interface Hop {
  readonly type: 'hop';
  readonly hops: number;
  readonly from: ActorRef<ForwarderMsg>;
}

export interface Link {
  readonly type: 'link';
  readonly index: number;
  readonly peers: readonly ActorRef<ForwarderMsg>[];
  readonly sink: ActorRef<TallyMsg>;
}

export type ForwarderMsg = Hop | Link;

interface Links {
  readonly index: number;
  readonly peers: readonly ActorRef<ForwarderMsg>[];
  readonly sink: ActorRef<TallyMsg>;
}

/** The peer a token with `hops` left goes to: never this node, and spread over every other. */
export function nextPeer(index: number, hops: number, nodes: number): number {
  return (index + 1 + (hops % (nodes - 1))) % nodes;
}

export const forwarder = defineActor({
  name: 'bench-forwarder',
  init: (): Links | null => null,
  receive(links, msg: ForwarderMsg, ctx) {
    if (msg.type === 'link') return { index: msg.index, peers: msg.peers, sink: msg.sink };
    if (links === null) throw new Error('bench-forwarder: a token arrived before the link');
    if (msg.hops > 0) {
      const to = links.peers[nextPeer(links.index, msg.hops, links.peers.length)]!;
      ctx.tell(to, { type: 'hop', hops: msg.hops - 1, from: ctx.self });
    } else {
      ctx.tell(links.sink, { type: 'done' });
    }
    return links;
  },
});

export const interNodeBenchPlugin = definePlugin({
  name: 'bench-inter-node',
  module: import.meta.url,
  actors: [forwarder, tally],
});
