/**
 * One run of the demo, the scenario's or the load generator's: start the cluster, drive a
 * workload while timed steps change phases and inject faults, heal everything, wait for membership
 * and the replicas to converge, let the workload check itself, and report.
 */
import { applyFault, type Cluster, createRandom, describeFault, type Fault } from '@starling/actors';
import { divergence, dumpStores, RingAdmin, rootDivergence, treeRoots, type Wipe } from '@starling/replication';
import { countOps, type KindStats, LoadDriver, MAX_OPS_PER_INSTANT, overallLatency } from '../load/driver.ts';
import type { Check, Workload } from '../load/workload.ts';
import { aliveViews, type DemoClusterOptions, startDemoCluster } from './cluster.ts';
import { CounterSampler } from './counters.ts';
import { Progress, type ProgressSink } from './progress.ts';
import type { KindFigures, PhaseFigures, Report } from './report.ts';

/** Something that happens at a time of the run. */
export interface Step {
  /** When, in ms from the start of the load. */
  readonly atMs: number;
  /** Starts a phase of the report under this name (operations count in the phase they start in). */
  readonly phase?: string;
  readonly fault?: Fault;
  /** A ring change asked for at this time (it completes in the background, after any fault that holds it up). */
  readonly ring?: RingStep;
}

/** A ring change of a run: a node joins or leaves the ring. */
export interface RingStep {
  readonly kind: 'join' | 'leave';
  readonly node: string;
}

/** What the workload factory is given. */
export interface WorkloadSetup {
  readonly partitionCount: number;
  /** The run's restarts-empty so far (a store workload's checker needs them). */
  readonly wipes: () => readonly Wipe[];
}

export interface RunOptions {
  readonly command: Report['command'];
  readonly cluster: DemoClusterOptions;
  readonly workload: (setup: WorkloadSetup) => Workload;
  readonly inFlight: number;
  /** Load duration, in ms of the runtime's clock. */
  readonly durationMs?: number;
  /** Operations to run in all. */
  readonly maxOps?: number;
  /** Pace: operations launched per second at most (so a count of operations spans the faults). Default none. */
  readonly opsPerSec?: number;
  /** Phases and faults, by time; the load stops at the end of its duration or count, then everything heals. */
  readonly steps?: readonly Step[];
  /** Name of the first phase. Default `load`. */
  readonly firstPhase?: string;
  /** How long membership and the replicas get to converge after the heal, in ms. */
  readonly settleMs: number;
  /**
   * Time the cluster runs on after it converged, before the checks, in ms (default 0): a
   * verifier's window in which no fault is in force, so any death declared there is a false one.
   */
  readonly quietMs?: number;
  /** Where progress is shown; none when undefined. */
  readonly progress?: ProgressSink;
  /** Called once the cluster is up, before the load (a verifier subscribes to its events here). */
  readonly onStart?: (cluster: Cluster) => void;
  /** Called after the checks, before the cluster stops (a verifier reads its trace here). */
  readonly beforeStop?: (cluster: Cluster) => void;
}

/** The longest load, in ms: a load without a duration stops here too (loads are bounded in time). */
export const MAX_LOAD_MS = 600_000;
/** Most operations of one load: a load without a count stops here too (the store workload keeps about 1 KB of history an operation). */
export const MAX_LOAD_OPS = 1_000_000;
/** Longest stretch of virtual time run at once while waiting for a step, in ms. */
const STEP_MS = 100;
/** The same, for a paced load: launches come due at least this often. */
const PACE_STEP_MS = 10;
/** Census polls while converging, in ms of the runtime's clock. */
const CONVERGE_POLL_MS = 250;
/** How long before a node fault its node's counters are read, in ms (what it counts in between is lost with it). */
const PRESAMPLE_MS = 100;
/** Node faults whose node is sampled first: its counters end with it. */
const NODE_FAULTS: ReadonlySet<Fault['kind']> = new Set(['kill', 'restart', 'restart-empty']);

