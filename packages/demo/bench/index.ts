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
 *
 * `demo.http_kv`: what `demo serve`'s HTTP API costs on top of the store. The same cluster served
 * on 127.0.0.1 (Fastify, the watch ticking at its default second); the subject: 32 HTTP clients on
 * keep-alive connections, in a worker thread of their own (as a load tool in another process would
 * be: the client's parsing does not share the server's event loop), each a closed loop of GET and
 * PUT (50/50) over 1 000 keys with 100-byte JSON values; the baseline: the bare KvClient closed
 * loop with the same mix, keys, values and operations in flight, in interleaved rounds. Operations
 * per second; goal at least 0.5x (every request is parsed, validated, routed and answered as JSON
 * on the host's one event loop, which also carries the cluster's traffic to and from the workers).
 */
import { Worker } from 'node:worker_threads';
import { createRandom } from '@starling/actors';
import type { BenchContext, BenchGroup, BenchResult, Contender } from '../../../scripts/bench/types.ts';
import { result } from '../../../scripts/bench/types.ts';
import { KvClient } from '@starling/replication';
import { drive, failedOf, newLoad } from '../../replication/bench/load.ts';
import { kvWorkload, LoadDriver, serveCluster, startDemoCluster } from '../src/index.ts';

const NODES = 5;
const KEY_COUNT = 1_000;
const VALUE_BYTES = 100;
const IN_FLIGHT = 32;

/** The baseline of both groups: the replication benchmarks' bare closed loop; `failed` counts what it got wrong. */
function bareLoop(kv: KvClient, load: ReturnType<typeof newLoad>): Contender & { failed: number } {
  const contender = {
    name: 'bare KvClient loop',
    initialSize: 2_000,
    failed: 0,
    async run(size: number): Promise<number> {
      const stats = await drive(kv, load, (launched) => launched < size);
      contender.failed += failedOf(stats);
      return (size / stats.wallMs) * 1000;
    },
  };
  return contender;
}

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
      const baseline = bareLoop(kv, bare);
      let generatorFailed = 0;
      const contenders: Contender[] = [
        baseline,
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
      ctx.log(`  operations not ok: bare ${baseline.failed}, load generator ${generatorFailed}`);
      return [result('demo.load_generator', 'ops/s', m.get('load generator')!, m.get('bare KvClient loop')!, { minRatio: 0.8 })];
    } finally {
      await cluster.stop();
    }
  },
};

/**
 * The HTTP load client, run in a worker thread: for each `{ size }` it gets, `inFlight` closed
 * loops send `size` requests in all (GET and PUT in turn) and it answers `{ ms, failed }`.
 */
const HTTP_CLIENT = `
const { parentPort, workerData } = require('node:worker_threads');
const { Agent, request } = require('node:http');
const { port, keys, body, inFlight } = workerData;
const agent = new Agent({ keepAlive: true, maxSockets: inFlight });
let turn = 0;
function call(method, path, payload) {
  return new Promise((resolve, reject) => {
    const headers = payload === undefined ? {} : { 'content-type': 'application/json', 'content-length': Buffer.byteLength(payload) };
    const req = request({ host: '127.0.0.1', port, method, path, agent, headers }, (res) => {
      res.resume();
      res.on('end', () => resolve(res.statusCode));
      res.on('error', reject);
    });
    req.on('error', reject);
    req.end(payload);
  });
}
parentPort.on('message', async ({ size }) => {
  let launched = 0;
  let failed = 0;
  const t0 = performance.now();
  const loop = async () => {
    while (launched < size) {
      const i = launched++;
      const path = '/kv/' + keys[turn++ % keys.length];
      // A GET of a key never written is a 404: an answer, as the bare loop's empty read is.
      const status = await call(i % 2 === 0 ? 'GET' : 'PUT', path, i % 2 === 0 ? undefined : body).catch(() => 0);
      if (status !== 200 && status !== 404) failed++;
    }
  };
  await Promise.all(Array.from({ length: inFlight }, loop));
  parentPort.postMessage({ ms: performance.now() - t0, failed });
});
`;

const httpKv: BenchGroup = {
  ids: ['demo.http_kv'],
  async run(ctx: BenchContext): Promise<readonly BenchResult[]> {
    const { cluster } = await startDemoCluster({ runtime: 'threads', seed: 1, nodes: NODES, n: 3, r: 2, w: 2 });
    const server = await serveCluster(cluster, { port: 0, quorum: { n: 3, r: 2, w: 2 } });
    const keys = Array.from({ length: KEY_COUNT }, (_, i) => `h${i}`);
    const value = 'x'.repeat(VALUE_BYTES);
    const client = new Worker(HTTP_CLIENT, { eval: true, workerData: { port: server.port, keys, body: JSON.stringify(value), inFlight: IN_FLIGHT } });
    const round = (size: number): Promise<{ ms: number; failed: number }> =>
      new Promise((resolve, reject) => {
        client.once('message', resolve);
        client.once('error', reject);
        client.postMessage({ size });
      });
    try {
      const baseline = bareLoop(new KvClient(cluster), newLoad({ keys, value, inFlight: IN_FLIGHT, errorsLogged: 3 }));
      let httpFailed = 0;
      const contenders: Contender[] = [
        baseline,
        {
          name: 'HTTP API',
          initialSize: 2_000,
          async run(size) {
            const { ms, failed } = await round(size);
            httpFailed += failed;
            return (size / ms) * 1000;
          },
        },
      ];
      const m = await ctx.compare(contenders);
      ctx.log(`  operations not ok: bare ${baseline.failed}, HTTP ${httpFailed}`);
      return [result('demo.http_kv', 'ops/s', m.get('HTTP API')!, m.get('bare KvClient loop')!, { minRatio: 0.5 })];
    } finally {
      await client.terminate();
      await server.close();
      await cluster.stop();
    }
  },
};

export const benchmarks: readonly BenchGroup[] = [loadGenerator, httpKv];
