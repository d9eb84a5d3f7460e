/**
 * What the coordinator does with membership's suspicions, in the seconds before a death is
 * confirmed: a forwarded write goes to a replica nobody suspects (a forward is not retried, so one
 * sent to a failing node is lost and the client waits out its deadline); with every replica
 * suspected, a sloppy write is coordinated where it arrived; and a suspected replica gets its
 * fallback at once instead of after `fallbackAfterMs`. Each test has its control: the same write
 * without the suspicion.
 */
import { type SimulationCluster, startCluster } from '@starling/actors';
import type { MemberInfo, MembershipSnapshot } from '@starling/gossip';
import { afterEach, describe, expect, it } from 'vitest';
import { beginChange, coordinatorRef, createRing, KvClient, KvError, partitionOf, pendingReplicas, preferenceList, storageRef, storeKey, useReplication } from '../src/index.ts';
import { cluster5, dump, order } from './support/cluster.ts';

let cluster: SimulationCluster | undefined;
afterEach(async () => {
  await cluster?.stop();
  cluster = undefined;
});

/** Tells `node`'s coordinator that membership suspects `suspects` (every other node alive). */
function suspicion(c: SimulationCluster, node: string, suspects: readonly string[]): void {
  const members: MemberInfo[] = c.nodes.map((name) => ({ name, uid: c.nodeUid(name)!, startedAtMs: 0, state: suspects.includes(name) ? 'suspect' : 'alive', incarnation: 0, stateChangedAtMs: 0 }));
  const snapshot: MembershipSnapshot = {
    type: 'membership-snapshot',
    node,
    nodeUid: c.nodeUid(node)!,
    incarnation: 0,
    health: 0,
    members,
    counters: { probes: 0, probesFailed: 0, pingReqsSent: 0, suspicionsRaised: 0, refutations: 0, deathsDeclared: 0, messagesSent: 0, malformedMessages: 0 },
  };
  c.tell(coordinatorRef(node) as never, snapshot as never);
}

/** A put's outcome and its time in virtual ms. */
async function timedPut(c: SimulationCluster, via: string, key: string, opts: { fallbackAfterMs?: number; w?: number } = {}): Promise<{ outcome: string; ms: number; replicas: readonly string[] }> {
  const kv = new KvClient(c, { graceMs: 500 });
  const t0 = c.now();
  try {
    const r = await c.until(kv.put(key, 'v', { node: via, timeoutMs: 2_000, ...opts }));
    return { outcome: 'ok', ms: c.now() - t0, replicas: r.replicas };
  } catch (err) {
    if (!(err instanceof KvError)) throw err;
    return { outcome: err.code, ms: c.now() - t0, replicas: [] };
  }
}

