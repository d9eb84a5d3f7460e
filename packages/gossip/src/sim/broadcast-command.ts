/**
 * `pnpm gossip:sim broadcast`: Maelstrom's efficient-broadcast workload on the broadcast plugin,
 * without faults and with a partition that heals, beside the issue's goals.
 */
import { choiceFlag, formatTable, numberFlag, readFlags } from './args.ts';
import { DEFAULT_BROADCAST_WORKLOAD, runBroadcastWorkload, type BroadcastWorkloadResult } from './broadcast-workload.ts';

export const BROADCAST_USAGE = `usage: pnpm gossip:sim broadcast [options]

Maelstrom's efficient-broadcast workload: N nodes, a fixed latency on every link, new values sent to
random nodes at a fixed total rate. Reports messages per broadcast (every server-to-server message,
membership included, per value) and stable latency (broadcast until every node has the value).

  --scenario both|clean|partition   default both (partition: halves during [5 s, 12 s) of the workload)
  --nodes <n>         default ${DEFAULT_BROADCAST_WORKLOAD.nodes}
  --latency-ms <ms>   one-way latency of every link (default ${DEFAULT_BROADCAST_WORKLOAD.latencyMs})
  --rate <n>          new values per second over the cluster (default ${DEFAULT_BROADCAST_WORKLOAD.valuesPerSecond})
  --duration-ms <ms>  how long values are sent (default ${DEFAULT_BROADCAST_WORKLOAD.durationMs})
  --seed <n>          default 1
  --json              one JSON object on stdout
  -h, --help          this text`;

const FLAGS = {
  scenario: { type: 'string' },
  nodes: { type: 'string' },
  'latency-ms': { type: 'string' },
  rate: { type: 'string' },
  'duration-ms': { type: 'string' },
  seed: { type: 'string' },
  json: { type: 'boolean' },
  help: { type: 'boolean' },
} as const;

const GOALS = { messagesPerBroadcast: 20, medianMs: 1_000, maxMs: 2_000, afterHealMs: 2_000 };

export async function broadcastCommand(argv: readonly string[]): Promise<void> {
  const values = readFlags(argv.map((a) => (a === '-h' ? '--help' : a)), FLAGS, BROADCAST_USAGE);
  if (values.help) {
    process.stdout.write(`${BROADCAST_USAGE}\n`);
    return;
  }
  const scenario = choiceFlag(values, 'scenario', ['both', 'clean', 'partition'] as const, 'both', BROADCAST_USAGE);
  const base = {
    seed: numberFlag(values, 'seed', 1, BROADCAST_USAGE, { min: 0, max: 0xffffffff, isInteger: true }),
    nodes: numberFlag(values, 'nodes', DEFAULT_BROADCAST_WORKLOAD.nodes, BROADCAST_USAGE, { min: 2, max: 1000, isInteger: true }),
    latencyMs: numberFlag(values, 'latency-ms', DEFAULT_BROADCAST_WORKLOAD.latencyMs, BROADCAST_USAGE, { min: 0, max: 10_000 }),
    valuesPerSecond: numberFlag(values, 'rate', DEFAULT_BROADCAST_WORKLOAD.valuesPerSecond, BROADCAST_USAGE, { min: 1, max: 100_000 }),
    durationMs: numberFlag(values, 'duration-ms', DEFAULT_BROADCAST_WORKLOAD.durationMs, BROADCAST_USAGE, { min: 100, max: 600_000 }),
  };
  const log = (line: string): void => void process.stderr.write(`${line}\n`);
  const runs: { name: string; result: BroadcastWorkloadResult }[] = [];
  for (const name of scenario === 'both' ? ['clean', 'partition'] : [scenario]) {
    const partition = name === 'partition' ? { startMs: Math.round(base.durationMs * 0.25), endMs: Math.round(base.durationMs * 0.6) } : undefined;
    log(`broadcast: ${name}, ${base.nodes} nodes, ${base.latencyMs} ms latency, ${base.valuesPerSecond} values/s for ${base.durationMs} ms${partition ? `, halves cut during [${partition.startMs}, ${partition.endMs}) ms` : ''}`);
    const result = await runBroadcastWorkload({ ...base, ...(partition ? { partition } : {}), onProgress: (x) => log(`  ${Math.round(x * 100)}%`) });
    runs.push({ name, result });
  }
  if (values.json) {
    process.stdout.write(`${JSON.stringify(Object.fromEntries(runs.map((r) => [r.name, r.result])))}\n`);
    return;
  }
  const verdict = (value: number, goal: number): string => (value < goal ? 'met' : 'MISSED');
  const rows: string[][] = [['', ...runs.map((r) => r.name), 'goal']];
  rows.push(['values (stable / sent)', ...runs.map((r) => `${r.result.stableValues}/${r.result.values}`), 'all']);
  rows.push(['messages per broadcast', ...runs.map((r) => r.result.messagesPerBroadcast.toFixed(2)), `< ${GOALS.messagesPerBroadcast}`]);
  rows.push(['stable latency median (ms)', ...runs.map((r) => r.result.stableLatencyMedianMs.toFixed(0)), `< ${GOALS.medianMs} (clean)`]);
  rows.push(['stable latency max (ms)', ...runs.map((r) => r.result.stableLatencyMaxMs.toFixed(0)), `< ${GOALS.maxMs} (clean)`]);
  const healed = runs.find((r) => r.result.stableAfterHealMaxMs !== undefined);
  if (healed) rows.push(['stable after heal, max (ms)', ...runs.map((r) => (r.result.stableAfterHealMaxMs === undefined ? '' : r.result.stableAfterHealMaxMs.toFixed(0))), `<= ${GOALS.afterHealMs}`]);
  const lines = [formatTable(rows), ''];
  const clean = runs.find((r) => r.name === 'clean')?.result;
  if (clean) {
    lines.push(`clean: messages ${verdict(clean.messagesPerBroadcast, GOALS.messagesPerBroadcast)}, median ${verdict(clean.stableLatencyMedianMs, GOALS.medianMs)}, max ${verdict(clean.stableLatencyMaxMs, GOALS.maxMs)}`);
  }
  if (healed) lines.push(`partition: every value everywhere within 2 s of the heal: ${healed.result.stableAfterHealMaxMs! <= GOALS.afterHealMs && healed.result.stableValues === healed.result.values ? 'met' : 'MISSED'}`);
  process.stdout.write(`${lines.join('\n')}\n`);
}