export async function runLoad(o: RunOptions): Promise<Report> {
  const wall0 = performance.now();
  const progress = new Progress(o.progress);
  const store = o.cluster.store ?? true;
  if (o.durationMs !== undefined && !(o.durationMs > 0 && o.durationMs <= MAX_LOAD_MS)) throw new RangeError(`the duration must be in (0, ${MAX_LOAD_MS}] ms, got ${o.durationMs}`);
  if (o.maxOps !== undefined && !(Number.isSafeInteger(o.maxOps) && o.maxOps > 0 && o.maxOps <= MAX_LOAD_OPS)) throw new RangeError(`the operation count must be an integer from 1 to ${MAX_LOAD_OPS}, got ${o.maxOps}`);
  progress.note(`starting ${o.cluster.nodes} nodes (${o.cluster.runtime}), waiting for membership...`);
  const { cluster, partitionCount } = await startDemoCluster(o.cluster);
  try {
    o.onStart?.(cluster);
    const sampler = new CounterSampler(cluster, store);
    const admin = new RingAdmin(cluster);
    const wipes: Wipe[] = [];
    const workload = o.workload({ partitionCount, wipes: () => wipes });
    const run = await cluster.until(Promise.resolve(workload.start({ cluster, seed: o.cluster.seed, wipes: () => wipes })));
    const t0 = cluster.now();
    const durationMs = o.durationMs ?? MAX_LOAD_MS;
    const faults: { atMs: number; fault: string }[] = [];
    const ringChanges: RingStep[] = [];
    const ringErrors: string[] = [];
    let phase = o.firstPhase ?? 'load';
    const driver = new LoadDriver(
      cluster,
      run,
      {
        inFlight: o.inFlight,
        startMs: t0,
        untilMs: t0 + durationMs,
        random: createRandom(o.cluster.seed, 'load'),
        maxOps: o.maxOps ?? MAX_LOAD_OPS,
        ...(o.opsPerSec !== undefined ? { opsPerSec: o.opsPerSec } : {}),
        onOperation: () => {
          const elapsedMs = cluster.now() - t0;
          const fraction = o.maxOps !== undefined && o.durationMs === undefined ? driver.completed / o.maxOps : elapsedMs / durationMs;
          progress.update(fraction, `${(elapsedMs / 1000).toFixed(1)} s  ${driver.completed} ops  ${Math.round((driver.completed / Math.max(1, elapsedMs)) * 1000)} ops/s  ${driver.notOk} not ok  | ${phase}`);
        },
      },
      phase,
    );
    progress.note(`  0.0 s  ${phase}`);
    let finished = false;
    void driver.done.then(() => {
      finished = true;
    });
    const runTo = async (at: number): Promise<void> => {
      if (finished || cluster.now() >= at) return;
      if (cluster.runtime === 'simulation') {
        // A virtual clock stops exactly at `at` with runFor (runUntil stops at the first event
        // after it); in steps, so a load that ends early is not run on to a later fault's time.
        while (!finished && cluster.now() < at) {
          await cluster.runFor(Math.min(o.opsPerSec !== undefined ? PACE_STEP_MS : STEP_MS, at - cluster.now()));
          driver.pump();
        }
      } else {
        await cluster.runUntil(
          () => {
            driver.pump();
            return finished || cluster.now() >= at;
          },
          { timeoutMs: at - cluster.now() + 60_000 },
        );
      }
    };
    for (const step of [...(o.steps ?? [])].sort((a, b) => a.atMs - b.atMs)) {
      const at = t0 + step.atMs;
      const node = step.fault !== undefined && NODE_FAULTS.has(step.fault.kind) && 'node' in step.fault ? step.fault.node : undefined;
      if (node !== undefined) {
        // A node's counters end with it: read them just before, so the fault itself lands on time.
        await runTo(at - PRESAMPLE_MS);
        if (finished) break;
        await cluster.until(sampler.sample([node]));
      }
      await runTo(at);
      if (finished) break;
      // The phase starts with its fault (applying one may take real time on threads: a worker starting).
      if (step.phase !== undefined) {
        phase = step.phase;
        driver.mark(phase);
        progress.note(`${((cluster.now() - t0) / 1000).toFixed(1).padStart(5)} s  ${phase}`);
      }
      if (step.fault !== undefined) {
        faults.push({ atMs: cluster.now() - t0, fault: describeFault(step.fault) });
        await applyStep(cluster, wipes, step.fault);
      }
      if (step.ring !== undefined) {
        faults.push({ atMs: cluster.now() - t0, fault: `${step.ring.kind} ${step.ring.node}` });
        const via = cluster.nodes.find((n) => n !== step.ring!.node && cluster.nodeState(n) === 'running') ?? cluster.nodes[0]!;
        // Not awaited: the change waits out a partition of its claimant; the node asked repeats it
        // until committed. If that node dies first the ask dies with it: asked again after the heal.
        const change = step.ring.kind === 'join' ? admin.join(step.ring.node, { via, timeoutMs: RING_ASK_MS }) : admin.leave(step.ring.node, { via, timeoutMs: RING_ASK_MS });
        change.catch(() => undefined);
        ringChanges.push(step.ring);
      }
    }
    // A paced load launches as the clock moves: move it to the end of the load.
    if (o.opsPerSec !== undefined) await runTo(t0 + durationMs);
    await cluster.until(driver.done, { timeoutMs: durationMs + 120_000 });
    const loadMs = (driver.phases[driver.phases.length - 1]!.endMs ?? cluster.now()) - t0;
    progress.end();
    progress.note(`${(loadMs / 1000).toFixed(1).padStart(5)} s  load stopped; healing everything and waiting for convergence...`);

    const healAt = cluster.now();
    await cluster.until(healAll(cluster, wipes));
    // Every ring change asked for is asked again, as an operator whose ask went unanswered would:
    // a change is idempotent (a repeat of one committed is answered at once), and the node first
    // asked may have died with it.
    for (const change of ringChanges) {
      const error = await cluster.until(confirmRingChange(cluster, admin, change, healAt + o.settleMs), { timeoutMs: o.settleMs + RING_ASK_MS });
      if (error !== undefined) ringErrors.push(`${change.kind} ${change.node}: ${error}`);
    }
    const convergence = await converge(cluster, { store, n: o.cluster.n, partitionCount, settleMs: o.settleMs, healAt });
    if (o.quietMs !== undefined && o.quietMs > 0) await cluster.runFor(o.quietMs);
    await cluster.until(sampler.sample());
    progress.note(`checking...`);
    let workloadChecks: readonly Check[] = [];
    try {
      workloadChecks = run.check ? await run.check() : [];
    } catch (err) {
      // A check that cannot run is a failed check, reported with the rest.
      workloadChecks = [{ name: `${workload.name}: checks ran`, ok: false, detail: `the check threw: ${err instanceof Error ? err.message : String(err)}` }];
    }
    // The readback's own read repairs count too.
    await cluster.until(sampler.sample());

    const totals = driver.totals();
    const ops = countOps(totals);
    const { messagesByType, ...counters } = sampler.totals();
    const checks = [
      { name: 'the load ran', ok: ops.ok > 0, detail: `${ops.ok} operations succeeded` },
      ...(driver.workloadError !== undefined
        ? [{ name: `${workload.name}: next() gave an operation`, ok: false, detail: `the load stopped: ${driver.workloadError.message}` }]
        : []),
      ...(driver.clockStalled
        ? [
            {
              name: 'the load moved the clock',
              ok: false,
              detail: `${MAX_OPS_PER_INSTANT} operations finished at one instant: in simulation an operation that never crosses the simulated network (an ask from the host answered at once) takes no virtual time; run it on threads or local`,
            },
          ]
        : []),
      {
        name: 'membership converged after the heal',
        ok: convergence.membershipMs !== null,
        detail: convergence.membershipMs === null ? `not within ${o.settleMs} ms` : `every node sees every node alive after ${convergence.membershipMs.toFixed(0)} ms`,
      },
      ...(store
        ? [
            {
              name: 'replicas converged after the heal',
              ok: convergence.storeMs !== null,
              detail:
                convergence.storeMs === null
                  ? `not within ${o.settleMs} ms: ${convergence.lastDivergence}`
                  : `every key's ${o.cluster.n} replicas equal, their Merkle roots equal and no hint held after ${convergence.storeMs.toFixed(0)} ms`,
            },
          ]
        : []),
      ...(ringChanges.length > 0
        ? [{ name: 'ring changes committed', ok: ringErrors.length === 0, detail: ringErrors.length === 0 ? `${ringChanges.length} of ${ringChanges.length}` : ringErrors.join('; ') }]
        : []),
      ...workloadChecks,
    ];
    o.beforeStop?.(cluster);
    return {
      command: o.command,
      runtime: o.cluster.runtime,
      seed: o.cluster.seed,
      nodes: o.cluster.nodes,
      n: o.cluster.n,
      r: o.cluster.r,
      w: o.cluster.w,
      workload: workload.description ?? workload.name,
      inFlight: o.inFlight,
      loadMs,
      operations: ops,
      throughputOpsPerSec: loadMs > 0 ? (ops.total / loadMs) * 1000 : 0,
      latency: overallLatency(totals),
      kinds: kindFigures(totals),
      phases: driver.phases.map((p): PhaseFigures => {
        const c = countOps(p.kinds);
        const durationMs = (p.endMs ?? loadMs + t0) - p.startMs;
        return { name: p.name, startMs: p.startMs - t0, durationMs, ...c, opsPerSec: durationMs > 0 ? (c.total / durationMs) * 1000 : 0, latency: overallLatency(p.kinds) };
      }),
      faults,
      counters,
      messagesByType,
      ...(store ? { convergence: { converged: convergence.storeMs !== null, storeMs: convergence.storeMs, membershipMs: convergence.membershipMs, keys: convergence.keys, budgetMs: o.settleMs } } : {}),
      figures: run.figures?.() ?? {},
      checks,
      ok: checks.every((c) => c.ok),
      wallMs: performance.now() - wall0,
    };
  } finally {
    progress.end();
    await cluster.stop();
  }
}

