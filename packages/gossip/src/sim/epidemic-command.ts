/**
 * `pnpm gossip:sim epidemic`: runs one epidemic on N simulated nodes R times and prints the
 * means of the paper's measures, the paper's figures beside them when it published that variation,
 * and the mean epidemic curve. Progress goes to stderr, results to stdout; `--json` prints one JSON
 * object instead of the tables.
 */
import type { EpidemicMetrics } from '../epidemic-metrics.ts';
import { renderCurve } from './chart.ts';
import { runEpidemics } from './epidemic.ts';
import { DEFAULT_EPIDEMIC_PARAMS, type EpidemicParams, type EpidemicSummary, resolveEpidemicParams } from './epidemic-params.ts';
import { paperRowFor } from './epidemic-paper.ts';
import { UsageError } from './usage.ts';

export { UsageError };

/** The subcommand's usage text. */
export const EPIDEMIC_USAGE = `usage: pnpm gossip:sim [epidemic] [options]

Spreads one update over N simulated nodes (Demers et al. 1987) and prints the means over R runs of
residue s, traffic m (update messages per site), t_ave and t_last (cycles), and the epidemic curve.

  --protocol rumor|anti-entropy   default ${DEFAULT_EPIDEMIC_PARAMS.protocol}
  --mode push|pull|push-pull      default ${DEFAULT_EPIDEMIC_PARAMS.mode}
  --removal feedback|blind        rumor: lose interest on feedback or blindly (default ${DEFAULT_EPIDEMIC_PARAMS.removal})
  --stop counter|coin             rumor: after k events, or with probability 1/k (default ${DEFAULT_EPIDEMIC_PARAMS.stop})
  --k <n>                         rumor: counter limit or 1/coin (default ${DEFAULT_EPIDEMIC_PARAMS.k})
  --nodes <n>                     sites (default ${DEFAULT_EPIDEMIC_PARAMS.nodes})
  --runs <n>                      runs, seeds seed..seed+runs-1 (default 10)
  --seed <n>                      first seed (default 1)
  --max-cycles <n>                stop a run after this many cycles (default ${DEFAULT_EPIDEMIC_PARAMS.maxCycles})
  --json                          one JSON object on stdout instead of the tables
  -h, --help                      this text`;

/** What `epidemic` was asked to do. */
export interface EpidemicCommandOptions {
  readonly params: EpidemicParams;
  readonly runs: number;
  readonly seed: number;
  readonly json: boolean;
  readonly help: boolean;
}

const CHOICES = {
  '--protocol': ['rumor', 'anti-entropy'],
  '--mode': ['push', 'pull', 'push-pull'],
  '--removal': ['feedback', 'blind'],
  '--stop': ['counter', 'coin'],
} as const;

const INTEGERS = { '--k': 1, '--nodes': 2, '--runs': 1, '--seed': 0, '--max-cycles': 1 } as const;

function isChoiceFlag(flag: string): flag is keyof typeof CHOICES {
  return flag in CHOICES;
}

function isIntegerFlag(flag: string): flag is keyof typeof INTEGERS {
  return flag in INTEGERS;
}

