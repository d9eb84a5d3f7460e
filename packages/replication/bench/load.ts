/**
 * The closed-loop client load of the store's tail-latency benches (one-down.ts, transfer.ts) and
 * its statistics, kept in one place so that both benches measure with the same driver: a
 * difference between their figures should come from what they do to the cluster, not from how
 * each one loads it.
 *
 * The load: the host's {@link KvClient}, a fixed number of operations outstanding (each finished
 * one starts the next), over a list of keys taken in turn, so no two operations in flight share a
 * key as long as there are more keys than operations in flight. Puts and gets alternate, and puts
 * carry the key's last context, so a key keeps one value. Every operation's time from call to
 * reply is recorded, a failure's time to its error included.
 */
import type { BenchContext } from '../../../scripts/bench/types.ts';
import type { KvClient, VersionVector } from '../src/index.ts';

/** The two kinds of operation the load issues. */
export type Kind = 'put' | 'get';
/** Both kinds, in the order the benches report them. */
export const KINDS: readonly Kind[] = ['put', 'get'];

/** What a bench chooses about its load. */
export interface LoadOptions {
  /** Taken in turn; more of them than `inFlight`, so no two operations in flight share a key. */
  readonly keys: readonly string[];
  /** Written by every put. */
  readonly value: string;
  /** Operations outstanding at once. */
  readonly inFlight: number;
  /** Errors kept per phase for the log, at most (all are counted). */
  readonly errorsLogged: number;
}

/**
 * A load's state, carried from one phase to the next on the same cluster (whatever client each
 * phase uses): the key and kind of the next operation, and each key's last context.
 */
export interface Load extends LoadOptions {
  readonly contexts: Map<string, VersionVector>;
  /** Operations started so far: picks the key and the kind of the next one. */
  next: number;
}

/** A load that has started nothing yet. */
export function newLoad(options: LoadOptions): Load {
  return { ...options, contexts: new Map(), next: 0 };
}

/** One phase's outcome, per kind. */
export interface PhaseStats {
  /** Every operation's time from call to reply (or to its error), µs. */
  readonly latenciesUs: Record<Kind, number[]>;
  readonly failed: Record<Kind, number>;
  /** Failures by error code (all of them; `firstErrors` has the first few messages). */
  readonly errors: Map<string, number>;
  readonly firstErrors: string[];
  /** Gets that found no value (the benches write every key before any get): should stay 0. */
  emptyGets: number;
  /** Gets that found more than one value (no two operations in flight share a key, and puts carry the last context): should stay 0. */
  siblingGets: number;
  wallMs: number;
}

function newStats(): PhaseStats {
  return { latenciesUs: { put: [], get: [] }, failed: { put: 0, get: 0 }, errors: new Map(), firstErrors: [], emptyGets: 0, siblingGets: 0, wallMs: 0 };
}

/**
 * The kind of operation number `i`: puts and gets alternate, and the alternation flips at every
 * pass over the keys, so each key is read and written in turn across passes (with an even number
 * of keys and no flip, a key would only ever see one kind).
 */
function kindOf(i: number, keyCount: number): Kind {
  return (i + Math.floor(i / keyCount)) % 2 === 0 ? 'put' : 'get';
}

/** An error's code (`ERROR` when it has none), and a line for the log. */
export function describeError(err: unknown): { code: string; text: string } {
  const code = typeof err === 'object' && err !== null && 'code' in err && typeof err.code === 'string' ? err.code : 'ERROR';
  const message = err instanceof Error ? err.message : String(err);
  return { code, text: `${code}: ${message}` };
}

/**
 * Keeps `load.inFlight` operations outstanding on `kv` while `more(launched)` says so (checked
 * before each launch, with the count launched so far: a count or a deadline), and resolves once
 * every launched one is done. Puts and gets alternate, or all are of kind `only`. Never rejects:
 * a failure is counted and the phase goes on, since a failed operation is part of what a phase
 * measures.
 */
