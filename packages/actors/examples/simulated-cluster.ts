/**
 * The README's second example: three nodes in one thread on virtual time, a plugin that puts an
 * actor on every node, a fault, and a seed that replays the run exactly.
 * Run: corepack pnpm exec tsx --conditions=source packages/actors/examples/simulated-cluster.ts
 */
import { type ActorRef, isolate, selectActor, startCluster, usePlugin } from '@starling/actors';
import { type GreeterMsg, greeterPlugin } from './greeter-plugin.ts';

export async function main(): Promise<string[]> {
  const cluster = await startCluster({
    runtime: 'simulation',
    seed: 42,
    nodes: 3,
    plugins: [usePlugin(greeterPlugin)],
    network: { latency: { kind: 'uniform', minMs: 1, maxMs: 10 } },
  });
  const n1: ActorRef<GreeterMsg> = selectActor('n1', '/user/greeter');
  const viaN2 = () => cluster.ask(n1, (replyTo): GreeterMsg => ({ type: 'relay', via: 'n2', name: 'ada', replyTo }), { timeoutMs: 1000 });
  const lines: string[] = [];
  // Virtual time moves only while the cluster runs: `until` runs it until the promise settles.
  lines.push(await cluster.until(viaN2()));
  await cluster.network.partition(isolate(cluster.nodes, 'n2'));
  lines.push(await cluster.until(viaN2()).catch((err: { code: string }) => `n2 is cut off: ${err.code} at ${Math.round(cluster.now())} ms`));
  await cluster.network.heal();
  lines.push(await cluster.until(viaN2()));
  await cluster.stop();
  return lines;
}

if (import.meta.url === `file://${process.argv[1]}`) for (const line of await main()) console.log(line);
