/**
 * The threads soak: 5 nodes on worker threads under load, with random partitions and kills one at
 * a time (each after the previous one healed and a pause for repair), then the durability and
 * convergence checks on the recorded history. False deaths are reported, not failed: on 2 shared
 * cores real-time scheduling delays probes past their timeouts.
 */
import { createRandom, type Fault, majorityMinority, shuffled } from '@starling/actors';
import { resolveSwimConfig } from '@starling/gossip';
import { kvWorkload } from '../load/kv-workload.ts';
import type { ProgressSink } from '../run/progress.ts';
import type { Report } from '../run/report.ts';
import { runLoad, type Step } from '../run/run.ts';
import { FaultLog } from './fault-log.ts';
import { detectionGraceMs, type FalseDeath, falseDeaths } from './membership-check.ts';

export interface SoakOptions {
  readonly seed: number;
  /** Seconds of load. Default 60. */
  readonly durationMs?: number;
  readonly progress?: ProgressSink;
}

export interface SoakResult {
  readonly ok: boolean;
  readonly report: Report;
  readonly falseDeaths: readonly FalseDeath[];
  readonly faults: readonly string[];
}

const NODES = 5;
/** A fault lasts this long, then heals; the next comes after a pause for repair. */
const EPISODE_MS = 5_000;
const REPAIR_MS = 7_000;

/** The soak's schedule: partitions and kills, one at a time, from the seed. */
export function soakSteps(seed: number, durationMs: number): Step[] {
  const rnd = createRandom(seed, 'soak');
  const names = Array.from({ length: NODES }, (_, i) => `n${i + 1}`);
  const steps: Step[] = [];
  for (let t = REPAIR_MS; t + EPISODE_MS < durationMs; t += EPISODE_MS + REPAIR_MS) {
    const node = names[rnd.int(NODES)]!;
    const [start, end]: [Fault, Fault] = rnd.next() < 0.5 ? [{ kind: 'partition', partition: majorityMinority(shuffled(names, rnd)) }, { kind: 'heal' }] : [{ kind: 'kill', node }, { kind: 'restart', node }];
    steps.push({ atMs: t, fault: start }, { atMs: t + EPISODE_MS, fault: end });
  }
  return steps;
}

export async function runSoak(o: SoakOptions): Promise<SoakResult> {
  const durationMs = o.durationMs ?? 60_000;
  let log: FaultLog | undefined;
  let deaths: FalseDeath[] = [];
  const graceMs = detectionGraceMs(resolveSwimConfig({}), NODES);
  const steps = soakSteps(o.seed, durationMs);
  const report = await runLoad({
    command: 'soak',
    cluster: { runtime: 'threads', seed: o.seed, nodes: NODES, n: 3, r: 2, w: 2 },
    workload: ({ partitionCount, wipes }) =>
      kvWorkload({ keys: 200, distribution: { kind: 'uniform' }, mix: { get: 0.45, put: 0.45, delete: 0.1 }, valueBytes: 64, clients: 8, sessions: 2, sharedKeys: true, contextShare: 0.8, partitionCount, n: 3, wipes }),
    inFlight: 8,
    durationMs,
    steps,
    settleMs: 120_000,
    ...(o.progress !== undefined ? { progress: o.progress } : {}),
    onStart: (cluster) => {
      log = new FaultLog(cluster);
    },
    beforeStop: () => {
      deaths = falseDeaths(log!.facts(graceMs));
      log!.stop();
    },
  });
  return { ok: report.ok, report, falseDeaths: deaths, faults: report.faults.map((f) => `${(f.atMs / 1000).toFixed(1)} s ${f.fault}`) };
}
