/**
 * The naive broadcast, as the peer of `broadcast.*` benchmarks: on a `broadcast` request the node
 * sends the value straight to every other node of the cluster, once, and each node delivers what
 * it hears the first time. n - 1 messages per value and one link latency to stability on a perfect
 * network; nothing repairs a loss or a partition (a value sent across a cut is never delivered).
 *
 * It serves the same request shape as `/system/broadcast` and publishes the same `custom`
 * delivery events (topic {@link BROADCAST_TOPIC}, data {@link BroadcastDelivery}), so one measuring
 * loop reads both.
 */
import { type ActorRef, defineActor, definePlugin, type PluginSpec, selectActor } from '@starling/actors';
import { BROADCAST_TOPIC, type BroadcastDelivery, type BroadcastOk } from '../src/broadcast.ts';

/** Where the flood actor lives on every node. */
export const FLOOD_PATH = '/system/flood';

/** Requests the flood actor serves (the `broadcast` request of `/system/broadcast`). */
export type FloodRequest = { readonly type: 'broadcast'; readonly value: unknown; readonly replyTo?: ActorRef<BroadcastOk> };

/** What flood actors send each other: one value, straight from its origin. */
export interface FloodValue {
  readonly type: 'flood-value';
  readonly id: string;
  readonly origin: string;
  readonly value: unknown;
}

type FloodMessage = FloodRequest | FloodValue;

interface FloodState {
  readonly peers: readonly string[];
  /** Ids delivered here: a duplicate (the network may duplicate) is delivered once. */
  readonly delivered: Set<string>;
  nextSeq: number;
}

/** The typed ref of a node's flood actor. */
export function floodRef(node: string): ActorRef<FloodRequest> {
  return selectActor<FloodRequest>(node, FLOOD_PATH);
}

function isFloodValue(msg: FloodValue): boolean {
  return typeof msg.id === 'string' && typeof msg.origin === 'string';
}

export const floodActor = defineActor<FloodMessage, FloodState, { readonly clusterNodes: readonly string[] }>({
  name: 'starling.bench.flood',
  init: (props, ctx) => ({ peers: props.clusterNodes.filter((n) => n !== ctx.nodeName), delivered: new Set(), nextSeq: 1 }),
  receive(state, msg, ctx) {
    if (typeof msg !== 'object' || msg === null) return state;
    if (msg.type === 'broadcast') {
      const id = `${ctx.nodeUid}:${state.nextSeq++}`;
      state.delivered.add(id);
      ctx.publish(BROADCAST_TOPIC, { id, origin: ctx.nodeName } satisfies BroadcastDelivery);
      const wire: FloodValue = { type: 'flood-value', id, origin: ctx.nodeName, value: msg.value };
      for (const peer of state.peers) ctx.tell(selectActor<FloodValue>(peer, FLOOD_PATH), wire);
      if (msg.replyTo) ctx.tell(msg.replyTo, { type: 'broadcast-ok', id });
    } else if (msg.type === 'flood-value' && isFloodValue(msg) && !state.delivered.has(msg.id)) {
      state.delivered.add(msg.id);
      ctx.publish(BROADCAST_TOPIC, { id: msg.id, origin: msg.origin } satisfies BroadcastDelivery);
    }
    return state;
  },
});

/** The flood plugin: `/system/flood` on every node, peers from the cluster's node list. No options. */
export const floodPlugin = definePlugin({
  name: 'starling.bench.flood',
  module: import.meta.url,
  actors: [floodActor],
  setup(ctx) {
    ctx.spawn('system', floodActor, { clusterNodes: ctx.clusterNodes }, { name: 'flood' });
  },
});

/** The config entry of the flood plugin. */
export function useFlood(): PluginSpec {
  return { module: floodPlugin.module, name: floodPlugin.name };
}