function kindFigures(kinds: ReadonlyMap<string, KindStats>): Record<string, KindFigures> {
  const out: Record<string, KindFigures> = {};
  for (const [kind, s] of [...kinds].sort((a, b) => a[0].localeCompare(b[0]))) {
    out[kind] = { total: s.ok + s.failed + s.unknown, ok: s.ok, failed: s.failed, unknown: s.unknown, errors: Object.fromEntries(s.errors), latency: s.latency.summary() };
  }
  return out;
}

/** How long one ask for a ring change waits, in ms of the runtime's clock. */
const RING_ASK_MS = 10_000;

/** Asks for a ring change until its claimant commits it or `deadline` passes; the last error, if it never was. */
async function confirmRingChange(cluster: Cluster, admin: RingAdmin, change: RingStep, deadline: number): Promise<string | undefined> {
  let error = 'not asked';
  while (cluster.now() < deadline) {
    const via = cluster.nodes.find((n) => n !== change.node && cluster.nodeState(n) === 'running');
    if (via === undefined) return 'no node running to ask';
    try {
      // Done already if the ring (or where its change in progress leads) says so: a leave asked
      // again after it finished would be refused, its node being no member any more.
      const ring = await admin.ring(via, { timeoutMs: RING_ASK_MS });
      const isMember = (ring.next?.members ?? ring.members).some((m) => m.node === change.node);
      if (isMember === (change.kind === 'join')) return undefined;
      await (change.kind === 'join' ? admin.join(change.node, { via, timeoutMs: RING_ASK_MS }) : admin.leave(change.node, { via, timeoutMs: RING_ASK_MS }));
      return undefined;
    } catch (err) {
      error = (err as Error).message;
      const code = (err as { code?: unknown }).code;
      // A leave refused because its node is no member is one that finished (the node read from may have lagged).
      if (change.kind === 'leave' && code === 'UNKNOWN_MEMBER') return undefined;
      // Any other refusal is an answer: asking again gives the same one.
      if (code !== 'ASK_TIMEOUT') return error;
    }
  }
  return error;
}

