/**
 * `pnpm demo`: the scripted scenario. Steady load on the store; a partition into a majority and a
 * minority, both sides still taking writes (sloppy quorum, hints); a majority node killed and
 * restarted (in threads its store is lost with its worker: the other replicas, hints and
 * anti-entropy must cover it); the heal; convergence; then the checks: no acknowledged write lost
 * (history checker and a read of every key), membership and replicas converged.
 */
import { InvalidArgumentError, majorityMinority, type RuntimeKind } from '@starling/actors';
import { kvWorkload } from './load/kv-workload.ts';
import { MAX_DEMO_NODES } from './run/cluster.ts';
import type { ProgressSink } from './run/progress.ts';
import type { Report } from './run/report.ts';
import { runLoad, type Step } from './run/run.ts';

/** The scenario's knobs. */
export interface ScenarioOptions {
  readonly runtime: RuntimeKind;
  readonly seed: number;
  /** At least 3: the partition needs a majority and a minority. */
  readonly nodes: number;
  /** Length of the load, in ms (faults happen at fixed fractions of it). */
  readonly durationMs: number;
  /** Time allowed for convergence after the heal, in ms (the run goes on as soon as it converged). Default 120 000. */
  readonly settleMs?: number;
  readonly progress?: ProgressSink;
}

/** The embedded default: 5 nodes on worker threads, 40 s of load (about a minute in all). */
export const DEFAULT_SCENARIO: Omit<ScenarioOptions, 'progress'> = { runtime: 'threads', seed: 1, nodes: 5, durationMs: 40_000 };

/**
 * Time allowed for convergence after the heal, in ms. Typically seconds; the bound covers the slow
 * tail: anti-entropy compares a given pair of replicas about every other 10 s round, and membership
 * may take 10 s or more to see a node that was paused or declared dead alive again.
 */
export const DEFAULT_SETTLE_MS = 120_000;

/** The scenario's timeline, at fractions of the load: steady, partition, kill, restart; the heal ends the load. */
const PARTITION_AT = 0.25;
const KILL_AT = 0.4;
const RESTART_AT = 0.6;

/** The scenario's steps for `nodes` nodes over `durationMs`. */
export function scenarioSteps(nodes: number, durationMs: number): Step[] {
  const names = Array.from({ length: nodes }, (_, i) => `n${i + 1}`);
  const partition = majorityMinority(names);
  if (partition.shape !== 'groups') throw new Error('majorityMinority gives groups');
  const [majority, minority] = partition.groups as [readonly string[], readonly string[]];
  // A majority node other than n1 (which the report asks for the ring).
  const victim = majority[majority.length - 1]!;
  const at = (f: number): number => Math.round(f * durationMs);
  return [
    { atMs: at(PARTITION_AT), phase: `partition: majority ${majority.join(',')} | minority ${minority.join(',')}`, fault: { kind: 'partition', partition } },
    { atMs: at(KILL_AT), phase: `${victim} killed (partition holds)`, fault: { kind: 'kill', node: victim } },
    { atMs: at(RESTART_AT), phase: `${victim} restarted (partition holds)`, fault: { kind: 'restart', node: victim } },
  ];
}

export async function runScenario(o: ScenarioOptions): Promise<Report> {
  if (!Number.isSafeInteger(o.nodes) || o.nodes < 3 || o.nodes > MAX_DEMO_NODES) {
    throw new InvalidArgumentError('INVALID_CONFIG', `the scenario needs from 3 to ${MAX_DEMO_NODES} nodes (a majority and a minority), got ${o.nodes}`);
  }
  return runLoad({
    command: 'scenario',
    cluster: { runtime: o.runtime, seed: o.seed, nodes: o.nodes, n: 3, r: 2, w: 2 },
    workload: ({ partitionCount, wipes }) =>
      kvWorkload({
        keys: 1_000,
        distribution: { kind: 'uniform' },
        mix: { get: 0.5, put: 0.45, delete: 0.05 },
        valueBytes: 100,
        clients: 8,
        partitionCount,
        n: 3,
        wipes,
      }),
    inFlight: 32,
    durationMs: o.durationMs,
    steps: scenarioSteps(o.nodes, o.durationMs),
    firstPhase: 'steady load',
    settleMs: o.settleMs ?? DEFAULT_SETTLE_MS,
    ...(o.progress !== undefined ? { progress: o.progress } : {}),
  });
}
