/**
 * Runs one verification plan in the simulation: the cluster, the plan's workload and schedule,
 * then everything healed, time to converge, and every check: the history checker (durability,
 * siblings, sessions), every acknowledged write read back from all replicas, convergence (equal
 * versions and equal Merkle roots on every key's replicas, and its time), and no false death.
 */
import type { Cluster, SimulationCluster } from '@starling/actors';
import { type GossipOptions, resolveSwimConfig } from '@starling/gossip';
import { kvWorkload } from '../load/kv-workload.ts';
import { runLoad, type Step } from '../run/run.ts';
import type { Report } from '../run/report.ts';
import { FaultLog } from './fault-log.ts';
import { detectionGraceMs, type FalseDeath, falseDeaths, type MembershipFacts } from './membership-check.ts';
import { stepKinds, type VerifyPlan } from './plan.ts';

/** memberlist's LAN timers at a quarter: a death's cause lies at most seconds back, so the membership check stays sharp. */
export const VERIFY_GOSSIP = { probeIntervalMs: 250, probeTimeoutMs: 125, gossipIntervalMs: 50, pushPullIntervalMs: 7_500, reconnectIntervalMs: 7_500 } as const;

/** What one plan's run found. */
export interface PlanResult {
  readonly seed: number;
  readonly ok: boolean;
  readonly operations: number;
  readonly notOk: number;
  /** Faults and ring changes applied, by kind. */
  readonly faults: Record<string, number>;
  /** Checks that failed: name and detail. */
  readonly failures: readonly { readonly name: string; readonly detail: string }[];
  /** From the heal to every key's replicas equal (versions and Merkle roots), in virtual ms; null if not within the settle time. */
  readonly convergenceMs: number | null;
  /**
   * From the last fault or ring change to the same, in virtual ms: the convergence time the
   * schedule asked for (at most this: the replicas may have been equal before the heal's first look).
   */
  readonly convergenceSinceLastFaultMs: number | null;
  readonly membershipMs: number | null;
  /** What the membership checker judged: every death declared, every start's end, every fault's stretch. */
  readonly membership: MembershipFacts | undefined;
  readonly falseDeaths: readonly FalseDeath[];
  /** The run's event trace, when asked for. */
  readonly trace?: readonly string[];
  /** The run's report; undefined when the run threw before it finished. */
  readonly report: Report | undefined;
}

export interface RunPlanOptions {
  /** Record and return the run's trace (every delivery and event). */
  readonly trace?: boolean;
  /** Membership's settings. Default {@link VERIFY_GOSSIP}; a test mistunes them to make false deaths. */
  readonly gossip?: GossipOptions;
}

export async function runPlan(plan: VerifyPlan, options: RunPlanOptions = {}): Promise<PlanResult> {
  const names = Array.from({ length: plan.nodes + plan.spares }, (_, i) => `n${i + 1}`);
  let log: FaultLog | undefined;
  let trace: readonly string[] | undefined;
  const gossip = options.gossip ?? VERIFY_GOSSIP;
  const graceMs = detectionGraceMs(resolveSwimConfig(gossip), names.length);
  let deaths: FalseDeath[] = [];
  let facts: MembershipFacts | undefined;
  const report = await runLoad({
    command: 'verify',
    cluster: {
      runtime: 'simulation',
      seed: plan.seed,
      nodes: names.length,
      n: plan.n,
      r: plan.r,
      w: plan.w,
      gossip,
      replication: plan.spares > 0 ? { ringMembers: names.slice(0, plan.nodes) } : {},
      ...(options.trace === true ? { trace: true } : {}),
    },
    workload: ({ partitionCount, wipes }) =>
      kvWorkload({
        keys: plan.keys,
        distribution: { kind: 'uniform' },
        mix: plan.mix,
        valueBytes: 16,
        clients: plan.clients,
        sessions: plan.sessions,
        sharedKeys: true,
        contextShare: plan.contextShare,
        partitionCount,
        n: plan.n,
        wipes,
      }),
    inFlight: plan.clients,
    maxOps: plan.ops,
    // The operations spread over nine tenths of the load's time, so the faults fall among them.
    opsPerSec: plan.ops / ((plan.durationMs * 0.9) / 1000),
    durationMs: plan.durationMs,
    steps: plan.steps.map((s): Step => ('fault' in s ? { atMs: s.atMs, fault: s.fault } : { atMs: s.atMs, ring: s.ring })),
    settleMs: plan.settleMs,
    // After convergence, a stretch longer than the detector's longest delay with no fault in force:
    // a death declared late in it has nothing to blame.
    quietMs: graceMs + 5_000,
    onStart: (cluster: Cluster) => {
      log = new FaultLog(cluster);
    },
    beforeStop: (cluster: Cluster) => {
      facts = log!.facts(graceMs);
      deaths = falseDeaths(facts);
      log!.stop();
      if (options.trace === true && cluster.runtime === 'simulation') trace = (cluster as SimulationCluster).traceLines();
    },
  });
  const failures = report.checks.filter((c) => !c.ok).map((c) => ({ name: c.name, detail: c.detail }));
  // Steps are applied in time order while the load runs: a plan whose steps outlast its load (a
  // hand-edited one) would check less than it says.
  const applied = report.faults.length;
  if (applied < plan.steps.length) failures.push({ name: 'every planned fault applied', detail: `${applied} of ${plan.steps.length}: the load ended at ${(report.loadMs / 1000).toFixed(1)} s, before the step at ${(plan.steps[applied]!.atMs / 1000).toFixed(1)} s` });
  const storeMs = report.convergence?.storeMs ?? null;
  const lastFaultAtMs = report.faults.at(-1)?.atMs ?? 0;
  if (deaths.length > 0) failures.push({ name: 'no live node declared dead without a fault', detail: `${deaths.length}; first: ${deaths[0]!.message}` });
  return {
    seed: plan.seed,
    ok: failures.length === 0,
    operations: report.operations.total,
    notOk: report.operations.failed + report.operations.unknown,
    faults: stepKinds({ ...plan, steps: plan.steps.slice(0, applied) }),
    failures,
    convergenceMs: storeMs,
    convergenceSinceLastFaultMs: storeMs === null ? null : storeMs + Math.max(0, report.loadMs - lastFaultAtMs),
    membershipMs: report.convergence?.membershipMs ?? null,
    membership: facts,
    falseDeaths: deaths,
    ...(trace !== undefined ? { trace } : {}),
    report,
  };
}
