/**
 * The shopping cart of the Dynamo paper across a partition: five simulated nodes with membership,
 * the store and the cart plugin; both sides of a 2|3 partition change the same cart, and after
 * the heal the cart holds the add-wins merge of both. The cart's replicas (n4, n3, n1) straddle
 * the partition, so each side reads the cart as it was before the split.
 * Run: corepack pnpm exec tsx --conditions=source packages/replication/examples/cart/demo.ts
 */
import { startCluster } from '@starling/actors';
import { MembershipTracker, useGossip } from '@starling/gossip';
import { useReplication } from '@starling/replication';
import { CartClient, type CartOk, useCart } from './index.ts';

/** Membership tuned for a short simulated run: a side of the partition is declared dead within a second or two. */
const FAST_GOSSIP = { probeIntervalMs: 100, probeTimeoutMs: 40, gossipIntervalMs: 50, suspicionMult: 3, pushPullIntervalMs: 2_000, gossipToTheDeadMs: 2_000, reconnectIntervalMs: 1_000 };

/** Runs the scenario; returns the lines it prints (the same for the same seed). */
export async function main(seed = 11): Promise<string[]> {
  const cluster = await startCluster({
    runtime: 'simulation',
    seed,
    nodes: 5,
    network: { latency: { kind: 'uniform', minMs: 1, maxMs: 10 } },
    hostFailureDetector: false, // gossip decides who is unreachable
    plugins: [useGossip(FAST_GOSSIP), useReplication(), useCart()],
  });
  const tracker = await MembershipTracker.attach(cluster); // every node's view of every other, on the host
  const carts = new CartClient(cluster);
  const lines: string[] = [];
  const show = (who: string, r: CartOk) => lines.push(`${who}: [${r.items.join(', ')}]${r.siblings > 1 ? ` (merged ${r.siblings} versions)` : ''}`);
  const isWhole = () => cluster.nodes.every((a) => cluster.nodes.every((b) => a === b || tracker.stateOf(a, b) === 'alive'));
  const runUntil = async (condition: () => boolean, what: string) => {
    if (!(await cluster.runUntil(condition, { timeoutMs: 30_000 }))) throw new Error(`${what} within 30 s`);
  };
  await runUntil(isWhole, 'membership did not converge');

  await cluster.until(carts.add('n1', 'cart-42', 'book'));
  show('n1 adds book, n2 adds pen', await cluster.until(carts.add('n2', 'cart-42', 'pen')));

  const sides = [['n1', 'n2'], ['n3', 'n4', 'n5']];
  await cluster.network.partition({ shape: 'groups', groups: sides });
  // Until membership on each side declares the other side dead: a coordinator then skips those
  // primaries and writes to fallbacks on its own side (sloppy quorum), holding hints for them.
  const isSplit = () => sides.every((side, i) => side.every((observer) => sides[1 - i]!.every((other) => tracker.stateOf(observer, other) === 'dead')));
  await runUntil(isSplit, 'membership did not see the partition');
  lines.push('partition: n1 n2 | n3 n4 n5');
  // Both sides at once: the minority takes the book out and adds ink; the majority adds the book
  // again (it never saw the removal) and takes the pen out.
  const [minority, majority] = await cluster.until(
    Promise.all([
      carts.remove('n1', 'cart-42', 'book').then(() => carts.add('n2', 'cart-42', 'ink')),
      carts.add('n4', 'cart-42', 'book').then(() => carts.remove('n5', 'cart-42', 'pen')),
    ]),
  );
  show('  n1 n2 (removed book, added ink)', minority);
  show('  n3 n4 n5 (added book, removed pen)', majority);

  await cluster.network.heal();
  await runUntil(isWhole, 'membership did not merge');
  await cluster.runFor(3_000); // hints are handed over
  lines.push('healed');
  show('n3 reads', await cluster.until(carts.get('n3', 'cart-42')));
  // A write with the read's context supersedes the siblings it merged.
  show('n1 adds a lamp', await cluster.until(carts.add('n1', 'cart-42', 'lamp')));
  show('n5 reads', await cluster.until(carts.get('n5', 'cart-42')));
  tracker.close();
  await cluster.stop();
  return lines;
}

if (import.meta.url === `file://${process.argv[1]}`) for (const line of await main()) console.log(line);
