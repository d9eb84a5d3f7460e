/** Helpers to start test clusters and collect their events. */
import {
  type ActorRef,
  type ClusterConfig,
  type DeadLetterReason,
  type RuntimeEvent,
  type SimulationCluster,
  startCluster,
  usePlugin,
} from '@starling/actors';
import { testPlugin } from '../fixtures/echo-plugin.ts';
import { fixturesPlugin, type ProbeMsg, probe } from '../fixtures/actors.ts';

/** A simulation cluster with the fixture actors on every node. */
export function simCluster(seed: number, overrides: Partial<ClusterConfig> = {}): Promise<SimulationCluster> {
  return startCluster({
    runtime: 'simulation',
    seed,
    nodes: 3,
    plugins: [usePlugin(fixturesPlugin), usePlugin(testPlugin)],
    ...overrides,
  } as ClusterConfig & { runtime: 'simulation' });
}

/** Records every event of a cluster. */
export function recordEvents(cluster: { events: { on(type: 'event', fn: (e: RuntimeEvent) => void): unknown } }): RuntimeEvent[] {
  const seen: RuntimeEvent[] = [];
  cluster.events.on('event', (e) => seen.push(e));
  return seen;
}

/** Dead letters among recorded events, optionally of one reason. */
export function deadLetters(events: readonly RuntimeEvent[], reason?: DeadLetterReason): Extract<RuntimeEvent, { type: 'dead-letter' }>[] {
  return events.filter(
    (e): e is Extract<RuntimeEvent, { type: 'dead-letter' }> => e.type === 'dead-letter' && (reason === undefined || e.reason === reason),
  );
}

/** Spawns a probe on `node` and returns a function that reads its notes. */
export async function withProbe(cluster: SimulationCluster, node = 'n1', name = 'probe'): Promise<{ ref: ActorRef<ProbeMsg>; notes: () => Promise<string[]> }> {
  const ref = await cluster.spawn(node, probe, undefined, { name });
  return {
    ref,
    notes: () => cluster.until(cluster.ask(ref, (replyTo): ProbeMsg => ({ type: 'dump', replyTo }), { timeoutMs: 1000 })),
  };
}
