/**
 * Start time and memory of `threads` nodes, each beside bare worker threads measured in the same run
 * (lower is better: the ratio is subject / baseline):
 *
 * - `threads.node_start_source`: ms to start a 1-node cluster in this process, from TypeScript
 *   sources (the normal `startCluster`: each node worker registers tsx and loads the sources), beside
 *   a bare `new Worker` of an empty script (no execArgv, so no tsx) timed until it says it is up.
 * - `threads.node_start_dist`: the same from the compiled build, in a child process under plain
 *   `node` importing packages/actors/dist/index.js (rebuilt first with `tsc -b packages/actors` if
 *   it is missing or older than the sources), beside bare workers started in that child.
 * - `threads.idle_node_rss`: MiB of RSS per idle node: a fresh plain-node child's RSS with an
 *   8-node cluster (from dist) minus its RSS before, divided by 8; baseline: the same with 8 bare
 *   idle workers. Each side runs in its own fresh child per round, so neither inherits the other's
 *   heap; the figure is the median over rounds.
 * - `threads.cluster_32`: ms to start a 32-node cluster (496 node pairs, two MessageChannels each),
 *   beside 32 bare workers started at once. From dist, in the child: from sources each of the 32
 *   workers compiles the runtime through tsx, which takes 6-16 s on this machine and measures tsx.
 *   A check as well: after every stop no thread (counted in /proc/self/task), worker port or other
 *   handle (`process.getActiveResourcesInfo()`) may be left; the group fails otherwise.
 *
 * Every plugin involved is plain JavaScript (threads-dist/plain-plugin.mjs), loaded by both starts.
 * Rounds are interleaved with the baseline's; figures are medians of rounds.
 */
import { execFile } from 'node:child_process';
import { existsSync, readdirSync, statSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { startCluster } from '@starling/actors';
import type { BenchContext, BenchGroup, BenchResult } from '../../../scripts/bench/types.ts';
import { plainEchoPlugin } from './threads-dist/plain-plugin.mjs';
import { interleave, lowerIsBetter, median, startBareWorker } from './threads-support.ts';

const MS_UNIT = 'ms (lower is better)';
const RSS_UNIT = 'MiB/node (lower is better)';
const PACKAGE_DIR = fileURLToPath(new URL('..', import.meta.url));
const ROOT_DIR = join(PACKAGE_DIR, '..', '..');
const CHILD = fileURLToPath(new URL('./threads-dist/child.mjs', import.meta.url));
const BARE_1 = 'bare Worker, empty script';
const CHILD_TIMEOUT_MS = 60_000;

// -------------------------------------------------------------------------------------------------
// The compiled build and the child process

function newestMtimeMs(dir: string, keep: (name: string) => boolean): number {
  let newest = 0;
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) newest = Math.max(newest, newestMtimeMs(path, keep));
    else if (keep(entry.name)) newest = Math.max(newest, statSync(path).mtimeMs);
  }
  return newest;
}

function run(file: string, args: readonly string[], options: { cwd: string; timeoutMs: number }): Promise<string> {
  return new Promise((resolve, reject) => {
    execFile(file, args, { cwd: options.cwd, timeout: options.timeoutMs, maxBuffer: 16 * 1024 * 1024 }, (err, stdout, stderr) => {
      if (err) reject(new Error(`${[file, ...args].join(' ')} failed: ${err.message}\n${stdout}${stderr}`));
      else resolve(stdout);
    });
  });
}

let distChecked: Promise<void> | undefined;

/** `tsc -b packages/actors` when dist is missing or older than the sources (once per run). */
function ensureDist(ctx: BenchContext): Promise<void> {
  distChecked ??= (async () => {
    const dist = join(PACKAGE_DIR, 'dist');
    const entry = join(dist, 'index.js');
    const srcMs = newestMtimeMs(join(PACKAGE_DIR, 'src'), (name) => name.endsWith('.ts') || name.endsWith('.mjs'));
    if (existsSync(entry) && newestMtimeMs(dist, (name) => name.endsWith('.js')) >= srcMs) return;
    ctx.log('  dist is missing or older than src: tsc -b packages/actors');
    // `npx tsc -b packages/actors`, without npx's own start-up: the workspace's TypeScript, run by this node.
    const tsc = createRequire(join(ROOT_DIR, 'package.json')).resolve('typescript/bin/tsc');
    const started = performance.now();
    await run(process.execPath, [tsc, '-b', 'packages/actors'], { cwd: ROOT_DIR, timeoutMs: 120_000 });
    ctx.log(`  built in ${((performance.now() - started) / 1000).toFixed(1)} s`);
  })();
  return distChecked;
}

/** Runs threads-dist/child.mjs under plain `node` and returns its `RESULT` line. */
async function child<T>(args: object, nodeFlags: readonly string[] = []): Promise<T> {
  const stdout = await run(process.execPath, [...nodeFlags, CHILD, JSON.stringify(args)], { cwd: PACKAGE_DIR, timeoutMs: CHILD_TIMEOUT_MS });
  const line = stdout.split('\n').find((l) => l.startsWith('RESULT '));
  if (line === undefined) throw new Error(`the dist child printed no RESULT line:\n${stdout}`);
  return JSON.parse(line.slice('RESULT '.length)) as T;
}

