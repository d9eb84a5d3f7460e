/**
 * The epidemic simulator: one update spread over N nodes of a simulation cluster, measured as
 * Demers et al. measure it (see epidemic-metrics.ts), repeated over seeds.
 *
 * A run starts a cluster whose every node hosts the shell of sim/epidemic-plugin.ts, injects the
 * update at one node chosen from the seed, and runs virtual time cycle by cycle until the
 * epidemic is over: no infective site left (rumor mongering), or every site reached
 * (anti-entropy), or the cycle cap. The shells' events give when each site learned the update and
 * stopped spreading it; at the end each shell is asked for its message counters.
 */
import { type CustomEvent, selectActor, startCluster, usePlugin } from '@starling/actors';
import { epidemicCurve, epidemicMetrics, type EpidemicTally } from '../epidemic-metrics.ts';
import {
  asEpidemicObservation,
  EPIDEMIC_SITE_PATH,
  epidemicPlugin,
  type EpidemicSiteMsg,
  type EpidemicSiteOptions,
  type SiteReport,
} from './epidemic-plugin.ts';
import { type EpidemicParams, type EpidemicRun, type EpidemicSummary, EXPERIMENT_UPDATE, originFor, resolveEpidemicParams, runSeed, summarize } from './epidemic-params.ts';

/** Virtual length of a cycle. Only its ratio to the latency matters; the network is zero-latency. */
export const CYCLE_MS = 1000;

/** What a run tells its caller as it goes. */
export interface RunObserver {
  /** After each cycle: sites reached so far and sites still spreading. */
  onCycle?(cycle: number, reached: number, infective: number): void;
}

/** The shell options the plugin gets for `params`. */
export function siteOptions(params: EpidemicParams): EpidemicSiteOptions {
  return { protocol: params.protocol, mode: params.mode, removal: params.removal, stop: params.stop, k: params.k, cycleMs: CYCLE_MS };
}

/** One epidemic on a simulation cluster of `params.nodes` nodes, seeded by `seed`. */
export async function runEpidemic(rawParams: Partial<EpidemicParams>, seed: number, observer: RunObserver = {}): Promise<EpidemicRun> {
  const params = resolveEpidemicParams(rawParams);
  const n = params.nodes;
  const cluster = await startCluster({ runtime: 'simulation', seed, nodes: n, plugins: [usePlugin(epidemicPlugin, siteOptions(params))] });
  const index = new Map(cluster.nodes.map((name, i) => [name, i]));
  const learnedAtCycle = new Int32Array(n).fill(-1);
  const removedAtCycle = new Int32Array(n).fill(-1);
  let reached = 0;
  let removed = 0;
  const unsubscribe = (): void => void cluster.events.off('custom', onCustom);
  function onCustom(e: CustomEvent): void {
    const o = asEpidemicObservation(e);
    if (o === undefined) return;
    const i = index.get(e.node)!;
    if (o.kind === 'learned') {
      learnedAtCycle[i] = o.cycle;
      reached++;
    } else {
      removedAtCycle[i] = o.cycle;
      removed++;
    }
  }
  cluster.events.on('custom', onCustom);
  try {
    const origin = originFor(seed, n);
    const ref = (node: number) => selectActor<EpidemicSiteMsg>(cluster.nodes[node]!, EPIDEMIC_SITE_PATH);
    cluster.tell(ref(origin), { type: 'inject', id: EXPERIMENT_UPDATE.id, value: EXPERIMENT_UPDATE.value });
    // Every node ticks at multiples of CYCLE_MS and, on a zero-latency network, every message of
    // cycle c is handled at c·CYCLE_MS: looking at c·CYCLE_MS + CYCLE_MS/2 sees cycle c complete,
    // with nothing in flight, so "no infective site" cannot be a glimpse between a send and the
    // infection it causes.
    const isOver = (): boolean => (params.protocol === 'rumor' ? reached - removed === 0 : reached === n);
    let cycle = 0;
    await cluster.runFor(CYCLE_MS / 2);
    observer.onCycle?.(cycle, reached, reached - removed);
    while (!isOver() && cycle < params.maxCycles) {
      await cluster.runFor(CYCLE_MS);
      cycle++;
      observer.onCycle?.(cycle, reached, reached - removed);
    }
    const reports = await cluster.until(
      Promise.all(cluster.nodes.map((_, i) => cluster.ask(ref(i), (replyTo): EpidemicSiteMsg => ({ type: 'report', replyTo }), { timeoutMs: CYCLE_MS }))),
    );
    const tally: EpidemicTally = {
      learnedAtCycle,
      removedAtCycle,
      origin,
      copiesSent: sum(reports, (r) => r.copiesSent),
      messagesSent: sum(reports, (r) => r.messagesSent),
      endCycle: cycle,
    };
    return { seed, origin, metrics: epidemicMetrics(tally), curve: epidemicCurve(tally), isOver: isOver() };
  } finally {
    unsubscribe();
    await cluster.stop();
  }
}

function sum(reports: readonly SiteReport[], pick: (r: SiteReport) => number): number {
  let total = 0;
  for (const r of reports) total += pick(r);
  return total;
}

/** What a series tells its caller as it goes. */
export interface SeriesObserver extends RunObserver {
  /** Before each run. */
  onRunStart?(index: number, seed: number): void;
  /** After each run, with its wall time. */
  onRun?(index: number, run: EpidemicRun, wallMs: number): void;
}

/** `runs` epidemics with seeds `seed`, `seed + 1`..., and their means. */
export async function runEpidemics(rawParams: Partial<EpidemicParams>, runs: number, seed: number, observer: SeriesObserver = {}): Promise<EpidemicSummary> {
  const params = resolveEpidemicParams(rawParams);
  if (!Number.isInteger(runs) || runs < 1) throw new RangeError(`runs must be an integer >= 1, got ${String(runs)}`);
  const out: EpidemicRun[] = [];
  for (let r = 0; r < runs; r++) {
    const s = runSeed(seed, r);
    observer.onRunStart?.(r, s);
    const started = performance.now();
    const run = await runEpidemic(params, s, observer);
    observer.onRun?.(r, run, performance.now() - started);
    out.push(run);
  }
  return summarize(params, out);
}
