/**
 * The key-value store on the `threads` runtime (one worker thread per node), N = 3, R = 2, W = 2,
 * 100-byte values, driven from the host with {@link KvClient} (its default: the cluster's nodes
 * in turn as coordinators), `IN_FLIGHT` requests outstanding, over `KEY_COUNT` keys. Puts carry
 * the causal context of the key's last put, so a key keeps one value (a put without one would add
 * a sibling every time); the keys are written once before the first measured round.
 *
 * - `kv.put.3_nodes`, `kv.get.3_nodes`, `kv.put.5_nodes`, `kv.get.5_nodes`: operations/s against
 *   the bound, `vs.name` "bound": the bare batched cross-thread message rate (bare workers, one
 *   per node, all to all, 100 items per `postMessage`; bare.ts), measured in the same interleaved
 *   rounds, divided by the cross-thread messages one operation of the store sends (measured, see
 *   below). Goal: at least 0.5x.
 * - `kv.put.msgs_per_op`, `kv.get.msgs_per_op` (5 nodes): cross-thread messages per operation,
 *   host hops included, against the protocol's ideal (the client talks to a primary replica:
 *   request, N - 1 replica requests, N - 1 replica answers, reply: 6). Counted from
 *   `cluster.network.links()` over a pass of `COUNT_OPS` operations after the rounds. That reports
 *   node-to-node links only (the host's endpoint is not a worker, and its links are left out in
 *   both directions), so the two host hops of every operation (request, reply) are added
 *   explicitly; if a later runtime reports host links, they are counted instead.
 * - `kv.put.p50`, `kv.put.p99`, `kv.get.p50`, `kv.get.p99` (5 nodes): per-operation latency on
 *   the host, with `IN_FLIGHT` outstanding, against a bare worker ping-pong with as many in flight
 *   (bare.ts). Lower is better. With a fixed number in flight, either side's latency is mostly
 *   in-flight / throughput (Little's law), so these ratios track the throughput gap; a store
 *   operation is also two round trips deep (host to coordinator, coordinator to replicas).
 *
 * Besides the figures, the log says how busy each thread was per operation (event-loop
 * utilisation from inside every worker, via the bench-only probe plugin) and the process CPU per
 * operation, to tell whether the host or the nodes bound the rate. With `KV_BENCH_PROFILE=1` each
 * size also runs a profiled pass per kind (the V8 profiler inside every worker and on the host,
 * probe-plugin.ts) and logs where the time goes, and counts `postMessage` calls per operation.
 */
import { type ActorRef, type Cluster, startCluster, usePlugin } from '@starling/actors';
import type { Worker } from 'node:worker_threads';
import { type BenchContext, type BenchGroup, type BenchResult, type Contender, figureResult, type Measured } from '../../../scripts/bench/types.ts';
import { interleave, lowerIsBetter, type Sampler, terminateAll, within } from '../../actors/bench/threads-support.ts';
import { KvClient, useReplication, type VersionVector } from '../src/index.ts';
import { allToAllFlood, barePingSampler, type LatencyKey, openBareFlood, openBarePingPong } from './bare.ts';
import { isCountingPosts, kvProbePlugin, type LoopTimes, loopTimes, probeActor, type ProbeMsg } from './probe-plugin.ts';
import { CATEGORIES, formatProfile, type ProfileSummary, startProfile } from './profile.ts';

const REPLICATION = { n: 3, r: 2, w: 2 } as const;
const VALUE_BYTES = 100;
const KEY_COUNT = 1_000;
const IN_FLIGHT = 64;
/** Operations of each kind run before the rounds, so that sizing starts from optimised code. */
const WARMUP_OPS = 4_000;
/** Operations of the counting pass (messages and busy time per operation). */
const COUNT_OPS = 3_000;
/** Operations per latency round (the p99 is the 30th slowest). */
const LATENCY_OPS = 3_000;
const LATENCY_ROUNDS = 5;
/** Operations of each profiled pass (`KV_BENCH_PROFILE=1`). */
const PROFILE_OPS = 10_000;
/** Host hops of every operation: the request to a coordinator and the reply from one. */
const HOST_HOPS = 2;
/** The ideal count: the client asks a primary, which asks the other N - 1 primaries and hears back from them, then replies. */
const IDEAL_MSGS = HOST_HOPS + 2 * (REPLICATION.n - 1);
const HOST = '@host';

const RATE_UNIT = 'ops/s';
const LATENCY_UNIT = 'µs (lower is better)';
const MSGS_UNIT = 'msgs/op (lower is better)';
const GOAL = { minRatio: 0.5 } as const;
const CALL_TIMEOUT_MS = 10_000;