/** Parses the subcommand's arguments; throws {@link UsageError} on anything it does not understand. */
export function parseEpidemicArgs(argv: readonly string[]): EpidemicCommandOptions {
  const fail = (message: string): never => {
    throw new UsageError(message, EPIDEMIC_USAGE);
  };
  const raw: { -readonly [K in keyof EpidemicParams]?: EpidemicParams[K] } = {};
  let runs = 10;
  let seed = 1;
  let json = false;
  let help = false;
  const seen = new Set<string>();
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i]!;
    // `--flag=value` reads as `--flag value`.
    const eq = arg.startsWith('--') ? arg.indexOf('=') : -1;
    const flag = eq > 0 ? arg.slice(0, eq) : arg;
    const inline = eq > 0 ? arg.slice(eq + 1) : undefined;
    if (flag === '--json' || flag === '-h' || flag === '--help') {
      if (inline !== undefined) fail(`${flag} takes no value`);
      if (flag === '--json') json = true;
      else help = true;
      continue;
    }
    if (arg === '--') continue; // pnpm passes it through when called as `pnpm gossip:sim -- ...`
    if (!isChoiceFlag(flag) && !isIntegerFlag(flag)) fail(arg.startsWith('-') ? `unknown option ${flag}` : `unexpected argument ${arg}`);
    if (seen.has(flag)) fail(`${flag} given twice`);
    seen.add(flag);
    const value = inline ?? argv[++i];
    if (value === undefined || (inline === undefined && value.startsWith('--'))) fail(`${flag} needs a value`);
    if (isChoiceFlag(flag)) {
      const allowed: readonly string[] = CHOICES[flag];
      if (!allowed.includes(value!)) fail(`${flag} must be one of ${allowed.join(', ')}, got ${JSON.stringify(value)}`);
      if (flag === '--protocol') raw.protocol = value as EpidemicParams['protocol'];
      else if (flag === '--mode') raw.mode = value as EpidemicParams['mode'];
      else if (flag === '--removal') raw.removal = value as EpidemicParams['removal'];
      else raw.stop = value as EpidemicParams['stop'];
    } else if (isIntegerFlag(flag)) {
      const n = Number(value);
      const min = INTEGERS[flag];
      if (!/^\d+$/.test(value!) || !Number.isSafeInteger(n) || n < min) fail(`${flag} must be an integer >= ${min}, got ${JSON.stringify(value)}`);
      if (flag === '--k') raw.k = n;
      else if (flag === '--nodes') raw.nodes = n;
      else if (flag === '--runs') runs = n;
      else if (flag === '--seed') seed = n;
      else raw.maxCycles = n;
    }
  }
  const isRumorOnly = ['--removal', '--stop', '--k'].filter((f) => seen.has(f));
  if (raw.protocol === 'anti-entropy' && isRumorOnly.length > 0) fail(`${isRumorOnly.join(', ')} ${isRumorOnly.length === 1 ? 'applies' : 'apply'} to --protocol rumor only`);
  if (seed > 0xffffffff) fail(`--seed must be below 2^32, got ${seed}`);
  let params: EpidemicParams;
  try {
    params = resolveEpidemicParams(raw);
  } catch (err) {
    return fail((err as Error).message);
  }
  return { params, runs, seed, json, help };
}

/** How a variation reads in a heading. */
export function describeParams(p: EpidemicParams): string {
  return p.protocol === 'rumor' ? `rumor mongering, ${p.mode}, ${p.removal}/${p.stop}, k=${p.k}` : `anti-entropy, ${p.mode}`;
}

function fmt(x: number, digits = 3): string {
  if (x === 0) return '0';
  return Math.abs(x) < 0.01 ? x.toExponential(1) : x.toFixed(digits);
}

function spread(summary: EpidemicSummary, pick: (m: EpidemicMetrics) => number): { min: number; max: number } {
  const values = summary.runs.map((r) => pick(r.metrics));
  return { min: Math.min(...values), max: Math.max(...values) };
}

