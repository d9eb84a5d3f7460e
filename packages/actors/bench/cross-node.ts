/**
 * Cross-node traffic on the `threads` runtime (one worker thread per node, a MessagePort mesh),
 * each figure beside bare worker threads doing the same traffic with plain `postMessage`:
 *
 * - `cross_node.one_way`: items/s from an actor on n1 to an actor on n2 of a 2-node cluster.
 * - `cross_node.all_to_all`: 4 nodes, every node's actor sending to every other's at once; total
 *   items/s delivered.
 *   Both: the baseline posts the same item objects, 100 per `postMessage` (an array), worker to
 *   worker over a MessageChannel, the receiver counting. The cluster's sender is flow-controlled
 *   with credits (see threads-plugin.ts for the bound and why the link capacity is raised); the
 *   bare sender posts as fast as it can. After the rounds every link must show no drop.
 * - `cross_node.ask_p50`, `_p99` (1 in flight) and `_p50_100`, `_p99_100` (100 in flight):
 *   latency of an actor-to-actor ask (`ctx.ask` piped to self, from an actor on n1 to an echo actor
 *   on n2), measured inside the asking actor from the ask to the handling of its reply. Baseline: a
 *   bare worker asking a bare echo worker over a MessageChannel, one `postMessage` per request
 *   and per reply, with as many in flight. Each figure is the median, over interleaved rounds, of
 *   the round's percentile; lower is better, and the ratio is subject / baseline.
 *   With 1 in flight every hop wakes a sleeping thread, and on this virtual machine waking a halted
 *   vCPU costs ~100 µs depending on what ran before (the same bare ping-pong measures ~15 µs right
 *   after busy rounds and ~120 µs after idle ones): those rounds run with one extra thread spinning
 *   (threads-bare/spin-worker.mjs), so both sides pay the same small wake-up and the ratio measures
 *   software. With 100 in flight both sides are busy, and a spinner would take a third of the CPU.
 */
import { type ActorRef, type Cluster, startCluster, usePlugin } from '@starling/actors';
import type { Worker } from 'node:worker_threads';
import { MessageChannel } from 'node:worker_threads';
import { type BenchContext, type BenchGroup, type BenchResult, type Contender, result } from '../../../scripts/bench/types.ts';
import { measured } from './measured.ts';
import {
  asker,
  type AskerMsg,
  benchEcho,
  type EchoMsg,
  flood,
  type FloodMsg,
  LINK_CAPACITY,
  type Percentiles,
  threadsBenchPlugin,
} from './threads-plugin.ts';
import { bareFloodContender, interleave, lowerIsBetter, nextMessage, openBareFlood, startBareWorker, type Sampler, terminateAll, withCpuAwake, within } from './threads-support.ts';

const RATE_UNIT = 'msg/s';
const LATENCY_UNIT = 'µs (lower is better)';
const THROUGHPUT_GOAL = { minRatio: 0.7 } as const;
const LATENCY_P50_GOAL = { maxRatio: 1.3 } as const;
/** Far above a sized round (~0.4 s): only a stuck round reaches it. */
const ROUND_WAIT_MS = 20_000;

const STARLING = 'starling threads';
const BARE = 'bare postMessage, 100 per post';

// -------------------------------------------------------------------------------------------------
// Throughput: a cluster of flood actors, one per node, and the same with bare workers

interface FloodCluster {
  readonly cluster: Cluster;
  readonly refs: readonly ActorRef<FloodMsg>[];
}

async function openFloodCluster(nodes: number): Promise<FloodCluster> {
  const cluster = await startCluster({
    runtime: 'threads',
    nodes,
    plugins: [usePlugin(threadsBenchPlugin)],
    threads: { userLinkCapacity: LINK_CAPACITY },
  });
  try {
    const refs: ActorRef<FloodMsg>[] = [];
    for (const node of cluster.nodes) refs.push(await cluster.spawn(node, flood, undefined, { name: 'flood' }));
    refs.forEach((ref, index) => cluster.tell(ref, { type: 'link', index, peers: refs }));
    return { cluster, refs };
  } catch (err) {
    await cluster.stop();
    throw err;
  }
}