type Kind = 'put' | 'get';
const KINDS: readonly Kind[] = ['put', 'get'];

const VALUE = 'v'.repeat(VALUE_BYTES);
const KEYS = Array.from({ length: KEY_COUNT }, (_, i) => `key-${String(i).padStart(4, '0')}`);

// -------------------------------------------------------------------------------------------------
// The load

/** A cluster under test, the client that drives it, and what the driver remembers between rounds. */
interface Load {
  readonly cluster: Cluster;
  readonly kv: KvClient;
  readonly probes: readonly ActorRef<ProbeMsg>[];
  /** Per key, the causal context of its last put. */
  readonly contexts: Map<string, VersionVector>;
  /** Keys are taken in turn across rounds, so in-flight operations never share a key. */
  nextKey: number;
  /** Gets that found no value (a key is written before any get): should stay 0. */
  emptyGets: number;
}

function startOp(load: Load, kind: Kind, key: string): Promise<unknown> {
  if (kind === 'get') {
    return load.kv.get(key).then((r) => {
      if (r.values.length === 0) load.emptyGets++;
    });
  }
  const context = load.contexts.get(key);
  return load.kv.put(key, VALUE, context === undefined ? {} : { context }).then((r) => {
    load.contexts.set(key, r.context);
  });
}

/**
 * Runs `count` operations with at most `inFlight` outstanding; resolves with `count`, or rejects
 * with the first failure. With `latenciesUs`, records each operation's time from call to reply.
 */
function drive(load: Load, kind: Kind, count: number, inFlight = IN_FLIGHT, latenciesUs?: number[]): Promise<number> {
  return new Promise((resolve, reject) => {
    let started = 0;
    let done = 0;
    let failed = false;
    const launch = (): void => {
      started++;
      const key = KEYS[load.nextKey++ % KEY_COUNT]!;
      const t0 = latenciesUs ? performance.now() : 0;
      startOp(load, kind, key).then(
        () => {
          if (failed) return;
          if (latenciesUs) latenciesUs.push((performance.now() - t0) * 1000);
          if (++done === count) resolve(count);
          else if (started < count) launch();
        },
        (err: unknown) => {
          if (failed) return;
          failed = true;
          reject(err);
        },
      );
    };
    for (let i = 0; i < Math.min(inFlight, count); i++) launch();
  });
}

async function openLoad(nodes: number): Promise<Load> {
  const cluster = await startCluster({
    runtime: 'threads',
    nodes,
    plugins: [useReplication({ defaults: REPLICATION }), usePlugin(kvProbePlugin)],
  });
  try {
    const probes: ActorRef<ProbeMsg>[] = [];
    for (const node of cluster.nodes) probes.push(await cluster.spawn(node, probeActor, undefined, { name: 'kv-bench-probe' }));
    const load: Load = { cluster, kv: new KvClient(cluster), probes, contexts: new Map(), nextKey: 0, emptyGets: 0 };
    // Every key once, so gets read a value and puts replace one; then warm both paths up.
    await drive(load, 'put', KEY_COUNT);
    for (const kind of KINDS) await drive(load, kind, WARMUP_OPS);
    return load;
  } catch (err) {
    await cluster.stop();
    throw err;
  }
}

function kvContender(load: Load, kind: Kind, name: string): Contender {
  return { name, initialSize: 2_000, run: (size) => drive(load, kind, size) };
}

/** Percentiles of a round of `LATENCY_OPS` operations, nearest rank, µs. */
function kvLatencySampler(load: Load, kind: Kind, name: string): Sampler<LatencyKey> {
  return {
    name,
    async round() {
      const latencies: number[] = [];
      await drive(load, kind, LATENCY_OPS, IN_FLIGHT, latencies);
      latencies.sort((a, b) => a - b);
      return { p50: percentile(latencies, 0.5), p99: percentile(latencies, 0.99) };
    },
  };
}

function percentile(sorted: readonly number[], q: number): number {
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil(q * sorted.length) - 1))]!;
}

// -------------------------------------------------------------------------------------------------
// Counting: messages, busy time, posts

function askProbe<R>(load: Load, probe: ActorRef<ProbeMsg>, make: (replyTo: ActorRef<R>) => ProbeMsg): Promise<R> {
  return load.cluster.ask(probe, make, { timeoutMs: CALL_TIMEOUT_MS });
}

