/**
 * The README's anti-entropy example: five simulated nodes; one loses its disk, and anti-entropy
 * refills it from the other replicas without any client reading a key.
 * Run: corepack pnpm exec tsx --conditions=source packages/replication/examples/anti-entropy.ts
 */
import { startCluster } from '@starling/actors';
import { type AntiEntropyMessage, antiEntropyRef, type AntiEntropyStatus, KvClient, useReplication } from '@starling/replication';

export async function main(): Promise<string[]> {
  const cluster = await startCluster({ runtime: 'simulation', seed: 3, nodes: 5, plugins: [useReplication({ antiEntropyIntervalMs: 1_000 })] });
  const kv = new KvClient(cluster);
  const lines: string[] = [];
  const keysAt = async (node: string): Promise<number> => (await cluster.until(kv.stats(node))).storage.keys;

  for (let i = 0; i < 500; i++) await cluster.until(kv.put(`user:${i}`, { visits: i }));
  const before = await keysAt('n3');
  await cluster.restartEmpty('n3'); // its disk is gone
  lines.push(`n3 holds ${before} keys, ${await keysAt('n3')} after a restart empty`);
  await cluster.runFor(5_000); // no reads: anti-entropy compares trees with its peers and repairs
  const status = await cluster.until(cluster.ask<AntiEntropyMessage, AntiEntropyStatus>(antiEntropyRef('n3'), (replyTo) => ({ type: 'ae-status', replyTo }), { timeoutMs: 1_000 }));
  lines.push(`5 s later: n3 holds ${await keysAt('n3')} keys; ${status.keysRepaired} repaired in ${status.exchanges} exchanges`);
  await cluster.stop();
  return lines;
}

if (import.meta.url === `file://${process.argv[1]}`) for (const line of await main()) console.log(line);
