/**
 * Shrinking a failing plan, as data (QuickCheck's and Jepsen's practice): drop ring changes,
 * fault episodes (half the remaining at a time, then one at a time), operations, clients and keys,
 * replaying each candidate, and keep any that still fails. The result is the smallest failing
 * plan found within the budget of replays, not a global minimum.
 */
import type { PlanStep, VerifyPlan } from './plan.ts';

/** Faults that begin an episode; the next step that ends it belongs with it. */
const STARTS: ReadonlySet<string> = new Set(['partition', 'loss', 'latency', 'duplicate', 'reorder', 'grudge', 'kill', 'pause']);

/** A plan's steps grouped into what can be removed together: a fault episode (its start and its end) or a ring change. */
export function episodesOf(steps: readonly PlanStep[]): PlanStep[][] {
  const out: PlanStep[][] = [];
  let open: PlanStep[] | undefined;
  for (const s of steps) {
    if ('ring' in s) {
      out.push([s]);
      continue;
    }
    if (STARTS.has(s.fault.kind)) {
      open = [s];
      out.push(open);
    } else if (open !== undefined) {
      open.push(s);
      open = undefined;
    } else out.push([s]);
  }
  return out;
}

function withEpisodes(plan: VerifyPlan, episodes: readonly PlanStep[][]): VerifyPlan {
  return { ...plan, steps: episodes.flat().sort((a, b) => a.atMs - b.atMs) };
}

export interface ShrinkResult {
  readonly plan: VerifyPlan;
  /** Replays run. */
  readonly runs: number;
}

/**
 * Shrinks `plan`, which `fails` (a replay: true when the run still fails). At most `maxRuns`
 * replays; `onStep` hears of every smaller failing plan found.
 */
export async function shrink(plan: VerifyPlan, fails: (candidate: VerifyPlan) => Promise<boolean>, maxRuns = 60, onStep?: (p: VerifyPlan) => void): Promise<ShrinkResult> {
  let best = plan;
  let runs = 0;
  const attempt = async (candidate: VerifyPlan): Promise<boolean> => {
    if (runs >= maxRuns) return false;
    runs++;
    if (!(await fails(candidate))) return false;
    best = candidate;
    onStep?.(best);
    return true;
  };
  // Episodes: halves first (cheap when most are irrelevant), then one at a time.
  let episodes = episodesOf(best.steps);
  for (let chunk = Math.max(1, Math.floor(episodes.length / 2)); chunk >= 1 && runs < maxRuns; chunk = Math.floor(chunk / 2)) {
    for (let i = 0; i < episodes.length && runs < maxRuns; ) {
      const kept = [...episodes.slice(0, i), ...episodes.slice(i + chunk)];
      if (await attempt(withEpisodes(best, kept))) episodes = kept;
      else i += chunk;
    }
    if (chunk === 1) break;
  }
  // Then the workload: fewer operations, clients and keys.
  while (best.ops > 20 && runs < maxRuns && (await attempt({ ...best, ops: Math.floor(best.ops / 2) })));
  while (best.clients > 1 && runs < maxRuns && (await attempt({ ...best, clients: best.clients - 1, sessions: Math.min(best.sessions, best.clients - 1) })));
  while (best.keys > 1 && runs < maxRuns && (await attempt({ ...best, keys: Math.ceil(best.keys / 2) })));
  return { plan: best, runs };
}