export function drive(kv: KvClient, load: Load, more: (launched: number) => boolean, only?: Kind): Promise<PhaseStats> {
  const stats = newStats();
  const t0 = performance.now();
  return new Promise((resolve) => {
    let launched = 0;
    let outstanding = 0;
    const finish = (): void => {
      stats.wallMs = performance.now() - t0;
      resolve(stats);
    };
    const launch = (): void => {
      launched++;
      outstanding++;
      const i = load.next++;
      const key = load.keys[i % load.keys.length]!;
      const kind = only ?? kindOf(i, load.keys.length);
      const t = performance.now();
      let op: Promise<unknown>;
      if (kind === 'get') {
        op = kv.get(key).then((r) => {
          if (r.values.length === 0) stats.emptyGets++;
          else if (r.values.length > 1) stats.siblingGets++;
        });
      } else {
        const context = load.contexts.get(key);
        op = kv.put(key, load.value, context === undefined ? {} : { context }).then((r) => {
          load.contexts.set(key, r.context);
        });
      }
      op.then(
        () => stats.latenciesUs[kind].push((performance.now() - t) * 1000),
        (err: unknown) => {
          // A failure's time to the error is part of the tail too (a timeout is the longest kind).
          stats.latenciesUs[kind].push((performance.now() - t) * 1000);
          stats.failed[kind]++;
          const { code, text } = describeError(err);
          stats.errors.set(code, (stats.errors.get(code) ?? 0) + 1);
          if (stats.firstErrors.length < load.errorsLogged) stats.firstErrors.push(`${kind} ${key}: ${text}`);
        },
      ).then(() => {
        outstanding--;
        if (more(launched)) launch();
        else if (outstanding === 0) finish();
      });
    };
    for (let i = 0; i < load.inFlight && more(launched); i++) launch();
    // Nothing to wait for: without this, a phase asked for no operations would never resolve.
    if (launched === 0) finish();
  });
}

/** Nearest rank, of an unsorted sample. */
function percentile(values: readonly number[], q: number): number {
  if (values.length === 0) return Number.NaN;
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil(q * sorted.length) - 1))]!;
}

/** The two percentiles the benches report, µs. */
export interface Percentiles {
  readonly p50: number;
  readonly p99: number;
}

/** The p50 and p99 of one kind's latencies in a phase (NaN if it ran none of that kind). */
export function percentiles(stats: PhaseStats, kind: Kind): Percentiles {
  return { p50: percentile(stats.latenciesUs[kind], 0.5), p99: percentile(stats.latenciesUs[kind], 0.99) };
}

/** Operations a phase ran (failed ones included). */
export function opsOf(stats: PhaseStats): number {
  return stats.latenciesUs.put.length + stats.latenciesUs.get.length;
}

/** Operations of a phase that failed. */
export function failedOf(stats: PhaseStats): number {
  return stats.failed.put + stats.failed.get;
}

/**
 * A phase on one line for the log: percentiles per kind, throughput, failures, empty gets and
 * gets with siblings. `size` adds the operation count and wall time after the name, for phases
 * bounded by time or an event, whose size is not known beforehand.
 */
export function describePhase(name: string, stats: PhaseStats, options: { readonly size?: boolean } = {}): string {
  const kinds = KINDS.map((k) => {
    const p = percentiles(stats, k);
    return `${k} p50 ${p.p50.toFixed(0)} p99 ${p.p99.toFixed(0)} µs`;
  }).join(', ');
  const failed = failedOf(stats);
  const failures = failed === 0 ? '0 failed' : `${failed} FAILED (${stats.failed.put} puts, ${stats.failed.get} gets; ${[...stats.errors].map(([c, n]) => `${n} ${c}`).join(', ')})`;
  const size = options.size === true ? `${opsOf(stats)} ops in ${stats.wallMs.toFixed(0)} ms, ` : '';
  return `${name}: ${size}${kinds}; ${((opsOf(stats) / stats.wallMs) * 1000).toFixed(0)} ops/s, ${failures}, ${stats.emptyGets} empty gets, ${stats.siblingGets} with siblings`;
}

/** Logs a phase's first errors, one a line, under `indent` (so they nest below the bench's own line for the phase). */
export function logFailures(ctx: BenchContext, name: string, stats: PhaseStats, indent: string): void {
  for (const e of stats.firstErrors) ctx.log(`${indent}${name} failure: ${e}`);
}
