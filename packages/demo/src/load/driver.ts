/**
 * The load driver: keeps a fixed number of a workload's operations in flight (a closed loop: each
 * finished operation starts the next) until a count or a runtime deadline is reached, or it is
 * stopped, and records every operation's outcome and latency in the current phase.
 *
 * Time is the cluster's (`cluster.now()`): virtual in simulation, so a simulated run's figures
 * are those of the simulated network and replay with the seed.
 */
import type { Cluster, Random } from '@starling/actors';
import { Latency, type LatencySummary } from './latency.ts';
import type { Operation, WorkloadRun } from './workload.ts';

/** Outcomes and latencies of one kind of operation. */
export interface KindStats {
  ok: number;
  failed: number;
  /** Operations whose outcome is not known (a write that timed out may have happened). */
  unknown: number;
  /** Failed and unknown operations by error code. */
  readonly errors: Map<string, number>;
  /** Every operation's time from start to its result, a failure's time to its error included. */
  readonly latency: Latency;
}

/** A stretch of the run (steady load, a partition...) with its own figures. */
export interface Phase {
  readonly name: string;
  readonly startMs: number;
  endMs: number | undefined;
  readonly kinds: Map<string, KindStats>;
}

/** How long a load runs: it stops launching at whichever bound comes first. */
export interface DriveOptions {
  /** Operations in flight at once. */
  readonly inFlight: number;
  /** Operations to launch in all. */
  readonly maxOps?: number;
  /** Runtime time (`cluster.now()`) after which nothing more is launched. */
  readonly untilMs?: number;
  /** The seeded stream operations are drawn from. */
  readonly random: Random;
  /** When the first phase starts, in runtime ms. Default now. */
  readonly startMs?: number;
  /** Called after every finished operation (a progress display throttles itself). */
  readonly onOperation?: () => void;
  /**
   * Launches at most this many operations per second of runtime time from `startMs` (an open
   * schedule under the closed loop's cap), so a load of a given count spans the time its faults
   * are laid over. The runner calls {@link LoadDriver.pump} as its clock moves. Default: no pace.
   */
  readonly opsPerSec?: number;
}

/** Operations finished at one instant of the clock after which the driver stops: the load is not moving time. */
export const MAX_OPS_PER_INSTANT = 100_000;
/** Launches between two yields to the event loop on a real clock. */
const LAUNCHES_PER_YIELD = 1_000;

function newKind(): KindStats {
  return { ok: 0, failed: 0, unknown: 0, errors: new Map(), latency: new Latency() };
}

/** An error's code (`ERROR` when it has none) and whether its outcome is unknown. */
export function classify(err: unknown): { code: string; isUnknown: boolean } {
  const o = typeof err === 'object' && err !== null ? (err as { code?: unknown; outcome?: unknown }) : {};
  return { code: typeof o.code === 'string' ? o.code : 'ERROR', isUnknown: o.outcome === 'unknown' };
}

export class LoadDriver {
  readonly phases: Phase[] = [];
  launched = 0;
  completed = 0;
  /** Operations that failed or whose outcome is unknown, so far. */
  notOk = 0;
  /**
   * True when the driver stopped because operations finished without the clock moving (see
   * {@link MAX_OPS_PER_INSTANT}): in simulation, an operation that never crosses the simulated
   * network (a host's ask answered at once) takes no virtual time, so no deadline would come.
   */
  clockStalled = false;
  /** What `next()` threw (or the malformed operation it returned): a workload's bug stops the load. */
  workloadError: Error | undefined;
  private instantMs = Number.NaN;
  private opsThisInstant = 0;
  private launchesSinceYield = 0;
  private stopped = false;
  private outstanding = 0;
  private finish: (() => void) | undefined;
  /** Resolves once the load has stopped launching and every launched operation is done. */
  readonly done: Promise<void>;

  constructor(
    private readonly cluster: Cluster,
    private readonly run: WorkloadRun,
    private readonly options: DriveOptions,
    firstPhase = 'load',
  ) {
    if (!Number.isSafeInteger(options.inFlight) || options.inFlight < 1) throw new RangeError(`inFlight must be a positive integer, got ${options.inFlight}`);
    if (options.opsPerSec !== undefined && !(options.opsPerSec > 0 && Number.isFinite(options.opsPerSec))) throw new RangeError(`opsPerSec must be a positive number, got ${options.opsPerSec}`);
    this.phases.push({ name: firstPhase, startMs: options.startMs ?? cluster.now(), endMs: undefined, kinds: new Map() });
    this.done = new Promise((resolve) => {
      this.finish = resolve;
    });
    for (let i = 0; i < options.inFlight && this.more() && this.isDue(); i++) this.launch();
    this.settleIfIdle();
  }

  /** Whether a paced load may launch its next operation now: launches keep to `opsPerSec` since the start. */
  private isDue(): boolean {
    const rate = this.options.opsPerSec;
    if (rate === undefined) return true;
    const elapsedMs = this.cluster.now() - this.phases[0]!.startMs;
    return this.launched < Math.floor((elapsedMs * rate) / 1000) + 1;
  }

