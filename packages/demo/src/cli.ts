#!/usr/bin/env node
/**
 * `pnpm demo`: the scripted scenario on the embedded default (5 nodes on worker threads, N=3 R=2
 * W=2). `pnpm demo load`: the load generator. Exit code 0 when every check passed, 1 when one
 * failed, 2 for a usage error.
 */
import { readFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { type FaultSchedule, parseSchedule, type PluginSpec, type RuntimeKind } from '@starling/actors';
import { int, isUsageError, UsageError } from './cli-args.ts';
import { DEFAULT_ZIPF_THETA, type KeyDistribution } from './load/keys.ts';
import { MAX_VALUE_BYTES, type Mix } from './load/kv-workload.ts';
import type { Workload } from './load/workload.ts';
import { DEFAULT_LOAD_MS, pluginsOf, randomSchedule, runLoadCommand, workloadOf } from './load.ts';
import { MAX_LOAD_OPS } from './run/run.ts';
import type { ProgressSink } from './run/progress.ts';
import { formatReport, type Report } from './run/report.ts';
import { DEFAULT_SCENARIO, DEFAULT_SETTLE_MS, runScenario } from './scenario.ts';
import { DEFAULT_PORT, startServe } from './serve/server.ts';

const SCENARIO_USAGE = `usage: pnpm demo [--runtime threads|simulation|local] [--nodes 5] [--duration 40] [--seed 1] [--json]

Runs the scripted scenario: steady load on the replicated store, a majority/minority partition,
a node killed and restarted, the heal and convergence; then checks that no acknowledged write was
lost and prints a report. --duration is the load's length in seconds (faults happen at fixed
fractions of it); --json prints the report as JSON.

pnpm demo load --help   the load generator
pnpm demo serve --help  an HTTP API and a live dashboard`;

const LOAD_USAGE = `usage: pnpm demo load [options]

  --runtime threads|simulation|local   default threads
  --nodes 5  --n 3  --r 2  --w 2       cluster size, replicas, read and write quorums
  --ops N | --duration S               operations in all, or seconds of load (default ${DEFAULT_LOAD_MS / 1000} s); both: whichever first
  --in-flight 32                       operations outstanding at once
  --mix 50:45:5                        shares of get:put:delete
  --keys 1000  --dist uniform|zipfian  key space and distribution (--theta 0.99 for zipfian)
  --value-size 100                     bytes per value (at most 65536)
  --schedule FILE                      a fault schedule (JSON, the simulation's format)
  --faults random                      a random schedule from the seed instead
  --settle 120                         seconds allowed for convergence after the heal (it goes on once converged)
  --plugin FILE                        a module exporting your plugin(s), loaded on every node (repeatable)
  --workload FILE                      a module exporting your workload (instead of the store's)
  --without-store                      do not run the store (for a workload that does not use it)
  --seed 1  --json`;

const SERVE_USAGE = `usage: pnpm demo serve [options]

Keeps a cluster up behind an HTTP key-value API and a live dashboard, on 127.0.0.1 only.

  --port ${DEFAULT_PORT}                          port on 127.0.0.1 (0: any free port)
  --runtime threads|local              default threads
  --nodes 5  --n 3  --r 2  --w 2       nodes in the ring, replicas, read and write quorums
  --spares 0                           more nodes, running outside the ring, to join it
  --tick 1000                          ms between the dashboard's updates
  --duration S                         stop after S seconds (default: run until Ctrl-C)
  --seed 1

  GET/PUT/DELETE /kv/:key              the store (docs/serve.md has every route)
  GET /                                the dashboard`;


function seconds(name: string, raw: string | undefined, maxS: number): number | undefined {
  if (raw === undefined) return undefined;
  const v = Number(raw);
  if (!Number.isFinite(v) || v < 0.001 || v > maxS) throw new UsageError(`--${name} must be a number of seconds from 0.001 to ${maxS}, got ${raw}`);
  return Math.round(v * 1000);
}

function runtimeOf(raw: string | undefined): RuntimeKind {
  const r = raw ?? 'threads';
  if (r !== 'simulation' && r !== 'local' && r !== 'threads') throw new UsageError(`--runtime must be threads, simulation or local, got ${r}`);
  return r;
}

function mixOf(raw: string): Mix {
  const parts = raw.split(':').map(Number);
  if (parts.length !== 3 || parts.some((x) => !Number.isFinite(x) || x < 0) || parts[0]! + parts[1]! + parts[2]! <= 0) {
    throw new UsageError(`--mix must be three non-negative shares get:put:delete, such as 50:45:5, got ${raw}`);
  }
  const [g, p, d] = parts as [number, number, number];
  const sum = g + p + d;
  return { get: g / sum, put: p / sum, delete: d / sum };
}

function distributionOf(dist: string, theta: string | undefined): KeyDistribution {
  if (dist === 'uniform') {
    if (theta !== undefined) throw new UsageError('--theta applies to --dist zipfian only');
    return { kind: 'uniform' };
  }
  if (dist !== 'zipfian') throw new UsageError(`--dist must be uniform or zipfian, got ${dist}`);
  const t = theta === undefined ? DEFAULT_ZIPF_THETA : Number(theta);
  if (!(t > 0 && t < 1)) throw new UsageError(`--theta must be in (0, 1), got ${theta}`);
  return { kind: 'zipfian', theta: t };
}

/** Progress on stderr when the report goes to stdout as JSON, on stdout otherwise. */
function sinkFor(json: boolean): ProgressSink | undefined {
  const stream = json ? process.stderr : process.stdout;
  // A JSON consumer reading a pipe wants no chatter; a person at a terminal still sees progress.
  if (json && !stream.isTTY) return undefined;
  return { write: (t) => void stream.write(t), isTTY: stream.isTTY === true };
}

function print(report: Report, json: boolean): void {
  process.stdout.write(json ? `${JSON.stringify(report, null, 2)}\n` : `\n${formatReport(report)}\n`);
  process.exitCode = report.ok ? 0 : 1;
}

async function scenario(args: string[]): Promise<void> {
  const { values } = parseArgs({
    args,
    options: {
      runtime: { type: 'string' },
      nodes: { type: 'string' },
      duration: { type: 'string' },
      seed: { type: 'string' },
      json: { type: 'boolean', default: false },
      help: { type: 'boolean', short: 'h' },
    },
  });
  if (values.help) return void process.stdout.write(`${SCENARIO_USAGE}\n`);
  const report = await runScenario({
    runtime: values.runtime === undefined ? DEFAULT_SCENARIO.runtime : runtimeOf(values.runtime),
    seed: int('seed', values.seed, 0, 2 ** 31) ?? DEFAULT_SCENARIO.seed,
    nodes: int('nodes', values.nodes, 3, 16) ?? DEFAULT_SCENARIO.nodes,
    durationMs: seconds('duration', values.duration, 600) ?? DEFAULT_SCENARIO.durationMs,
    ...(sinkFor(values.json) !== undefined ? { progress: sinkFor(values.json)! } : {}),
  });
  print(report, values.json);
}

async function load(args: string[]): Promise<void> {
  const { values } = parseArgs({
    args,
    options: {
      runtime: { type: 'string' },
      nodes: { type: 'string', default: '5' },
      n: { type: 'string', default: '3' },
      r: { type: 'string', default: '2' },
      w: { type: 'string', default: '2' },
      ops: { type: 'string' },
      duration: { type: 'string' },
      'in-flight': { type: 'string', default: '32' },
      mix: { type: 'string', default: '50:45:5' },
      keys: { type: 'string', default: '1000' },
      dist: { type: 'string', default: 'uniform' },
      theta: { type: 'string' },
      'value-size': { type: 'string', default: '100' },
      schedule: { type: 'string' },
      faults: { type: 'string' },
      settle: { type: 'string', default: String(DEFAULT_SETTLE_MS / 1000) },
      plugin: { type: 'string', multiple: true },
      workload: { type: 'string' },
      'without-store': { type: 'boolean', default: false },
      seed: { type: 'string', default: '1' },
      json: { type: 'boolean', default: false },
      help: { type: 'boolean', short: 'h' },
    },
  });
  if (values.help) return void process.stdout.write(`${LOAD_USAGE}\n`);
  const nodes = int('nodes', values.nodes, 1, 16)!;
  const seed = int('seed', values.seed, 0, 2 ** 31)!;
  const ops = int('ops', values.ops, 1, MAX_LOAD_OPS);
  const durationMs = seconds('duration', values.duration, 600);
  const names = Array.from({ length: nodes }, (_, i) => `n${i + 1}`);
  if (values.schedule !== undefined && values.faults !== undefined) throw new UsageError('give --schedule or --faults, not both');
  if (values.faults !== undefined && values.faults !== 'random') throw new UsageError(`--faults takes 'random', got ${values.faults}`);
  let schedule: FaultSchedule | undefined;
  if (values.schedule !== undefined) {
    let text: string;
    try {
      text = readFileSync(values.schedule, 'utf8');
    } catch (err) {
      throw new UsageError(`cannot read --schedule ${values.schedule}: ${(err as Error).message}`);
    }
    schedule = parseSchedule(text, names);
  } else if (values.faults === 'random') {
    if (durationMs === undefined && ops !== undefined) throw new UsageError('--faults random needs --duration (the schedule is laid over it)');
    schedule = randomSchedule(seed, nodes, durationMs ?? DEFAULT_LOAD_MS);
  }
  const plugins: PluginSpec[] = [];
  for (const p of values.plugin ?? []) plugins.push(...(await pluginsOf(p)));
  const workload: Workload | undefined = values.workload === undefined ? undefined : await workloadOf(values.workload);
  const report = await runLoadCommand({
    runtime: runtimeOf(values.runtime),
    seed,
    nodes,
    n: int('n', values.n, 1, 16)!,
    r: int('r', values.r, 1, 16)!,
    w: int('w', values.w, 1, 16)!,
    ...(ops !== undefined ? { ops } : {}),
    ...(durationMs !== undefined ? { durationMs } : {}),
    inFlight: int('in-flight', values['in-flight'], 1, 10_000)!,
    keys: int('keys', values.keys, 1, 10_000_000)!,
    distribution: distributionOf(values.dist, values.theta),
    mix: mixOf(values.mix),
    valueBytes: int('value-size', values['value-size'], 1, MAX_VALUE_BYTES)!,
    ...(schedule !== undefined ? { schedule } : {}),
    settleMs: seconds('settle', values.settle, 600)!,
    ...(plugins.length > 0 ? { plugins } : {}),
    ...(workload !== undefined ? { workload } : {}),
    store: !values['without-store'],
    ...(sinkFor(values.json) !== undefined ? { progress: sinkFor(values.json)! } : {}),
  });
  print(report, values.json);
}

async function serve(args: string[]): Promise<void> {
  const { values } = parseArgs({
    args,
    strict: true,
    options: {
      port: { type: 'string', default: String(DEFAULT_PORT) },
      runtime: { type: 'string', default: 'threads' },
      nodes: { type: 'string', default: '5' },
      spares: { type: 'string', default: '0' },
      n: { type: 'string', default: '3' },
      r: { type: 'string', default: '2' },
      w: { type: 'string', default: '2' },
      tick: { type: 'string', default: '1000' },
      duration: { type: 'string' },
      seed: { type: 'string', default: '1' },
      help: { type: 'boolean', short: 'h' },
    },
  });
  if (values.help) return void process.stdout.write(`${SERVE_USAGE}\n`);
  const runtime = runtimeOf(values.runtime);
  if (runtime === 'simulation') throw new UsageError('serve runs in real time: --runtime threads or local');
  const nodes = int('nodes', values.nodes, 1, 16)!;
  const durationMs = seconds('duration', values.duration, 24 * 3600);
  process.stdout.write(`starting ${nodes} nodes (${runtime})...\n`);
  const server = await startServe({
    runtime,
    nodes,
    spares: int('spares', values.spares, 0, 16 - nodes)!,
    n: int('n', values.n, 1, 16)!,
    r: int('r', values.r, 1, 16)!,
    w: int('w', values.w, 1, 16)!,
    seed: int('seed', values.seed, 0, 2 ** 31)!,
    port: int('port', values.port, 0, 65_535)!,
    tickMs: int('tick', values.tick, 50, 60_000)!,
  });
  process.stdout.write(`dashboard: ${server.url}/\ntry: curl -i -X PUT ${server.url}/kv/hello -H 'content-type: application/json' -d '{"greeting":"hi"}'\n     curl -i ${server.url}/kv/hello\n`);
  await new Promise<void>((resolve) => {
    const timer = durationMs === undefined ? undefined : setTimeout(resolve, durationMs);
    const stop = (): void => {
      clearTimeout(timer);
      resolve();
    };
    process.once('SIGINT', stop);
    process.once('SIGTERM', stop);
  });
  process.stdout.write('stopping...\n');
  await server.close();
}

async function main(): Promise<void> {
  const [first, ...rest] = process.argv.slice(2);
  const isLoad = first === 'load';
  const isServe = first === 'serve';
  try {
    if (isLoad) await load(rest);
    else if (isServe) await serve(rest);
    else await scenario(first === undefined ? [] : [first, ...rest]);
  } catch (err) {
    // Bad flags and bad input (a schedule, a module) are the user's to fix: say what, and how to ask for help.
    if (!isUsageError(err)) throw err;
    process.stderr.write(`${err.message}\n(pnpm demo${isLoad ? ' load' : isServe ? ' serve' : ''} --help for the options)\n`);
    process.exitCode = 2;
  }
}

main().catch((err: unknown) => {
  process.stderr.write(`${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
  process.exit(1);
});
