/**
 * `gossip.sim_1000`: wall time of one epidemic on 1000 simulated nodes, as `pnpm gossip:sim` runs
 * it: start the cluster (1000 nodes, each with its shell actor), spread one rumor (push,
 * feedback, counter, k=1: the paper's Table 1, first row) until no site is infective, ask every
 * node for its counters, stop. Baseline, measured in the same run: the same pure protocol code
 * driven by a plain loop (sim/epidemic-direct.ts), so the ratio is what the runtime costs on top of
 * the protocol (actors, timers, codec, network model, and the start of 1000 nodes).
 *
 * The goal is absolute: a 1000-node run in under 1 s. A bench goal is a ratio to the
 * baseline, and no ratio to a loop that takes milliseconds means anything, so the figure carries
 * none: the log says whether the 1 s goal was met. Rounds alternate subject and baseline (a noise
 * burst hits both), after one untimed warm-up each; figures are medians.
 */
import { startCluster, usePlugin } from '@starling/actors';
import { type BenchGroup, figureResult } from '../../../scripts/bench/types.ts';
import { runEpidemic, siteOptions } from '../src/sim/epidemic.ts';
import { runEpidemicDirect } from '../src/sim/epidemic-direct.ts';
import { type EpidemicParams, resolveEpidemicParams } from '../src/sim/epidemic-params.ts';
import { epidemicPlugin } from '../src/sim/epidemic-plugin.ts';

const UNIT = 'ms (lower is better)';
const ROUNDS = 7;
/** The goal for one 1000-node run, start to stop. */
const GOAL_MS = 1000;

const PARAMS: EpidemicParams = resolveEpidemicParams({ protocol: 'rumor', mode: 'push', removal: 'feedback', stop: 'counter', k: 1, nodes: 1000 });

function median(values: readonly number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = sorted.length >> 1;
  return sorted.length % 2 === 1 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
}

async function timed(work: () => Promise<unknown> | unknown): Promise<number> {
  const started = performance.now();
  await work();
  return performance.now() - started;
}

export const simEpidemic1000: BenchGroup = {
  ids: ['gossip.sim_1000'],
  async run(ctx) {
    const runtime: number[] = [];
    const direct: number[] = [];
    const startStop: number[] = [];
    // Each round a new seed, the same on both sides: both spread the same kind of epidemic.
    for (let round = 0; round <= ROUNDS; round++) {
      const seed = round + 1;
      const r = await timed(() => runEpidemic(PARAMS, seed));
      const d = await timed(() => runEpidemicDirect(PARAMS, seed));
      // The cluster's start and stop alone, with the same plugin: how much of a run is the start.
      const s = await timed(async () => {
        const cluster = await startCluster({ runtime: 'simulation', seed, nodes: PARAMS.nodes, plugins: [usePlugin(epidemicPlugin, siteOptions(PARAMS))] });
        await cluster.stop();
      });
      if (round === 0) continue; // Warm-up: cold code, first allocations.
      runtime.push(r);
      direct.push(d);
      startStop.push(s);
      ctx.log(`  round ${round}: runtime ${r.toFixed(0)} ms (start+stop alone ${s.toFixed(0)} ms) | plain loop ${d.toFixed(1)} ms`);
    }
    const value = median(runtime);
    ctx.log(`  median: ${value.toFixed(0)} ms per 1000-node run, of which start+stop ${median(startStop).toFixed(0)} ms; plain loop ${median(direct).toFixed(1)} ms`);
    ctx.log(`  issue goal (< ${GOAL_MS} ms per 1000-node run): ${value < GOAL_MS ? 'met' : 'MISSED'}`);
    return [
      figureResult(
        'gossip.sim_1000',
        UNIT,
        { name: 'gossip:sim, 1000 simulated nodes: start + rumor epidemic + stop', value },
        { name: 'same protocol, plain loop (no runtime)', value: median(direct) },
      ),
    ];
  },
};