interface Snapshot {
  /** Messages sent between nodes (links not touching the host). */
  readonly nodeMsgs: number;
  /** Messages on links to or from the host, if the runtime reports any. */
  readonly hostMsgs: number;
  readonly hostLinksReported: boolean;
  readonly loops: readonly LoopTimes[];
  readonly cpu: NodeJS.CpuUsage;
  readonly atMs: number;
}

async function snapshot(load: Load): Promise<Snapshot> {
  const links = await load.cluster.network.links();
  let nodeMsgs = 0;
  let hostMsgs = 0;
  let hostLinksReported = false;
  for (const [link, c] of Object.entries(links)) {
    if (link.includes(HOST)) {
      hostLinksReported = true;
      hostMsgs += c.sent;
    } else nodeMsgs += c.sent;
  }
  const loops = [loopTimes(HOST), ...(await Promise.all(load.probes.map((p) => askProbe<LoopTimes>(load, p, (replyTo) => ({ type: 'loop', replyTo })))))];
  return { nodeMsgs, hostMsgs, hostLinksReported, loops, cpu: process.cpuUsage(), atMs: performance.now() };
}

/** What one operation of a kind costs, from a counting pass. */
interface Costs {
  readonly kind: Kind;
  readonly opsPerSec: number;
  readonly nodeMsgsPerOp: number;
  /** Cross-thread messages per operation, host hops included. */
  readonly msgsPerOp: number;
  readonly hostHopsCounted: boolean;
  /** Per thread (host first), event-loop busy µs per operation. */
  readonly busyUsPerOp: readonly { readonly thread: string; readonly us: number }[];
  /** Process CPU (every thread) per operation, µs, and the cores it kept busy. */
  readonly cpuUsPerOp: number;
  readonly cores: number;
  /** `postMessage` calls per operation, every thread (only with `KV_BENCH_PROFILE=1`). */
  readonly postsPerOp: number | undefined;
}

async function countPass(load: Load, kind: Kind, ops: number): Promise<Costs> {
  const a = await snapshot(load);
  await drive(load, kind, ops);
  const b = await snapshot(load);
  const wallMs = b.atMs - a.atMs;
  const hostHopsCounted = b.hostLinksReported;
  const nodeMsgsPerOp = (b.nodeMsgs - a.nodeMsgs) / ops;
  const msgsPerOp = nodeMsgsPerOp + (hostHopsCounted ? (b.hostMsgs - a.hostMsgs) / ops : HOST_HOPS);
  const cpuUs = b.cpu.user - a.cpu.user + (b.cpu.system - a.cpu.system);
  const busyUsPerOp = b.loops.map((l, i) => ({ thread: l.node, us: ((l.activeMs - a.loops[i]!.activeMs) * 1000) / ops }));
  const posts = b.loops.reduce((sum, l, i) => sum + l.posts - a.loops[i]!.posts, 0);
  return {
    kind,
    opsPerSec: (ops / wallMs) * 1000,
    nodeMsgsPerOp,
    msgsPerOp,
    hostHopsCounted,
    busyUsPerOp,
    cpuUsPerOp: cpuUs / ops,
    cores: cpuUs / 1000 / wallMs,
    postsPerOp: isCountingPosts ? posts / ops : undefined,
  };
}

function describeCosts(c: Costs): string {
  const busy = c.busyUsPerOp.map((b) => `${b.thread} ${b.us.toFixed(0)}`).join(', ');
  return (
    `  ${c.kind}: ${c.msgsPerOp.toFixed(2)} cross-thread msgs/op (${c.nodeMsgsPerOp.toFixed(2)} node to node + ${c.hostHopsCounted ? 'host hops counted by links()' : `${HOST_HOPS} host hops, added: links() reports no host link`}), ` +
    `${c.opsPerSec.toFixed(0)} ops/s in this pass, process CPU ${c.cpuUsPerOp.toFixed(0)} µs/op (${c.cores.toFixed(2)} cores busy), ` +
    `event-loop busy µs/op: ${busy}${c.postsPerOp === undefined ? '' : `; ${c.postsPerOp.toFixed(2)} postMessage calls/op`}`
  );
}

/** Fails unless every message sent between nodes was delivered. */
async function assertNoDrops(load: Load): Promise<void> {
  const problems: string[] = [];
  for (const [link, c] of Object.entries(await load.cluster.network.links())) {
    const dropped = Object.entries(c.dropped).filter(([, n]) => n > 0);
    if (dropped.length > 0) problems.push(`${link} dropped ${dropped.map(([cause, n]) => `${n} ${cause}`).join(', ')}`);
    if (c.delivered !== c.sent) problems.push(`${link} delivered ${c.delivered} of ${c.sent}`);
  }
  if (load.emptyGets > 0) problems.push(`${load.emptyGets} gets found no value`);
  if (problems.length > 0) throw new Error(`the store lost messages or values: ${problems.join('; ')}`);
}

