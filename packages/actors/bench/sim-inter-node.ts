/**
 * `sim.inter_node`: messages delivered between simulated nodes, each forward a cross-node tell
 * that the runtime encodes and decodes with its codec, beside that codec alone encoding and
 * decoding envelopes of exactly the runtime's shape (`{ kind: 'user', to, msg }`) around the same
 * messages. The network is the default perfect one (zero latency, no faults), so the figure is
 * the runtime's own cost per message, not the network model's delays.
 */
import { type ActorRef, Codec, type SimulationCluster, startCluster, usePlugin } from '@starling/actors';
import { type BenchGroup, type Contender, result } from '../../../scripts/bench/types.ts';
import { measured } from './measured.ts';
import { type ForwarderMsg, forwarder, type Hop, interNodeBenchPlugin, nextPeer } from './sim-plugin.ts';
import { tally, type TallyMsg } from './tally.ts';

const UNIT = 'msg/s';
const NODES = 12;
/** Tokens in flight at once, spread over the nodes. */
const TOKENS = 1200;
/** Virtual time never advances on a zero-latency network; this only bounds a stuck round. */
const ROUND_VIRTUAL_TIMEOUT_MS = 60_000;

const STARLING = 'starling simulation';
const CODEC = 'codec encode+decode (same envelopes)';

/** Spawns a forwarder on every node and a tally on the first, and links them. */
async function spawnForwarders(cluster: SimulationCluster): Promise<{ fwd: ActorRef<ForwarderMsg>[]; sink: ActorRef<TallyMsg> }> {
  const fwd: ActorRef<ForwarderMsg>[] = [];
  for (const node of cluster.nodes) fwd.push(await cluster.spawn(node, forwarder, undefined, { name: 'fwd' }));
  const sink = await cluster.spawn(cluster.nodes[0]!, tally, undefined, { name: 'sink' });
  fwd.forEach((ref, index) => cluster.tell(ref, { type: 'link', index, peers: fwd, sink }));
  return { fwd, sink };
}

function clusterContender(cluster: SimulationCluster, fwd: readonly ActorRef<ForwarderMsg>[], sink: ActorRef<TallyMsg>): Contender {
  return {
    name: STARLING,
    initialSize: 20,
    async run(hops) {
      const finished = cluster.ask(sink, (replyTo: ActorRef<number>): TallyMsg => ({ type: 'await', expected: TOKENS, replyTo }), {
        timeoutMs: ROUND_VIRTUAL_TIMEOUT_MS,
      });
      for (let t = 0; t < TOKENS; t++) {
        const to = fwd[t % NODES]!;
        cluster.tell(to, { type: 'hop', hops, from: to });
      }
      const reported = await cluster.until(finished, { timeoutMs: ROUND_VIRTUAL_TIMEOUT_MS });
      if (reported !== TOKENS) throw new Error(`sim: ${reported} of ${TOKENS} tokens reported`);
      // Every token crosses a node boundary at its kick-off and at each hop.
      return TOKENS * (hops + 1);
    },
  };
}

/** The codec alone, on the envelopes the runtime builds for the same traffic. */
function codecContender(fwd: readonly ActorRef<ForwarderMsg>[]): Contender {
  const codec = new Codec();
  return {
    name: CODEC,
    initialSize: 10_000,
    async run(n) {
      let sent = 0;
      let received = 0;
      for (let i = 0; i < n; i++) {
        const index = i % NODES;
        const from = fwd[index]!;
        // Hop counts as small as the cluster's, so they encode to the same bytes.
        const hops = i & 127;
        const target = fwd[nextPeer(index, hops, NODES)]!;
        // A new envelope, ref copy and message each time, as the runtime's tell makes them.
        const msg: Hop = { type: 'hop', hops, from };
        const env = { kind: 'user', to: { node: target.node, nodeUid: target.nodeUid, path: target.path, uid: target.uid }, msg };
        const decoded = codec.decode(codec.encode(env)) as { readonly msg: Hop };
        sent += hops;
        received += decoded.msg.hops;
      }
      if (received !== sent) throw new Error('codec round trip changed the messages');
      return n;
    },
  };
}

export const simInterNode: BenchGroup = {
  ids: ['sim.inter_node'],
  async run(ctx) {
    const cluster = await startCluster({ runtime: 'simulation', seed: 1, nodes: NODES, plugins: [usePlugin(interNodeBenchPlugin)] });
    try {
      const { fwd, sink } = await spawnForwarders(cluster);
      const m = await ctx.compare([clusterContender(cluster, fwd, sink), codecContender(fwd)]);
      return [result('sim.inter_node', UNIT, measured(m, STARLING), measured(m, CODEC), { minRatio: 0.5 })];
    } finally {
      await cluster.stop();
    }
  },
};
