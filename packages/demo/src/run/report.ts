/**
 * The report of a run: what the load did (operations, throughput, latency percentiles per kind
 * and per phase), what the cluster did (hints, repairs, convergence, messages by type) and the
 * checks that decide the exit code. Plain data, so `--json` prints it as it is.
 */
import type { LatencySummary } from '../load/latency.ts';
import type { Check } from '../load/workload.ts';
import type { ClusterShape } from './cluster.ts';
import type { ClusterCounters } from './counters.ts';

/** Operations by outcome. */
export interface OpCounts {
  readonly total: number;
  readonly ok: number;
  readonly failed: number;
  /** Outcome not known (a write that timed out may have happened). */
  readonly unknown: number;
}

export interface KindFigures extends OpCounts {
  /** Failed and unknown operations by error code. */
  readonly errors: Readonly<Record<string, number>>;
  readonly latency: LatencySummary;
}

export interface PhaseFigures extends OpCounts {
  readonly name: string;
  /** When it started, in ms from the start of the load. */
  readonly startMs: number;
  readonly durationMs: number;
  readonly opsPerSec: number;
  readonly latency: LatencySummary;
}

export interface ConvergenceFigures {
  /** Every key's primaries equal and no hint held, within the settle budget. */
  readonly converged: boolean;
  /** From the heal to the first clean census, in ms (null if it never came). */
  readonly storeMs: number | null;
  /** From the heal until every node saw every node alive, in ms (null if it never came). */
  readonly membershipMs: number | null;
  /** Keys held at the end. */
  readonly keys: number;
  readonly budgetMs: number;
}

export interface Report extends ClusterShape {
  readonly command: 'scenario' | 'load' | 'verify' | 'soak';
  readonly workload: string;
  readonly inFlight: number;
  /** How long the load ran, in ms of the runtime's clock (virtual in simulation). */
  readonly loadMs: number;
  readonly operations: OpCounts;
  readonly throughputOpsPerSec: number;
  readonly latency: LatencySummary;
  readonly kinds: Readonly<Record<string, KindFigures>>;
  readonly phases: readonly PhaseFigures[];
  /** Faults applied, at ms from the start of the load. */
  readonly faults: readonly { readonly atMs: number; readonly fault: string }[];
  readonly counters: Omit<ClusterCounters, 'messagesByType'>;
  /** Messages nodes sent to each other, by type, most first. */
  readonly messagesByType: Readonly<Record<string, number>>;
  readonly convergence?: ConvergenceFigures;
  /** The workload's own figures (siblings seen, writes read back...). */
  readonly figures: Readonly<Record<string, number>>;
  readonly checks: readonly Check[];
  /** Every check passed. */
  readonly ok: boolean;
  /** Wall-clock time of the whole run, in ms. */
  readonly wallMs: number;
}

const ms = (x: number): string => (x >= 100 ? x.toFixed(0) : x >= 10 ? x.toFixed(1) : x.toFixed(2));
const n0 = (x: number): string => Math.round(x).toLocaleString('en-US');

function latencyLine(l: LatencySummary): string {
  return `p50 ${ms(l.p50Ms)}  p90 ${ms(l.p90Ms)}  p99 ${ms(l.p99Ms)}  p99.9 ${ms(l.p999Ms)}  max ${ms(l.maxMs)} ms`;
}

function outcomes(c: OpCounts): string {
  return `${n0(c.total)} ops: ${n0(c.ok)} ok, ${n0(c.failed)} failed, ${n0(c.unknown)} unknown`;
}

/** The report for people. */
export function formatReport(r: Report): string {
  const lines: string[] = [];
  const add = (s = ''): void => void lines.push(s);
  const clock = r.runtime === 'simulation' ? 'virtual time' : 'real time';
  add(`Report (${r.command}, runtime ${r.runtime}, seed ${r.seed}, ${r.nodes} nodes, N=${r.n} R=${r.r} W=${r.w}, ${r.inFlight} in flight)`);
  add(`  workload   ${r.workload}`);
  add(`  load       ${outcomes(r.operations)} in ${(r.loadMs / 1000).toFixed(1)} s of ${clock}: ${n0(r.throughputOpsPerSec)} ops/s`);
  add(`  latency    ${latencyLine(r.latency)}`);
  for (const [kind, k] of Object.entries(r.kinds)) {
    const errors = Object.entries(k.errors).map(([code, count]) => `${count} ${code}`).join(', ');
    add(`    ${kind.padEnd(8)} ${outcomes(k)}${errors ? ` (${errors})` : ''}`);
    add(`    ${''.padEnd(8)} ${latencyLine(k.latency)}`);
  }
  add('  phases');
  for (const p of r.phases) {
    add(`    ${(p.startMs / 1000).toFixed(1).padStart(6)} s  ${p.name}`);
    add(`              ${outcomes(p)}, ${n0(p.opsPerSec)} ops/s, p99 ${ms(p.latency.p99Ms)} ms`);
  }
  if (r.faults.length > 0) {
    add('  faults');
    for (const f of r.faults) add(`    ${(f.atMs / 1000).toFixed(1).padStart(6)} s  ${f.fault}`);
  }
  const c = r.counters;
  const hasStore = r.convergence !== undefined;
  add(hasStore ? '  store' : '  workload');
  for (const [name, value] of Object.entries(r.figures)) add(`    ${name}: ${n0(value)}`);
  if (hasStore) {
    add(`    writes taken as hints ${n0(c.hintsStored)}; hints delivered ${n0(c.hintsDelivered)}, expired ${n0(c.hintsExpired)}; sloppy writes ${n0(c.sloppyWrites)}`);
    add(`    read repairs ${n0(c.readRepairs)}; anti-entropy: ${n0(c.antiEntropyExchanges)} exchanges, ${n0(c.keysRepairedByAntiEntropy)} keys repaired, ${n0(c.tombstonesCollected)} tombstones collected`);
  }
  add(`    actor restarts ${n0(c.actorRestarts)}, dead letters ${n0(c.deadLetters)}`);
  if (r.convergence) {
    const v = r.convergence;
    const t = (x: number | null): string => (x === null ? `not within ${(v.budgetMs / 1000).toFixed(0)} s` : `${(x / 1000).toFixed(2)} s`);
    add(`  convergence after the heal: membership ${t(v.membershipMs)}, replicas ${t(v.storeMs)} (${n0(v.keys)} keys)`);
  }
  const types = Object.entries(r.messagesByType);
  const total = types.reduce((a, [, v]) => a + v, 0);
  add(`  messages between nodes: ${n0(total)}`);
  for (let i = 0; i < types.length; i += 3) {
    add(`    ${types.slice(i, i + 3).map(([t, v]) => `${t} ${n0(v)}`.padEnd(30)).join('').trimEnd()}`);
  }
  add('  checks');
  for (const ch of r.checks) add(`    ${ch.ok ? 'ok  ' : 'FAIL'} ${ch.name}: ${ch.detail}`);
  add(r.ok ? `  all ${r.checks.length} checks passed (${(r.wallMs / 1000).toFixed(1)} s wall clock)` : `  ${r.checks.filter((x) => !x.ok).length} check(s) FAILED`);
  return lines.join('\n');
}
