/**
 * Verification at scale, in pieces: plans are data generated from a seed (the same seed, the same
 * plan; saved and read back unchanged); the membership checker flags exactly the deaths no fault
 * explains; shrinking keeps the failure and drops what does not cause it; a few seeds run end to
 * end through every checker, and one replays to the same result.
 */
import { describe, expect, it } from 'vitest';
import { falseDeaths, type MembershipFacts } from '../src/verify/membership-check.ts';
import { episodesOf, shrink } from '../src/verify/shrink.ts';
import { parsePlan, planFor, stepKinds, type VerifyPlan } from '../src/verify/plan.ts';
import { runPlan } from '../src/verify/run-plan.ts';

describe('verify plans', () => {
  it('are the same for the same seed, differ between seeds, and read back from JSON unchanged', () => {
    const a = planFor(7, { nodes: 5, ops: 500 });
    expect(planFor(7, { nodes: 5, ops: 500 })).toEqual(a);
    expect(planFor(8, { nodes: 5, ops: 500 })).not.toEqual(a);
    expect(parsePlan(JSON.stringify(a))).toEqual(a);
  });

  it('draw every fault kind and ring change over a few hundred seeds, with sessions and a small key space', () => {
    const kinds = new Set<string>();
    for (let seed = 1; seed <= 300; seed++) {
      const p = planFor(seed, { nodes: 5, ops: 500 });
      for (const k of Object.keys(stepKinds(p))) kinds.add(k);
      expect(p.sessions).toBeGreaterThanOrEqual(1);
      expect(p.keys).toBeLessThanOrEqual(20);
      for (const s of p.steps) expect(s.atMs).toBeLessThan(p.durationMs);
    }
    for (const k of ['partition', 'heal', 'loss', 'latency', 'duplicate', 'reorder', 'grudge', 'kill', 'restart', 'restart-empty', 'pause', 'resume', 'join', 'leave']) expect(kinds).toContain(k);
  });

  it('refuses a file that is not a plan, naming the problem', () => {
    expect(() => parsePlan('{')).toThrow(/JSON/);
    expect(() => parsePlan('{"version": 2}')).toThrow(/version 1/);
    const p = planFor(1, { nodes: 5, ops: 10 });
    expect(() => parsePlan(JSON.stringify({ ...p, ops: -1 }))).toThrow(/ops/);
    expect(() => parsePlan(JSON.stringify({ ...p, sessions: p.clients + 1 }))).toThrow(/sessions/);
    expect(() => parsePlan(JSON.stringify({ ...p, mix: { get: 1, put: 1, delete: 0 } }))).toThrow(/mix/);
    expect(() => parsePlan(JSON.stringify({ ...p, r: 4 }))).toThrow(/plan.r/);
    expect(() => parsePlan(JSON.stringify({ ...p, durationMs: 0 }))).toThrow(/durationMs/);
    expect(() => parsePlan(JSON.stringify({ ...p, steps: [{ atMs: 5, fault: { kind: 'kill', node: 'n42' } }] }))).toThrow(/n42/);
    expect(() => parsePlan(JSON.stringify({ ...p, steps: [{ atMs: 5, ring: { kind: 'join', node: 'n42' } }] }))).toThrow(/ring step/);
  });
});

