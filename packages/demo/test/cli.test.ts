/**
 * The `pnpm demo` command line, run as a user runs it (a child process): a short scenario prints
 * its report as JSON and exits 0; a failed check exits 1; bad flags, a bad schedule file or a bad
 * module exit 2 with a message naming the problem, and nothing is started.
 */
import { execFile, spawn } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import type { Report } from '../src/index.ts';

const CLI = ['--conditions=source', 'packages/demo/src/cli.ts'];

function demo(args: readonly string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile('node_modules/.bin/tsx', [...CLI, ...args], { timeout: 120_000, maxBuffer: 16 * 1024 * 1024 }, (err, stdout, stderr) => {
      resolve({ code: err === null ? 0 : typeof err.code === 'number' ? err.code : -1, stdout, stderr });
    });
  });
}

describe('pnpm demo, as a command', () => {
  it('runs a short scenario and prints its report as JSON, exit 0', async () => {
    const r = await demo(['--runtime', 'simulation', '--duration', '4', '--seed', '2', '--json']);
    expect(r.code, r.stderr).toBe(0);
    const report = JSON.parse(r.stdout) as Report;
    expect(report.command).toBe('scenario');
    expect(report.ok).toBe(true);
    expect(report.operations.total).toBeGreaterThan(0);
  });

  it('exits 1 when a check fails', async () => {
    const r = await demo(['load', '--runtime', 'simulation', '--ops', '5', '--without-store', '--workload', 'packages/demo/test/fixtures/failing-workload.ts']);
    expect(r.code).toBe(1);
    expect(r.stdout).toContain('FAIL an invariant of the fixture: broken on purpose');
  });

  it('exits 2 with the problem named for bad flags and bad input', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'starling-demo-'));
    const badSchedule = join(dir, 'bad.json');
    writeFileSync(badSchedule, JSON.stringify({ faults: [{ atMs: 10, fault: { kind: 'kill', node: 'n9' } }] }));
    const cases: [string[], RegExp][] = [
      [['--nodes', '2'], /--nodes must be an integer from 3 to 16/],
      [['--runtime', 'cloud'], /--runtime must be threads, simulation or local/],
      [['--bogus'], /Unknown option '--bogus'/],
      [['load', '--mix', '1:2'], /--mix must be three non-negative shares/],
      [['load', '--r', '4'], /r must be an integer from 1 to n/],
      [['load', '--dist', 'pareto'], /--dist must be uniform or zipfian/],
      [['load', '--schedule', join(dir, 'missing.json')], /cannot read --schedule/],
      [['load', '--schedule', badSchedule], /unknown node 'n9'/],
      [['load', '--workload', 'packages/demo/test/fixtures/no-workload.ts'], /exports no workload/],
      [['load', '--faults', 'sometimes'], /--faults takes 'random'/],
      [['--duration', '0.0001'], /--duration must be a number of seconds from 0.001/],
      [['load', '--value-size', '0'], /--value-size must be an integer from 1/],
      [['serve', '--runtime', 'simulation'], /serve runs in real time/],
      [['serve', '--port', '70000'], /--port must be an integer from 0 to 65535/],
      [['serve', '--nodes', '12', '--spares', '5'], /--spares must be an integer from 0 to 4/],
      [['serve', '--tick', '10'], /--tick must be an integer from 50/],
    ];
    const results = await Promise.all(cases.map(([args]) => demo(args)));
    results.forEach((r, i) => {
      expect(r.code, `${cases[i]![0].join(' ')}: ${r.stderr}`).toBe(2);
      expect(r.stderr).toMatch(cases[i]![1]);
      expect(r.stderr).toContain('--help');
    });
  });

  it('runs the example fault schedule file', async () => {
    const r = await demo(['load', '--runtime', 'simulation', '--duration', '20', '--schedule', 'packages/demo/examples/schedules/split-brain.json', '--json']);
    expect(r.code, r.stderr).toBe(0);
    const report = JSON.parse(r.stdout) as Report;
    expect(report.faults.map((f) => f.fault)).toEqual([
      'partition [n1,n2,n3] | [n4,n5]',
      'drop n1->n4',
      'heal',
      'loss 0.1',
      'kill n2',
      'restart n2',
      'reset network',
      'pause n5',
      'resume n5',
    ]);
    expect(report.ok).toBe(true);
  });

  it('takes shares that do not divide evenly (2:9:0)', async () => {
    const r = await demo(['load', '--runtime', 'simulation', '--mix', '2:9:0', '--ops', '50', '--json']);
    expect(r.code, r.stderr).toBe(0);
    expect((JSON.parse(r.stdout) as Report).kinds.delete).toBeUndefined();
  });

  it('prints usage for --help', async () => {
    const [main, load, serve] = await Promise.all([demo(['--help']), demo(['load', '--help']), demo(['serve', '--help'])]);
    expect(main.code).toBe(0);
    expect(main.stdout).toContain('usage: pnpm demo');
    expect(load.code).toBe(0);
    expect(load.stdout).toContain('--workload FILE');
    expect(serve.code).toBe(0);
    expect(serve.stdout).toContain('usage: pnpm demo serve');
  });

  it('serves until --duration ends, answering HTTP meanwhile, then exits 0', async () => {
    const child = spawn('node_modules/.bin/tsx', [...CLI, 'serve', '--runtime', 'local', '--port', '0', '--duration', '6'], { stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    const exited = new Promise<number | null>((resolve) => child.on('exit', resolve));
    const url = await new Promise<string>((resolve, reject) => {
      child.stdout.on('data', (d: Buffer) => {
        stdout += d.toString();
        const m = /dashboard: (http:\/\/127\.0\.0\.1:\d+)\//.exec(stdout);
        if (m) resolve(m[1]!);
      });
      void exited.then(() => reject(new Error(`serve exited before listening: ${stderr}`)));
    });
    const put = await fetch(`${url}/kv/from-cli`, { method: 'PUT', headers: { 'content-type': 'application/json' }, body: '"hello"' });
    expect(put.status).toBe(200);
    const page = await fetch(`${url}/`);
    expect(await page.text()).toContain('<title>Starling cluster</title>');
    expect(await exited, stderr).toBe(0);
    expect(stdout).toContain('stopping...');
  });
});
