/**
 * The contract between `scripts/bench.ts` and each package's `bench/index.ts`.
 *
 * A package exports `benchmarks: readonly BenchGroup[]`. A group measures one subject against its
 * baselines and emits one or more results. Groups do not time anything themselves: they hand
 * their contenders to `ctx.compare`, which owns the measuring discipline (warm-up, sizing,
 * interleaved rounds, medians, time limits), so every package's figures mean the same thing.
 * Packages import this file by relative path: its types and the pure `result` helper, nothing
 * stateful; the runner passes the measuring implementation in `ctx`.
 */

/**
 * When a result is good enough: its ratio to its baseline is at least `minRatio` (rates: higher is
 * better) and/or at most `maxRatio` (latencies, times, memory: lower is better). Give at least one.
 */
export interface Goal {
  readonly minRatio?: number;
  readonly maxRatio?: number;
}

/** One figure, printed in the table and in `--json`. */
export interface BenchResult {
  /** Dotted and stable across commits (`tell.local`, `ask.local_100`). */
  readonly id: string;
  readonly value: number;
  readonly unit: string;
  /** The baseline measured in the same run, interleaved with the subject. */
  readonly vs: { readonly name: string; readonly value: number };
  /** `value / vs.value`. */
  readonly ratio: number;
  readonly goal?: Goal;
}

/**
 * One side of a comparison: work that can be done in rounds of a chosen size.
 *
 * `run(size)` does one round and resolves with the number of work units done (messages, round
 * trips...). The harness picks `size` so that a round lasts about the target duration, so the
 * same contender stays cheap to run on a slow machine and long enough to time on a fast one.
 */
export interface Contender {
  readonly name: string;
  /** A size small enough for a first, untimed round (it is scaled up from there). */
  readonly initialSize: number;
  run(size: number): Promise<number>;
}

/** What `ctx.compare` measured for one contender. */
export interface Measured {
  readonly name: string;
  /** Median of the per-round rates, in units per second. */
  readonly rate: number;
  /** Every round's rate, in round order. */
  readonly rates: readonly number[];
  /** The round size the harness settled on. */
  readonly size: number;
}

/** What a group receives from the runner. */
export interface BenchContext {
  /** Progress lines, to stderr (stdout carries only the results). */
  log(line: string): void;
  /**
   * Measures the contenders in interleaved rounds (A, B, C, A, B, C...) after warming each up,
   * and returns their median rates keyed by name. Rejects if a round exceeds the time limit.
   */
  compare(contenders: readonly Contender[]): Promise<ReadonlyMap<string, Measured>>;
}

/** A set of results measured together. */
export interface BenchGroup {
  /** The ids `run` emits; `--filter` skips a group none of whose ids match. */
  readonly ids: readonly string[];
  run(ctx: BenchContext): Promise<readonly BenchResult[]>;
}

/** A named figure: a rate, a latency, a start time. */
export interface Figure {
  readonly name: string;
  readonly value: number;
}

/** Builds a result from a subject figure and its baseline, so the ratio is always subject / baseline. */
export function figureResult(id: string, unit: string, subject: Figure, baseline: Figure, goal?: Goal): BenchResult {
  return {
    id,
    value: subject.value,
    unit,
    vs: { name: baseline.name, value: baseline.value },
    ratio: subject.value / baseline.value,
    ...(goal ? { goal } : {}),
  };
}

/** Builds a result from two measured rates. */
export function result(id: string, unit: string, subject: Measured, baseline: Measured, goal?: Goal): BenchResult {
  return figureResult(id, unit, { name: subject.name, value: subject.rate }, { name: baseline.name, value: baseline.rate }, goal);
}