describe('the membership checker', () => {
  const facts = (over: Partial<MembershipFacts>): MembershipFacts => ({ deaths: [], stoppedAtMs: new Map(), cuts: [], graceMs: 1_000, ...over });
  const death = { observer: 'n1', subject: 'n2', subjectUid: 'u2', atMs: 10_000 };

  it('flags a death with no fault', () => {
    const found = falseDeaths(facts({ deaths: [death] }));
    expect(found).toHaveLength(1);
    expect(found[0]!.message).toMatch(/n1 declared n2 \(u2\) dead at 10.000 s/);
  });

  it('excuses a death of a start that had ended', () => {
    expect(falseDeaths(facts({ deaths: [death], stoppedAtMs: new Map([['u2', 9_000]]) }))).toEqual([]);
    // A start that ended after the verdict does not excuse it.
    expect(falseDeaths(facts({ deaths: [death], stoppedAtMs: new Map([['u2', 11_000]]) }))).toHaveLength(1);
  });

  it('excuses a death during or just after a fault that touched the subject or the observer, and no other', () => {
    const cut = (nodes: ReadonlySet<string> | 'all', fromMs: number, toMs: number) => ({ fromMs, toMs, nodes, cause: 'test' });
    expect(falseDeaths(facts({ deaths: [death], cuts: [cut(new Set(['n2']), 5_000, 9_500)] }))).toEqual([]);
    expect(falseDeaths(facts({ deaths: [death], cuts: [cut(new Set(['n1']), 5_000, 9_500)] }))).toEqual([]);
    expect(falseDeaths(facts({ deaths: [death], cuts: [cut('all', 9_999, Infinity)] }))).toEqual([]);
    // Too long ago, too late, or someone else's fault.
    expect(falseDeaths(facts({ deaths: [death], cuts: [cut(new Set(['n2']), 5_000, 8_000)] }))).toHaveLength(1);
    expect(falseDeaths(facts({ deaths: [death], cuts: [cut(new Set(['n2']), 10_001, 12_000)] }))).toHaveLength(1);
    expect(falseDeaths(facts({ deaths: [death], cuts: [cut(new Set(['n3', 'n4']), 5_000, 12_000)] }))).toHaveLength(1);
  });
});

describe('shrinking', () => {
  const plan = (): VerifyPlan => planFor(21, { nodes: 5, ops: 800 });

  it('groups a fault with the step that ends it', () => {
    const eps = episodesOf(plan().steps);
    for (const e of eps) {
      const first = e[0]!;
      if ('fault' in first && ['partition', 'kill', 'pause', 'loss'].includes(first.fault.kind)) expect(e).toHaveLength(2);
    }
    expect(eps.flat()).toHaveLength(plan().steps.length);
  });

  it('keeps the failure and drops what does not cause it', async () => {
    const p = plan();
    const culprit = p.steps.find((s) => 'fault' in s && s.fault.kind === 'kill');
    expect(culprit).toBeDefined();
    // A stand-in for a replay: the run "fails" while it holds that kill and at least 100 operations.
    const fails = async (c: VerifyPlan): Promise<boolean> => c.ops >= 100 && c.steps.some((s) => JSON.stringify(s) === JSON.stringify(culprit));
    const { plan: smallest, runs } = await shrink(p, fails, 200);
    expect(await fails(smallest)).toBe(true);
    // The kill and its restart are all that is left.
    expect(smallest.steps).toHaveLength(2);
    expect(smallest.ops).toBeLessThan(200);
    expect(smallest.clients).toBe(1);
    expect(smallest.keys).toBe(1);
    expect(runs).toBeLessThanOrEqual(200);
  });

  it('stops at its budget of replays', async () => {
    let runs = 0;
    const { runs: counted } = await shrink(plan(), async () => (runs++, true), 5);
    expect(counted).toBe(5);
    expect(runs).toBe(5);
  });
});

describe('verify runs', () => {
  it('run a few seeds through every checker, and a seed replays to the same result', async () => {
    for (const seed of [3, 4]) {
      const r = await runPlan(planFor(seed, { nodes: 5, ops: 600 }));
      expect(r.failures, `seed ${seed}: ${JSON.stringify(r.failures)} (replay: corepack pnpm verify --seed ${seed} --ops 600)`).toEqual([]);
      expect(r.operations).toBe(600);
      expect(r.convergenceMs).not.toBeNull();
      expect(r.convergenceSinceLastFaultMs).toBeGreaterThanOrEqual(r.convergenceMs!);
      // Every planned step was applied while the load ran.
      expect(r.report!.faults).toHaveLength(planFor(seed, { nodes: 5, ops: 600 }).steps.length);
      // The checks that ran: the history checker, the readback, convergence (with Merkle roots) and membership.
      const names = r.report!.checks.map((c) => c.name);
      expect(names).toEqual(expect.arrayContaining(['acknowledged writes lost (history checker)', 'acknowledged writes lost (read back)', 'other anomalies (history checker)', 'replicas converged after the heal', 'membership converged after the heal']));
    }
    const [a, b] = [await runPlan(planFor(4, { nodes: 5, ops: 600 }), { trace: true }), await runPlan(planFor(4, { nodes: 5, ops: 600 }), { trace: true })];
    expect(a.trace!.length).toBeGreaterThan(1_000);
    expect(b.trace).toEqual(a.trace);
    expect(b.convergenceMs).toBe(a.convergenceMs);
  });
});

