// Runs in a child process under plain `node` (no TypeScript loader), for threads-start.ts: starts
// threads clusters from the compiled build (packages/actors/dist) and bare workers, and prints one
// line `RESULT <json>` on stdout. Argument: a JSON object.
//
//   { mode: 'start', nodes, rounds, warmup }
//       interleaved rounds: a `nodes`-node cluster start (timed from startCluster() to its
//       resolution; then stopped), then `nodes` bare workers of an empty script started at once
//       (timed until each has said it is up; then terminated). Also checks that every stop left
//       no thread, worker port or handle behind. => { cluster: ms[], bare: ms[], leftovers: string[] }
//   { mode: 'rss', kind: 'cluster' | 'bare', nodes, settleMs }
//       RSS of this process before and with `nodes` idle nodes (or bare idle workers), after a GC
//       and `settleMs` of idling. => { beforeBytes, withBytes, perNodeBytes }
import { readdirSync } from 'node:fs';
import { Worker } from 'node:worker_threads';

const args = JSON.parse(process.argv[2] ?? '{}');
const { startCluster } = await import(new URL('../../dist/index.js', import.meta.url).href);
const { plainEchoPlugin } = await import(new URL('./plain-plugin.mjs', import.meta.url).href);
const plugins = [{ module: plainEchoPlugin.module, name: plainEchoPlugin.name }];
const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

function threadCount() {
  try {
    return readdirSync('/proc/self/task').length;
  } catch {
    return -1; // not Linux: the check relies on resources and exit events only
  }
}

/** Handles that would outlive a stop: everything but timers (reported apart) and stdio. */
function handles() {
  return process.getActiveResourcesInfo().filter((r) => r !== 'Timeout' && r !== 'TTYWrap' && r !== 'PipeWrap' && r !== 'FSReqCallback');
}

async function bareWorkers(n, file) {
  const workers = [];
  const up = [];
  for (let i = 0; i < n; i++) {
    const w = new Worker(new URL(`../threads-bare/${file}`, import.meta.url), { execArgv: [] });
    workers.push(w);
    up.push(
      new Promise((resolve, reject) => {
        w.once('message', resolve);
        w.once('error', reject);
      }),
    );
  }
  await Promise.all(up);
  return workers;
}

async function startRounds({ nodes, rounds, warmup }) {
  const cluster = [];
  const bare = [];
  const leftovers = [];
  const threadsBefore = threadCount();
  const handlesBefore = handles().length;
  for (let r = 0; r < warmup + rounds; r++) {
    let t = performance.now();
    const c = await startCluster({ runtime: 'threads', nodes, plugins });
    const clusterMs = performance.now() - t;
    await c.stop();
    // Give terminated threads a moment to be reaped before counting.
    for (let i = 0; i < 50 && (threadCount() > threadsBefore || handles().length > handlesBefore); i++) await sleep(10);
    if (threadCount() > threadsBefore) leftovers.push(`round ${r}: ${threadCount() - threadsBefore} threads left after stop()`);
    if (handles().length > handlesBefore) leftovers.push(`round ${r}: handles left after stop(): ${handles().join(', ')}`);
    t = performance.now();
    const workers = await bareWorkers(nodes, 'empty-worker.mjs');
    const bareMs = performance.now() - t;
    await Promise.all(workers.map((w) => w.terminate()));
    if (r >= warmup) {
      cluster.push(clusterMs);
      bare.push(bareMs);
    }
  }
  return { cluster, bare, leftovers, timersAfter: process.getActiveResourcesInfo().filter((x) => x === 'Timeout').length };
}

async function rss({ kind, nodes, settleMs }) {
  globalThis.gc?.();
  await sleep(50);
  const beforeBytes = process.memoryUsage.rss();
  let stop;
  if (kind === 'cluster') {
    const c = await startCluster({ runtime: 'threads', nodes, plugins });
    stop = () => c.stop();
  } else {
    const workers = await bareWorkers(nodes, 'idle-worker.mjs');
    stop = () => Promise.all(workers.map((w) => w.terminate()));
  }
  await sleep(settleMs);
  globalThis.gc?.();
  await sleep(50);
  const withBytes = process.memoryUsage.rss();
  await stop();
  return { beforeBytes, withBytes, perNodeBytes: (withBytes - beforeBytes) / nodes };
}

const result = args.mode === 'start' ? await startRounds(args) : args.mode === 'rss' ? await rss(args) : null;
if (result === null) throw new Error(`unknown mode ${JSON.stringify(args.mode)}`);
process.stdout.write(`RESULT ${JSON.stringify(result)}\n`);
// A stopped cluster may leave timers behind (reported in `timersAfter`); do not wait for them.
process.exit(0);
