/**
 * The determinism tests' workload: 3 s of virtual time of a chatty, faulty five-node cluster.
 * Shared by the tests and by a child process that replays a seed in a fresh process.
 */
import { generateSchedule, startCluster, usePlugin } from '@starling/actors';
import { chatterPlugin } from '../fixtures/chatter.ts';

const NODES = ['n1', 'n2', 'n3', 'n4', 'n5'];

export interface RunResult {
  readonly digest: string;
  readonly lines: number;
  /** The virtual times of every delivery, in order: independent of node uids. */
  readonly deliveryTimes: string;
}

export async function chattyRun(seed: number): Promise<RunResult> {
  const cluster = await startCluster({
    runtime: 'simulation',
    seed,
    nodes: NODES,
    trace: true,
    plugins: [usePlugin(chatterPlugin, { peers: NODES })],
    network: {
      latency: { kind: 'exponential', minMs: 1, meanMs: 4 },
      lossProbability: 0.05,
      duplicateProbability: 0.05,
      reorderProbability: 0.1,
      reorderWindowMs: 5,
    },
  });
  const schedule = generateSchedule({ seed, nodes: NODES, durationMs: 3000, minEpisodeMs: 100, maxEpisodeMs: 600, minGapMs: 50, maxGapMs: 200 });
  cluster.applySchedule(schedule);
  await cluster.runFor(3000);
  const lines = cluster.traceLines();
  const result = {
    digest: cluster.traceDigest(),
    lines: lines.length,
    deliveryTimes: lines
      .filter((l) => l.includes(' deliver '))
      .map((l) => l.split(' ')[0])
      .join(','),
  };
  await cluster.stop();
  return result;
}

// Run as a script: print the digest of the seed given on the command line.
if (import.meta.url === `file://${process.argv[1]}`) {
  const result = await chattyRun(Number(process.argv[2]));
  process.stdout.write(`${result.digest}\n`);
}