/** Every sender bursts `perLink` items to each of its targets; resolves once every receiver has them all. */
function floodContender(fc: FloodCluster, routes: ReadonlyMap<number, readonly number[]>, initialSize: number): Contender {
  const links = [...routes.values()].reduce((n, to) => n + to.length, 0);
  const expected = fc.refs.map(() => 0);
  return {
    name: STARLING,
    initialSize,
    async run(size) {
      const perLink = Math.max(1, Math.round(size / links));
      for (const to of routes.values()) for (const t of to) expected[t]! += perLink;
      const done = expected.map((total, i) =>
        total === 0 ? Promise.resolve(0) : fc.cluster.ask(fc.refs[i]!, (replyTo): FloodMsg => ({ type: 'await', total, replyTo }), { timeoutMs: ROUND_WAIT_MS }),
      );
      for (const [from, to] of routes) fc.cluster.tell(fc.refs[from]!, { type: 'burst', to, count: perLink });
      await Promise.all(done);
      return perLink * links;
    },
  };
}

/** Fails unless every item sent between nodes was delivered: a figure must count only deliveries. */
async function assertNoDrops(cluster: Cluster, ctx: BenchContext): Promise<void> {
  const links = await cluster.network.links();
  let sent = 0;
  let delivered = 0;
  const problems: string[] = [];
  for (const [link, c] of Object.entries(links)) {
    sent += c.sent;
    delivered += c.delivered;
    const dropped = Object.entries(c.dropped).filter(([, n]) => n > 0);
    if (dropped.length > 0) problems.push(`${link} dropped ${dropped.map(([cause, n]) => `${n} ${cause}`).join(', ')}`);
    if (c.delivered !== c.sent) problems.push(`${link} delivered ${c.delivered} of ${c.sent}`);
  }
  if (problems.length > 0) throw new Error(`the cluster lost messages: ${problems.join('; ')}`);
  ctx.log(`  links: ${sent} sent, ${delivered} delivered, no drop`);
}

/** Measures a cluster and bare workers on the same routes (sender index -> receiver indexes). */
async function compareFlood(ctx: BenchContext, nodes: number, routes: ReadonlyMap<number, readonly number[]>): Promise<{ subject: ReturnType<typeof measured>; bare: ReturnType<typeof measured> }> {
  let fc: FloodCluster | undefined;
  let workers: Worker[] = [];
  try {
    fc = await openFloodCluster(nodes);
    workers = await openBareFlood(nodes);
    const m = await ctx.compare([floodContender(fc, routes, 20_000), bareFloodContender(workers, routes, 20_000, BARE)]);
    await assertNoDrops(fc.cluster, ctx);
    return { subject: measured(m, STARLING), bare: measured(m, BARE) };
  } finally {
    await terminateAll(workers);
    await fc?.cluster.stop();
  }
}

export const crossNodeOneWay: BenchGroup = {
  ids: ['cross_node.one_way'],
  async run(ctx) {
    const { subject, bare } = await compareFlood(ctx, 2, new Map([[0, [1]]]));
    return [result('cross_node.one_way', RATE_UNIT, subject, bare, THROUGHPUT_GOAL)];
  },
};

export const crossNodeAllToAll: BenchGroup = {
  ids: ['cross_node.all_to_all'],
  async run(ctx) {
    const nodes = 4;
    const all = Array.from({ length: nodes }, (_, i) => i);
    const routes = new Map(all.map((i) => [i, all.filter((j) => j !== i)]));
    const { subject, bare } = await compareFlood(ctx, nodes, routes);
    return [result('cross_node.all_to_all', RATE_UNIT, subject, bare, THROUGHPUT_GOAL)];
  },
};

// -------------------------------------------------------------------------------------------------
// Ask latency

/** Asks per round: enough samples for a steady p99 (of 3 000 asks, the 30th slowest). */
const ASKS_1 = 3_000;
const ASKS_100 = 10_000;
const LATENCY_ROUNDS = 7;

type LatencyKey = 'p50' | 'p99';

