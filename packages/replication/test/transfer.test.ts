/**
 * Ownership transfer (principle 7): nodes join and leave a running cluster under load, the
 * partitions follow, and the history checker finds nothing wrong. Simulation; seeds printed on
 * failure (STARLING_SEED replays).
 */
import { describe, expect } from 'vitest';
import { simIt } from '../../../scripts/testing/seed.ts';
import { check, formatViolations } from '../src/index.ts';
import { finalState } from './support/workload.ts';
import { census, notOk, steadyLoad, transferCluster } from './support/transfer.ts';

describe('ownership transfer under load', () => {
  simIt('N=3 R=2 W=2: a join and then a leave finish with every partition on its new owners, nothing left behind, no failed operation, no violation', 701, async (seed) => {
    const { cluster, admin } = await transferCluster({ seed, nodes: 4 });
    const load = steadyLoad(cluster, { seed, keys: 200, via: ['n1', 'n2', 'n3'] });
    await cluster.runFor(3_000);
    const joined = await cluster.until(admin.join('n4'));
    const afterJoin = await cluster.until(admin.settled(joined), { timeoutMs: 120_000 });
    expect(afterJoin.members.map((m) => m.node)).toEqual(['n1', 'n2', 'n3', 'n4']);
    const joinStatus = await cluster.until(admin.status('n4'));
    expect(joinStatus.partitionsReceived).toBeGreaterThan(0);
    expect(joinStatus.keysReceived).toBeGreaterThan(0);
    await cluster.runFor(2_000);
    const left = await cluster.until(admin.leave('n2', { via: 'n3' }));
    const afterLeave = await cluster.until(admin.settled(left), { timeoutMs: 120_000 });
    expect(afterLeave.members.map((m) => m.node)).toEqual(['n1', 'n3', 'n4']);
    await cluster.runFor(2_000);
    await load.stop();
    const final = await finalState(cluster, 3_000);
    const where = await census(cluster, afterLeave);
    expect(where.keys).toBeGreaterThan(100);
    expect(where.missing).toEqual([]);
    expect(where.leftBehind).toEqual([]);
    expect(notOk(load.history)).toEqual([]);
    const result = check({ history: load.history.entries(), final });
    expect(result.violations, formatViolations(result)).toEqual([]);
    expect(result.stats.ops).toBeGreaterThan(300);
    await cluster.stop();
  });
});