// -------------------------------------------------------------------------------------------------
// Profiling (KV_BENCH_PROFILE=1)

const isProfiling = process.env.KV_BENCH_PROFILE === '1';

async function profilePass(ctx: BenchContext, load: Load, kind: Kind): Promise<void> {
  const started = await Promise.all(load.probes.map((p) => askProbe<boolean>(load, p, (replyTo) => ({ type: 'profile-start', replyTo }))));
  if (started.some((ok) => !ok)) throw new Error('a node could not start its profiler');
  const host = await startProfile();
  const cpu0 = process.cpuUsage();
  const t0 = performance.now();
  await drive(load, kind, PROFILE_OPS);
  const wallMs = performance.now() - t0;
  const cpu = process.cpuUsage(cpu0);
  const summaries: (ProfileSummary | string)[] = [await host.stop(HOST)];
  for (const p of load.probes) summaries.push(await askProbe<ProfileSummary | string>(load, p, (replyTo) => ({ type: 'profile-stop', replyTo })));
  const cpuUsPerOp = (cpu.user + cpu.system) / PROFILE_OPS;
  ctx.log(
    `  profile of ${PROFILE_OPS} ${kind}s: ${((PROFILE_OPS / wallMs) * 1000).toFixed(0)} ops/s under the profiler, process CPU ${cpuUsPerOp.toFixed(0)} µs/op ` +
      `(${((cpu.user + cpu.system) / 1000 / wallMs).toFixed(2)} cores); per thread, shares of its wall time (µs/op: that share of the thread's wall time per operation)`,
  );
  const ok = summaries.filter((s): s is ProfileSummary => typeof s !== 'string');
  for (const s of summaries) {
    if (typeof s === 'string') ctx.log(`  profile failed: ${s}`);
    else for (const line of formatProfile(s, PROFILE_OPS)) ctx.log(line);
  }
  // All threads together: busy time by category, as shares of the busy time and of the process CPU per operation.
  const busyMs = (s: ProfileSummary): number => (s.ms * (100 - s.idlePct)) / 100;
  const totalBusy = ok.reduce((sum, s) => sum + busyMs(s), 0);
  ctx.log(`  where the time goes, all threads (busy: ${ok.map((s) => `${s.thread} ${((100 * busyMs(s)) / totalBusy).toFixed(0)}%`).join(', ')}):`);
  for (const cat of CATEGORIES) {
    const ms = ok.reduce((sum, s) => sum + ((s.categories.find((c) => c.name === cat)?.pct ?? 0) * s.ms) / 100, 0);
    const share = ms / totalBusy;
    ctx.log(`    ${(100 * share).toFixed(1).padStart(5)}%  ~${(share * cpuUsPerOp).toFixed(0).padStart(4)} µs CPU/op  ${cat}`);
  }
}

// -------------------------------------------------------------------------------------------------
// The groups

function measured(m: ReadonlyMap<string, Measured>, name: string): Measured {
  const found = m.get(name);
  if (found === undefined) throw new Error(`no measurement named ${JSON.stringify(name)}`);
  return found;
}

interface SizeRun {
  readonly rates: Readonly<Record<Kind, number>>;
  readonly costs: Readonly<Record<Kind, Costs>>;
  readonly bareRate: number;
  readonly latency?: ReadonlyMap<string, Record<LatencyKey, number>>;
}

const opName = (kind: Kind): string => `kv.${kind} (KvClient from the host, ${IN_FLIGHT} in flight)`;
const floodName = (nodes: number): string => `bare flood, ${nodes} workers all to all, 100 per post`;
const latencyName = (kind: Kind): string => `kv.${kind}, ${IN_FLIGHT} in flight`;
const PING_NAME = `bare worker ping-pong, ${IN_FLIGHT} in flight`;

