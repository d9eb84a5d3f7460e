/**
 * The README's availability example: five simulated nodes with membership; one is killed, writes
 * go on (fallbacks hold the dead node's copies as hints), a session reads its own writes, and the
 * hints are handed over when the node is back.
 * Run: corepack pnpm exec tsx --conditions=source packages/replication/examples/availability.ts
 */
import { startCluster } from '@starling/actors';
import { useGossip } from '@starling/gossip';
import { KvClient, useReplication } from '@starling/replication';

export async function main(): Promise<string[]> {
  const cluster = await startCluster({ runtime: 'simulation', seed: 5, nodes: 5, plugins: [useGossip(), useReplication()] });
  await cluster.runFor(5_000); // membership converges
  const me = new KvClient(cluster, { session: true, nodes: ['n1', 'n2', 'n4', 'n5'] });
  const lines: string[] = [];

  await cluster.kill('n3');
  await cluster.runFor(20_000); // membership reports n3 dead
  for (let i = 0; i < 10; i++) await cluster.until(me.put(`cart:${i}`, { items: i }));
  const { values } = await cluster.until(me.get('cart:7'));
  lines.push(`10 puts with n3 down, all acknowledged; session read of cart:7: ${JSON.stringify(values)}`);

  const hintsHeld = async (): Promise<number> => {
    let n = 0;
    for (const node of ['n1', 'n2', 'n4', 'n5']) n += (await cluster.until(me.stats(node))).storage.hintsByOwner['n3'] ?? 0;
    return n;
  };
  lines.push(`copies held for n3 as hints: ${await hintsHeld()}`);
  await cluster.restart('n3');
  await cluster.runFor(20_000); // membership sees n3 alive; the holders hand their hints over
  lines.push(`after n3 is back: hints held ${await hintsHeld()}, keys at n3 ${(await cluster.until(me.stats('n3'))).storage.keys}`);
  await cluster.stop();
  return lines;
}

if (import.meta.url === `file://${process.argv[1]}`) for (const line of await main()) console.log(line);
