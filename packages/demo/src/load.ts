/**
 * `pnpm demo load`: the load generator. Drives a workload (the store's, or a user's module with
 * the user's plugin on every node) against an in-process cluster on any runtime, for a count of
 * operations or a duration, with an optional fault schedule (the simulation's schedule format),
 * and reports like the scenario.
 */
import { pathToFileURL } from 'node:url';
import { resolve } from 'node:path';
import { describeFault, type FaultSchedule, generateSchedule, InvalidArgumentError, type PluginSpec } from '@starling/actors';
import type { KeyDistribution } from './load/keys.ts';
import { kvWorkload, type Mix, validateMix } from './load/kv-workload.ts';
import { isWorkload, type Workload } from './load/workload.ts';
import { type ClusterShape, validateShape } from './run/cluster.ts';
import type { ProgressSink } from './run/progress.ts';
import type { Report } from './run/report.ts';
import { MAX_LOAD_MS, runLoad, type Step } from './run/run.ts';

/** The load generator's settings. */
export interface LoadOptions extends ClusterShape {
  /** Operations in all; with `durationMs` too, whichever comes first. */
  readonly ops?: number;
  /** Length of the load, in ms of the runtime's clock. Default 20 000 unless `ops` is given. */
  readonly durationMs?: number;
  readonly inFlight: number;
  /** The store workload's settings (ignored with a user workload). */
  readonly keys: number;
  readonly distribution: KeyDistribution;
  readonly mix: Mix;
  readonly valueBytes: number;
  /** Faults, at times from the start of the load. */
  readonly schedule?: FaultSchedule;
  /** Time for convergence after the heal, in ms. */
  readonly settleMs: number;
  /** A user's plugins, loaded on every node. */
  readonly plugins?: readonly PluginSpec[];
  /** A user's workload instead of the store's. */
  readonly workload?: Workload;
  /** Run the store's plugin. Default true. */
  readonly store?: boolean;
  readonly progress?: ProgressSink;
}

/** Default length of a load given neither a count nor a duration, in ms. */
export const DEFAULT_LOAD_MS = 20_000;

export async function runLoadCommand(o: LoadOptions): Promise<Report> {
  validateShape({ ...o, store: o.store ?? true });
  validateMix(o.mix);
  const durationMs = o.durationMs ?? (o.ops === undefined ? DEFAULT_LOAD_MS : undefined);
  const steps: Step[] = (o.schedule?.faults ?? []).map((f) => ({ atMs: f.atMs, phase: describeFault(f.fault), fault: f.fault }));
  const store = o.store ?? true;
  if (o.workload === undefined && !store) throw new InvalidArgumentError('INVALID_CONFIG', 'the store workload needs the store: give a workload of your own, or keep the store');
  return runLoad({
    command: 'load',
    cluster: { runtime: o.runtime, seed: o.seed, nodes: o.nodes, n: o.n, r: o.r, w: o.w, store, ...(o.plugins !== undefined ? { plugins: o.plugins } : {}) },
    workload:
      o.workload === undefined
        ? ({ partitionCount, wipes }) =>
            kvWorkload({ keys: o.keys, distribution: o.distribution, mix: o.mix, valueBytes: o.valueBytes, clients: Math.max(1, Math.min(o.inFlight, 64)), partitionCount, n: o.n, wipes })
        : () => o.workload!,
    inFlight: o.inFlight,
    ...(durationMs !== undefined ? { durationMs } : {}),
    ...(o.ops !== undefined ? { maxOps: o.ops } : {}),
    steps,
    settleMs: o.settleMs,
    ...(o.progress !== undefined ? { progress: o.progress } : {}),
  });
}

/** A random schedule over the load's length, within the durability model (one fault at a time; see generateSchedule). */
export function randomSchedule(seed: number, nodes: number, durationMs: number): FaultSchedule {
  const names = Array.from({ length: nodes }, (_, i) => `n${i + 1}`);
  return generateSchedule({ seed, nodes: names, durationMs: Math.min(durationMs, MAX_LOAD_MS), minEpisodeMs: Math.min(2_000, durationMs / 4), maxEpisodeMs: Math.max(2_000, durationMs / 4) });
}

/** Imports a user's module by path (relative to the working directory). */
async function importModule(path: string, what: string): Promise<Record<string, unknown>> {
  try {
    return (await import(pathToFileURL(resolve(path)).href)) as Record<string, unknown>;
  } catch (err) {
    throw new InvalidArgumentError('INVALID_CONFIG', `cannot import the ${what} module ${path}: ${(err as Error).message}`, { cause: err });
  }
}

/** The plugins a user's module exports (values made with `definePlugin`), as config entries. */
export async function pluginsOf(path: string): Promise<PluginSpec[]> {
  const mod = await importModule(path, 'plugin');
  const specs = Object.values(mod)
    .filter((x): x is { name: string; module: string } => typeof x === 'object' && x !== null && typeof (x as { name?: unknown }).name === 'string' && typeof (x as { module?: unknown }).module === 'string')
    .map((p): PluginSpec => ({ module: p.module, name: p.name }));
  if (specs.length === 0) throw new InvalidArgumentError('INVALID_CONFIG', `${path} exports no plugin (a value made with definePlugin, whose module is its import.meta.url)`);
  return specs;
}

/** The workload a user's module exports as `workload` or as its default export. */
export async function workloadOf(path: string): Promise<Workload> {
  const mod = await importModule(path, 'workload');
  const w = mod.workload ?? mod.default;
  if (!isWorkload(w)) throw new InvalidArgumentError('INVALID_CONFIG', `${path} exports no workload: export one as 'workload' (or default) with a name and a start(env) function`);
  return w;
}
