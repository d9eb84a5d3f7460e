/**
 * `pnpm verify` as a command: a seed runs and exits 0; a saved plan replays; --trace prints the
 * run's event trace; bad flags and bad plan files exit 2 naming the problem.
 */
import { execFile } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { planFor } from '../src/verify/plan.ts';
import { soakSteps } from '../src/verify/soak.ts';

const CLI = ['--conditions=source', 'packages/demo/src/verify/cli.ts'];

function verify(args: readonly string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile('node_modules/.bin/tsx', [...CLI, ...args], { timeout: 120_000, maxBuffer: 64 * 1024 * 1024 }, (err, stdout, stderr) => {
      resolve({ code: err === null ? 0 : typeof err.code === 'number' ? err.code : -1, stdout, stderr });
    });
  });
}

describe('pnpm verify, as a command', () => {
  it('runs seeds and prints the summary, exit 0', async () => {
    const r = await verify(['--seeds', '2', '--from', '11', '--ops', '300']);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toMatch(/seeds: 2 \(2 passed, 0 failed\)/);
    expect(r.stdout).toMatch(/largest convergence time: [0-9.]+ s after the last fault, [0-9.]+ s after the final heal \(seed 1[12]\)/);
    expect(r.stdout.trim().split('\n').at(-1)).toBe('verify: 2 passed, 0 failed');
  });

  it('replays a saved plan, and prints the trace of one run', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'starling-verify-cli-'));
    const file = join(dir, 'plan.json');
    writeFileSync(file, JSON.stringify(planFor(12, { nodes: 5, ops: 200 })));
    const [replay, traced] = await Promise.all([verify(['--replay', file]), verify(['--seed', '12', '--ops', '200', '--trace'])]);
    expect(replay.code, replay.stderr).toBe(0);
    expect(replay.stdout).toContain('seed 12: passed');
    expect(traced.code, traced.stderr).toBe(0);
    // The trace comes first, a line per delivery and event, then the report.
    expect(traced.stdout.split('\n').length).toBeGreaterThan(1_000);
    expect(traced.stdout).toContain('seed 12: passed');
  });

  it('exits 2 naming the problem for bad flags and bad plan files', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'starling-verify-cli-'));
    const bad = join(dir, 'bad.json');
    writeFileSync(bad, '{"version": 1, "seed": 1}');
    const cases: [string[], RegExp][] = [
      [['--seeds', '0'], /--seeds must be an integer from 1/],
      [['--nodes', '2'], /--nodes must be an integer from 3/],
      [['--trace'], /--trace applies to one run/],
      [['--replay', join(dir, 'missing.json')], /cannot read --replay/],
      [['--replay', bad], /plan\.nodes must be a non-negative integer/],
      [['--bogus'], /Unknown option '--bogus'/],
      [['--seed', '3', '--seeds', '10'], /--seeds does not apply to one run/],
      [['--seed', '3', '--replay', bad], /give --seed or --replay, not both/],
      [['--soak', '--trace'], /--trace does not apply to --soak/],
      [['--seeds', '3', '--duration', '30'], /--duration does not apply to a sweep of seeds/],
    ];
    const results = await Promise.all(cases.map(([args]) => verify(args)));
    results.forEach((r, i) => {
      expect(r.code, `${cases[i]![0].join(' ')}: ${r.stderr}`).toBe(2);
      expect(r.stderr).toMatch(cases[i]![1]);
    });
  });
});

describe('the soak schedule', () => {
  it('has one fault at a time, each healed before the next, partitions and kills both', () => {
    const steps = soakSteps(1, 60_000);
    expect(steps.length).toBeGreaterThanOrEqual(8);
    for (let i = 0; i < steps.length; i += 2) {
      const [start, end] = [steps[i]!, steps[i + 1]!];
      expect(end.fault?.kind).toBe(start.fault?.kind === 'kill' ? 'restart' : 'heal');
      if (i + 2 < steps.length) expect(steps[i + 2]!.atMs).toBeGreaterThan(end.atMs);
    }
    const kinds = new Set(Array.from({ length: 10 }, (_, s) => soakSteps(s, 60_000).map((x) => x.fault?.kind)).flat());
    expect(kinds).toEqual(new Set(['partition', 'heal', 'kill', 'restart']));
  });
});
