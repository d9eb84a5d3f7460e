/**
 * The README's ring-change example: five simulated nodes, a ring of three; n4 joins and n2 leaves
 * while the data is in place, and the keys follow their partitions.
 * Run: corepack pnpm exec tsx --conditions=source packages/replication/examples/transfer.ts
 */
import { startCluster } from '@starling/actors';
import { KvClient, RingAdmin, useReplication } from '@starling/replication';

export async function main(): Promise<string[]> {
  const cluster = await startCluster({ runtime: 'simulation', seed: 7, nodes: 5, plugins: [useReplication({ ringMembers: ['n1', 'n2', 'n3'] })] });
  const kv = new KvClient(cluster);
  const admin = new RingAdmin(cluster);
  const lines: string[] = [];
  const keysAt = async (node: string): Promise<number> => (await cluster.until(kv.stats(node))).storage.keys;

  for (let i = 0; i < 300; i++) await cluster.until(kv.put(`user:${i}`, { visits: i }));
  lines.push(`before: keys at n1 n2 n3 n4: ${[await keysAt('n1'), await keysAt('n2'), await keysAt('n3'), await keysAt('n4')].join(' ')}`);

  const joined = await cluster.until(admin.join('n4')); // the claimant (n1) commits ring 2: n4 pending
  const ring = await cluster.until(admin.settled(joined)); // n4 pulled its partitions; old copies dropped
  const status = await cluster.until(admin.status('n4'));
  lines.push(`n4 joined: ring ${ring.version}, ${status.partitionsReceived} partitions and ${status.keysReceived} keys received`);

  const left = await cluster.until(admin.leave('n2'));
  await cluster.until(admin.settled(left));
  lines.push(`n2 left: keys at n1 n2 n3 n4: ${[await keysAt('n1'), await keysAt('n2'), await keysAt('n3'), await keysAt('n4')].join(' ')}`);
  const { values } = await cluster.until(kv.get('user:42'));
  lines.push(`user:42 ${JSON.stringify(values)}`);
  await cluster.stop();
  return lines;
}

if (import.meta.url === `file://${process.argv[1]}`) for (const line of await main()) console.log(line);
