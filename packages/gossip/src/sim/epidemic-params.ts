/**
 * One epidemic experiment's parameters and results, shared by the simulator (on the simulation
 * runtime, sim/epidemic.ts) and the plain-loop baseline (sim/epidemic-direct.ts).
 */
import { createRandom } from '@starling/actors';
import { type CurvePoint, type EpidemicMetrics, meanCurve, meanMetrics } from '../epidemic-metrics.ts';
import { type RemovalTrigger, resolveRumorConfig, type SpreadMode, type StopRule } from '../rumor.ts';
import type { EpidemicProtocol } from './epidemic-plugin.ts';

/** What one experiment runs. */
export interface EpidemicParams {
  /** Default `rumor`. */
  readonly protocol: EpidemicProtocol;
  /** Default `push`. */
  readonly mode: SpreadMode;
  /** Default `feedback` (rumor mongering only). */
  readonly removal: RemovalTrigger;
  /** Default `counter` (rumor mongering only). */
  readonly stop: StopRule;
  /** Default 1: the first row of the paper's Tables 1 and 2 (rumor mongering only). */
  readonly k: number;
  /** Sites. Default 1000, as in the paper's tables. */
  readonly nodes: number;
  /**
   * A run stops after this many cycles even if it is not over. Default 500: far beyond any rumor
   * epidemic of the paper's tables (t_last ≤ 38 on 1000 sites) and anti-entropy on any n this
   * simulator can run (about log2 n + ln n cycles).
   */
  readonly maxCycles: number;
}

/** Defaults of {@link EpidemicParams}. */
export const DEFAULT_EPIDEMIC_PARAMS: EpidemicParams = {
  protocol: 'rumor',
  mode: 'push',
  removal: 'feedback',
  stop: 'counter',
  k: 1,
  nodes: 1000,
  maxCycles: 500,
};

/** Fills defaults and checks; throws `RangeError` naming the bad field. */
export function resolveEpidemicParams(raw: Partial<EpidemicParams> = {}): EpidemicParams {
  const p = { ...DEFAULT_EPIDEMIC_PARAMS, ...raw };
  if (p.protocol !== 'rumor' && p.protocol !== 'anti-entropy') throw new RangeError(`protocol must be rumor or anti-entropy, got ${String(p.protocol)}`);
  resolveRumorConfig({ mode: p.mode, removal: p.removal, stop: p.stop, k: p.k });
  if (!Number.isInteger(p.nodes) || p.nodes < 2) throw new RangeError(`nodes must be an integer >= 2, got ${String(p.nodes)}`);
  if (!Number.isInteger(p.maxCycles) || p.maxCycles < 1) throw new RangeError(`maxCycles must be an integer >= 1, got ${String(p.maxCycles)}`);
  return p;
}

/** One run's outcome. */
export interface EpidemicRun {
  readonly seed: number;
  /** Index of the site where the update was injected. */
  readonly origin: number;
  readonly metrics: EpidemicMetrics;
  readonly curve: readonly CurvePoint[];
  /** False when the cycle cap stopped the run before the epidemic was over. */
  readonly isOver: boolean;
}

/** Several runs and their means. */
export interface EpidemicSummary {
  readonly params: EpidemicParams;
  readonly runs: readonly EpidemicRun[];
  readonly mean: EpidemicMetrics;
  readonly curve: readonly CurvePoint[];
}

/** Means over runs (metrics and curve). */
export function summarize(params: EpidemicParams, runs: readonly EpidemicRun[]): EpidemicSummary {
  return { params, runs, mean: meanMetrics(runs.map((r) => r.metrics)), curve: meanCurve(runs.map((r) => r.curve)) };
}

/** The update every experiment spreads (one update, as in the paper's tables). */
export const EXPERIMENT_UPDATE = { id: 'u', value: 'x' } as const;

/** The seed of run `index` of a series started from `seed`: consecutive, so any run replays alone. */
export function runSeed(seed: number, index: number): number {
  return (seed + index) >>> 0;
}

/** The injection's site: a seeded draw of its own, so both drivers start a seed's run at the same site. */
export function originFor(seed: number, nodes: number): number {
  return createRandom(seed, 'epidemic-origin').int(nodes);
}