/** The human report: measures (with the paper's beside them when it has them) and the curve. */
export function formatEpidemicReport(summary: EpidemicSummary, options: { readonly seed: number }): string {
  const { params, mean } = summary;
  const runs = summary.runs.length;
  const paper = paperRowFor(params);
  const lines: string[] = [];
  lines.push(`${describeParams(params)} on ${params.nodes} nodes, ${runs} run${runs === 1 ? '' : 's'} (seeds ${options.seed}..${options.seed + runs - 1})`);
  const capped = summary.runs.filter((r) => !r.isOver).length;
  if (capped > 0) lines.push(`note: ${capped} run(s) hit the cap of ${params.maxCycles} cycles before the epidemic was over`);
  lines.push('');
  const rows: { name: string; pick: (m: EpidemicMetrics) => number; digits: number; paper?: number }[] = [
    { name: 'residue s', pick: (m) => m.residue, digits: 3, ...(paper ? { paper: paper.row.residue } : {}) },
    { name: 'traffic m', pick: (m) => m.traffic, digits: 2, ...(paper ? { paper: paper.row.traffic } : {}) },
    { name: 't_ave', pick: (m) => m.tAve, digits: 2, ...(paper ? { paper: paper.row.tAve } : {}) },
    { name: 't_last', pick: (m) => m.tLast, digits: 2, ...(paper ? { paper: paper.row.tLast } : {}) },
    { name: 'messages/site', pick: (m) => m.messagesPerSite, digits: 2 },
    { name: 'cycles', pick: (m) => m.cycles, digits: 1 },
  ];
  const table = [['', 'mean', 'min', 'max', paper ? 'paper' : ''], ...rows.map((r) => {
    const { min, max } = spread(summary, r.pick);
    return [r.name, fmt(r.pick(mean), r.digits), fmt(min, r.digits), fmt(max, r.digits), r.paper === undefined ? '' : fmt(r.paper, r.digits)];
  })];
  const widths = table[0]!.map((_, i) => Math.max(...table.map((row) => row[i]!.length)));
  for (const row of table) lines.push(row.map((c, i) => (i === 0 ? c.padEnd(widths[i]!) : c.padStart(widths[i]!))).join('  ').trimEnd());
  lines.push('');
  lines.push('traffic m counts messages carrying the update; messages/site counts every message (pull requests, feedback, digests).');
  if (paper) lines.push(`paper: Demers et al. 1987, ${paper.table.name}, ${paper.table.nodes} sites, k=${paper.row.k}.`);
  lines.push('');
  lines.push(`epidemic curve (mean over ${runs} run${runs === 1 ? '' : 's'})`);
  lines.push(renderCurve(summary.curve, { sites: params.nodes, hasRemoval: params.protocol === 'rumor' }));
  return lines.join('\n');
}

/** The `--json` form: parameters, means, every run's measures, the mean curve, and the paper's row if any. */
export function epidemicReportJson(summary: EpidemicSummary, options: { readonly seed: number }): object {
  const paper = paperRowFor(summary.params);
  return {
    params: summary.params,
    runs: summary.runs.length,
    seed: options.seed,
    mean: summary.mean,
    perRun: summary.runs.map((r) => ({ seed: r.seed, origin: r.origin, isOver: r.isOver, ...r.metrics })),
    curve: summary.curve,
    ...(paper ? { paper: { table: paper.table.name, ...paper.row } } : {}),
  };
}

/** The `epidemic` subcommand. */
export async function epidemicCommand(argv: readonly string[]): Promise<void> {
  const options = parseEpidemicArgs(argv);
  if (options.help) {
    process.stdout.write(`${EPIDEMIC_USAGE}\n`);
    return;
  }
  const log = (line: string): void => void process.stderr.write(`${line}\n`);
  log(`epidemic: ${describeParams(options.params)} on ${options.params.nodes} nodes, ${options.runs} runs from seed ${options.seed}`);
  const started = performance.now();
  // On a terminal, a live line per cycle (overwritten in place); in a pipe, one line per run.
  const isLive = process.stderr.isTTY === true;
  let current = 0;
  const summary = await runEpidemics(options.params, options.runs, options.seed, {
    onRunStart(index) {
      current = index;
    },
    onCycle(cycle, reached, infective) {
      if (isLive) process.stderr.write(`\r  run ${current + 1}/${options.runs}: cycle ${cycle}, reached ${reached}, infective ${infective}\x1b[K`);
    },
    onRun(index, run, wallMs) {
      const m = run.metrics;
      if (isLive) process.stderr.write('\r\x1b[K');
      log(`  run ${index + 1}/${options.runs} (seed ${run.seed}): s=${fmt(m.residue)} m=${m.traffic.toFixed(2)} t_ave=${m.tAve.toFixed(2)} t_last=${m.tLast} ${run.isOver ? '' : '(capped) '}in ${wallMs.toFixed(0)} ms`);
    },
  });
  log(`epidemic: ${options.runs} runs in ${((performance.now() - started) / 1000).toFixed(1)} s`);
  process.stdout.write(options.json ? `${JSON.stringify(epidemicReportJson(summary, options))}\n` : `${formatEpidemicReport(summary, options)}\n`);
}
