/**
 * What the load generator drives: a workload hands it operations, one at a time, and checks its
 * own invariants once the run is over. The store's workload (kv-workload.ts) is one; a user's
 * module that exports a {@link Workload} is another, with the user's own plugin on every node
 * (examples/counter).
 */
import type { Cluster, Random } from '@starling/actors';

/** One operation for the driver to run and time. */
export interface Operation {
  /** Groups it in the report (`put`, `get`, `incr`...): latencies and outcomes are per kind. */
  readonly kind: string;
  /**
   * Runs it. Resolves when it succeeded; rejects when it did not. A rejection whose error has
   * `outcome: 'unknown'` (as {@link KvError} does for a write that timed out) is counted as an
   * indeterminate operation, not a failure; its `code` groups it in the report.
   */
  readonly run: () => Promise<void>;
}

/** One verdict of a run, printed in the report; any that is not ok makes the run fail. */
export interface Check {
  readonly name: string;
  readonly ok: boolean;
  /** What was found, for people (counts, the first offender). */
  readonly detail: string;
}

/** What a workload is started with. */
export interface WorkloadEnv {
  readonly cluster: Cluster;
  /** The run's seed: a workload that draws anything of its own should derive it from this. */
  readonly seed: number;
  /** Nodes restarted empty so far, and when (in threads every restart is): a durability check may excuse what they alone held. */
  readonly wipes: () => readonly { readonly node: string; readonly atMs: number }[];
}

/** A started workload. */
export interface WorkloadRun {
  /** The next operation. `random` is the driver's seeded stream: draw from it, not from `Math.random`, so a simulated run replays. */
  next(random: Random): Operation;
  /**
   * Checks the workload's invariants after the load and its faults ended, the network healed and
   * (with the store on) the replicas converged. Optional.
   */
  check?(): Promise<readonly Check[]>;
  /** Figures of its own for the report, by name (counted by the workload). Optional. */
  figures?(): Readonly<Record<string, number>>;
}

/**
 * A workload: a name and how to start it on a running cluster. A user's workload module exports
 * one as `workload` (or as its default export).
 */
export interface Workload {
  readonly name: string;
  /** A line for the report saying what it does. */
  readonly description?: string;
  start(env: WorkloadEnv): WorkloadRun | Promise<WorkloadRun>;
}

/** True for a value shaped like a {@link Workload}: how a user's module is recognised. */
export function isWorkload(x: unknown): x is Workload {
  return typeof x === 'object' && x !== null && typeof (x as Workload).name === 'string' && typeof (x as Workload).start === 'function';
}