  /** Launches what a paced load has come due for (the runner calls it as its clock moves). */
  pump(): void {
    while (this.outstanding < this.options.inFlight && this.more() && this.isDue()) this.launch();
    this.settleIfIdle();
  }

  /** Ends the current phase and starts the next: operations count in the phase they started in. */
  mark(name: string): void {
    const now = this.cluster.now();
    const current = this.phases[this.phases.length - 1];
    if (current !== undefined) current.endMs = now;
    this.phases.push({ name, startMs: now, endMs: undefined, kinds: new Map() });
  }

  /** Launches nothing more; {@link done} resolves when the operations in flight are. */
  stop(): void {
    this.stopped = true;
    this.settleIfIdle();
  }

  /** Every phase's figures merged, per kind. */
  totals(): Map<string, KindStats> {
    const out = new Map<string, KindStats>();
    for (const p of this.phases) mergeKinds(out, p.kinds);
    return out;
  }

  private more(): boolean {
    if (this.stopped) return false;
    if (this.options.maxOps !== undefined && this.launched >= this.options.maxOps) return false;
    if (this.options.untilMs !== undefined && this.cluster.now() >= this.options.untilMs) return false;
    return true;
  }

  private launch(): void {
    const phase = this.phases[this.phases.length - 1]!;
    let op: Operation;
    try {
      op = this.run.next(this.options.random);
      if (typeof op !== 'object' || op === null || typeof op.kind !== 'string' || typeof op.run !== 'function') {
        throw new TypeError(`next() must return { kind: string, run: () => Promise<void> }, got ${String(op)}`);
      }
    } catch (err) {
      this.workloadError = err instanceof Error ? err : new Error(String(err));
      this.stopped = true;
      this.settleIfIdle();
      return;
    }
    this.launched++;
    this.outstanding++;
    const kind = op.kind;
    const startMs = this.cluster.now();
    const stats = (): KindStats => {
      let s = phase.kinds.get(kind);
      if (s === undefined) phase.kinds.set(kind, (s = newKind()));
      return s;
    };
    let running: Promise<void>;
    try {
      running = Promise.resolve(op.run());
    } catch (err) {
      running = Promise.reject(err);
    }
    running
      .then(
        () => {
          const s = stats();
          s.ok++;
          s.latency.record(this.cluster.now() - startMs);
        },
        (err: unknown) => {
          const s = stats();
          const { code, isUnknown } = classify(err);
          this.notOk++;
          if (isUnknown) s.unknown++;
          else s.failed++;
          s.errors.set(code, (s.errors.get(code) ?? 0) + 1);
          s.latency.record(this.cluster.now() - startMs);
        },
      )
      .then(() => {
        this.outstanding--;
        this.completed++;
        const now = this.cluster.now();
        if (now === this.instantMs) {
          if (++this.opsThisInstant >= MAX_OPS_PER_INSTANT) {
            this.clockStalled = true;
            this.stopped = true;
          }
        } else {
          this.instantMs = now;
          this.opsThisInstant = 1;
        }
        this.options.onOperation?.();
        if (!this.more()) this.settleIfIdle();
        // A paced load waits for its next slot; pump() launches it.
        else if (!this.isDue()) return;
        else if (this.cluster.runtime !== 'simulation' && ++this.launchesSinceYield >= LAUNCHES_PER_YIELD) {
          // Operations that fail at once (a node known down) chain launches in microtasks: break
          // the chain now and then so timers and I/O (the runner's, the nodes') get their turn.
          this.launchesSinceYield = 0;
          setImmediate(() => this.pump());
        } else this.launch();
      });
  }

  private settleIfIdle(): void {
    if (this.outstanding === 0 && !this.more()) {
      const last = this.phases[this.phases.length - 1];
      if (last !== undefined && last.endMs === undefined) last.endMs = this.cluster.now();
      this.finish?.();
    }
  }
}

/** Adds `from`'s figures into `into`, kind by kind. */
export function mergeKinds(into: Map<string, KindStats>, from: ReadonlyMap<string, KindStats>): void {
  for (const [kind, s] of from) {
    let t = into.get(kind);
    if (t === undefined) into.set(kind, (t = newKind()));
    t.ok += s.ok;
    t.failed += s.failed;
    t.unknown += s.unknown;
    for (const [code, n] of s.errors) t.errors.set(code, (t.errors.get(code) ?? 0) + n);
    t.latency.add(s.latency);
  }
}

/** Operations of a set of kinds, by outcome. */
export function countOps(kinds: ReadonlyMap<string, KindStats>): { total: number; ok: number; failed: number; unknown: number } {
  let ok = 0;
  let failed = 0;
  let unknown = 0;
  for (const s of kinds.values()) {
    ok += s.ok;
    failed += s.failed;
    unknown += s.unknown;
  }
  return { total: ok + failed + unknown, ok, failed, unknown };
}

/** One latency summary over a set of kinds. */
export function overallLatency(kinds: ReadonlyMap<string, KindStats>): LatencySummary {
  const all = new Latency();
  for (const s of kinds.values()) all.add(s.latency);
  return all.summary();
}
