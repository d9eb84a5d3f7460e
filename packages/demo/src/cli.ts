#!/usr/bin/env node
/**
 * `pnpm demo`: until the replicated store's demo lands, runs the example cluster scenario and
 * prints a report. Exits non-zero if a phase did not look as expected.
 *
 *   pnpm demo [--runtime simulation|local|threads] [--seed N] [--nodes N]
 */
import { parseArgs } from 'node:util';
import { runScenario } from './example/scenario.ts';

const USAGE = 'usage: pnpm demo [--runtime simulation|local|threads] [--seed N] [--nodes N (3..9)]';

function fail(message: string): never {
  process.stderr.write(`${message}\n${USAGE}\n`);
  process.exit(2);
}

async function main(): Promise<void> {
  let values: { runtime?: string; seed?: string; nodes?: string; help?: boolean };
  try {
    ({ values } = parseArgs({
      options: {
        runtime: { type: 'string', default: 'simulation' },
        seed: { type: 'string', default: '1' },
        nodes: { type: 'string', default: '5' },
        help: { type: 'boolean', short: 'h' },
      },
    }));
  } catch (err) {
    fail((err as Error).message);
  }
  if (values.help) {
    process.stdout.write(`${USAGE}\n`);
    return;
  }
  const runtime = values.runtime;
  if (runtime !== 'simulation' && runtime !== 'local' && runtime !== 'threads') fail(`--runtime must be simulation, local or threads, got ${runtime}`);
  const seed = Number(values.seed);
  if (!Number.isInteger(seed)) fail(`--seed must be an integer, got ${values.seed}`);
  const nodes = Number(values.nodes);
  if (!Number.isInteger(nodes) || nodes < 3 || nodes > 9) fail(`--nodes must be an integer from 3 to 9, got ${values.nodes}`);

  const out = (line: string): void => void process.stdout.write(`${line}\n`);
  const report = await runScenario({ runtime, seed, nodes, out });
  out('');
  out('Report');
  out(`  messages sent ${report.messagesSent}, delivered ${report.messagesDelivered}`);
  out(`  dropped by cause: ${Object.entries(report.droppedByCause).map(([k, v]) => `${k} ${v}`).join(', ') || 'none'}`);
  out(`  node starts: ${Object.entries(report.nodeStarts).map(([k, v]) => `${k} ${v}`).join(', ')}`);
  if (report.traceDigest) out(`  trace digest ${report.traceDigest.slice(0, 16)} (the same seed replays the same run)`);
  const failed = report.checks.filter((c) => !c.ok);
  out(failed.length === 0 ? '  all checks passed' : `  ${failed.length} check(s) failed: ${failed.map((c) => c.phase).join('; ')}`);
  process.exitCode = failed.length === 0 ? 0 : 1;
}

main().catch((err: unknown) => {
  process.stderr.write(`${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
  process.exit(1);
});
