/**
 * The example scenario `pnpm demo` runs until the replicated store's demo lands: five nodes beat
 * at each other while the network is partitioned, a node is killed and restarted, and the cluster
 * heals. Each phase prints who can hear whom.
 */
import {
  type Cluster,
  majorityMinority,
  type RuntimeKind,
  selectActor,
  startCluster,
  usePlugin,
} from '@starling/actors';
import { type BeaconMsg, type BeaconView, beaconPlugin } from './beacon.ts';

export interface ScenarioOptions {
  readonly runtime: RuntimeKind;
  readonly seed: number;
  readonly nodes: number;
  readonly out: (line: string) => void;
}

export interface ScenarioReport {
  readonly seed: number;
  readonly runtime: RuntimeKind;
  readonly messagesSent: number;
  readonly messagesDelivered: number;
  readonly droppedByCause: Record<string, number>;
  readonly nodeStarts: Record<string, number>;
  /** Each phase's check: did every node hear exactly whom it should? */
  readonly checks: readonly { readonly phase: string; readonly ok: boolean }[];
  readonly traceDigest?: string;
}

const BEAT_MS = 100;
/** A peer counts as heard if a beat arrived within this window. */
const FRESH_MS = 400;

async function views(cluster: Cluster): Promise<BeaconView[]> {
  const live = cluster.nodes.filter((n) => cluster.nodeState(n) === 'running');
  return cluster.until(
    Promise.all(
      live.map((n) => cluster.ask(selectActor<BeaconMsg>(n, '/user/beacon'), (replyTo): BeaconMsg => ({ type: 'view', replyTo }), { timeoutMs: 1000 })),
    ),
  );
}

/** Prints a who-hears-whom matrix and returns the set of `a<-b` pairs that are fresh. */
function matrix(cluster: Cluster, vs: readonly BeaconView[], out: (line: string) => void): Set<string> {
  const fresh = new Set<string>();
  out(`        ${cluster.nodes.map((n) => n.padStart(4)).join('')}   (row hears column)`);
  for (const node of cluster.nodes) {
    const v = vs.find((x) => x.node === node);
    const cells = cluster.nodes.map((peer) => {
      if (!v) return '   -';
      if (peer === node) return '   .';
      const at = v.lastHeardMs[peer];
      const ok = at !== undefined && v.atMs - at <= FRESH_MS;
      if (ok) fresh.add(`${node}<-${peer}`);
      return ok ? '   #' : '    ';
    });
    out(`  ${node.padEnd(6)}${cells.join('')}${v ? '' : '   (down)'}`);
  }
  return fresh;
}

function expected(nodes: readonly string[], canHear: (a: string, b: string) => boolean): Set<string> {
  const s = new Set<string>();
  for (const a of nodes) for (const b of nodes) if (a !== b && canHear(a, b)) s.add(`${a}<-${b}`);
  return s;
}

const sameSet = (a: Set<string>, b: Set<string>): boolean => a.size === b.size && [...a].every((x) => b.has(x));

export async function runScenario(opts: ScenarioOptions): Promise<ScenarioReport> {
  const { out } = opts;
  const names = Array.from({ length: opts.nodes }, (_, i) => `n${i + 1}`);
  const cluster = await startCluster({
    runtime: opts.runtime,
    seed: opts.seed,
    nodes: names,
    trace: opts.runtime === 'simulation',
    plugins: [usePlugin(beaconPlugin, { peers: names, intervalMs: BEAT_MS })],
    network: { latency: { kind: 'exponential', minMs: 1, meanMs: 5 }, lossProbability: 0.01 },
  });
  const checks: { phase: string; ok: boolean }[] = [];
  const phase = async (title: string, waitMs: number, canHear: (a: string, b: string) => boolean): Promise<void> => {
    await cluster.runFor(waitMs);
    out('');
    out(`t=${(cluster.now() / 1000).toFixed(1)}s  ${title}`);
    const fresh = matrix(cluster, await views(cluster), out);
    const ok = sameSet(fresh, expected(cluster.nodes, canHear));
    checks.push({ phase: title, ok });
    out(`  ${ok ? 'as expected' : 'UNEXPECTED: see the matrix above'}`);
  };

  out(`Starling example cluster: ${opts.nodes} nodes, runtime ${opts.runtime}, seed ${opts.seed}`);
  const up = (n: string): boolean => cluster.nodeState(n) === 'running';
  await phase('all nodes up: everyone hears everyone', 1000, () => true);

  const partition = majorityMinority(names);
  const sideOf = (n: string): number => (partition.shape === 'groups' ? partition.groups.findIndex((g) => g.includes(n)) : 0);
  await cluster.network.partition(partition);
  out('');
  out(`partition: ${partition.shape === 'groups' ? partition.groups.map((g) => `[${g.join(' ')}]`).join(' | ') : ''}`);
  await phase('partitioned: each side hears only itself', 1000, (a, b) => sideOf(a) === sideOf(b));

  const victim = names[1]!;
  await cluster.kill(victim);
  out('');
  out(`kill ${victim}`);
  await phase(`${victim} killed`, 1000, (a, b) => up(a) && up(b) && sideOf(a) === sideOf(b));

  await cluster.restart(victim);
  await cluster.network.heal();
  out('');
  out(`restart ${victim} (new node uid ${cluster.nodeUid(victim)}), heal the partition`);
  await phase('healed: everyone hears everyone again', 1000, () => true);

  const links = (await cluster.network.links());
  const droppedByCause: Record<string, number> = {};
  let sent = 0;
  let delivered = 0;
  for (const l of Object.values(links)) {
    sent += l.sent;
    delivered += l.delivered;
    for (const [cause, n] of Object.entries(l.dropped)) if (n > 0) droppedByCause[cause] = (droppedByCause[cause] ?? 0) + n;
  }
  const report: ScenarioReport = {
    seed: opts.seed,
    runtime: opts.runtime,
    messagesSent: sent,
    messagesDelivered: delivered,
    droppedByCause,
    nodeStarts: Object.fromEntries(await Promise.all(names.map(async (n) => [n, (await cluster.stats(n)).starts] as const))),
    checks,
    ...(opts.runtime === 'simulation' ? { traceDigest: (cluster as unknown as { traceDigest(): string }).traceDigest() } : {}),
  };
  await cluster.stop();
  return report;
}
