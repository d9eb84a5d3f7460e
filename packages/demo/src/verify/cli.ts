#!/usr/bin/env node
/**
 * `pnpm verify`: randomized fault schedules over many seeds in the simulation, with shrinking and
 * replay; `pnpm verify --soak`: the threads soak. Exit 0 when every run passed, 1 when one failed,
 * 2 for a usage error.
 */
import { readFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { int, isUsageError, UsageError } from '../cli-args.ts';
import { formatReport } from '../run/report.ts';
import { parsePlan, planFor, type VerifyPlan } from './plan.ts';
import { runPlan } from './run-plan.ts';
import { runSoak } from './soak.ts';
import { formatSummary, verifySeeds } from './verify.ts';

const USAGE = `usage: pnpm verify [options]

  --seeds 100  --from 1          run seeds from..from+seeds-1 (each: a workload and a fault schedule)
  --nodes 5  --ops 2000          ring nodes (one spare more joins), operations per seed
  --shrink 60                    shrink each failing seed's plan with up to this many replays (0: off)
  --out verify-failures          where failing plans are written
  --seed S [--trace]             run one seed; --trace prints its event trace
  --replay FILE [--trace]        run a saved plan
  --soak [--duration 60]         the threads soak: 5 nodes, load, partitions and kills one at a time
  --json                         the summary (or the one run) as JSON`;


async function main(): Promise<void> {
  const { values, tokens } = parseArgs({
    args: process.argv.slice(2),
    strict: true,
    tokens: true,
    options: {
      seeds: { type: 'string', default: '100' },
      from: { type: 'string', default: '1' },
      nodes: { type: 'string', default: '5' },
      ops: { type: 'string', default: '2000' },
      shrink: { type: 'string', default: '60' },
      out: { type: 'string', default: 'verify-failures' },
      seed: { type: 'string' },
      trace: { type: 'boolean', default: false },
      replay: { type: 'string' },
      soak: { type: 'boolean', default: false },
      duration: { type: 'string', default: '60' },
      json: { type: 'boolean', default: false },
      help: { type: 'boolean', short: 'h' },
    },
  });
  if (values.help) return void process.stdout.write(`${USAGE}\n`);
  // Flags that belong to another mode are refused, not ignored: a user who wrote them meant something.
  const given = new Set<string>(tokens.filter((t) => t.kind === 'option').map((t) => t.name));
  const refuse = (mode: string, flags: readonly string[]): void => {
    const stray = flags.filter((f) => given.has(f));
    if (stray.length > 0) throw new UsageError(`${stray.map((f) => `--${f}`).join(', ')} ${stray.length === 1 ? 'does' : 'do'} not apply to ${mode}`);
  };
  if (values.soak) refuse('--soak', ['seeds', 'from', 'nodes', 'ops', 'shrink', 'out', 'trace', 'replay']);
  else if (values.seed !== undefined || values.replay !== undefined) {
    if (values.seed !== undefined && values.replay !== undefined) throw new UsageError('give --seed or --replay, not both');
    refuse('one run (--seed or --replay)', ['seeds', 'from', 'shrink', 'out', 'duration', ...(values.replay !== undefined ? ['nodes', 'ops'] : [])]);
  } else refuse('a sweep of seeds', ['duration']);
  const shape = { nodes: int('nodes', values.nodes, 3, 15)!, ops: int('ops', values.ops, 1, 1_000_000)! };
  const sink = values.json ? undefined : { write: (t: string) => void process.stdout.write(t), isTTY: process.stdout.isTTY === true };

  if (values.soak) {
    const result = await runSoak({ seed: int('seed', values.seed, 0, 2 ** 31) ?? 1, durationMs: int('duration', values.duration, 10, 3_600)! * 1000, ...(sink !== undefined ? { progress: sink } : {}) });
    if (values.json) process.stdout.write(`${JSON.stringify({ ok: result.ok, falseDeaths: result.falseDeaths, faults: result.faults, report: result.report }, null, 2)}\n`);
    else {
      process.stdout.write(`\n${formatReport(result.report)}\n`);
      process.stdout.write(`false deaths (reported, not failed: real-time scheduling on shared cores): ${result.falseDeaths.length}${result.falseDeaths.length > 0 ? `; first: ${result.falseDeaths[0]!.message}` : ''}\n`);
      process.stdout.write(`soak: ${result.ok ? 'passed' : 'FAILED'}\n`);
    }
    process.exitCode = result.ok ? 0 : 1;
    return;
  }

  if (values.seed !== undefined || values.replay !== undefined) {
    let plan: VerifyPlan;
    if (values.replay !== undefined) {
      let text: string;
      try {
        text = readFileSync(values.replay, 'utf8');
      } catch (err) {
        throw new UsageError(`cannot read --replay ${values.replay}: ${(err as Error).message}`);
      }
      try {
        plan = parsePlan(text);
      } catch (err) {
        throw new UsageError(`--replay ${values.replay}: ${(err as Error).message}`);
      }
    } else plan = planFor(int('seed', values.seed, 0, 2 ** 31)!, shape);
    const result = await runPlan(plan, { trace: values.trace });
    if (values.json) process.stdout.write(`${JSON.stringify({ ...result, report: undefined, plan }, null, 2)}\n`);
    else {
      if (result.trace !== undefined) for (const line of result.trace) process.stdout.write(`${line}\n`);
      if (result.report !== undefined) process.stdout.write(`\n${formatReport(result.report)}\n`);
      for (const d of result.falseDeaths) process.stdout.write(`false death: ${d.message}\n`);
      process.stdout.write(`seed ${plan.seed}: ${result.ok ? 'passed' : `FAILED: ${result.failures.map((f) => f.name).join('; ')}`}\n`);
    }
    process.exitCode = result.ok ? 0 : 1;
    return;
  }

  if (values.trace) throw new UsageError('--trace applies to one run: give --seed S or --replay FILE');
  const summary = await verifySeeds({
    ...shape,
    from: int('from', values.from, 0, 2 ** 31)!,
    seeds: int('seeds', values.seeds, 1, 1_000_000)!,
    outDir: values.out,
    shrinkRuns: int('shrink', values.shrink, 0, 10_000)!,
    ...(sink !== undefined ? { progress: sink } : {}),
  });
  process.stdout.write(values.json ? `${JSON.stringify(summary, null, 2)}\n` : `\n${formatSummary(summary)}\nverify: ${summary.passed} passed, ${summary.failed} failed\n`);
  process.exitCode = summary.failed === 0 ? 0 : 1;
}

main().catch((err: unknown) => {
  if (isUsageError(err)) {
    process.stderr.write(`${(err as Error).message}\n(pnpm verify --help for the options)\n`);
    process.exit(2);
  }
  process.stderr.write(`${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
  process.exit(1);
});
