/**
 * The example cluster's actor: every node runs a beacon that, on a jittered timer, tells a random
 * peer's beacon that it is alive, and remembers when it last heard from each peer. Asking every
 * beacon for its view draws who can hear whom, which makes partitions and crashes visible.
 */
import { type ActorRef, defineActor, definePlugin, selectActor } from '@starling/actors';

export type BeaconMsg =
  | { type: 'beat' }
  | { type: 'heard'; from: string }
  | { type: 'view'; replyTo: ActorRef<BeaconView> };

/** When this beacon last heard from each peer, in ms of runtime time. */
export interface BeaconView {
  readonly node: string;
  readonly atMs: number;
  readonly lastHeardMs: Readonly<Record<string, number>>;
}

export interface BeaconOptions {
  /** Every node of the cluster. */
  readonly peers: readonly string[];
  /** Mean time between beats, in ms. */
  readonly intervalMs: number;
}

interface BeaconState {
  readonly peers: readonly string[];
  readonly intervalMs: number;
  readonly lastHeardMs: Record<string, number>;
}

export const beacon = defineActor({
  name: 'example.beacon',
  init(props: BeaconOptions, ctx): BeaconState {
    ctx.timers.once('beat', ctx.random() * props.intervalMs, { type: 'beat' });
    return { peers: props.peers, intervalMs: props.intervalMs, lastHeardMs: {} };
  },
  receive(state, msg: BeaconMsg, ctx) {
    switch (msg.type) {
      case 'beat': {
        for (const peer of state.peers) {
          if (peer !== ctx.nodeName) ctx.tell(selectActor<BeaconMsg>(peer, '/user/beacon'), { type: 'heard', from: ctx.nodeName });
        }
        // Jitter keeps the nodes from beating in lockstep.
        ctx.timers.once('beat', state.intervalMs * (0.5 + ctx.random()), { type: 'beat' });
        return state;
      }
      case 'heard':
        state.lastHeardMs[msg.from] = ctx.now();
        return state;
      case 'view':
        ctx.tell(msg.replyTo, { node: ctx.nodeName, atMs: ctx.now(), lastHeardMs: { ...state.lastHeardMs } });
        return state;
    }
  },
});

export const beaconPlugin = definePlugin<BeaconOptions>({
  name: 'example.beacon',
  module: import.meta.url,
  actors: [beacon],
  setup(node) {
    node.spawn('user', beacon, node.options, { name: 'beacon' });
  },
});
