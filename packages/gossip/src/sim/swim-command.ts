/**
 * `pnpm gossip:sim swim`: the SWIM experiments (see swim-experiments.ts) with their figures:
 * detection time, false deaths under loss, and per-member load as the cluster grows.
 */
import { DEFAULT_SWIM_CONFIG } from '../config.ts';
import { suspicionBoundsMs } from '../lifeguard.ts';
import { choiceFlag, formatTable, numberFlag, readFlags } from './args.ts';
import { detectionRun, type DetectionRun, falsePositiveRun, type FalsePositiveRun, loadRun, type LoadRun } from './swim-experiments.ts';

const EXPERIMENTS = ['all', 'detection', 'false-positives', 'load'] as const;
type Experiment = (typeof EXPERIMENTS)[number];

export const SWIM_USAGE = `usage: pnpm gossip:sim swim [options]

SWIM experiments on the simulation runtime (memberlist LAN defaults, 1-10 ms links):
  detection        kill one node of N; periods until every live member marks it dead
  false-positives  uniform message loss p, no failure; false dead declarations per 1000 periods
  load             messages each member sends per protocol period, at several cluster sizes

  --experiment all|detection|false-positives|load   default all
  --nodes <n>        detection and false-positives: cluster size (default 64 and 32)
  --runs <n>         runs per experiment, seeds seed..seed+runs-1 (default 5 detection, 3 false-positives)
  --seed <n>         first seed (default 1)
  --loss <p>         false-positives: loss probability per message (default 0.1)
  --periods <n>      false-positives: periods per run (default 1000); load: periods measured (default 30)
  --sizes <list>     load: comma-separated cluster sizes (default 16,64,256,1024)
  --json             one JSON object on stdout
  -h, --help         this text`;

const FLAGS = {
  experiment: { type: 'string' },
  nodes: { type: 'string' },
  runs: { type: 'string' },
  seed: { type: 'string' },
  loss: { type: 'string' },
  periods: { type: 'string' },
  sizes: { type: 'string' },
  json: { type: 'boolean' },
  help: { type: 'boolean' },
} as const;

const mean = (xs: readonly number[]): number => xs.reduce((a, b) => a + b, 0) / xs.length;
const f = (x: number, digits = 2): string => x.toFixed(digits);

export async function swimCommand(argv: readonly string[]): Promise<void> {
  const values = readFlags(argv.map((a) => (a === '-h' ? '--help' : a)), FLAGS, SWIM_USAGE);
  if (values.help) {
    process.stdout.write(`${SWIM_USAGE}\n`);
    return;
  }
  const experiment: Experiment = choiceFlag(values, 'experiment', EXPERIMENTS, 'all', SWIM_USAGE);
  const seed = numberFlag(values, 'seed', 1, SWIM_USAGE, { min: 0, max: 0xffffffff, isInteger: true });
  const loss = numberFlag(values, 'loss', 0.1, SWIM_USAGE, { min: 0, max: 0.9 });
  const sizes = typeof values.sizes === 'string' ? values.sizes.split(',').map((s) => numberFlag({ size: s }, 'size', 0, SWIM_USAGE, { min: 2, max: 4096, isInteger: true })) : [16, 64, 256, 1024];
  const log = (line: string): void => void process.stderr.write(`${line}\n`);
  const out: { detection?: DetectionRun[]; falsePositives?: FalsePositiveRun[]; load?: LoadRun[] } = {};
  const report: string[] = [];
  const periodMs = DEFAULT_SWIM_CONFIG.probeIntervalMs;

  if (experiment === 'all' || experiment === 'detection') {
    const nodes = numberFlag(values, 'nodes', 64, SWIM_USAGE, { min: 3, max: 4096, isInteger: true });
    const runs = numberFlag(values, 'runs', 5, SWIM_USAGE, { min: 1, max: 1000, isInteger: true });
    const results: DetectionRun[] = [];
    for (let r = 0; r < runs; r++) {
      log(`swim detection: ${nodes} nodes, run ${r + 1}/${runs} (seed ${seed + r})`);
      results.push(await detectionRun(seed + r, nodes));
    }
    out.detection = results;
    const { minMs, maxMs } = suspicionBoundsMs(nodes, DEFAULT_SWIM_CONFIG.suspicionMult, DEFAULT_SWIM_CONFIG.suspicionMaxTimeoutMult, periodMs);
    const rows = [['detection, periods after the kill', 'mean', 'max'], ...(['firstSuspicionPeriods', 'firstDeathPeriods', 'allDeadPeriods'] as const).map((k) => [{ firstSuspicionPeriods: 'first suspicion', firstDeathPeriods: 'first declared dead', allDeadPeriods: 'dead at every live member' }[k], f(mean(results.map((x) => x[k]))), f(Math.max(...results.map((x) => x[k])))])];
    report.push(`SWIM detection, ${nodes} nodes, ${runs} runs`, formatTable(rows), `suspicion timeout at n=${nodes}: ${f(minMs / periodMs, 1)} periods with all confirmations, ${f(maxMs / periodMs, 1)} with none`, '');
  }
  if (experiment === 'all' || experiment === 'false-positives') {
    const nodes = numberFlag(values, 'nodes', 32, SWIM_USAGE, { min: 3, max: 4096, isInteger: true });
    const runs = numberFlag(values, 'runs', 3, SWIM_USAGE, { min: 1, max: 1000, isInteger: true });
    const periods = numberFlag(values, 'periods', 1000, SWIM_USAGE, { min: 1, max: 1_000_000, isInteger: true });
    const results: FalsePositiveRun[] = [];
    for (let r = 0; r < runs; r++) {
      log(`swim false positives: ${nodes} nodes, loss ${loss}, ${periods} periods, run ${r + 1}/${runs} (seed ${seed + r})`);
      results.push(await falsePositiveRun(seed + r, nodes, loss, periods));
    }
    out.falsePositives = results;
    const totalPeriods = results.reduce((a, x) => a + x.periods, 0);
    const deaths = results.reduce((a, x) => a + x.falseDeaths, 0);
    const suspicions = results.reduce((a, x) => a + x.suspicions, 0);
    report.push(
      `SWIM false positives, ${nodes} nodes, loss ${loss}, ${runs} x ${periods} periods`,
      formatTable([
        ['', 'per 1000 periods'],
        ['false dead declarations', f((deaths / totalPeriods) * 1000, 3)],
        ['suspicions raised (then refuted)', f((suspicions / totalPeriods) * 1000, 1)],
      ]),
      '',
    );
  }
  if (experiment === 'all' || experiment === 'load') {
    const periods = numberFlag(values, 'periods', 30, SWIM_USAGE, { min: 1, max: 100_000, isInteger: true });
    const results: LoadRun[] = [];
    for (const n of sizes) {
      log(`swim load: ${n} nodes, ${periods} periods`);
      results.push(await loadRun(seed, n, periods));
    }
    out.load = results;
    report.push(
      `SWIM load per member per protocol period (converged, no faults, ${periods} periods)`,
      formatTable([['nodes', 'messages', 'bytes'], ...results.map((x) => [String(x.nodes), f(x.messagesPerMemberPerPeriod, 3), f(x.bytesPerMemberPerPeriod, 0)])]),
      '',
    );
  }
  process.stdout.write(values.json ? `${JSON.stringify(out)}\n` : `${report.join('\n')}`);
}