function clusterAsker(cluster: Cluster, from: ActorRef<AskerMsg>, target: ActorRef<EchoMsg>, name: string, count: number, inFlight: number): Sampler<LatencyKey> {
  return {
    name,
    async round() {
      const p = await cluster.ask(from, (replyTo: ActorRef<Percentiles>): AskerMsg => ({ type: 'run', target, count, inFlight, replyTo }), {
        timeoutMs: ROUND_WAIT_MS,
      });
      if (p.samples !== count) throw new Error(`${name}: ${p.samples} of ${count} asks answered`);
      return { p50: p.p50, p99: p.p99 };
    },
  };
}

function bareAsker(asking: Worker, name: string, count: number, inFlight: number): Sampler<LatencyKey> {
  return {
    name,
    async round() {
      const reply = nextMessage<Percentiles>(asking, ROUND_WAIT_MS, `${name} to finish a round`);
      asking.postMessage({ type: 'run', count, inFlight });
      const p = await reply;
      return { p50: p.p50, p99: p.p99 };
    },
  };
}

async function openBarePingPong(): Promise<Worker[]> {
  const workers: Worker[] = [];
  try {
    workers.push(await startBareWorker('ping-worker.mjs', { role: 'asker' }), await startBareWorker('ping-worker.mjs', { role: 'echo' }));
    const { port1, port2 } = new MessageChannel();
    await Promise.all(
      [port1, port2].map((port, i) => {
        const ready = nextMessage(workers[i]!, 10_000, 'a bare ping worker to connect');
        workers[i]!.postMessage({ type: 'port', port }, [port]);
        return ready;
      }),
    );
    return workers;
  } catch (err) {
    await terminateAll(workers);
    throw err;
  }
}

export const crossNodeAsk: BenchGroup = {
  ids: ['cross_node.ask_p50', 'cross_node.ask_p99', 'cross_node.ask_p50_100', 'cross_node.ask_p99_100'],
  async run(ctx) {
    let cluster: Cluster | undefined;
    let workers: Worker[] = [];
    try {
      cluster = await startCluster({ runtime: 'threads', nodes: 2, plugins: [usePlugin(threadsBenchPlugin)] });
      const from = await cluster.spawn(cluster.nodes[0]!, asker, undefined, { name: 'asker' });
      const target = await cluster.spawn(cluster.nodes[1]!, benchEcho, undefined, { name: 'echo' });
      workers = await openBarePingPong();
      const bareWorker = workers[0]!;
      const format = (f: Readonly<Record<LatencyKey, number>>): string => `p50 ${f.p50.toFixed(0)} p99 ${f.p99.toFixed(0)} µs`;
      const out: BenchResult[] = [];
      for (const [inFlight, count, suffix] of [
        [1, ASKS_1, ''],
        [100, ASKS_100, '_100'],
      ] as const) {
        const subjectName = `${STARLING} ctx.ask n1->n2${inFlight > 1 ? `, ${inFlight} in flight` : ''}`;
        const bareName = `bare worker ping-pong${inFlight > 1 ? `, ${inFlight} in flight` : ''}`;
        // 1 in flight: every hop wakes a sleeping thread, so keep a CPU awake (see the module comment).
        const keepAwake = inFlight === 1;
        ctx.log(`  ${inFlight} in flight, ${count} asks per round${keepAwake ? ', one CPU kept awake' : ''}`);
        const c = cluster;
        const measure = (): Promise<Map<string, Record<LatencyKey, number>>> =>
          interleave(ctx, [clusterAsker(c, from, target, subjectName, count, inFlight), bareAsker(bareWorker, bareName, count, inFlight)], {
            rounds: LATENCY_ROUNDS,
            format,
          });
        const m = await within(keepAwake ? withCpuAwake(measure, 60_000) : measure(), 60_000, `the ask latency rounds (${inFlight} in flight)`);
        const s = m.get(subjectName)!;
        const b = m.get(bareName)!;
        out.push(
          lowerIsBetter(`cross_node.ask_p50${suffix}`, LATENCY_UNIT, { name: subjectName, value: s.p50 }, { name: bareName, value: b.p50 }, LATENCY_P50_GOAL),
          lowerIsBetter(`cross_node.ask_p99${suffix}`, LATENCY_UNIT, { name: subjectName, value: s.p99 }, { name: bareName, value: b.p99 }),
        );
      }
      return out;
    } finally {
      await terminateAll(workers);
      await cluster?.stop();
    }
  },
};
