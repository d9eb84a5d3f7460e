/**
 * Many seeds, one summary: each seed's plan run in the simulation and checked; failing seeds are
 * saved as plans (with a command that replays exactly that run), and optionally shrunk.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { Progress, type ProgressSink } from '../run/progress.ts';
import { type PlanShape, planFor, type VerifyPlan } from './plan.ts';
import { type PlanResult, runPlan } from './run-plan.ts';
import { shrink } from './shrink.ts';

export interface VerifyOptions extends PlanShape {
  /** First seed. */
  readonly from: number;
  readonly seeds: number;
  /** Where failing plans are written. */
  readonly outDir: string;
  /** Shrink each failing plan (up to this many replays each); 0: do not. */
  readonly shrinkRuns: number;
  readonly progress?: ProgressSink;
  /** The plan of a seed. Default {@link planFor} with this shape (a test may make plans that fail). */
  readonly planOf?: (seed: number) => VerifyPlan;
}

/** A failing seed: its plan's file, the smallest failing plan's (if shrunk), and the failures. */
export interface VerifyFailure {
  readonly seed: number;
  readonly planFile: string;
  readonly shrunkFile?: string;
  readonly shrunkSteps?: number;
  readonly failures: PlanResult['failures'];
}

export interface VerifySummary {
  readonly seeds: number;
  readonly passed: number;
  readonly failed: number;
  readonly operations: number;
  readonly operationsNotOk: number;
  /** Faults and ring changes applied, by kind, over every seed. */
  readonly faults: Record<string, number>;
  /** Failed checks, by name, over every seed. */
  readonly violations: Record<string, number>;
  /** The largest convergence time after the last fault (at most; see PlanResult), and that seed's time after the heal. */
  readonly largestConvergence: { readonly seed: number; readonly ms: number; readonly afterHealMs: number } | null;
  readonly largestMembership: { readonly seed: number; readonly ms: number } | null;
  readonly failures: readonly VerifyFailure[];
  readonly wallMs: number;
}

/** Runs seeds `from`..`from + seeds - 1` one after another. */
export async function verifySeeds(o: VerifyOptions): Promise<VerifySummary> {
  const wall0 = performance.now();
  const progress = new Progress(o.progress);
  const faults: Record<string, number> = {};
  const violations: Record<string, number> = {};
  const failures: VerifyFailure[] = [];
  let operations = 0;
  let notOk = 0;
  let passed = 0;
  let largestConvergence: VerifySummary['largestConvergence'] = null;
  let largestMembership: VerifySummary['largestMembership'] = null;
  for (let i = 0; i < o.seeds; i++) {
    const seed = o.from + i;
    const plan = o.planOf?.(seed) ?? planFor(seed, o);
    const result = await runPlan(plan).catch((err: unknown) => crashed(plan, err));
    operations += result.operations;
    notOk += result.notOk;
    for (const [k, n] of Object.entries(result.faults)) faults[k] = (faults[k] ?? 0) + n;
    const since = result.convergenceSinceLastFaultMs;
    if (since !== null && result.convergenceMs !== null && (largestConvergence === null || since > largestConvergence.ms)) largestConvergence = { seed, ms: since, afterHealMs: result.convergenceMs };
    if (result.membershipMs !== null && (largestMembership === null || result.membershipMs > largestMembership.ms)) largestMembership = { seed, ms: result.membershipMs };
    if (result.ok) passed++;
    else {
      for (const f of result.failures) violations[f.name] = (violations[f.name] ?? 0) + 1;
      const failure = await saveFailure(plan, result, o, progress);
      failures.push(failure);
    }
    progress.update((i + 1) / o.seeds, `seed ${seed}  ${i + 1}/${o.seeds}  ${failures.length} failed  ${operations} ops`);
  }
  progress.end();
  return { seeds: o.seeds, passed, failed: failures.length, operations, operationsNotOk: notOk, faults, violations, largestConvergence, largestMembership, failures, wallMs: performance.now() - wall0 };
}

/** A run that threw instead of finishing: a failure of its seed like any other, with the error as its detail. */
function crashed(plan: VerifyPlan, err: unknown): PlanResult {
  const detail = err instanceof Error ? err.message : String(err);
  return { seed: plan.seed, ok: false, operations: 0, notOk: 0, faults: {}, failures: [{ name: 'the run finished', detail }], convergenceMs: null, convergenceSinceLastFaultMs: null, membershipMs: null, membership: undefined, falseDeaths: [], report: undefined };
}

async function saveFailure(plan: VerifyPlan, result: PlanResult, o: VerifyOptions, progress: Progress): Promise<VerifyFailure> {
  mkdirSync(o.outDir, { recursive: true });
  const planFile = join(o.outDir, `seed-${plan.seed}.json`);
  writeFileSync(planFile, `${JSON.stringify(plan, null, 2)}\n`);
  progress.note(`FAIL seed ${plan.seed}: ${result.failures.map((f) => `${f.name}: ${f.detail}`).join('; ')}`);
  progress.note(`  replay: corepack pnpm verify --seed ${plan.seed} --nodes ${o.nodes} --ops ${o.ops}   (or --replay ${planFile})`);
  if (o.shrinkRuns <= 0) return { seed: plan.seed, planFile, failures: result.failures };
  const names = new Set(result.failures.map((f) => f.name));
  // A candidate still fails if one of the same checks fails: shrinking keeps the bug, not just any failure.
  const { plan: smallest, runs } = await shrink(plan, async (candidate) => (await runPlan(candidate).catch((err: unknown) => crashed(candidate, err))).failures.some((f) => names.has(f.name)), o.shrinkRuns);
  const shrunkFile = join(o.outDir, `seed-${plan.seed}.min.json`);
  writeFileSync(shrunkFile, `${JSON.stringify(smallest, null, 2)}\n`);
  progress.note(`  shrunk in ${runs} replays to ${smallest.steps.length} of ${plan.steps.length} steps, ${smallest.ops} operations, ${smallest.clients} clients, ${smallest.keys} keys: ${shrunkFile}`);
  return { seed: plan.seed, planFile, shrunkFile, shrunkSteps: smallest.steps.length, failures: result.failures };
}

/** The summary for people. */
export function formatSummary(s: VerifySummary): string {
  const lines = [
    `seeds: ${s.seeds} (${s.passed} passed, ${s.failed} failed) in ${(s.wallMs / 1000).toFixed(1)} s`,
    `operations: ${s.operations} (${s.operationsNotOk} failed or of unknown outcome, as faults make them)`,
    `faults and ring changes: ${Object.entries(s.faults)
      .sort((a, b) => b[1] - a[1])
      .map(([k, n]) => `${k} ${n}`)
      .join(', ')}`,
    `violations: ${Object.keys(s.violations).length === 0 ? 'none' : Object.entries(s.violations).map(([k, n]) => `${k}: ${n} seeds`).join('; ')}`,
    `largest convergence time: ${s.largestConvergence === null ? '-' : `${(s.largestConvergence.ms / 1000).toFixed(2)} s after the last fault, ${(s.largestConvergence.afterHealMs / 1000).toFixed(2)} s after the final heal (seed ${s.largestConvergence.seed})`}`,
    `largest membership convergence after the heal: ${s.largestMembership === null ? '-' : `${(s.largestMembership.ms / 1000).toFixed(2)} s (seed ${s.largestMembership.seed})`}`,
  ];
  for (const f of s.failures) lines.push(`FAIL seed ${f.seed}: ${f.planFile}${f.shrunkFile !== undefined ? `, shrunk: ${f.shrunkFile}` : ''}`);
  return lines.join('\n');
}
