/**
 * Benchmarks of @starling/demo, run by `pnpm bench` (scripts/bench.ts).
 *
 * `demo.load_generator`: what the load generator costs on top of the load it drives. One 5-node
 * cluster on the `threads` runtime (membership and the store, N = 3, R = 2, W = 2), and in
 * interleaved rounds of the same size:
 *
 * - the subject: the load generator's own driver and store workload (`LoadDriver` and
 *   `kvWorkload`: every operation recorded for the history checker, timed into HdrHistograms,
 *   clients owning their keys), 50% gets and 50% puts over 1 000 keys, 100-byte values;
 * - the baseline: the replication benchmarks' bare closed loop (`drive` in
 *   packages/replication/bench/load.ts: a `KvClient`, keys in turn, nothing recorded) with the
 *   same mix, keys, values and operations in flight.
 *
 * Operations per second, higher is better. Goal: at least 0.8x, so the figures a user's load test
 * reports are the cluster's, not the load generator's.
 */
import { createRandom } from '@starling/actors';
import type { BenchContext, BenchGroup, BenchResult, Contender } from '../../../scripts/bench/types.ts';
import { result } from '../../../scripts/bench/types.ts';
import { KvClient } from '@starling/replication';
import { drive, failedOf, newLoad } from '../../replication/bench/load.ts';
import { kvWorkload, LoadDriver, startDemoCluster } from '../src/index.ts';

const NODES = 5;
const KEY_COUNT = 1_000;
const VALUE_BYTES = 100;
const IN_FLIGHT = 32;

const loadGenerator: BenchGroup = {
  ids: ['demo.load_generator'],
  async run(ctx: BenchContext): Promise<readonly BenchResult[]> {
    const { cluster, partitionCount } = await startDemoCluster({ runtime: 'threads', seed: 1, nodes: NODES, n: 3, r: 2, w: 2 });
    try {
      const keys = Array.from({ length: KEY_COUNT }, (_, i) => `b${i}`);
      const bare = newLoad({ keys, value: 'x'.repeat(VALUE_BYTES), inFlight: IN_FLIGHT, errorsLogged: 3 });
      const kv = new KvClient(cluster);
      const workload = kvWorkload({
        keys: KEY_COUNT,
        distribution: { kind: 'uniform' },
        mix: { get: 0.5, put: 0.5, delete: 0 },
        valueBytes: VALUE_BYTES,
        clients: IN_FLIGHT,
        partitionCount,
        n: 3,
        wipes: () => [],
      });
      const random = createRandom(1, 'bench');
      let bareFailed = 0;
      let generatorFailed = 0;
      const contenders: Contender[] = [
        {
          name: 'bare KvClient loop',
          initialSize: 2_000,
          async run(size) {
            const stats = await drive(kv, bare, (launched) => launched < size);
            bareFailed += failedOf(stats);
            return (size / stats.wallMs) * 1000;
          },
        },
        {
          name: 'load generator',
          initialSize: 2_000,
          async run(size) {
            const t0 = performance.now();
            // A fresh run a round: each round's history starts empty, as a load's does.
            const run = await workload.start({ cluster, seed: 1, wipes: () => [] });
            const driver = new LoadDriver(cluster, run, { inFlight: IN_FLIGHT, maxOps: size, random });
            await driver.done;
            generatorFailed += driver.notOk;
            return (size / (performance.now() - t0)) * 1000;
          },
        },
      ];
      const m = await ctx.compare(contenders);
      // A failure is fast: count them, or a failing contender would look quick.
      ctx.log(`  operations not ok: bare ${bareFailed}, load generator ${generatorFailed}`);
      return [result('demo.load_generator', 'ops/s', m.get('load generator')!, m.get('bare KvClient loop')!, { minRatio: 0.8 })];
    } finally {
      await cluster.stop();
    }
  },
};

export const benchmarks: readonly BenchGroup[] = [loadGenerator];
