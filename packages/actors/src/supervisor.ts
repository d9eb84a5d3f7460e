/**
 * Supervision: how a parent treats a failing child. The strategy is declarative data plus a
 * decider function, applied by the runtime on the parent's behalf (as Erlang/OTP supervisors and
 * Akka's strategies do); the pure helpers here decide intensity and backoff.
 */
import type { Directive } from './events.ts';

/** Which children a decision applies to. */
export type SupervisionKind =
  /** Only the failed child (Erlang `one_for_one`). */
  | 'one-for-one'
  /** Every child of the parent (Erlang `one_for_all`). */
  | 'one-for-all'
  /** The failed child and every sibling started after it (Erlang `rest_for_one`). */
  | 'rest-for-one';

/** Exponential backoff between restarts, with jitter. `minMs: 0` restarts at once. */
export interface BackoffOptions {
  /** Delay before the first restart, in ms. Default 0 (restart at once, as Erlang does). */
  minMs: number;
  /** Ceiling of the doubling delay, in ms. Default 30 000. */
  maxMs: number;
  /** Each delay is stretched by up to this fraction at random. Default 0.2 (Akka's default). */
  randomFactor: number;
  /** A child that ran this long without failing starts again from `minMs`. Default 30 000 ms. */
  resetAfterMs: number;
}

/** How a parent supervises its children. */
export interface SupervisionStrategy {
  readonly kind: SupervisionKind;
  /** Maps an error to a directive. Default: always `restart`. A decider that throws escalates. */
  readonly decide: (error: unknown) => Directive;
  /**
   * Restart intensity: at most `maxRestarts` restarts of one child within `withinMs`; one more
   * escalates instead. Default 10 within 10 000 ms (Erlang's default, 1 in 5 s, is tuned for
   * processes that rarely crash; actors under fault tests crash more).
   */
  readonly maxRestarts: number;
  readonly withinMs: number;
  readonly backoff: BackoffOptions;
}

export const DEFAULT_BACKOFF: BackoffOptions = { minMs: 0, maxMs: 30_000, randomFactor: 0.2, resetAfterMs: 30_000 };

export const DEFAULT_STRATEGY: SupervisionStrategy = {
  kind: 'one-for-one',
  decide: () => 'restart',
  maxRestarts: 10,
  withinMs: 10_000,
  backoff: DEFAULT_BACKOFF,
};

/** A strategy with the defaults filled in. */
export function resolveStrategy(partial: SupervisionOptions | undefined): SupervisionStrategy {
  if (!partial) return DEFAULT_STRATEGY;
  return {
    kind: partial.kind ?? DEFAULT_STRATEGY.kind,
    decide: partial.decide ?? DEFAULT_STRATEGY.decide,
    maxRestarts: partial.maxRestarts ?? DEFAULT_STRATEGY.maxRestarts,
    withinMs: partial.withinMs ?? DEFAULT_STRATEGY.withinMs,
    backoff: { ...DEFAULT_BACKOFF, ...partial.backoff },
  };
}

/** What a definition may set; everything else takes its default. */
export interface SupervisionOptions {
  kind?: SupervisionKind;
  decide?: (error: unknown) => Directive;
  maxRestarts?: number;
  withinMs?: number;
  backoff?: Partial<BackoffOptions>;
}

/** Restart bookkeeping of one child across its incarnations. */
export interface RestartHistory {
  /** Times of restarts inside the current window, oldest first; never longer than `maxRestarts`. */
  times: number[];
  /** Consecutive restarts since the last stable period (the backoff exponent). */
  attempt: number;
  /** Time of the last restart, or -Infinity. */
  lastRestartAtMs: number;
}

export function newRestartHistory(): RestartHistory {
  return { times: [], attempt: 0, lastRestartAtMs: -Infinity };
}

/**
 * Records a restart at `nowMs` if the intensity allows it and returns true; returns false (and
 * records nothing) when this restart would exceed `maxRestarts` within `withinMs`.
 */
export function admitRestart(history: RestartHistory, strategy: SupervisionStrategy, nowMs: number): boolean {
  const times = history.times;
  const horizon = nowMs - strategy.withinMs;
  let expired = 0;
  while (expired < times.length && (times[expired] as number) <= horizon) expired++;
  if (expired > 0) times.splice(0, expired);
  if (times.length >= strategy.maxRestarts) return false;
  times.push(nowMs);
  return true;
}

/**
 * The backoff before the next restart, in ms, advancing the history's attempt counter. `random`
 * is the runtime's seeded draw in [0, 1).
 */
export function nextBackoffMs(history: RestartHistory, backoff: BackoffOptions, nowMs: number, random: () => number): number {
  if (nowMs - history.lastRestartAtMs >= backoff.resetAfterMs) history.attempt = 0;
  history.lastRestartAtMs = nowMs;
  const attempt = history.attempt++;
  if (backoff.minMs <= 0) return 0;
  const base = Math.min(backoff.maxMs, backoff.minMs * 2 ** Math.min(attempt, 30));
  return Math.round(base * (1 + backoff.randomFactor * random()));
}
