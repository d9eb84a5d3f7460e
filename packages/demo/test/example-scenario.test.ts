import { describe, expect, it } from 'vitest';
import { runScenario } from '../src/example/scenario.ts';

describe('the example scenario behind `pnpm demo`', () => {
  it('shows each phase as expected in simulation, and replays identically from its seed', async () => {
    const lines: string[] = [];
    const first = await runScenario({ runtime: 'simulation', seed: 11, nodes: 5, out: (l) => lines.push(l) });
    expect(first.checks.map((c) => c.ok)).toEqual([true, true, true, true]);
    expect(first.droppedByCause.partition).toBeGreaterThan(0);
    expect(first.nodeStarts).toEqual({ n1: 1, n2: 2, n3: 1, n4: 1, n5: 1 });
    const again = await runScenario({ runtime: 'simulation', seed: 11, nodes: 5, out: () => {} });
    expect(again).toEqual(first);
    expect(lines.some((l) => l.includes('partition: [n1 n2 n3] | [n4 n5]'))).toBe(true);
  });

  it('passes with other cluster sizes and seeds', async () => {
    for (const [seed, nodes] of [
      [1, 3],
      [2, 7],
      [3, 9],
    ] as const) {
      const report = await runScenario({ runtime: 'simulation', seed, nodes, out: () => {} });
      expect(report.checks.every((c) => c.ok), `seed ${seed}, ${nodes} nodes`).toBe(true);
    }
  });
});
