/**
 * The scripted scenario (`pnpm demo`) in a short mode on the simulation runtime: steady load, a
 * majority/minority partition, a majority node killed and restarted, the heal. Its checks pass (no
 * acknowledged write lost by the history checker nor by reading every key back, membership and
 * replicas converged), its report adds up, and the same seed replays the same run.
 */
import { describe, expect, it } from 'vitest';
import { formatReport, type Report, runScenario, scenarioSteps } from '../src/index.ts';
import { expectConsistent } from './support/report.ts';

const SHORT = { runtime: 'simulation', nodes: 5, durationMs: 10_000 } as const;

/** A report without its wall-clock time (the only figure a replay may change). */
function replayable(r: Report): Omit<Report, 'wallMs'> {
  const { wallMs: _, ...rest } = r;
  return rest;
}

describe('the scenario, short, in simulation', () => {
  it('passes its checks, and its report adds up and shows what happened', async () => {
    const seed = 3;
    const r = await runScenario({ ...SHORT, seed });
    expect(r.checks.filter((c) => !c.ok), `seed ${seed}\n${formatReport(r)}`).toEqual([]);
    expect(r.ok).toBe(true);
    expectConsistent(r);
    expect(r.checks.map((c) => c.name)).toEqual([
      'the load ran',
      'membership converged after the heal',
      'replicas converged after the heal',
      'acknowledged writes lost (history checker)',
      'acknowledged writes lost (read back)',
      'other anomalies (history checker)',
    ]);
    expect(r.faults.map((f) => f.fault)).toEqual(['partition [n1,n2,n3] | [n4,n5]', 'kill n3', 'restart n3']);
    expect(r.phases.map((p) => p.name)).toEqual(['steady load', ...scenarioSteps(5, SHORT.durationMs).map((s) => s.phase)]);
    expect(r.figures['acknowledged writes lost (history checker)']).toBe(0);
    expect(r.figures['acknowledged writes lost (read back)']).toBe(0);
    expect(r.figures['keys read back from all replicas (every key with an acknowledged write)']).toBeGreaterThan(500);
    expect(r.convergence?.storeMs).not.toBeNull();
    // The partition made the minority write sloppily: hints were stored, and delivered after the heal.
    expect(r.counters.hintsStored).toBeGreaterThan(0);
    expect(r.counters.hintsDelivered).toBeGreaterThan(0);
    for (const type of ['kv-put', 'st-write', 'st-read', 'ping', 'ae-root']) expect(r.messagesByType[type], type).toBeGreaterThan(0);
    expect(formatReport(r)).toContain('all 6 checks passed');
  });

  it('replays: the same seed gives the same report, another seed another', async () => {
    const a = await runScenario({ ...SHORT, durationMs: 5_000, seed: 8 });
    const b = await runScenario({ ...SHORT, durationMs: 5_000, seed: 8 });
    expect(replayable(b)).toEqual(replayable(a));
    const c = await runScenario({ ...SHORT, durationMs: 5_000, seed: 9 });
    expect(c.operations).not.toEqual(a.operations);
  });

  it('refuses a cluster too small for a majority and a minority, with a typed error', async () => {
    await expect(runScenario({ ...SHORT, nodes: 2, seed: 1 })).rejects.toMatchObject({ code: 'INVALID_CONFIG' });
  });
});
