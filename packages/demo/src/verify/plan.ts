/**
 * A verification run as data, generated from one seed: the cluster's shape, a client workload on a
 * small key space (several clients and sessions, writes with and without contexts, so conflicts
 * happen), and a schedule of faults and ring changes. Being data, a plan is saved, replayed and
 * shrunk (shrink.ts) without its seed's generator.
 */
import { createRandom, type Fault, generateSchedule, validateSchedule } from '@starling/actors';
import type { Mix } from '../load/kv-workload.ts';
import type { RingStep } from '../run/run.ts';

/** One timed thing that happens to the cluster: a fault or a ring change. */
export type PlanStep = { readonly atMs: number; readonly fault: Fault } | { readonly atMs: number; readonly ring: RingStep };

export interface VerifyPlan {
  readonly version: 1;
  readonly seed: number;
  /** Nodes in the ring at the start. */
  readonly nodes: number;
  /** Nodes outside the ring at the start, for joins. */
  readonly spares: number;
  readonly n: number;
  readonly r: number;
  readonly w: number;
  /** Operations in all (the load also stops at `durationMs`). */
  readonly ops: number;
  readonly clients: number;
  /** Of the clients, how many are sessions. */
  readonly sessions: number;
  readonly keys: number;
  /** Share of writes sent with the client's context for the key. */
  readonly contextShare: number;
  readonly mix: Mix;
  /** The load's length bound, in virtual ms; every fault and ring change falls within it. */
  readonly durationMs: number;
  /** Time the cluster gets to converge after everything healed, in virtual ms. */
  readonly settleMs: number;
  readonly steps: readonly PlanStep[];
}

/** What a run of many seeds shares. */
export interface PlanShape {
  readonly nodes: number;
  readonly ops: number;
}

/** The load's length bound: its operations are paced over nine tenths of it. */
export const PLAN_DURATION_MS = 20_000;
/** Faults and ring changes all fall before this, inside the paced load, so every one is applied while operations run. */
export const PLAN_FAULTS_MS = 16_000;
/** Convergence budget after the heal. */
export const PLAN_SETTLE_MS = 60_000;

/** The plan of `seed`: the same seed and shape always give the same plan. */
export function planFor(seed: number, shape: PlanShape): VerifyPlan {
  const rnd = createRandom(seed, 'verify-plan');
  const between = (lo: number, hi: number): number => lo + rnd.int(hi - lo + 1);
  const spares = 1;
  const names = Array.from({ length: shape.nodes + spares }, (_, i) => `n${i + 1}`);
  const spare = names[shape.nodes]!;
  const faults = generateSchedule({ seed, nodes: names, durationMs: PLAN_FAULTS_MS, minEpisodeMs: 500, maxEpisodeMs: 4_000, minGapMs: 200, maxGapMs: 3_000 }).faults;
  const steps: PlanStep[] = faults.map((f) => ({ atMs: f.atMs, fault: f.fault }));
  // Ring changes ride over the faults: half the runs grow the ring by the spare, and some of
  // those then shrink it by another member (never below N + 1, so a leave has somewhere to go).
  if (rnd.next() < 0.5) {
    const joinAt = between(1_000, PLAN_FAULTS_MS / 2);
    steps.push({ atMs: joinAt, ring: { kind: 'join', node: spare } });
    if (rnd.next() < 0.5 && shape.nodes >= 4) steps.push({ atMs: between(joinAt + 1_000, PLAN_FAULTS_MS), ring: { kind: 'leave', node: names[rnd.int(shape.nodes)]! } });
  }
  steps.sort((a, b) => a.atMs - b.atMs);
  const clients = between(3, 6);
  return {
    version: 1,
    seed,
    nodes: shape.nodes,
    spares,
    n: 3,
    r: 2,
    w: 2,
    ops: shape.ops,
    clients,
    sessions: between(1, Math.min(3, clients)),
    keys: between(5, 20),
    contextShare: between(50, 90) / 100,
    mix: { get: 0.45, put: 0.45, delete: 0.1 },
    durationMs: PLAN_DURATION_MS,
    settleMs: PLAN_SETTLE_MS,
    steps,
  };
}

/** Faults and ring changes of a plan by kind (`partition`, `kill`, `join`...). */
export function stepKinds(plan: VerifyPlan): Record<string, number> {
  const out: Record<string, number> = {};
  for (const s of plan.steps) {
    const kind = 'fault' in s ? s.fault.kind : s.ring.kind;
    out[kind] = (out[kind] ?? 0) + 1;
  }
  return out;
}

/** A plan read back from its JSON; throws a RangeError naming what is wrong. */
export function parsePlan(text: string): VerifyPlan {
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch (err) {
    throw new RangeError(`a plan is JSON: ${(err as Error).message}`);
  }
  const p = raw as VerifyPlan;
  if (typeof raw !== 'object' || raw === null || p.version !== 1) throw new RangeError('not a verify plan (version 1)');
  for (const k of ['seed', 'nodes', 'spares', 'n', 'r', 'w', 'ops', 'clients', 'sessions', 'keys', 'durationMs', 'settleMs'] as const) {
    if (!Number.isSafeInteger(p[k]) || p[k] < 0) throw new RangeError(`plan.${k} must be a non-negative integer`);
  }
  if (p.clients < 1) throw new RangeError('plan.clients must be at least 1');
  if (p.sessions > p.clients) throw new RangeError('plan.sessions must be at most plan.clients');
  if (p.durationMs < 1) throw new RangeError('plan.durationMs must be at least 1');
  if (p.ops < 1) throw new RangeError('plan.ops must be at least 1');
  if (!(p.n >= 1 && p.n <= p.nodes && p.r >= 1 && p.r <= p.n && p.w >= 1 && p.w <= p.n)) throw new RangeError('plan.n must be from 1 to plan.nodes, and plan.r and plan.w from 1 to plan.n');
  if (!(typeof p.contextShare === 'number' && p.contextShare >= 0 && p.contextShare <= 1)) throw new RangeError('plan.contextShare must be in [0, 1]');
  const m = p.mix as Partial<Mix> | undefined;
  if (m === undefined || ![m.get, m.put, m.delete].every((x) => typeof x === 'number' && x >= 0) || Math.abs(m.get! + m.put! + m.delete! - 1) > 1e-9) throw new RangeError('plan.mix must be get/put/delete shares summing to 1');
  if (!Array.isArray(p.steps)) throw new RangeError('plan.steps must be a list');
  const names = Array.from({ length: p.nodes + p.spares }, (_, i) => `n${i + 1}`);
  const faults = p.steps.filter((s): s is Extract<PlanStep, { fault: Fault }> => 'fault' in s);
  validateSchedule({ seed: p.seed, faults }, names);
  for (const s of p.steps) {
    if ('ring' in s && !((s.ring.kind === 'join' || s.ring.kind === 'leave') && names.includes(s.ring.node) && Number.isFinite(s.atMs) && s.atMs >= 0)) throw new RangeError(`bad ring step ${JSON.stringify(s)}`);
  }
  return p;
}
