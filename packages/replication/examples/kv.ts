/**
 * The README's store example: five simulated nodes, a put, a concurrent pair of puts that become
 * siblings, and a put with the read's context that resolves them.
 * Run: corepack pnpm exec tsx --conditions=source packages/replication/examples/kv.ts
 */
import { startCluster } from '@starling/actors';
import { KvClient, useReplication } from '@starling/replication';

export async function main(): Promise<string[]> {
  const cluster = await startCluster({ runtime: 'simulation', seed: 3, nodes: 5, plugins: [useReplication()] });
  const alice = new KvClient(cluster, { name: 'alice' });
  const bob = new KvClient(cluster, { name: 'bob' });
  const lines: string[] = [];

  const first = await cluster.until(alice.put('cart:42', { items: 3 }));
  lines.push(`put acknowledged by ${first.replicas.join(', ')}`);
  // Alice and Bob both update from the same version, without seeing each other: siblings.
  await cluster.until(Promise.all([alice.put('cart:42', { items: 4 }, { context: first.context }), bob.put('cart:42', { items: 5 }, { context: first.context })]));
  const both = await cluster.until(alice.get('cart:42'));
  lines.push(`siblings: ${JSON.stringify(both.values)}`);
  // A put with the read's context replaces every sibling it saw.
  await cluster.until(alice.put('cart:42', { items: 9 }, { context: both.context }));
  lines.push(`resolved: ${JSON.stringify((await cluster.until(bob.get('cart:42'))).values)}`);
  await cluster.stop();
  return lines;
}

if (import.meta.url === `file://${process.argv[1]}`) for (const line of await main()) console.log(line);
