/**
 * The store under faults, judged by the history checker (Jepsen's method): clients do
 * read-modify-write cycles while the network loses, reorders and duplicates messages and drops one
 * direction of a link; nodes are killed and restarted, or restarted empty. Afterwards every
 * replica is read and the checker looks for lost writes, resurrected deletes, false siblings and
 * values nobody wrote. A failing seed is printed; `STARLING_SEED=<n>` replays it alone.
 */
import { formatSchedule, generateSchedule, type TimedFault } from '@starling/actors';
import { describe, expect, it } from 'vitest';
import { testSeed } from '../../../scripts/testing/seed.ts';
import { check, formatViolations } from '../src/index.ts';
import { runWorkload, type WorkloadOptions } from './support/workload.ts';

/** Seeds per fault model in CI. */
const SEEDS = 100;

function seedsToRun(first: number): number[] {
  const one = process.env.STARLING_SEED;
  return one === undefined ? Array.from({ length: SEEDS }, (_, i) => first + i) : [testSeed(first)];
}

async function expectClean(options: WorkloadOptions): Promise<{ ok: number; unknown: number; failed: number }> {
  const run = await runWorkload(options);
  const result = check({ history: run.history.entries(), final: run.final, wipes: run.wipes });
  await run.cluster.stop();
  if (result.violations.length > 0) {
    throw new Error(`[seed ${options.seed}; replay with STARLING_SEED=${options.seed}]\n${formatViolations(result)}`);
  }
  const entries = run.history.entries();
  return {
    ok: entries.filter((e) => e.completion?.outcome === 'ok').length,
    unknown: entries.filter((e) => e.completion === undefined || e.completion.outcome === 'unknown').length,
    failed: entries.filter((e) => e.completion?.outcome === 'failed').length,
  };
}

describe('the store under faults (N=3 R=2 W=2), judged by the checker', () => {
  it(`loss, reordering, duplication and a one-way drop: no violation over ${SEEDS} seeds`, async () => {
    let totals = { ok: 0, unknown: 0, failed: 0 };
    for (const seed of seedsToRun(1_000)) {
      const grudge: TimedFault[] = [
        { atMs: 200, fault: { kind: 'grudge', from: 'n1', to: 'n2' } },
        { atMs: 1_200, fault: { kind: 'heal' } },
      ];
      const counts = await expectClean({
        seed,
        network: {
          latency: { kind: 'uniform', minMs: 1, maxMs: 20 },
          lossProbability: 0.05,
          duplicateProbability: 0.05,
          reorderProbability: 0.1,
          reorderWindowMs: 20,
        },
        faults: grudge,
      });
      totals = { ok: totals.ok + counts.ok, unknown: totals.unknown + counts.unknown, failed: totals.failed + counts.failed };
    }
    // The faults were felt, and the store still served.
    expect(totals.ok).toBeGreaterThan(totals.unknown + totals.failed);
    expect(totals.unknown + totals.failed).toBeGreaterThan(0);
  });

  it('a node killed and restarted with its disk: no violation', async () => {
    for (const seed of seedsToRun(2_000).slice(0, 20)) {
      await expectClean({
        seed,
        faults: [
          { atMs: 150, fault: { kind: 'kill', node: `n${(seed % 5) + 1}` } },
          { atMs: 900, fault: { kind: 'restart', node: `n${(seed % 5) + 1}` } },
        ],
      });
    }
  });

  it('a node restarted empty: no violation (writes whose every acknowledging replica was wiped are excused)', async () => {
    for (const seed of seedsToRun(3_000).slice(0, 20)) {
      await expectClean({
        seed,
        faults: [{ atMs: 400, fault: { kind: 'restart-empty', node: `n${(seed % 5) + 1}` } }],
      });
    }
  });
});

describe('sessions under sloppy quorum, partitions and kills (membership on), judged by the checker', () => {
  it('read-your-writes and monotonic reads hold for every session; no other violation', async () => {
    const sessionReads = { ok: 0, unavailable: 0 };
    const spans: number[] = [];
    for (const seed of seedsToRun(4_000).slice(0, 40)) {
      const schedule = generateSchedule({ seed, nodes: ['n1', 'n2', 'n3', 'n4', 'n5'], durationMs: 2_500, kinds: ['partition', 'kill'], minEpisodeMs: 300, maxEpisodeMs: 1_000, minGapMs: 100, maxGapMs: 400 });
      const run = await runWorkload({ seed, sessions: true, gossip: true, clients: 4, opsPerClient: 100, faults: schedule.faults, replication: { defaults: { fallbackAfterMs: 150 } } });
      spans.push(run.spanMs);
      const result = check({ history: run.history.entries(), final: run.final, wipes: run.wipes });
      await run.cluster.stop();
      if (result.violations.length > 0) {
        throw new Error(`[seed ${seed}; replay with STARLING_SEED=${seed}]\n${formatSchedule(schedule)}\n${formatViolations(result)}`);
      }
      for (const e of run.history.entries()) {
        if (e.invocation.kind !== 'get') continue;
        if (e.completion?.outcome === 'ok') sessionReads.ok++;
        else if (e.completion?.outcome === 'failed' && e.completion.error.code === 'SESSION_UNAVAILABLE') sessionReads.unavailable++;
      }
    }
    // The clients ran through the faults, and sessions read a lot (a read that finds no replica with its version fails rather than go back in time).
    console.log(`session reads ok ${sessionReads.ok}, SESSION_UNAVAILABLE ${sessionReads.unavailable}; workload spans ${Math.min(...spans)}-${Math.max(...spans)} ms`);
    expect(spans.filter((ms) => ms >= 2_500).length).toBeGreaterThan(spans.length / 2);
    expect(sessionReads.ok).toBeGreaterThan(500);
  });
});