describe('the coordinator and suspected nodes', () => {
  for (const withSuspicion of [true, false]) {
    it(`forwards a write to a replica nobody suspects (${withSuspicion ? 'suspected: ok' : 'control, unsuspected: the forward is lost'})`, async () => {
      const c = (cluster = await cluster5(11));
      const key = 'forwarded';
      const [p1, , , via] = order(c, key) as [string, string, string, string];
      await c.network.isolate(p1);
      if (withSuspicion) suspicion(c, via, [p1]);
      const r = await timedPut(c, via, key);
      if (withSuspicion) {
        expect(r.outcome).toBe('ok');
        expect(r.replicas).not.toContain(p1);
      } else expect(r.outcome).toBe('NO_REPLY');
    });

    it(`coordinates a sloppy write itself when every replica is suspected (${withSuspicion ? 'suspected: ok, as hints' : 'control: lost'})`, async () => {
      const c = (cluster = await cluster5(12));
      const key = 'all-suspected';
      const pref = order(c, key);
      const primaries = pref.slice(0, 3);
      const [via, other] = pref.slice(3) as [string, string];
      await c.network.partition({ shape: 'groups', groups: [primaries, [via, other]] });
      if (withSuspicion) suspicion(c, via, primaries);
      const r = await timedPut(c, via, key);
      if (withSuspicion) {
        expect(r.outcome).toBe('ok');
        expect([...r.replicas].sort()).toEqual([via, other].sort());
      } else expect(r.outcome).toBe('NO_REPLY');
    });

    it(`gives a suspected replica its fallback at once (${withSuspicion ? 'suspected: before fallbackAfterMs' : 'control: after it'})`, async () => {
      const c = (cluster = await cluster5(13));
      const key = 'late';
      const [p1, p2, p3] = order(c, key) as [string, string, string];
      await c.network.partition({ shape: 'groups', groups: [[p2, p3], c.nodes.filter((n) => n !== p2 && n !== p3)] });
      if (withSuspicion) suspicion(c, p1, [p2, p3]);
      const fallbackAfterMs = 800; // at most half the 2 s deadline (coordinator.ts)
      const r = await timedPut(c, p1, key, { fallbackAfterMs });
      expect(r.outcome).toBe('ok');
      // Virtual time: the simulated network's latency is 1-10 ms a hop.
      if (withSuspicion) expect(r.ms).toBeLessThan(fallbackAfterMs);
      else expect(r.ms).toBeGreaterThanOrEqual(fallbackAfterMs);
    });
  }

  // Review findings: one stand-in per replica slot, and W counts slots, not nodes.
  it('a suspected replica with a stand-in gets no second one when the fallback timer fires: the other silent replica does', async () => {
    const c = (cluster = await cluster5(14));
    const key = 'two-silent';
    const [p1, p2, p3] = order(c, key) as [string, string, string];
    await c.network.partition({ shape: 'groups', groups: [[p2], [p3], c.nodes.filter((n) => n !== p2 && n !== p3)] });
    suspicion(c, p1, [p2]);
    const r = await timedPut(c, p1, key, { fallbackAfterMs: 200, w: 3 });
    expect(r.outcome).toBe('ok');
    const holders: string[] = [];
    for (const node of c.nodes) holders.push(...((await dump(c, node)).hints[`default/${key}`] ?? []));
    expect(holders.sort()).toEqual([p2, p3].sort());
  });

  it('a coordinator standing in for a suspected primary shares its slot: W is met by distinct replicas', async () => {
    const c = (cluster = await cluster5(15));
    const key = 'stand-in';
    const [p1, p2, p3, via] = order(c, key) as [string, string, string, string];
    await c.network.partition({ shape: 'groups', groups: [[p2, p3], c.nodes.filter((n) => n !== p2 && n !== p3)] });
    suspicion(c, via, [p1, p2, p3]);
    const r = await timedPut(c, via, key, { w: 2 });
    expect(r.outcome).toBe('ok');
    // Two distinct slots: p1's (this node holds a hint for it; p1 itself may answer too) and a
    // stand-in for p2, not two hints for p1 counted as two replicas.
    const owners = new Set<string>();
    for (const node of c.nodes) for (const o of (await dump(c, node)).hints[`default/${key}`] ?? []) owners.add(o);
    expect(owners.has(p1)).toBe(true);
    expect(owners.has(p2) || owners.has(p3)).toBe(true);
  });

  // Second review: a pending replica of a ring change is not a primary; under strict quorum only a primary coordinates.
  it('under strict quorum, forwards to a primary even when all are suspected, never to a pending replica of a ring change', async () => {
    const c = (cluster = await startCluster({
      runtime: 'simulation',
      seed: 16,
      nodes: 6,
      network: { latency: { kind: 'uniform', minMs: 1, maxMs: 10 } },
      plugins: [useReplication({ ringMembers: ['n1', 'n2', 'n3', 'n4', 'n5'], antiEntropy: false })],
    }));
    const ring = createRing(['n1', 'n2', 'n3', 'n4', 'n5'].map((node) => ({ node, weight: 1 })));
    const changing = beginChange(ring, { kind: 'join', member: { node: 'n6', weight: 1 } }, ring.claimant);
    for (const node of c.nodes) {
      c.tell(coordinatorRef(node) as never, { type: 'ring-updated', ring: changing } as never);
      c.tell(storageRef(node) as never, { type: 'ring-updated', ring: changing } as never);
    }
    await c.runFor(50);
    const key = Array.from({ length: 5_000 }, (_, i) => `pending${i}`).find((k) => {
      const p = partitionOf(changing, storeKey(undefined, k));
      return pendingReplicas(changing, p, 3).includes('n6') && !preferenceList(changing, p, 3).includes('n1');
    })!;
    const primaries = preferenceList(changing, partitionOf(changing, storeKey(undefined, key)), 3);
    suspicion(c, 'n1', primaries);
    const kv = new KvClient(c, { graceMs: 500 });
    const r = await c.until(kv.put(key, 'v', { node: 'n1', sloppy: false }));
    expect(r.replicas).not.toContain('n1');
  });
});