async function runSize(ctx: BenchContext, nodes: number, withLatency: boolean): Promise<SizeRun> {
  let load: Load | undefined;
  let flood: Worker[] = [];
  let ping: Worker[] = [];
  try {
    const t0 = performance.now();
    load = await openLoad(nodes);
    ctx.log(`  ${nodes} nodes started, ${KEY_COUNT} keys written and ${WARMUP_OPS} puts and gets run in ${(performance.now() - t0).toFixed(0)} ms`);
    flood = await openBareFlood(nodes);
    const l = load;
    const m = await ctx.compare([kvContender(l, 'put', opName('put')), kvContender(l, 'get', opName('get')), allToAllFlood(flood, floodName(nodes))]);
    await terminateAll(flood);
    flood = [];

    // What an operation sends and costs, warm, after the rounds.
    const put = await countPass(l, 'put', COUNT_OPS);
    const get = await countPass(l, 'get', COUNT_OPS);
    ctx.log(describeCosts(put));
    ctx.log(describeCosts(get));

    let latency: Map<string, Record<LatencyKey, number>> | undefined;
    if (withLatency) {
      ping = await openBarePingPong();
      const asking = ping[0]!;
      ctx.log(`  latency: ${LATENCY_OPS} operations per round, ${IN_FLIGHT} in flight`);
      latency = await within(
        interleave(ctx, [kvLatencySampler(l, 'put', latencyName('put')), kvLatencySampler(l, 'get', latencyName('get')), barePingSampler(asking, PING_NAME, LATENCY_OPS, IN_FLIGHT)], {
          rounds: LATENCY_ROUNDS,
          warmup: 1,
          format: (f) => `p50 ${f.p50.toFixed(0)} p99 ${f.p99.toFixed(0)} µs`,
        }),
        60_000,
        'the kv latency rounds',
      );
    }
    await assertNoDrops(l);
    if (isProfiling) for (const kind of KINDS) await profilePass(ctx, l, kind);
    return {
      rates: { put: measured(m, opName('put')).rate, get: measured(m, opName('get')).rate },
      costs: { put, get },
      bareRate: measured(m, floodName(nodes)).rate,
      ...(latency ? { latency } : {}),
    };
  } finally {
    await terminateAll([...flood, ...ping]);
    await load?.cluster.stop();
  }
}

function throughputResults(ctx: BenchContext, nodes: number, run: SizeRun): BenchResult[] {
  return KINDS.map((kind) => {
    const msgs = run.costs[kind].msgsPerOp;
    const bound = run.bareRate / msgs;
    ctx.log(`  bound of kv.${kind}, ${nodes} nodes: ${run.bareRate.toFixed(0)} msg/s (${floodName(nodes)}) / ${msgs.toFixed(2)} msgs/op = ${bound.toFixed(0)} ops/s`);
    return figureResult(`kv.${kind}.${nodes}_nodes`, RATE_UNIT, { name: opName(kind), value: run.rates[kind] }, { name: 'bound', value: bound }, GOAL);
  });
}

export const kvThreads3: BenchGroup = {
  ids: ['kv.put.3_nodes', 'kv.get.3_nodes'],
  async run(ctx) {
    ctx.log(`kv on threads, 3 nodes, N=${REPLICATION.n} R=${REPLICATION.r} W=${REPLICATION.w}, ${VALUE_BYTES}-byte values, ${KEY_COUNT} keys, ${IN_FLIGHT} in flight`);
    const run = await runSize(ctx, 3, false);
    return throughputResults(ctx, 3, run);
  },
};

export const kvThreads5: BenchGroup = {
  ids: ['kv.put.5_nodes', 'kv.get.5_nodes', 'kv.put.p50', 'kv.put.p99', 'kv.get.p50', 'kv.get.p99', 'kv.put.msgs_per_op', 'kv.get.msgs_per_op'],
  async run(ctx) {
    ctx.log(`kv on threads, 5 nodes, N=${REPLICATION.n} R=${REPLICATION.r} W=${REPLICATION.w}, ${VALUE_BYTES}-byte values, ${KEY_COUNT} keys, ${IN_FLIGHT} in flight`);
    const run = await runSize(ctx, 5, true);
    const out = throughputResults(ctx, 5, run);
    const ping = run.latency!.get(PING_NAME)!;
    for (const kind of KINDS) {
      const s = run.latency!.get(latencyName(kind))!;
      for (const q of ['p50', 'p99'] as const) {
        out.push(lowerIsBetter(`kv.${kind}.${q}`, LATENCY_UNIT, { name: latencyName(kind), value: s[q] }, { name: PING_NAME, value: ping[q] }));
      }
    }
    const ideal = { name: `ideal: client to a primary, 1 + 2 x (N-1) + 1`, value: IDEAL_MSGS };
    for (const kind of KINDS) {
      out.push(figureResult(`kv.${kind}.msgs_per_op`, MSGS_UNIT, { name: `kv.${kind}, KvClient round robin, host hops included`, value: run.costs[kind].msgsPerOp }, ideal));
    }
    return out;
  },
};
