/**
 * `pnpm bench`: runs every package's benchmarks and prints each figure beside a baseline measured
 * in the same run (see scripts/bench/compare.ts for how).
 *
 *   pnpm bench                     human table on stdout, progress on stderr
 *   pnpm bench --json              one JSON array on stdout: [{ id, value, unit, vs: { name, value }, ratio }]
 *   pnpm bench --filter tell.      only ids containing the substring
 *   pnpm bench --rounds 9          timed rounds per contender (default 7, at least 5)
 *   pnpm bench --list              the ids (a JSON array of them with --json), without running anything
 *
 * Benchmarks live in `packages/<name>/bench/index.ts`, which exports `benchmarks: BenchGroup[]`
 * (scripts/bench/types.ts). Each is imported by file URL, so it resolves its own package's
 * dependencies (the peers it compares against are that package's devDependencies).
 */
import { existsSync, readdirSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import { dirname, join, relative } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { compare, formatRate } from './bench/compare.ts';
import { formatTable, isGoalMet, toJson } from './bench/table.ts';
import type { BenchContext, BenchGroup, BenchResult } from './bench/types.ts';

interface Options {
  readonly json: boolean;
  readonly filter: string | undefined;
  readonly rounds: number;
  readonly list: boolean;
}

/** A round is sized to this; long enough to time, short enough that the suite stays near a minute. */
const TARGET_ROUND_MS = 400;
/** Far above any sized round: only a hung benchmark reaches it. */
const ROUND_TIMEOUT_MS = 20_000;

const USAGE = 'usage: pnpm bench [--json] [--filter <substring>] [--rounds <n>=7, at least 5] [--list]';

function parseArgs(argv: readonly string[]): Options {
  let json = false;
  let list = false;
  let filter: string | undefined;
  let rounds = 7;
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i]!;
    if (arg === '--json') json = true;
    else if (arg === '--list') list = true;
    else if (arg === '--filter' || arg === '--rounds') {
      const value = argv[++i];
      if (value === undefined) throw new Error(`${arg} needs a value\n${USAGE}`);
      if (arg === '--filter') filter = value;
      else {
        rounds = Number(value);
        if (!Number.isInteger(rounds) || rounds < 5) throw new Error(`--rounds must be an integer >= 5, got ${value}`);
      }
    } else if (arg === '--') continue; // pnpm passes it through when called as `pnpm bench -- --json`
    else if (arg === '--help' || arg === '-h') {
      process.stderr.write(`${USAGE}\n`);
      process.exit(0);
    } else throw new Error(`unknown argument ${arg}\n${USAGE}`);
  }
  return { json, filter, rounds, list };
}

function isBenchGroup(x: unknown): x is BenchGroup {
  const g = x as BenchGroup;
  return typeof g === 'object' && g !== null && Array.isArray(g.ids) && g.ids.every((id) => typeof id === 'string') && typeof g.run === 'function';
}

interface Suite {
  readonly pkg: string;
  readonly groups: readonly BenchGroup[];
}

/** Imports `packages/<name>/bench/index.ts` for every package that has one, in name order. */
async function discover(root: string): Promise<Suite[]> {
  const packagesDir = join(root, 'packages');
  const suites: Suite[] = [];
  for (const name of readdirSync(packagesDir).sort()) {
    const entry = join(packagesDir, name, 'bench', 'index.ts');
    if (!existsSync(entry)) continue;
    const mod = (await import(pathToFileURL(entry).href)) as { benchmarks?: unknown };
    if (!Array.isArray(mod.benchmarks) || !mod.benchmarks.every(isBenchGroup)) {
      throw new Error(`${relative(root, entry)} must export benchmarks: BenchGroup[] (see scripts/bench/types.ts)`);
    }
    suites.push({ pkg: name, groups: mod.benchmarks });
  }
  return suites;
}

/**
 * In `--json` mode stdout must carry exactly one JSON array, whatever a library under test prints:
 * everything written to stdout before the results goes to stderr instead.
 */
function divertStdout(): (text: string) => void {
  const write = process.stdout.write.bind(process.stdout);
  process.stdout.write = process.stderr.write.bind(process.stderr) as typeof process.stdout.write;
  return (text) => void write(text);
}

async function main(): Promise<number> {
  const options = parseArgs(process.argv.slice(2));
  const log = (line: string): void => void process.stderr.write(`${line}\n`);
  const printResults = options.json ? divertStdout() : (text: string): void => void process.stdout.write(text);
  const root = join(dirname(fileURLToPath(import.meta.url)), '..');
  const suites = await discover(root);
  const matches = (id: string): boolean => options.filter === undefined || id.includes(options.filter);

  if (options.list) {
    const ids = suites.flatMap((s) => s.groups.flatMap((g) => g.ids)).filter(matches);
    printResults(options.json ? `${JSON.stringify(ids)}\n` : ids.map((id) => `${id}\n`).join(''));
    return 0;
  }

  log(`bench: node ${process.version}, ${availableParallelism()} cores, ${options.rounds} interleaved rounds of ~${TARGET_ROUND_MS} ms`);
  const started = performance.now();
  const results: BenchResult[] = [];
  let failures = 0;
  for (const suite of suites) {
    for (const group of suite.groups) {
      if (!group.ids.some(matches)) continue;
      log(`${suite.pkg}: ${group.ids.join(', ')}`);
      const ctx: BenchContext = {
        log: (line) => log(line),
        compare: (contenders) =>
          compare(contenders, { rounds: options.rounds, targetRoundMs: TARGET_ROUND_MS, roundTimeoutMs: ROUND_TIMEOUT_MS, log }),
      };
      try {
        for (const r of await group.run(ctx)) {
          if (!matches(r.id)) continue;
          results.push(r);
          const met = isGoalMet(r);
          log(`  => ${r.id}: ${formatRate(r.value)} ${r.unit}, ${r.ratio.toFixed(2)}x ${r.vs.name}${met === undefined ? '' : met ? ' (goal met)' : ' (goal MISSED)'}`);
        }
      } catch (err) {
        failures++;
        log(`  FAILED: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}`);
      }
    }
  }
  if (results.length === 0 && failures === 0) log(`no benchmark id matches ${JSON.stringify(options.filter)}`);
  log(`bench: ${results.length} figures in ${((performance.now() - started) / 1000).toFixed(1)} s${failures ? `, ${failures} group(s) FAILED` : ''}`);
  printResults(options.json ? `${toJson(results)}\n` : `${formatTable(results)}\n`);
  return failures === 0 ? 0 : 1;
}

main().then(
  (code) => {
    // A benchmark that left a handle open must not keep the process alive.
    process.exit(code);
  },
  (err: unknown) => {
    process.stderr.write(`${err instanceof Error ? err.message : String(err)}\n`);
    process.exit(2);
  },
);
