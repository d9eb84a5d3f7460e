/**
 * The load generator (`pnpm demo load`) through its functions: a count of operations runs exactly
 * that many, a fault schedule (the simulation's format) is applied and reported as phases, the
 * report adds up, the store's checks pass, and a user's plugin and workload (the tally example)
 * are load-tested the same way with their own checks.
 */
import { generateSchedule } from '@starling/actors';
import { describe, expect, it } from 'vitest';
import { formatReport, type LoadOptions, pluginsOf, runLoadCommand, workloadOf } from '../src/index.ts';
import { returnsNothing, throwsInCheck, throwsInNext } from './fixtures/broken-workloads.ts';
import { expectConsistent } from './support/report.ts';

const BASE: LoadOptions = {
  runtime: 'simulation',
  seed: 5,
  nodes: 5,
  n: 3,
  r: 2,
  w: 2,
  inFlight: 16,
  keys: 500,
  distribution: { kind: 'uniform' },
  mix: { get: 0.5, put: 0.4, delete: 0.1 },
  valueBytes: 64,
  settleMs: 30_000,
};

describe('the load generator', () => {
  it('runs exactly the operations asked for, and its report adds up', async () => {
    const r = await runLoadCommand({ ...BASE, ops: 3_000, distribution: { kind: 'zipfian', theta: 0.99 } });
    expect(r.operations.total).toBe(3_000);
    expectConsistent(r);
    expect(r.checks.filter((c) => !c.ok), formatReport(r)).toEqual([]);
    expect(Object.keys(r.kinds).sort()).toEqual(['delete', 'get', 'put']);
    // The mix: about 50% gets.
    expect(r.kinds.get!.total / 3_000).toBeGreaterThan(0.45);
    expect(r.kinds.get!.total / 3_000).toBeLessThan(0.55);
  });

  it('applies a fault schedule, reports each fault as a phase, and loses nothing acknowledged', async () => {
    const schedule = generateSchedule({ seed: 5, nodes: ['n1', 'n2', 'n3', 'n4', 'n5'], durationMs: 8_000, kinds: ['partition', 'kill', 'loss', 'pause'], minEpisodeMs: 1_000, maxEpisodeMs: 2_000 });
    expect(schedule.faults.length).toBeGreaterThan(2);
    const r = await runLoadCommand({ ...BASE, durationMs: 8_000, schedule });
    expectConsistent(r);
    expect(r.faults.length).toBe(schedule.faults.length);
    expect(r.phases.map((p) => p.name).slice(1)).toEqual(r.faults.map((f) => f.fault));
    // On the virtual clock, each at its time exactly.
    r.faults.forEach((f, i) => expect(f.atMs).toBeCloseTo(schedule.faults[i]!.atMs, 6));
    expect(r.checks.filter((c) => !c.ok), `seed 5\n${formatReport(r)}`).toEqual([]);
  });

  it("load-tests a user's plugin with the user's workload, and reports the workload's own checks", async () => {
    const plugins = await pluginsOf('packages/demo/examples/tally/plugin.ts');
    const workload = await workloadOf('packages/demo/examples/tally/workload.ts');
    const r = await runLoadCommand({ ...BASE, runtime: 'local', durationMs: 2_000, store: false, plugins, workload, inFlight: 8 });
    expectConsistent(r);
    expect(r.checks.filter((c) => !c.ok), formatReport(r)).toEqual([]);
    expect(r.checks.map((c) => c.name)).toContain('the total counts every acknowledged increment and nothing more');
    expect(r.figures['final total']).toBe(r.figures['increments acknowledged']);
    expect(r.messagesByType.merge).toBeGreaterThan(0);
    expect(r.convergence).toBeUndefined();
  });

  it("reports a workload's failed check as a failed run", async () => {
    const workload = await workloadOf('packages/demo/test/fixtures/failing-workload.ts');
    const r = await runLoadCommand({ ...BASE, ops: 10, store: false, workload });
    expect(r.ok).toBe(false);
    expect(r.checks.find((c) => !c.ok)?.name).toBe('an invariant of the fixture');
    expect(formatReport(r)).toContain('1 check(s) FAILED');
  });

  it("stops a workload whose next() throws or returns no operation, and reports why instead of crashing", async () => {
    for (const [workload, message] of [
      [throwsInNext, 'next() broke on call 50'],
      [returnsNothing, 'next() must return { kind: string, run: () => Promise<void> }'],
    ] as const) {
      const r = await runLoadCommand({ ...BASE, runtime: 'local', durationMs: 2_000, store: false, workload });
      expect(r.ok).toBe(false);
      const failed = r.checks.filter((c) => !c.ok);
      expect(failed.find((c) => c.name === `${workload.name}: next() gave an operation`)?.detail).toContain(message);
      expectConsistent(r);
    }
  });

  it('reports a check that throws as a failed check', async () => {
    const r = await runLoadCommand({ ...BASE, runtime: 'local', ops: 20, store: false, workload: throwsInCheck });
    expect(r.checks.find((c) => !c.ok)).toMatchObject({ name: 'throws-in-check: checks ran', detail: 'the check threw: the check could not read the cluster' });
  });

  it('refuses bad settings with typed errors, before starting anything', async () => {
    await expect(runLoadCommand({ ...BASE, ops: 10, r: 4 })).rejects.toMatchObject({ code: 'INVALID_CONFIG' });
    await expect(runLoadCommand({ ...BASE, ops: 10, mix: { get: 0.5, put: 0.6, delete: 0 } })).rejects.toThrow(/sum to 1/);
    await expect(runLoadCommand({ ...BASE, ops: 10, store: false })).rejects.toMatchObject({ code: 'INVALID_CONFIG' });
    await expect(workloadOf('packages/demo/test/fixtures/no-workload.ts')).rejects.toMatchObject({ code: 'INVALID_CONFIG' });
    await expect(pluginsOf('packages/demo/test/fixtures/no-workload.ts')).rejects.toMatchObject({ code: 'INVALID_CONFIG' });
    await expect(pluginsOf('packages/demo/test/fixtures/missing.ts')).rejects.toMatchObject({ code: 'INVALID_CONFIG' });
  });
});
