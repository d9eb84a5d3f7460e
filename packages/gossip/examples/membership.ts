/**
 * The README's gossip example: five simulated nodes run SWIM; one is killed, the others declare
 * it dead, it restarts with a new node uid and rejoins, and a value broadcast from one node
 * reaches all of them.
 * Run: corepack pnpm exec tsx --conditions=source packages/gossip/examples/membership.ts
 */
import { startCluster } from '@starling/actors';
import { type BroadcastRequest, broadcastRef, type BroadcastValues, MembershipTracker, onMembership, useBroadcast, useGossip } from '@starling/gossip';

export async function main(): Promise<string[]> {
  const cluster = await startCluster({
    runtime: 'simulation',
    seed: 7,
    nodes: 5,
    hostFailureDetector: false, // gossip alone decides who is dead
    network: { latency: { kind: 'uniform', minMs: 1, maxMs: 10 } },
    plugins: [useGossip(), useBroadcast()],
  });
  const tracker = await MembershipTracker.attach(cluster);
  const lines: string[] = [];
  onMembership(cluster.events, (e) => {
    if (e.observer !== 'n1' || e.member.name !== 'n3') return;
    const again = e.type === 'member-joined' && e.supersedes !== undefined ? ' again, with a new node uid' : '';
    lines.push(`n1: n3 ${e.type.slice('member-'.length)}${again} at ${Math.round(e.atMs)} ms`);
  });
  const everyoneSees = (state: string) => () => cluster.nodes.every((o) => cluster.nodes.every((m) => o === 'n3' || m !== 'n3' || tracker.stateOf(o, m) === state));
  await cluster.runUntil(everyoneSees('alive'));
  await cluster.kill('n3');
  await cluster.runUntil(everyoneSees('dead'), { timeoutMs: 60_000 });
  await cluster.restart('n3');
  await cluster.runUntil(() => cluster.nodes.every((o) => tracker.view(o).get('n3')?.uid === cluster.nodeUid('n3') && tracker.stateOf(o, 'n3') === 'alive'));

  cluster.tell(broadcastRef('n2'), { type: 'broadcast', value: 'hello, everyone' });
  await cluster.runFor(2_000);
  for (const node of cluster.nodes) {
    const read = cluster.ask<BroadcastRequest, BroadcastValues>(broadcastRef(node), (replyTo) => ({ type: 'read', replyTo }), { timeoutMs: 1_000 });
    const { values } = await cluster.until(read);
    lines.push(`${node} has ${JSON.stringify(values.map((v) => v.value))}`);
  }
  await cluster.stop();
  return lines;
}

if (import.meta.url === `file://${process.argv[1]}`) for (const line of await main()) console.log(line);