describe('the membership check, end to end', () => {
  it('records the deaths a partition causes from the runtime own events, and excuses exactly them by the partition it saw', async () => {
    const base = planFor(31, { nodes: 5, ops: 300 });
    const plan: VerifyPlan = {
      ...base,
      steps: [
        { atMs: 2_000, fault: { kind: 'partition', partition: { shape: 'groups', groups: [['n1', 'n2', 'n3'], ['n4', 'n5', 'n6']] } } },
        { atMs: 8_000, fault: { kind: 'heal' } },
      ],
    };
    const r = await runPlan(plan);
    expect(r.failures).toEqual([]);
    const facts = r.membership!;
    // Both sides declared the other dead during the 6 s cut...
    const across = facts.deaths.filter((d) => ['n1', 'n2', 'n3'].includes(d.observer) !== ['n1', 'n2', 'n3'].includes(d.subject));
    expect(across.length).toBeGreaterThan(0);
    for (const d of across) expect(d.atMs).toBeGreaterThan(facts.cuts.find((c) => c.cause.includes('partition'))!.fromMs);
    // ...which the partition excuses; without the faults it saw, the checker flags every one of them.
    expect(falseDeaths({ ...facts, cuts: [] }).length).toBeGreaterThanOrEqual(across.length);
  });

  it('finds none with the verify settings and no faults', async () => {
    const r = await runPlan({ ...planFor(31, { nodes: 5, ops: 200 }), steps: [] });
    expect(r.falseDeaths).toEqual([]);
    expect(r.failures).toEqual([]);
  });
});

describe('verify over seeds', () => {
  it('saves a failing seed as a plan, shrinks it to a smaller plan that still fails, and a replay of either fails the same way', async () => {
    const { mkdtempSync, readFileSync } = await import('node:fs');
    const { tmpdir } = await import('node:os');
    const { join } = await import('node:path');
    const { verifySeeds } = await import('../src/verify/verify.ts');
    const outDir = mkdtempSync(join(tmpdir(), 'starling-verify-'));
    // No time to converge after a kill that ends with the load: the convergence check must fail.
    const failing = (seed: number): VerifyPlan => {
      const p = planFor(seed, { nodes: 5, ops: 300 });
      return { ...p, settleMs: 0, steps: [...p.steps.filter((s) => s.atMs < 10_000), { atMs: 12_000, fault: { kind: 'kill', node: 'n1' } }] };
    };
    const summary = await verifySeeds({ nodes: 5, ops: 300, from: 5, seeds: 2, outDir, shrinkRuns: 8, planOf: failing });
    // (A seed whose last writes all reached every replica before the kill converges at the first look.)
    expect(summary.failed).toBeGreaterThanOrEqual(1);
    expect(summary.passed + summary.failed).toBe(2);
    expect(summary.violations['replicas converged after the heal']).toBe(summary.failed);
    const f = summary.failures[0]!;
    const saved = parsePlan(readFileSync(f.planFile, 'utf8'));
    expect(saved).toEqual(failing(f.seed));
    const shrunk = parsePlan(readFileSync(f.shrunkFile!, 'utf8'));
    expect(shrunk.steps.length + shrunk.ops).toBeLessThan(saved.steps.length + saved.ops);
    for (const p of [saved, shrunk]) expect((await runPlan(p)).failures.map((x) => x.name)).toContain('replicas converged after the heal');
  });
});