/** Applies a fault, noting what it wipes. */
async function applyStep(cluster: Cluster, wipes: Wipe[], fault: Fault): Promise<void> {
  await cluster.until(applyFault(cluster, fault));
  // In threads a node's disk lives in its worker: every restart starts empty.
  if (fault.kind === 'restart-empty' || (fault.kind === 'restart' && cluster.runtime === 'threads')) wipes.push({ node: fault.node, atMs: cluster.now() });
}

/** Removes every fault: the network back to its configured rules, paused nodes resumed, down nodes restarted. */
async function healAll(cluster: Cluster, wipes: Wipe[]): Promise<void> {
  await cluster.network.reset();
  for (const node of cluster.nodes) {
    const state = cluster.nodeState(node);
    if (state === 'paused') await cluster.resume(node);
    else if (state === 'down') await applyStep(cluster, wipes, { kind: 'restart', node });
  }
}

interface Convergence {
  membershipMs: number | null;
  storeMs: number | null;
  keys: number;
  lastDivergence: string;
}

/** Polls membership and the replicas until both converged or the budget is spent; times are from `healAt`. */
async function converge(cluster: Cluster, o: { store: boolean; n: number; partitionCount: number; settleMs: number; healAt: number }): Promise<Convergence> {
  const out: Convergence = { membershipMs: null, storeMs: o.store ? null : 0, keys: 0, lastDivergence: '' };
  const admin = new RingAdmin(cluster);
  for (;;) {
    const elapsed = (): number => cluster.now() - o.healAt;
    if (out.membershipMs === null) {
      const views = await cluster.until(aliveViews(cluster));
      const all = cluster.nodes.length;
      if (Object.keys(views).length === all && Object.values(views).every((v) => v === all)) out.membershipMs = elapsed();
    }
    if (out.storeMs === null) {
      const via = cluster.nodes.find((n) => cluster.nodeState(n) === 'running') ?? cluster.nodes[0]!;
      try {
        const ring = await cluster.until(admin.ring(via));
        const dumps = await cluster.until(dumpStores(cluster, cluster.nodes, o.partitionCount));
        const d = divergence(dumps, ring, o.n);
        out.keys = d.keys;
        if (ring.next !== undefined) out.lastDivergence = `a ring change (since v${ring.next.since}) is still moving partitions`;
        else if (d.divergentKeys === 0 && d.hints === 0) {
          // Equal data: the Merkle trees each store keeps up to date must agree too (when anti-entropy runs: it keeps them).
          const all = await cluster.until(treeRoots(cluster, cluster.nodes));
          const roots = all === undefined ? { differing: [] } : rootDivergence(all, ring, o.n);
          if (roots.differing.length === 0) out.storeMs = elapsed();
          else out.lastDivergence = `replicas hold equal versions but ${roots.differing.length} partitions' Merkle roots differ (e.g. partition ${roots.differing[0]})`;
        } else out.lastDivergence = `${d.divergentKeys} of ${d.keys} keys differ between replicas, ${d.hints} hints held${d.example ? ` (e.g. ${d.example})` : ''}`;
      } catch (err) {
        out.lastDivergence = `a node did not answer: ${(err as Error).message}`;
      }
    }
    if ((out.membershipMs !== null && out.storeMs !== null) || elapsed() > o.settleMs) return out;
    await cluster.runFor(CONVERGE_POLL_MS);
  }
}
