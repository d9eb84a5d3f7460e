import { execFileSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { describe, expect } from 'vitest';
import { chattyRun } from './support/chatty-run.ts';
import { simIt } from '../../../scripts/testing/seed.ts';

describe('determinism', () => {
  simIt('the same seed yields an identical event trace, run after run', 2024, async (seed) => {
    const first = await chattyRun(seed);
    expect(first.lines).toBeGreaterThan(1000);
    const second = await chattyRun(seed);
    expect(second).toEqual(first);
  });

  simIt('the same seed yields the same trace in a fresh process (no state carried between runs)', 2027, async (seed) => {
    const here = await chattyRun(seed);
    const script = fileURLToPath(new URL('./support/chatty-run.ts', import.meta.url));
    const there = execFileSync(process.execPath, ['--conditions=source', '--import', 'tsx', script, String(seed)], {
      encoding: 'utf8',
      timeout: 60_000,
    }).trim();
    expect(there).toBe(here.digest);
  });

  simIt('a different seed yields a different run, not just different node uids', 2025, async (seed) => {
    const a = await chattyRun(seed);
    const b = await chattyRun(seed + 1);
    expect(b.digest).not.toBe(a.digest);
    // Delivery times come from the network model's draws and the actors' ctx.random().
    expect(b.deliveryTimes).not.toBe(a.deliveryTimes);
  });

  simIt('two simulations interleaved in one process do not disturb each other (no module-level state)', 2026, async (seed) => {
    const aloneA = await chattyRun(seed);
    const aloneB = await chattyRun(seed + 7);
    const [togetherA, togetherB] = await Promise.all([chattyRun(seed), chattyRun(seed + 7)]);
    expect(togetherA).toEqual(aloneA);
    expect(togetherB).toEqual(aloneB);
  });
});