interface StartRounds {
  readonly cluster: number[];
  readonly bare: number[];
  readonly leftovers: string[];
  readonly timersAfter: number;
}

// -------------------------------------------------------------------------------------------------
// The groups

export const threadsNodeStart: BenchGroup = {
  ids: ['threads.node_start_source', 'threads.node_start_dist'],
  async run(ctx) {
    const out: BenchResult[] = [];
    // From sources, in this process.
    const plugins = [{ module: plainEchoPlugin.module, name: plainEchoPlugin.name }];
    const source = 'starling threads, 1 node, from sources';
    const m = await interleave<'ms'>(
      ctx,
      [
        {
          name: source,
          async round() {
            const started = performance.now();
            const cluster = await startCluster({ runtime: 'threads', nodes: 1, plugins });
            const ms = performance.now() - started;
            await cluster.stop();
            return { ms };
          },
        },
        {
          name: BARE_1,
          async round() {
            const started = performance.now();
            const worker = await startBareWorker('empty-worker.mjs', undefined);
            const ms = performance.now() - started;
            await worker.terminate();
            return { ms };
          },
        },
      ],
      { rounds: 7, warmup: 1, format: (f) => `${f.ms.toFixed(0)} ms` },
    );
    out.push(lowerIsBetter('threads.node_start_source', MS_UNIT, { name: source, value: m.get(source)!.ms }, { name: BARE_1, value: m.get(BARE_1)!.ms }));

    // From the build, in a plain-node child.
    await ensureDist(ctx);
    const dist = await child<StartRounds>({ mode: 'start', nodes: 1, rounds: 7, warmup: 1 });
    ctx.log(`  dist child: cluster ${fmtMs(dist.cluster)} | bare ${fmtMs(dist.bare)}`);
    out.push(
      lowerIsBetter(
        'threads.node_start_dist',
        MS_UNIT,
        { name: 'starling threads, 1 node, from dist (plain node)', value: median(dist.cluster) },
        { name: `${BARE_1} (same child)`, value: median(dist.bare) },
      ),
    );
    return out;
  },
};

export const threadsIdleRss: BenchGroup = {
  ids: ['threads.idle_node_rss'],
  async run(ctx) {
    await ensureDist(ctx);
    const nodes = 8;
    const settleMs = 300;
    const sample = async (kind: 'cluster' | 'bare'): Promise<{ mib: number }> => {
      const r = await child<{ perNodeBytes: number }>({ mode: 'rss', kind, nodes, settleMs }, ['--expose-gc']);
      return { mib: r.perNodeBytes / 2 ** 20 };
    };
    const subject = `starling threads, ${nodes} idle nodes (dist, fresh process)`;
    const bare = `${nodes} bare idle workers (fresh process)`;
    const m = await interleave<'mib'>(
      ctx,
      [
        { name: subject, round: () => sample('cluster') },
        { name: bare, round: () => sample('bare') },
      ],
      { rounds: 3, warmup: 0, format: (f) => `${f.mib.toFixed(1)} MiB/node` },
    );
    return [lowerIsBetter('threads.idle_node_rss', RSS_UNIT, { name: subject, value: m.get(subject)!.mib }, { name: bare, value: m.get(bare)!.mib })];
  },
};

export const threadsCluster32: BenchGroup = {
  ids: ['threads.cluster_32'],
  async run(ctx) {
    await ensureDist(ctx);
    const nodes = 32;
    const r = await child<StartRounds>({ mode: 'start', nodes, rounds: 3, warmup: 1 });
    ctx.log(`  dist child: cluster ${fmtMs(r.cluster)} | bare ${fmtMs(r.bare)}`);
    if (r.leftovers.length > 0) throw new Error(`a ${nodes}-node cluster did not stop cleanly: ${r.leftovers.join('; ')}`);
    ctx.log(`  every stop() left no thread, worker or handle behind (${r.cluster.length + 1} start/stop cycles)`);
    // ThreadsCluster.stop() races each node's shutdown against a 5 s timer it does not clear: those
    // timers keep a process alive for up to 5 s after stop(), though no worker is left.
    if (r.timersAfter > 0) ctx.log(`  note: ${r.timersAfter} timers still pending after the last stop() (stop()'s 5 s shutdown-wait timers, one per node: they delay a process's exit, they are not workers)`);
    return [
      lowerIsBetter(
        'threads.cluster_32',
        MS_UNIT,
        { name: `starling threads, ${nodes} nodes, from dist (plain node)`, value: median(r.cluster) },
        { name: `${nodes} bare Workers, empty script, at once (same child)`, value: median(r.bare) },
      ),
    ];
  },
};

function fmtMs(values: readonly number[]): string {
  return values.map((v) => v.toFixed(0)).join(' ') + ' ms';
}
